/* SPDX-License-Identifier: MIT */
/*
 * bench_ws: the WebSocket subscriber, a minimal RFC 6455 client. GET /ws
 * with Upgrade; at 101 it sends {"op":"hello"} then {"op":"join","since":
 * ...} as masked text frames in one write and is registered at "joined".
 * It takes {"op":"msg"} and batched {"op":"msgs"} frames, fragmented
 * messages, gap and error frames, answers ping with pong and close with
 * close. One connect counts one request (the upgrade). With --peer nchan
 * it asks GET /nchan/ws?id=ROOM, is registered at 101 and takes every
 * text frame as one envelope (nchan sends the published body as is).
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "bench_json.h"
#include "bench_http.h"

struct ws {
	struct bench_buf msg;	/* fragments of the current message */
	int in_msg;		/* a fragmented message is open */
};

static void
ws_open(struct bench_conn *c)
{
	c->r->requests++;
}

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

static int
ws_connected(struct bench_conn *c)
{
	char h[160], key[25];

	b64_key(c, key);
	snprintf(h, sizeof(h), "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n",
		 key);
	c->state = C_HEAD;
	if (c->r->o->peer == BENCH_PEER_NCHAN)
		return bench_http_get(c, "/nchan/ws", "", h);
	return bench_http_get(c, "/ws", NULL, h);
}

/* Writes one masked client frame (n < 65536) into dst; returns its size. */
static size_t
frame(struct bench_conn *c, unsigned char *dst, int op, const void *p,
      size_t n)
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

/* 101: sends hello and join in one write (nchan: nothing to send). */
static int
upgraded(struct bench_conn *c)
{
	struct bench_run *r = c->r;
	unsigned char f[1024];
	char m[400], room[96], cid[80], from[32];
	size_t len;
	int n;

	if (r->o->peer == BENCH_PEER_NCHAN) {	/* subscribed by the URL */
		c->serving = 1;
		bench_registered(r, c->s);
		return 0;
	}
	bench_sub_cid(r, c->s, cid, sizeof(cid));
	bench_sub_from(r, c->s, from, sizeof(from));
	n = snprintf(m, sizeof(m), "{\"op\":\"hello\",\"cid\":\"%s\","
		     "\"from\":\"%s\"}", cid, from);
	len = frame(c, f, 0x1, m, (size_t)n);
	bench_room_name(r, c->s->room, room, sizeof(room));
	n = snprintf(m, sizeof(m), "{\"op\":\"join\",\"room\":\"%s\","
		     "\"since\":%llu}", room,
		     (unsigned long long)c->s->cursor);
	len += frame(c, f + len, 0x1, m, (size_t)n);
	return bench_net_send(c, f, len);
}

/* One complete message from the server, read in one pass: a "msgs" array
 * is delivered while it is walked. */
static void
message(struct bench_conn *c, const char *p, size_t len, int64_t now)
{
	struct bench_run *r = c->r;
	struct bench_json_it it, ai;
	const char *key, *val, *vend, *op = NULL, *end = p + len;
	size_t klen, oplen = 0;
	int n, m;

	r->frames++;
	if (r->o->peer == BENCH_PEER_NCHAN) {
		bench_deliver(r, c->s, p, end, now);
		return;
	}
	if (bench_json_begin(&it, p, end, '{')) {
		r->bad++;
		return;
	}
	while ((n = bench_json_key(&it, &key, &klen, &val)) > 0) {
		if (bench_json_key_is(key, klen, "msg")) {
			it.p = bench_deliver(r, c->s, val, end, now);
		} else if (bench_json_key_is(key, klen, "msgs") &&
			   !bench_json_begin(&ai, val, end, '[')) {
			while ((m = bench_json_next(&ai, &val)) > 0) {
				ai.p = bench_deliver(r, c->s, val, end, now);
				if (!ai.p)
					break;
			}
			it.p = m < 0 ? NULL : ai.p;
		} else {
			vend = bench_json_skip(val, end);
			if (vend && bench_json_key_is(key, klen, "op"))
				bench_json_str(val, vend, &op, &oplen);
			it.p = vend;
		}
		if (!it.p) {
			r->bad++;
			return;
		}
	}
	if (n < 0 || !op) {
		r->bad++;
		return;
	}
	if (bench_json_key_is(op, oplen, "joined")) {
		c->serving = 1;
		bench_registered(r, c->s);
	} else if (bench_json_key_is(op, oplen, "gap")) {
		r->gaps++;
	} else if (bench_json_key_is(op, oplen, "error")) {
		bench_error(r, "ws: error frame: %.*s",
			    (int)(len < 200 ? len : 200), p);
	}
}

