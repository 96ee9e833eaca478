/* SPDX-License-Identifier: MIT */
/*
 * sio_packet: the Socket.IO v5 wire codec, no state. A packet is the data
 * of one Engine.IO message: a type digit, for the binary types the
 * attachment count and '-', a namespace ("/chat,", omitted for "/"), an
 * ack id and a JSON payload ("42/chat,7[\"ev\",1]", "451-[\"ev\",{...}]").
 * Decoding checks what the reference parser checks: the payload's shape
 * per type (CONNECT an object or nothing, EVENT a non-empty array led by
 * a string, ACK an array, DISCONNECT nothing) and strict JSON (jparse).
 */
#ifndef IMLAB_SIO_PACKET_H
#define IMLAB_SIO_PACKET_H

#include <stddef.h>

#include "err.h"

#define SIO_NSP_MAX 64		/* bytes of a namespace name */
#define SIO_MAX_ATTACH 16	/* attachments of one binary packet */

enum sio_type {
	SIO_CONNECT = 0,
	SIO_DISCONNECT,
	SIO_EVENT,
	SIO_ACK,
	SIO_CONNECT_ERROR,
	SIO_BINARY_EVENT,
	SIO_BINARY_ACK,
	SIO__COUNT
};

/* A decoded packet; every pointer borrows the decoded text. */
struct sio_pkt {
	enum sio_type type;
	const char *nsp;	/* "/" when the packet names none */
	size_t nsp_len;
	long long ack;		/* -1: none */
	unsigned attachments;	/* binary types: frames that follow */
	const char *data;	/* the JSON payload as written, or NULL */
	size_t len;
};

/* Decodes s[0..len). Returns 0 with out filled, or -1 with e filled
 * (IM_EINVAL, "bad_packet" and what is wrong): an unknown type, a bad
 * attachment count (over SIO_MAX_ATTACH), namespace or ack id, invalid
 * JSON or a payload of the wrong shape for its type. */
int sio_decode(const char *s, size_t len, struct sio_pkt *out,
	       struct im_error *e);

/* Steps the elements of the JSON array text s[0..n) (valid JSON): *pos
 * starts at 0; each call sets *start and *elen to the next element's span as
 * written and returns 1, or returns 0 after the last. */
int sio_array_next(const char *s, size_t n, size_t *pos, size_t *start,
		   size_t *elen);

/* Writes a packet head (type, "N-" for binary types, "/nsp," unless nsp
 * is "/" or NULL, the ack id unless negative) to out (cap bytes, at least
 * 32 + nsp_len). Returns its length, no NUL. */
size_t sio_encode_head(char *out, size_t cap, enum sio_type type,
		       const char *nsp, size_t nsp_len, unsigned attachments,
		       long long ack);

#endif
