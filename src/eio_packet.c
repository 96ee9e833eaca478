/* SPDX-License-Identifier: MIT */
/*
 * eio_packet: the Engine.IO v4 packet and payload codec (its base64 is
 * binary.c's).
 */
#include "autoconf.h"

#include <string.h>

#include "binary.h"
#include "eio_packet.h"

int
eio_decode(const char *s, size_t len, struct eio_pkt *out)
{
	if (!len || s[0] < '0' || s[0] >= '0' + EIO__COUNT)
		return -1;
	out->type = (enum eio_type)(s[0] - '0');
	out->binary = 0;
	out->data = s + 1;
	out->len = len - 1;
	return 0;
}

int
eio_payload_next(const char **p, const char *end, struct eio_pkt *out,
		 unsigned char *bin, size_t cap)
{
	const char *s = *p, *e;
	long n;

	if (s >= end)
		return 0;
	e = memchr(s, EIO_SEP, (size_t)(end - s));
	if (!e)
		e = end;
	*p = e < end ? e + 1 : end;
	if (e > s && s[0] == 'b') {
		if ((size_t)(e - s - 1) / 4 * 3 + 3 > cap)
			return -1;
		n = eio_b64_decode(s + 1, (size_t)(e - s - 1), bin);
		if (n < 0)
			return -1;
		out->type = EIO_MESSAGE;
		out->binary = 1;
		out->data = (const char *)bin;
		out->len = (size_t)n;
		return 1;
	}
	return eio_decode(s, (size_t)(e - s), out) ? -1 : 1;
}

long
eio_b64_decode(const char *in, size_t n, unsigned char *out)
{
	while (n && in[n - 1] == '=')
		n--;	/* padding optional */
	return binary_b64_decode_bare(in, n, out);
}
