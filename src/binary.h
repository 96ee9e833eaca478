/* SPDX-License-Identifier: MIT */
/*
 * binary: the JSON form of a binary value inside a message's "data", the
 * one-member object {"_binary":"<standard base64, padded>"}, shared by
 * every transport (and by Socket.IO, whose attachments become it): its
 * check, wherever data is accepted, and base64 both ways (RFC 4648
 * section 4, the standard alphabet with '=' padding; no line breaks, no
 * white space). Also what a transport that carries the bytes apart needs
 * (/ws binary frames, Socket.IO attachments), in Socket.IO's manner: the
 * values of a stored text found and replaced by placeholders
 * {"_placeholder":true,"num":i} (binary_find(), binary_placeholders()),
 * and the placeholders of a received value filled with the bytes
 * (binary_fill()).
 */
#ifndef IMLAB_BINARY_H
#define IMLAB_BINARY_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"

/* The member that marks a binary value. */
#define BINARY_KEY "_binary"

/* Checks every object of the value v (borrowed; NULL is JSON null) that
 * has a "_binary" member: it must be that one member, a string of valid
 * padded standard base64 whose decoded bytes are at most max. Returns
 * IM_OK (also when v holds no binary value), or IM_EINVAL with e filled,
 * code "bad_binary", or IM_ETOOBIG, code "too_large". Recursion is
 * bounded by the depth jparse() allows (JPARSE_DEPTH). */
enum im_err binary_check(struct json_object *v, size_t max,
			 struct im_error *e);

/* Returns the decoded length of the base64 text s[0..len) if it is valid
 * padded standard base64 (len a multiple of 4, A-Z a-z 0-9 + /, '=' only
 * as the last one or two characters), else -1. */
long binary_b64_valid(const char *s, size_t len);

/* Decodes the base64 text s[0..len) into out (binary_b64_valid() bytes
 * available there). Returns the bytes written, or -1 if s is not valid. */
long binary_b64_decode(const char *s, size_t len, unsigned char *out);

/* Decodes the unpadded base64 text s[0..len) into out (len / 4 * 3 + 2
 * bytes available there). Returns the bytes written, or -1 on a character
 * outside A-Z a-z 0-9 + / or a length that leaves one character over. */
long binary_b64_decode_bare(const char *s, size_t len, unsigned char *out);

/* The length of the base64 text of n bytes (without a NUL). */
size_t binary_b64_len(size_t n);

/* Encodes in[0..n) as padded standard base64 into out, which has room for
 * binary_b64_len(n) bytes (no NUL is written). Returns that length. */
size_t binary_b64_encode(const unsigned char *in, size_t n, char *out);

/* One binary value in a stored JSON text: the object {"_binary":"..."}
 * is text[start, end), its base64 text[b64, b64 + b64_len). */
struct binary_span {
	size_t start, end;
	size_t b64, b64_len;
	int escaped;		/* the base64 is written with JSON escapes */
};

/* Finds the binary values of json[0..len), a text the server stored or
 * built (an envelope, or data as stored: compact JSON, so the bytes
 * {"_binary":" can only open such an object, a string holding no bare
 * quote), in order, into v[0..max). Returns how many (max + 1 when there
 * are more; v then holds the first max), or -1 for a text it cannot
 * read. A value whose key the sender wrote with escapes is not found: it
 * stays in the JSON form. */
int binary_find(const char *json, size_t len, struct binary_span *v,
		int max);

/* Decodes the value v of json into a new malloc'd buffer with pre bytes of
 * headroom before the bytes (the caller frees it); sets *len to the bytes
 * after the headroom. Returns NULL when out of memory or unreadable. */
unsigned char *binary_span_decode(const char *json,
				  const struct binary_span *v, size_t pre,
				  size_t *len);

/* Bytes a placeholder {"_placeholder":true,"num":i} takes at most. */
#define BINARY_PLACEHOLDER_MAX 48

/* Writes json[0..len) into out with each of the n values v (from
 * binary_find()) replaced by {"_placeholder":true,"num":i}, i its index;
 * out has room for len + n * BINARY_PLACEHOLDER_MAX bytes. Returns the
 * bytes written (no NUL). */
size_t binary_placeholders(const char *json, size_t len,
			   const struct binary_span *v, int n, char *out);

/* Attachments to fill placeholders with: n byte strings (borrowed), and
 * which of them a placeholder named (bit i, set by binary_fill()). */
#define BINARY_FRAMES_MAX 64
struct binary_frames {
	int n;				/* 0..BINARY_FRAMES_MAX */
	const unsigned char *const *p;
	const size_t *len;
	uint64_t used;
};

/* Replaces every {"_placeholder":true,"num":i} among the members and
 * elements under the object or array v (borrowed, changed in place; v
 * itself is not replaced: wrap a lone value in an array) by
 * {"_binary":"<base64 of frame i>"}. Returns IM_OK, or IM_EINVAL with e
 * filled (bad_binary: a placeholder with other members, or a num that is
 * not a frame's), or IM_ENOMEM (no_memory); then v may be half filled.
 * The caller checks f->used if every frame must be named. */
enum im_err binary_fill(struct json_object *v, struct binary_frames *f,
			struct im_error *e);

#endif
