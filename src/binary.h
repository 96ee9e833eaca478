/* SPDX-License-Identifier: MIT */
/*
 * binary: the JSON form of a binary value inside a message's "data", the
 * one-member object {"_binary":"<standard base64, padded>"}, shared by
 * every transport (and by Socket.IO, whose attachments become it): its
 * check, wherever data is accepted, and base64 both ways (RFC 4648
 * section 4, the standard alphabet with '=' padding; no line breaks, no
 * white space).
 */
#ifndef IMLAB_BINARY_H
#define IMLAB_BINARY_H

#include <stddef.h>

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

/* The length of the base64 text of n bytes (without a NUL). */
size_t binary_b64_len(size_t n);

/* Encodes in[0..n) as padded standard base64 into out, which has room for
 * binary_b64_len(n) bytes (no NUL is written). Returns that length. */
size_t binary_b64_encode(const unsigned char *in, size_t n, char *out);

#endif
