/* SPDX-License-Identifier: MIT */
/*
 * bench_poll: the polling client of bench_poll.h, and the short-poll
 * subscriber on it: GET /poll every --interval ms counted from the answer
 * (the first one at a random offset, so the subscribers do not poll in
 * step), on the loop's due heap; registered at its first 200. A request
 * times out after 15 s.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_json.h"
#include "bench_poll.h"

#define CONNECT_TMO_NS (10 * 1000000000ll)
#define POLL_TMO_NS (15 * 1000000000ll)

/* ---- the polling client ---------------------------------------------- */

void
bench_poll_open(struct bench_conn *c)
{
	c->deadline = bench_now_ns() + CONNECT_TMO_NS;
	/* a failure counts as a reconnect once the subscriber is in */
	c->serving = c->s->registered;
}

int
bench_poll_send(struct bench_conn *c, const char *path, const char *query,
		int64_t tmo_ns)
{
	struct bench_poll *p = c->priv;
	char h[200] = "";

	c->r->requests++;
	c->state = C_HEAD;
	c->deadline = bench_now_ns() + tmo_ns;
	if (c->r->o->peer == BENCH_PEER_NCHAN && p->last_mod[0])
		snprintf(h, sizeof(h), "If-Modified-Since: %s\r\n"
			 "If-None-Match: %s\r\n", p->last_mod, p->etag);
	return bench_http_get(c, path, query, h);
}

/* A body {"messages":[E,...],"last_id":N,"gap":B} in [p, end), read in
 * one pass. */
static void
batch(struct bench_conn *c, const char *p, const char *end, int64_t now)
{
	struct bench_run *r = c->r;
	struct bench_json_it it, ai;
	const char *key, *val, *vend;
	size_t klen;
	uint64_t last;
	int n, m;

	if (bench_json_begin(&it, p, end, '{')) {
		r->bad++;
		return;
	}
	while ((n = bench_json_key(&it, &key, &klen, &val)) > 0) {
		if (bench_json_key_is(key, klen, "messages") &&
		    !bench_json_begin(&ai, val, end, '[')) {
			while ((m = bench_json_next(&ai, &val)) > 0) {
				ai.p = bench_deliver(r, c->s, val, end, now);
				if (!ai.p)
					break;
			}
			if (m < 0 || !ai.p) {
				r->bad++;
				return;
			}
			it.p = ai.p;
			continue;
		}
		vend = bench_json_skip(val, end);
		if (!vend) {
			r->bad++;
			return;
		}
		it.p = vend;
		if (bench_json_key_is(key, klen, "last_id")) {
			if (!bench_json_u64(val, vend, &last) &&
			    last > c->s->cursor)
				c->s->cursor = last;
		} else if (bench_json_key_is(key, klen, "gap")) {
			if (vend - val >= 4 && !memcmp(val, "true", 4))
				r->gaps++;
		}
	}
	if (n < 0)
		r->bad++;
}

/* nchan's long-poll answer head [b, b + len): 200 with one message, or
 * 304/408 (the wait timed out) with nothing; keeps the resume headers of
 * a 200. Returns len or -1. */
static ssize_t
nchan_head(struct bench_conn *c, const char *b, ssize_t len)
{
	struct bench_poll *p = c->priv;
	const char *end = b + len;

	if (p->status != 200 && p->status != 304 && p->status != 408)
		return bench_http_refused(c, p->status, end, 0);
	if (bench_http_has_header(b, end, "transfer-encoding:", "chunked"))
		return bench_net_fail(c, "nchan: chunked long-poll answer");
	if (bench_http_header_size(b, end, "content-length:", &p->body_len))
		p->body_len = 0;
	if (p->status == 200 &&
	    (bench_http_header_copy(b, end, "last-modified:", p->last_mod,
				    sizeof(p->last_mod)) ||
	     bench_http_header_copy(b, end, "etag:", p->etag,
				    sizeof(p->etag))))
		return bench_net_fail(c, "nchan: no Last-Modified or Etag");
	p->close_after = bench_http_has_header(b, end, "connection:",
					       "close");
	c->state = C_BODY;
	return len;
}