/* Adds a fragment to the open message and counts it once fin. 0 or -1. */
static int
fragment(struct bench_conn *c, const char *p, size_t n, int fin, int64_t now)
{
	struct ws *w = c->priv;

	if (w->msg.len + n > BENCH_FRAME_MAX || bench_buf_add(&w->msg, p, n))
		return bench_net_fail(c, "message too large");
	if (fin) {
		message(c, w->msg.p, w->msg.len, now);
		w->in_msg = 0;
		bench_buf_free(&w->msg);
	}
	return 0;
}

/* Handles one complete frame: 0, or -1 to drop the connection (nothing
 * noted if it closed cleanly). */
static int
ws_frame(struct bench_conn *c, int op, int fin, const char *p, size_t plen,
	 int64_t now)
{
	struct ws *w = c->priv;
	unsigned char ctl[140];

	switch (op) {
	case 0x1:
	case 0x2:
		if (w->in_msg)
			return bench_net_fail(c, "new message in a "
					      "fragmented one");
		if (fin) {
			message(c, p, plen, now);
			return 0;
		}
		w->msg.len = 0;
		w->in_msg = 1;
		return fragment(c, p, plen, 0, now);
	case 0x0:
		if (!w->in_msg)
			return bench_net_fail(c, "continuation of nothing");
		return fragment(c, p, plen, fin, now);
	case 0x8:	/* close: echo its code, then end */
		if (plen > 125)
			return bench_net_fail(c, "bad close frame");
		bench_net_send(c, ctl, frame(c, ctl, 0x8, p,
					     plen < 2 ? plen : 2));
		bench_net_quiet(c);
		if (!c->serving)
			bench_net_fail(c, "closed before joined");
		return -1;
	case 0x9:
		if (plen > 125)
			return bench_net_fail(c, "bad ping frame");
		return bench_net_send(c, ctl, frame(c, ctl, 0xa, p, plen));
	case 0xa:
		return 0;
	default:
		return bench_net_fail(c, "opcode %d from the server", op);
	}
}

/* Parses the frames in [b, b + have): the bytes consumed, or -1. */
static ssize_t
frames(struct bench_conn *c, const char *b, size_t have, int64_t now)
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
		if (ws_frame(c, h[0] & 0x0f, h[0] & 0x80, b + off - plen,
			     plen, now))
			return -1;
	}
	return (ssize_t)off;
}

static ssize_t
ws_parse(struct bench_conn *c, const char *b, size_t have, int64_t now)
{
	ssize_t off = 0, n;
	int status;

	if (c->state == C_HEAD) {
		off = bench_http_head(c, b, have, &status);
		if (off <= 0)
			return off;
		if (status != 101)
			return bench_net_fail(c, "upgrade answered HTTP %d",
					      status);
		c->state = C_BODY;
		if (upgraded(c))
			return -1;
	}
	n = frames(c, b + off, have - (size_t)off, now);
	return n < 0 ? -1 : off + n;
}

static int
ws_ended(struct bench_conn *c)
{
	return c->serving ? -1 : bench_net_fail(c, "closed before joined");
}

static void
ws_reset(struct bench_conn *c)
{
	struct ws *w = c->priv;

	w->in_msg = 0;
	bench_buf_free(&w->msg);
}

const struct bench_tp_ops bench_ws_ops = {
	.name = "ws",
	.conn_size = sizeof(struct ws),
	.open = ws_open,
	.connected = ws_connected,
	.parse = ws_parse,
	.ended = ws_ended,
	.reset = ws_reset,
};
