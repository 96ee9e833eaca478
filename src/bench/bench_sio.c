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
 *
 * sio-polling starts on HTTP long-polling and upgrades, as the default
 * Socket.IO client does, all on one keep-alive connection: the handshake
 * GET (0{"sid":...}), a POST of the CONNECT, GETs until the server's 40,
 * then the upgrade GET ...&transport=websocket&sid= on the same socket,
 * 2probe / 3probe and 5; the join goes over the WebSocket. Each of those
 * HTTP requests counts one request.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "bench_http.h"
#include "bench_json.h"
#include "bench_wsc.h"

enum stage {
	P_HANDSHAKE,	/* polling: the handshake GET sent */
	P_POST,		/* polling: the CONNECT POSTed */
	P_POLL,		/* polling: a GET for the server's 40 sent */
	P_UPGRADE,	/* polling: the upgrade GET sent */
	P_PROBE,	/* polling: 2probe sent, waiting for 3probe */
	S_OPEN,		/* waiting for the open packet */
	S_CONNECT,	/* 40 sent, waiting for the server's 40 */
	S_JOIN,		/* the join sent, waiting for its ack */
	S_LIVE,		/* registered */
};

#define POLL_PATH "/socket.io/?EIO=4&transport=polling"
#define SID_MAX 64