/* Reads a response head in [b, b + have): its length, 0, or -1. */
static ssize_t
head(struct bench_conn *c, const char *b, size_t have)
{
	struct bench_poll *p = c->priv;
	ssize_t len;
	int status;

	len = bench_http_head(c, b, have, &status);
	if (len <= 0)
		return len;
	p->status = status;
	if (c->r->o->peer == BENCH_PEER_NCHAN)
		return nchan_head(c, b, len);
	if (status != 200)
		return bench_http_refused(c, status, b + len,
					  have - (size_t)len);
	/* imlab answers polls with a Content-Length, never chunked */
	if (bench_http_has_header(b, b + len, "transfer-encoding:",
				  "chunked") ||
	    bench_http_header_size(b, b + len, "content-length:",
				   &p->body_len))
		return bench_net_fail(c, "no Content-Length (or too large)");
	p->close_after = bench_http_has_header(b, b + len, "connection:",
					       "close");
	c->state = C_BODY;
	return len;
}

ssize_t
bench_poll_parse(struct bench_conn *c, const char *b, size_t have,
		 int64_t now, bench_poll_answered_fn answered)
{
	struct bench_poll *p = c->priv;
	size_t off = 0;
	ssize_t n;

	c->need = 0;
	for (;;) {
		switch (c->state) {
		case C_HEAD:
			if (off == have)
				return (ssize_t)off;
			n = head(c, b + off, have - off);
			if (n <= 0)
				return n < 0 ? -1 : (ssize_t)off;
			off += (size_t)n;
			break;
		case C_BODY:
			if (have - off < p->body_len) {
				c->need = p->body_len;
				return (ssize_t)off;
			}
			if (c->r->o->peer != BENCH_PEER_NCHAN)
				batch(c, b + off, b + off + p->body_len, now);
			else if (p->status == 200 && p->body_len)
				bench_deliver(c->r, c->s, b + off,
					      b + off + p->body_len, now);
			off += p->body_len;
			p->reused = 1;
			c->deadline = 0;
			c->serving = 1;
			bench_registered(c->r, c->s);
			if (answered(c, now))
				return -1;
			break;
		case C_CLOSING:		/* the rest does not matter */
			return (ssize_t)have;
		default:
			if (off == have)
				return (ssize_t)off;
			return bench_net_fail(c, "data with no request open");
		}
	}
}

int
bench_poll_ended(struct bench_conn *c)
{
	struct bench_poll *p = c->priv;

	if (c->state == C_WAIT || c->state == C_CLOSING ||
	    (c->state == C_HEAD && p->reused && !c->in.len))
		return 1;
	return bench_net_fail(c, "closed before the answer %s",
			      c->state == C_BODY ? "ended" : "came");
}

void
bench_poll_reset(struct bench_conn *c)
{
	struct bench_poll *p = c->priv;

	p->body_len = 0;
	p->close_after = 0;
	p->reused = 0;
	p->status = 0;
}

/* ---- short poll ------------------------------------------------------- */

static int
sp_request(struct bench_conn *c)
{
	return bench_poll_send(c, "/poll", "", POLL_TMO_NS);
}

/* The next request is due --interval ms after the answer (the first time
 * at a random offset within it). */
static int
sp_answered(struct bench_conn *c, int64_t now)
{
	struct bench_poll *p = c->priv;
	int iv = c->r->o->interval_ms;

	bench_net_at(c, now + (p->polled ? iv : rand() % iv) * 1000000ll);
	p->polled = 1;
	c->state = p->close_after ? C_CLOSING : C_WAIT;
	return 0;
}

static ssize_t
sp_parse(struct bench_conn *c, const char *b, size_t have, int64_t now)
{
	return bench_poll_parse(c, b, have, now, sp_answered);
}

static int
sp_due(struct bench_conn *c)
{
	return c->state == C_WAIT ? sp_request(c) : 0;
}

const struct bench_tp_ops bench_poll_ops = {
	.name = "poll",
	.conn_size = sizeof(struct bench_poll),
	.open = bench_poll_open,
	.connected = sp_request,
	.parse = sp_parse,
	.ended = bench_poll_ended,
	.due = sp_due,
	.reset = bench_poll_reset,
};
