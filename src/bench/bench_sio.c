/* SPDX-License-Identifier: MIT */
/*
 * bench_sio: the Socket.IO subscriber: Engine.IO v4 over WebSocket from
 * the start (GET /socket.io/?EIO=4&transport=websocket, the framing is
 * bench_wsc's). At the open packet 0{...} it sends the CONNECT 40 with
 * the auth imlab's sio_app.c reads ({"cid","from"}); at the server's 40
 * it emits 420["join",{"room","since"}] and is registered at the ack 430
 * (an ack carrying "error" is a failure). Every 42["EVENT",envelope,...]
 * is a delivery (42["gap",...] a gap), one WebSocket frame each; a server
 * ping 2 is answered with 3. 41 (DISCONNECT), 44 (CONNECT_ERROR) and 1
 * (close) end the connection; it reconnects with since at its cursor, as
 * /ws does. One connect counts one request (the upgrade).
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "bench_http.h"
#include "bench_json.h"
#include "bench_wsc.h"

enum stage {
	S_OPEN = 0,	/* waiting for the open packet */
	S_CONNECT,	/* 40 sent, waiting for the server's 40 */
	S_JOIN,		/* the join sent, waiting for its ack */
	S_LIVE,		/* registered */
};

struct sio {
	struct bench_wsc ws;
	enum stage stage;
};

static void
sio_open(struct bench_conn *c)
{
	struct sio *s = c->priv;

	s->stage = S_OPEN;
	c->r->requests++;
}

static int
sio_connected(struct bench_conn *c)
{
	return bench_wsc_upgrade(c, "/socket.io/?EIO=4&transport=websocket",
				 NULL);
}

/* The open packet: sends the CONNECT with the auth. */
static int
send_connect(struct bench_conn *c)
{
	char m[200], cid[80], from[32];
	int n;

	bench_sub_cid(c->r, c->s, cid, sizeof(cid));
	bench_sub_from(c->r, c->s, from, sizeof(from));
	n = snprintf(m, sizeof(m), "40{\"cid\":\"%s\",\"from\":\"%s\"}", cid,
		     from);
	return bench_wsc_send_text(c, m, (size_t)n);
}

/* The server's CONNECT: emits the join with ack id 0. */
static int
send_join(struct bench_conn *c)
{
	char m[300], room[96];
	int n;

	bench_room_name(c->r, c->s->room, room, sizeof(room));
	n = snprintf(m, sizeof(m), "420[\"join\",{\"room\":\"%s\",\"since\":"
		     "%llu}]", room, (unsigned long long)c->s->cursor);
	return bench_wsc_send_text(c, m, (size_t)n);
}

/* 42[...] after its digits at p: delivers the envelope (the second
 * element), or counts a gap. */
static void
event(struct bench_conn *c, const char *p, const char *end, int64_t now)
{
	struct bench_run *r = c->r;
	struct bench_json_it it;
	const char *val, *vend, *name;
	size_t nlen;

	while (p < end && *p >= '0' && *p <= '9')	/* an ack id */
		p++;
	if (bench_json_begin(&it, p, end, '[') ||
	    bench_json_next(&it, &val) != 1 ||
	    !(vend = bench_json_skip(val, end)) ||
	    bench_json_str(val, vend, &name, &nlen)) {
		r->bad++;
		return;
	}
	if (bench_json_key_is(name, nlen, "gap")) {
		r->gaps++;
		return;
	}
	it.p = vend;
	if (bench_json_next(&it, &val) != 1) {
		r->bad++;
		return;
	}
	bench_deliver(r, c->s, val, end, now);
}

/* A Socket.IO packet (after the Engine.IO 4), n bytes at p. */
static int
packet(struct bench_conn *c, const char *p, size_t n, int64_t now)
{
	struct sio *s = c->priv;
	struct bench_run *r = c->r;
	const char *end = p + n;

	if (!n)
		return bench_net_fail(c, "empty Socket.IO packet");
	switch (p[0]) {
	case '0':	/* CONNECT answered */
		if (s->stage != S_CONNECT)
			return bench_net_fail(c, "CONNECT out of turn");
		s->stage = S_JOIN;
		return send_join(c);
	case '2':
		event(c, p + 1, end, now);
		return 0;
	case '3':	/* only the join asks for an ack */
		if (s->stage != S_JOIN)
			return 0;
		if (n < 2 || p[1] != '0' ||
		    memmem(p, n, "\"error\"", 7))
			return bench_net_fail(c, "join refused: %.*s",
					      (int)(n < 160 ? n : 160), p);
		s->stage = S_LIVE;
		c->serving = 1;
		bench_registered(r, c->s);
		return 0;
	case '1':
		return bench_net_fail(c, "DISCONNECT from the server");
	case '4':
		return bench_net_fail(c, "CONNECT_ERROR: %.*s",
				      (int)(n < 160 ? n : 160), p);
	default:
		return bench_net_fail(c, "Socket.IO packet type %c", p[0]);
	}
}

/* One WebSocket message: one Engine.IO packet. */
static int
message(struct bench_conn *c, const char *p, size_t n, int binary,
	int64_t now)
{
	struct sio *s = c->priv;

	c->r->frames++;
	if (binary || !n) {
		c->r->bad++;
		return 0;
	}
	switch (p[0]) {
	case '0':	/* open */
		if (s->stage != S_OPEN)
			return bench_net_fail(c, "open packet out of turn");
		s->stage = S_CONNECT;
		return send_connect(c);
	case '1':
		return bench_net_fail(c, "Engine.IO close from the server");
	case '2':	/* ping */
		return bench_wsc_send_text(c, "3", 1);
	case '4':
		return packet(c, p + 1, n - 1, now);
	case '6':	/* noop */
		return 0;
	default:
		return bench_net_fail(c, "Engine.IO packet type %c", p[0]);
	}
}

static ssize_t
sio_parse(struct bench_conn *c, const char *b, size_t have, int64_t now)
{
	struct sio *s = c->priv;
	ssize_t off = 0, n;
	int status;

	if (c->state == C_HEAD) {
		off = bench_http_head(c, b, have, &status);
		if (off <= 0)
			return off;
		if (status != 101)
			return bench_http_refused(c, status, b + off,
						  have - (size_t)off);
		c->state = C_BODY;
	}
	n = bench_wsc_parse(c, &s->ws, b + off, have - (size_t)off, now,
			    message);
	return n < 0 ? -1 : off + n;
}

static int
sio_ended(struct bench_conn *c)
{
	return c->serving ? -1 : bench_net_fail(c, "closed before joined");
}

static void
sio_reset(struct bench_conn *c)
{
	struct sio *s = c->priv;

	bench_wsc_reset(&s->ws);
	s->stage = S_OPEN;
}

const struct bench_tp_ops bench_sio_ops = {
	.name = "sio",
	.conn_size = sizeof(struct sio),
	.open = sio_open,
	.connected = sio_connected,
	.parse = sio_parse,
	.ended = sio_ended,
	.reset = sio_reset,
};