struct sio {
	struct bench_wsc ws;
	enum stage stage;
	int polling;		/* sio-polling: starts on polling */
	char sid[SID_MAX];	/* polling: the session id */
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

/* Writes the CONNECT with the auth into m; returns its length. */
static size_t
connect_packet(struct bench_conn *c, char *m, size_t cap)
{
	char cid[80], from[32];
	int n;

	bench_sub_cid(c->r, c->s, cid, sizeof(cid));
	bench_sub_from(c->r, c->s, from, sizeof(from));
	n = snprintf(m, cap, "40{\"cid\":\"%s\",\"from\":\"%s\"}", cid,
		     from);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* The open packet: sends the CONNECT with the auth. */
static int
send_connect(struct bench_conn *c)
{
	char m[200];

	return bench_wsc_send_text(c, m, connect_packet(c, m, sizeof(m)));
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
	case '0':	/* CONNECT answered (polling: see poll_answer) */
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
	case '3':	/* the probe's answer: upgrade, then join */
		if (s->stage != P_PROBE || n != 6 || memcmp(p, "3probe", 6))
			return bench_net_fail(c, "pong out of turn");
		if (bench_wsc_send_text(c, "5", 1))
			return -1;
		s->stage = S_JOIN;
		return send_join(c);
	case '4':
		return packet(c, p + 1, n - 1, now);
	case '6':	/* noop */
		return 0;
	default:
		return bench_net_fail(c, "Engine.IO packet type %c", p[0]);
	}
}

/* ---- sio-polling: the HTTP part ------------------------------------ */

/* Sends "GET POLL_PATH&sid=" (upgrade: the WebSocket's path). */
static int
poll_get(struct bench_conn *c, int upgrade)
{
	struct sio *s = c->priv;
	char path[160];

	c->r->requests++;
	snprintf(path, sizeof(path), "/socket.io/?EIO=4&transport=%s&sid=%s",
		 upgrade ? "websocket" : "polling", s->sid);
	if (upgrade)
		return bench_wsc_upgrade(c, path, NULL);
	c->state = C_HEAD;
	return bench_http_get(c, path, NULL, "");
}

/* POSTs the CONNECT. */
static int
poll_post(struct bench_conn *c)
{
	struct sio *s = c->priv;
	char req[600], m[200];
	size_t n = connect_packet(c, m, sizeof(m));
	int k;

	c->r->requests++;
	k = snprintf(req, sizeof(req), "POST " POLL_PATH "&sid=%s HTTP/1.1\r\n"
		     "Host: %s\r\nContent-Type: text/plain;charset=UTF-8\r\n"
		     "Content-Length: %zu\r\n\r\n%.*s", s->sid,
		     bench_net_hostport(c), n, (int)n, m);
	if (!n || k < 0 || (size_t)k >= sizeof(req))
		return bench_net_fail(c, "request too long");
	return bench_net_send(c, req, (size_t)k);
}

/* Copies the "sid" of the handshake body [p, p + n) into s->sid. */
static int
take_sid(struct bench_conn *c, const char *p, size_t n)
{
	struct sio *s = c->priv;
	const char *q = memmem(p, n, "\"sid\":\"", 7), *e;

	if (!n || p[0] != '0' || !q)
		return bench_net_fail(c, "no sid in the handshake");
	q += 7;
	e = memchr(q, '"', (size_t)(p + n - q));
	if (!e || e == q || (size_t)(e - q) >= sizeof(s->sid))
		return bench_net_fail(c, "bad sid in the handshake");
	memcpy(s->sid, q, (size_t)(e - q));
	s->sid[e - q] = '\0';
	return 0;
}

/* Returns 1 if the payload [p, p + n) (packets joined by 0x1e) holds the
 * server's CONNECT, 40. */
static int
has_connect(const char *p, size_t n)
{
	const char *end = p + n;

	while (p < end) {
		const char *e = memchr(p, 0x1e, (size_t)(end - p));

		if (!e)
			e = end;
		if (e - p >= 2 && p[0] == '4' && p[1] == '0')
			return 1;
		p = e + 1;
	}
	return 0;
}

/* One whole polling answer, body [p, p + n): the next request. */
static int
poll_answer(struct bench_conn *c, const char *p, size_t n)
{
	struct sio *s = c->priv;

	switch (s->stage) {
	case P_HANDSHAKE:
		if (take_sid(c, p, n))
			return -1;
		s->stage = P_POST;
		return poll_post(c);
	case P_POST:
		s->stage = P_POLL;
		return poll_get(c, 0);
	case P_POLL:
		if (n >= 2 && p[0] == '4' && p[1] == '4')
			return bench_net_fail(c, "CONNECT_ERROR: %.*s",
					      (int)(n < 160 ? n : 160), p);
		if (!has_connect(p, n))
			return poll_get(c, 0);	/* not yet: ask again */
		s->stage = P_UPGRADE;
		return poll_get(c, 1);
	default:
		return bench_net_fail(c, "polling answer out of turn");
	}
}

/* The polling stages' responses, and the upgrade's 101: the bytes
 * consumed, 0 for more, or -1. */
static ssize_t
poll_parse(struct bench_conn *c, const char *b, size_t have)
{
	struct sio *s = c->priv;
	size_t blen;
	int status = 0;
	ssize_t off = bench_http_head(c, b, have, &status);

	if (off <= 0)
		return off;
	if (s->stage == P_UPGRADE) {
		if (status != 101)
			return bench_http_refused(c, status, b + off,
						  have - (size_t)off);
		c->state = C_BODY;
		s->stage = P_PROBE;
		return bench_wsc_send_text(c, "2probe", 6) ? -1 : off;
	}
	if (bench_http_header_size(b, b + off, "content-length:", &blen))
		return bench_net_fail(c, "polling answer without "
				      "Content-Length");
	if (have - (size_t)off < blen) {
		c->need = (size_t)off + blen;
		return 0;
	}
	if (status != 200)
		return bench_http_refused(c, status, b + off, blen);
	return poll_answer(c, b + off, blen) ? -1 : off + (ssize_t)blen;
}

/* ---- both ------------------------------------------------------------ */

static ssize_t
sio_parse(struct bench_conn *c, const char *b, size_t have, int64_t now)
{
	struct sio *s = c->priv;
	ssize_t off = 0, n;
	int status;

	if (s->polling && s->stage < P_PROBE) {
		off = poll_parse(c, b, have);
		if (off <= 0 || s->stage != P_PROBE)
			return off;
	} else if (c->state == C_HEAD) {
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
	s->stage = s->polling ? P_HANDSHAKE : S_OPEN;
}

static void
polling_open(struct bench_conn *c)
{
	struct sio *s = c->priv;

	s->polling = 1;
	s->stage = P_HANDSHAKE;
	s->sid[0] = '\0';
	c->r->requests++;
}

static int
polling_connected(struct bench_conn *c)
{
	c->state = C_HEAD;
	return bench_http_get(c, POLL_PATH, NULL, "");
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

const struct bench_tp_ops bench_sio_polling_ops = {
	.name = "sio-polling",
	.conn_size = sizeof(struct sio),
	.open = polling_open,
	.connected = polling_connected,
	.parse = sio_parse,
	.ended = sio_ended,
	.reset = sio_reset,
};
