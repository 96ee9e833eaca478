/* SPDX-License-Identifier: MIT */
/*
 * bench_ws: the WebSocket subscriber of imlab's /ws (the RFC 6455 framing,
 * fragments, ping and close are bench_wsc's). GET /ws with Upgrade; at
 * 101 it sends {"op":"hello"} then {"op":"join","since":...} as masked
 * text frames in one write and is registered at "joined". It takes
 * {"op":"msg"} and batched {"op":"msgs"} frames, gap and error frames.
 * One connect counts one request (the upgrade). With --peer nchan
 * it asks GET /nchan/ws?id=ROOM, is registered at 101 and takes every
 * text frame as one envelope (nchan sends the published body as is).
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "bench_json.h"
#include "bench_http.h"
#include "bench_wsc.h"

static void
ws_open(struct bench_conn *c)
{
	c->r->requests++;
}

static int
ws_connected(struct bench_conn *c)
{
	if (c->r->o->peer == BENCH_PEER_NCHAN)
		return bench_wsc_upgrade(c, "/nchan/ws", "");
	return bench_wsc_upgrade(c, "/ws", NULL);
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
	len = bench_wsc_frame(c, f, 0x1, m, (size_t)n);
	bench_room_name(r, c->s->room, room, sizeof(room));
	n = snprintf(m, sizeof(m), "{\"op\":\"join\",\"room\":\"%s\","
		     "\"since\":%llu}", room,
		     (unsigned long long)c->s->cursor);
	len += bench_wsc_frame(c, f + len, 0x1, m, (size_t)n);
	return bench_net_send(c, f, len);
}

/* One complete message from the server, read in one pass: a "msgs" array
 * is delivered while it is walked. */
static int
message(struct bench_conn *c, const char *p, size_t len, int binary,
	int64_t now)
{
	struct bench_run *r = c->r;
	struct bench_json_it it, ai;
	const char *key, *val, *vend, *op = NULL, *end = p + len;
	size_t klen, oplen = 0;
	int n, m;

	(void)binary;
	r->frames++;
	if (r->o->peer == BENCH_PEER_NCHAN) {
		bench_deliver(r, c->s, p, end, now);
		return 0;
	}
	if (bench_json_begin(&it, p, end, '{')) {
		r->bad++;
		return 0;
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
			return 0;
		}
	}
	if (n < 0 || !op) {
		r->bad++;
		return 0;
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
	return 0;
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
	n = bench_wsc_parse(c, c->priv, b + off, have - (size_t)off, now,
			    message);
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
	bench_wsc_reset(c->priv);
}

const struct bench_tp_ops bench_ws_ops = {
	.name = "ws",
	.conn_size = sizeof(struct bench_wsc),
	.open = ws_open,
	.connected = ws_connected,
	.parse = ws_parse,
	.ended = ws_ended,
	.reset = ws_reset,
};
