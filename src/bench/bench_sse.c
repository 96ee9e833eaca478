/* SPDX-License-Identifier: MIT */
/*
 * bench_sse: the Server-Sent Events subscriber. GET /sse with since = the
 * last id it saw; registered at its 200 headers; reads the chunked (or
 * close-delimited) body as SSE events, a "gap" event counted as a gap and
 * every data line delivered as an envelope. Whole events are parsed where
 * they lie; only an incomplete one is kept. One connect counts one
 * request. With --peer nchan it asks GET /nchan/sse?id=ROOM (nchan's
 * EventSource: the data line is the envelope as published).
 */
#include "autoconf.h"

#include <string.h>

#include "bench_http.h"

enum chstate {
	CH_SIZE = 0,	/* reading a chunk-size line */
	CH_DATA,	/* chunk_left bytes of data to go */
	CH_CRLF,	/* the line end after a chunk's data */
};

struct sse {
	int chunked;
	enum chstate ch;
	size_t chunk_left;
	struct bench_buf ev;	/* an incomplete event */
};

static void
sse_open(struct bench_conn *c)
{
	c->r->requests++;
}

static int
sse_connected(struct bench_conn *c)
{
	c->state = C_HEAD;
	return bench_http_get(c, c->r->o->peer == BENCH_PEER_NCHAN ?
			      "/nchan/sse" : "/sse", "",
			      "Accept: text/event-stream\r\n");
}

