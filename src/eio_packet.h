/* SPDX-License-Identifier: MIT */
/*
 * eio_packet: the Engine.IO v4 wire codec, no state and no network. A
 * packet is one type digit and its data ("4hello"); a polling payload is
 * packets joined by the record separator 0x1e, a binary packet there
 * written as 'b' and its standard base64. Over WebSocket a text frame is
 * one packet and a binary frame one binary message packet. Also the
 * base64 codec (standard alphabet, padded) the payloads and imlab's
 * binary JSON form ({"_binary":"..."}) share.
 */
#ifndef IMLAB_EIO_PACKET_H
#define IMLAB_EIO_PACKET_H

#include <stddef.h>
#include <stdint.h>

#define EIO_SEP '\x1e'		/* between the packets of a payload */

enum eio_type {
	EIO_OPEN = 0,
	EIO_CLOSE,
	EIO_PING,
	EIO_PONG,
	EIO_MESSAGE,
	EIO_UPGRADE,
	EIO_NOOP,
	EIO__COUNT
};

/* One decoded packet. data points into the caller's buffer (text) or into
 * the buffer given to eio_payload_next (a base64 binary, decoded). */
struct eio_pkt {
	enum eio_type type;
	int binary;		/* a binary message: data is raw bytes */
	const char *data;	/* borrowed */
	size_t len;
};

/* Decodes one text packet s[0..len) (a WebSocket text frame or one
 * record of a payload, without 'b'). Returns 0, or -1 when empty or the
 * type is not a digit 0-6. */
int eio_decode(const char *s, size_t len, struct eio_pkt *out);

/* Decodes the next packet of a polling payload from *p (advanced past it
 * and its separator) up to end. A 'b' record is decoded from base64 into
 * bin (cap bytes, the caller's; its length is at most 3/4 of the
 * record's). Returns 1 with out filled, 0 at the end, -1 on a bad record
 * (empty, bad type, bad base64). */
int eio_payload_next(const char **p, const char *end, struct eio_pkt *out,
		     unsigned char *bin, size_t cap);

/* Decodes standard base64 in[0..n) (padding optional; the encoder is
 * binary_b64_encode()) into out, which holds n / 4 * 3 + 3 bytes.
 * Returns the decoded length, or -1 on a character outside the alphabet
 * or a bad length. */
long eio_b64_decode(const char *in, size_t n, unsigned char *out);

#endif
