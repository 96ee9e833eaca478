/* SPDX-License-Identifier: MIT */
/*
 * bench_wsc: the bench's RFC 6455 client framing (see bench_wsc.h):
 * the upgrade request, masked frames, and the server's frames parsed
 * where they lie in the receive buffer (a fragmented message is copied
 * into the connection's own buffer until its last fragment).
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "bench_http.h"
#include "bench_wsc.h"

/* Writes a Sec-WebSocket-Key: 16 random bytes in base64, NUL-ended. */
static void
b64_key(struct bench_conn *c, char out[25])
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[18];
	int o = 0;

	for (int i = 0; i < 16; i++)
		raw[i] = (unsigned char)bench_net_rand(c);
	raw[16] = raw[17] = 0;
	for (int i = 0; i < 18; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 |
			     (uint32_t)raw[i + 1] << 8 | raw[i + 2];

		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	/* 16 bytes: 22 characters and "==" */
	out[22] = out[23] = '=';
	out[24] = '\0';
}

int
bench_wsc_upgrade(struct bench_conn *c, const char *path, const char *query)
{
	char h[160], key[25];

	b64_key(c, key);
	snprintf(h, sizeof(h), "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n",
		 key);
	c->state = C_HEAD;
	return bench_http_get(c, path, query, h);
}

size_t
bench_wsc_frame(struct bench_conn *c, unsigned char *dst, int op,
		const void *p, size_t n)
{
	const unsigned char *s = p;
	unsigned char *m;
	uint32_t key = bench_net_rand(c);
	size_t h = 0;

	dst[h++] = (unsigned char)(0x80 | op);
	if (n < 126) {
		dst[h++] = (unsigned char)(0x80 | n);
	} else {
		dst[h++] = 0x80 | 126;
		dst[h++] = (unsigned char)(n >> 8);
		dst[h++] = (unsigned char)n;
	}
	m = dst + h;
	memcpy(m, &key, 4);
	h += 4;
	for (size_t i = 0; i < n; i++)
		dst[h + i] = s[i] ^ m[i & 3];
	return h + n;
}

int
bench_wsc_send_text(struct bench_conn *c, const char *p, size_t n)
{
	unsigned char f[1024];

	if (n + 8 > sizeof(f))
		return bench_net_fail(c, "frame too large to send");
	return bench_net_send(c, f, bench_wsc_frame(c, f, 0x1, p, n));
}

/* Adds a fragment to the open message and hands it on once fin. */
static int
fragment(struct bench_conn *c, struct bench_wsc *w, const char *p, size_t n,
	 int fin, int64_t now, bench_wsc_msg_fn fn)
{
	int rc = 0;

	if (w->msg.len + n > BENCH_FRAME_MAX || bench_buf_add(&w->msg, p, n))
		return bench_net_fail(c, "message too large");
	if (fin) {
		rc = fn(c, w->msg.p, w->msg.len, w->in_msg == 2, now);
		w->in_msg = 0;
		bench_buf_free(&w->msg);
	}
	return rc;
}

/* Handles one complete frame: 0, or -1 to drop the connection (nothing
 * noted if it closed cleanly). */
static int
one(struct bench_conn *c, struct bench_wsc *w, int op, int fin,
    const char *p, size_t plen, int64_t now, bench_wsc_msg_fn fn)
{
	unsigned char ctl[140];

	switch (op) {
	case 0x1:
	case 0x2:
		if (w->in_msg)
			return bench_net_fail(c, "new message in a "
					      "fragmented one");
		if (fin)
			return fn(c, p, plen, op == 0x2, now);
		w->msg.len = 0;
		w->in_msg = op == 0x2 ? 2 : 1;
		return fragment(c, w, p, plen, 0, now, fn);
	case 0x0:
		if (!w->in_msg)
			return bench_net_fail(c, "continuation of nothing");
		return fragment(c, w, p, plen, fin, now, fn);
	case 0x8:	/* close: echo its code, then end */
		if (plen > 125)
			return bench_net_fail(c, "bad close frame");
		bench_net_send(c, ctl, bench_wsc_frame(c, ctl, 0x8, p,
						       plen < 2 ? plen : 2));
		bench_net_quiet(c);
		if (!c->serving)
			bench_net_fail(c, "closed before joined");
		return -1;
	case 0x9:
		if (plen > 125)
			return bench_net_fail(c, "bad ping frame");
		return bench_net_send(c, ctl, bench_wsc_frame(c, ctl, 0xa, p,
							      plen));
	case 0xa:
		return 0;
	default:
		return bench_net_fail(c, "opcode %d from the server", op);
	}
}

ssize_t
bench_wsc_parse(struct bench_conn *c, struct bench_wsc *w, const char *b,
		size_t have, int64_t now, bench_wsc_msg_fn fn)
{
	size_t off = 0;

	c->need = 0;
	while (have - off >= 2) {
		const unsigned char *h = (const unsigned char *)b + off;
		size_t hl = 2, plen = h[1] & 0x7f;

		if ((h[1] & 0x80) || (h[0] & 0x70))
			return bench_net_fail(c, "masked or RSV frame from "
					      "the server");
		if (plen == 126) {
			if (have - off < 4)
				break;
			plen = (size_t)h[2] << 8 | h[3];
			hl = 4;
		} else if (plen == 127) {
			if (have - off < 10)
				break;
			plen = 0;
			for (int i = 0; i < 8; i++)
				plen = plen << 8 | h[2 + i];
			hl = 10;
		}
		if (plen > BENCH_FRAME_MAX)
			return bench_net_fail(c, "message too large");
		if (have - off < hl + plen) {
			c->need = hl + plen;
			break;
		}
		off += hl + plen;
		if (one(c, w, h[0] & 0x0f, h[0] & 0x80, b + off - plen, plen,
			now, fn))
			return -1;
	}
	return (ssize_t)off;
}

void
bench_wsc_reset(struct bench_wsc *w)
{
	w->in_msg = 0;
	bench_buf_free(&w->msg);
}