/* One SSE event block (lines without the blank line ending it). */
static void
event(struct bench_conn *c, const char *p, const char *end, int64_t now)
{
	struct bench_run *r = c->r;
	const char *data = NULL, *ev = NULL;
	size_t dlen = 0, elen = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *v;

		if (le > p && le[-1] == '\r')
			le--;
		v = memchr(p, ':', (size_t)(le - p));
		if (v && v > p) {
			size_t fl = (size_t)(v - p);

			v++;
			if (v < le && *v == ' ')
				v++;
			if (fl == 4 && !memcmp(p, "data", 4)) {
				if (data)	/* the envelope is one line */
					r->bad++;
				data = v;
				dlen = (size_t)(le - v);
			} else if (fl == 5 && !memcmp(p, "event", 5)) {
				ev = v;
				elen = (size_t)(le - v);
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (ev && elen == 3 && !memcmp(ev, "gap", 3)) {
		r->gaps++;
		return;
	}
	if (data)
		bench_deliver(r, c->s, data, data + dlen, now);
}

/* Parses the complete events in [p, end); returns where the rest starts. */
static const char *
events(struct bench_conn *c, const char *p, const char *end, int64_t now)
{
	const char *sep;

	while ((sep = memmem(p, (size_t)(end - p), "\n\n", 2))) {
		event(c, p, sep + 1, now);
		p = sep + 2;
	}
	return p;
}

/* Takes n bytes of the event stream. 0 or -1. */
static int
feed(struct bench_conn *c, const char *p, size_t n, int64_t now)
{
	struct sse *e = c->priv;
	const char *rest;
	size_t from = e->ev.len ? e->ev.len - 1 : 0;

	if (!e->ev.len) {
		/* the usual case: whole events, parsed where they are */
		rest = events(c, p, p + n, now);
		n -= (size_t)(rest - p);
		if (n && bench_buf_add(&e->ev, rest, n))
			return bench_net_fail(c, "no memory");
		return 0;
	}
	if (e->ev.len + n > BENCH_FRAME_MAX || bench_buf_add(&e->ev, p, n))
		return bench_net_fail(c, "event too large");
	/* a big event comes in many pieces: look at the new bytes only */
	if (!memmem(e->ev.p + from, e->ev.len - from, "\n\n", 2))
		return 0;
	rest = events(c, e->ev.p, e->ev.p + e->ev.len, now);
	e->ev.len -= (size_t)(rest - e->ev.p);
	memmove(e->ev.p, rest, e->ev.len);
	if (!e->ev.len)
		bench_buf_free(&e->ev);
	return 0;
}

/* Reads a chunk-size line at b, nl its '\n': the size, -1 if it is not
 * one, -2 if it is too large. */
static long long
chunk_size(const char *b, const char *nl)
{
	const char *q;
	size_t size = 0;

	for (q = b; q < nl; q++) {
		int d = *q >= '0' && *q <= '9' ? *q - '0' :
			*q >= 'a' && *q <= 'f' ? *q - 'a' + 10 :
			*q >= 'A' && *q <= 'F' ? *q - 'A' + 10 : -1;

		if (d < 0)
			break;
		if (size > BENCH_FRAME_MAX)
			return -2;
		size = size * 16 + (size_t)d;
	}
	return q == b ? -1 : (long long)size;
}

/* Parses the response body in [b, b + have): bytes consumed, or -1. */
static ssize_t
body(struct bench_conn *c, const char *b, size_t have, int64_t now)
{
	struct sse *e = c->priv;
	size_t off = 0, n;
	const char *nl;
	long long size;

	if (!e->chunked)
		return feed(c, b, have, now) ? -1 : (ssize_t)have;
	while (off < have) {
		switch (e->ch) {
		case CH_SIZE:
			nl = memchr(b + off, '\n', have - off);
			if (!nl) {
				if (have - off > 64)
					return bench_net_fail(c, "bad chunk "
							      "size");
				return (ssize_t)off;
			}
			size = chunk_size(b + off, nl);
			if (size < 0)
				return bench_net_fail(c, "%s", size == -2 ?
						      "chunk too large" :
						      "bad chunk size");
			off = (size_t)(nl + 1 - b);
			if (!size)	/* the last chunk: the stream ended */
				return -1;
			e->chunk_left = (size_t)size;
			e->ch = CH_DATA;
			break;
		case CH_DATA:
			n = have - off < e->chunk_left ? have - off :
			    e->chunk_left;
			if (feed(c, b + off, n, now))
				return -1;
			off += n;
			e->chunk_left -= n;
			if (!e->chunk_left)
				e->ch = CH_CRLF;
			break;
		case CH_CRLF:
			if (b[off] == '\n')
				e->ch = CH_SIZE;
			else if (b[off] != '\r')
				return bench_net_fail(c, "bad chunk end");
			off++;
			break;
		}
	}
	return (ssize_t)off;
}

static ssize_t
sse_parse(struct bench_conn *c, const char *b, size_t have, int64_t now)
{
	struct sse *e = c->priv;
	ssize_t off = 0, n;
	int status;

	if (c->state == C_HEAD) {
		off = bench_http_head(c, b, have, &status);
		if (off <= 0)
			return off;
		if (status != 200)
			return bench_http_refused(c, status, b + off,
						  have - (size_t)off);
		e->chunked = bench_http_has_header(b, b + off,
						   "transfer-encoding:",
						   "chunked");
		e->ch = CH_SIZE;
		c->state = C_BODY;
		c->serving = 1;
		bench_registered(c->r, c->s);
	}
	n = body(c, b + off, have - (size_t)off, now);
	return n < 0 ? -1 : off + n;
}

static int
sse_ended(struct bench_conn *c)
{
	return c->serving ? -1 : bench_net_fail(c, "closed before the "
						"response");
}

static void
sse_reset(struct bench_conn *c)
{
	struct sse *e = c->priv;

	e->chunked = 0;
	e->ch = CH_SIZE;
	e->chunk_left = 0;
	bench_buf_free(&e->ev);
}

const struct bench_tp_ops bench_sse_ops = {
	.name = "sse",
	.conn_size = sizeof(struct sse),
	.open = sse_open,
	.connected = sse_connected,
	.parse = sse_parse,
	.ended = sse_ended,
	.reset = sse_reset,
};
