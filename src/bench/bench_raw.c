/* SPDX-License-Identifier: MIT */
/*
 * bench_raw: the subscribers of every transport, as minimal HTTP/1.1 and
 * RFC 6455 clients on non-blocking sockets, all driven by one epoll loop
 * in the loop thread. libwebsockets parses client frames byte by byte and
 * libcurl pays about 60 us of CPU per request cycle, a callback and a copy
 * per segment, which made the bench, not the server, the limit. Here a
 * readable socket gets one large recv() into a buffer the loop shares by
 * all connections, every complete frame, event or response body in it is
 * parsed in place by the zero-copy scanner, and only an incomplete tail is
 * kept per connection (one larger than RX_DIRECT is read into the
 * connection's own buffer instead).
 *  - ws: GET /ws with Upgrade; at 101 sends {"op":"hello"} then
 *    {"op":"join","since":...} as masked text frames; registered at
 *    "joined". Takes {"op":"msg"} and batched {"op":"msgs"} frames,
 *    fragmented messages, gap and error frames; answers ping with pong and
 *    close with close.
 *  - sse: GET /sse; registered at its 200 headers; reads the chunked (or
 *    close-delimited) body as SSE events.
 *  - longpoll: one keep-alive connection per subscriber, GET /longpoll
 *    with since = the last id again as soon as an answer is read;
 *    registered once its first request is on the wire (handed to the
 *    kernel).
 *  - poll: the same with GET /poll every --interval ms, counted from the
 *    answer (the first one at a random offset, so the subscribers do not
 *    poll in step), on a min-heap of due times; registered at its first
 *    200.
 * Poll and long-poll answers must carry a Content-Length (imlab's do);
 * their body {"messages":[E,...],"last_id":N,"gap":B} is read whole and
 * scanned in one pass.
 * A stream that fails or ends reconnects 200 ms later with since = the
 * last id it saw; so does a poll whose request failed (a non-200 answer,
 * a reset, a timeout: 10 s to connect, 15 s for a poll, the long-poll
 * timeout plus 15 s for a long poll). A kept-alive poll connection the
 * server closes between requests (or before answering the first byte of
 * a request sent on it, the keep-alive race) is reopened at once, quietly,
 * as a browser would.
 */
#include "autoconf.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "bench_json.h"
#include "bench_proc.h"

#define RX_CHUNK (128u << 10)	/* bytes asked of one recv() */
#define RX_DIRECT (256u << 10)	/* larger pending frames: own buffer */
#define HEAD_MAX 8192		/* response head */
#define FRAME_MAX (64u << 20)	/* largest message or SSE event */
#define RETRY_NS (200 * 1000000ll)
#define MAX_EVENTS 512
#define READS_MAX 4		/* full recv()s per socket per wake-up */
#define CONNECT_TMO_NS (10 * 1000000000ll)	/* poll, longpoll */
#define POLL_TMO_NS (15 * 1000000000ll)	/* a poll request */
#define SWEEP_NS 1000000000ll	/* how often timeouts are looked for */

enum cstate {
	C_IDLE = 0,	/* not connected; retry_at says when */
	C_CONNECTING,	/* connect() in progress */
	C_HEAD,		/* request sent, reading the response head */
	C_BODY,		/* ws: frames; sse: the event stream; polls: body */
	C_WAIT,		/* poll: kept alive, the next request is due later */
	C_CLOSING,	/* polls: answered with Connection: close */
};

enum chstate {
	CH_SIZE = 0,	/* reading a chunk-size line */
	CH_DATA,	/* chunk_left bytes of data to go */
	CH_CRLF,	/* the line end after a chunk's data */
};

struct rbuf {
	char *p;
	size_t len, cap;
};

struct rloop;

struct rconn {
	struct rloop *l;
	struct bench_sub *s;
	int fd;
	enum cstate state;
	int serving;		/* ws: joined; sse: 200 headers read */
	int64_t retry_at;	/* ns; 0: no retry pending */
	struct rbuf in;		/* received bytes not parsed yet */
	size_t need;		/* bytes the pending frame needs, 0: unknown */
	struct rbuf out;	/* bytes not sent yet */
	int pollout;		/* EPOLLOUT is in the socket's events */
	/* ws */
	struct rbuf msg;	/* fragments of the current message */
	int in_msg;		/* a fragmented message is open */
	/* sse */
	int chunked;
	enum chstate ch;
	size_t chunk_left;
	struct rbuf ev;		/* an incomplete event */
	/* poll, longpoll */
	size_t body_len;	/* Content-Length of the answer being read */
	int close_after;	/* the answer said Connection: close */
	int reused;		/* an answer came on this connection */
	int queued;		/* poll: in the due heap */
	int polled;		/* poll: had an answer before */
	int64_t due;		/* poll: ns, when the next request is due */
	int64_t deadline;	/* ns: the connect or request times out; 0 */
};

struct rloop {
	struct bench_run *r;
	int ep;
	struct rconn *c;
	int retries;		/* connections waiting to reconnect */
	uint64_t closed_in, closed_out;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char hostport[160];
	uint64_t rng;
	char why[256];		/* the reason of the failure being handled */
	char *rx;		/* RX_DIRECT + RX_CHUNK bytes, shared */
	int polling;		/* poll or longpoll */
	struct rconn **heap;	/* poll: min-heap on due */
	int heap_n;
	int64_t sweep_at;	/* polls: ns, next look for timeouts */
};

/* ---- helpers --------------------------------------------------------- */

static int
buf_reserve(struct rbuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 512;
	char *np;

	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > 2ull * FRAME_MAX)
		return -1;
	np = realloc(b->p, cap);
	if (!np)
		return -1;
	b->p = np;
	b->cap = cap;
	return 0;
}

static int
buf_add(struct rbuf *b, const void *p, size_t n)
{
	if (buf_reserve(b, b->len + n))
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static void
buf_free(struct rbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Notes why the connection being handled fails; returns -1. */
static int __attribute__((format(printf, 2, 3)))
fail(struct rloop *l, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(l->why, sizeof(l->why), "%s: ",
			 bench_tp_name(l->r->tp));

	va_start(ap, fmt);
	vsnprintf(l->why + n, sizeof(l->why) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t
rng32(struct rloop *l)
{
	/* xorshift64*: masks and keys need not be secret here */
	l->rng ^= l->rng >> 12;
	l->rng ^= l->rng << 25;
	l->rng ^= l->rng >> 27;
	return (uint32_t)((l->rng * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Asks for EPOLLOUT too, or not, if that changes. */
static void
watch_out(struct rconn *c, int out)
{
	struct epoll_event ev;

	if (c->pollout == out)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.ptr = c;
	epoll_ctl(c->l->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->pollout = out;
}

/* Sends what is queued; 0, or -1 if the socket failed. */
static int
flush_out(struct rconn *c)
{
	size_t off = 0;

	if (!c->out.len) {
		watch_out(c, 0);
		return 0;
	}
	while (off < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + off, c->out.len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return fail(c->l, "send: %s", strerror(errno));
		off += (size_t)n;
	}
	c->out.len -= off;
	memmove(c->out.p, c->out.p + off, c->out.len);
	if (!c->out.len)
		buf_free(&c->out);
	watch_out(c, c->out.len > 0);
	return 0;
}

/* Sends p or queues it behind what waits; 0 or -1. */
static int
send_bytes(struct rconn *c, const void *p, size_t n)
{
	if (buf_add(&c->out, p, n))
		return fail(c->l, "no memory");
	return flush_out(c);
}

/* ---- connections ----------------------------------------------------- */

static void
retry_later(struct rconn *c)
{
	if (c->l->r->stopping || c->retry_at)
		return;
	c->retry_at = bench_now_ns() + RETRY_NS;
	c->l->retries++;
}

static void
close_fd(struct rconn *c)
{
	if (c->fd < 0)
		return;
	bench_proc_tcp_bytes(c->fd, &c->l->closed_in, &c->l->closed_out);
	close(c->fd);
	c->fd = -1;
}

/* Closes the socket and forgets its bytes in flight and its parse state. */
static void
reset(struct rconn *c)
{
	close_fd(c);
	c->state = C_IDLE;
	c->serving = 0;
	c->need = 0;
	c->in_msg = 0;
	c->chunked = 0;
	c->ch = CH_SIZE;
	c->chunk_left = 0;
	c->body_len = 0;
	c->close_after = 0;
	c->reused = 0;
	c->deadline = 0;
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->msg);
	buf_free(&c->ev);
}

/* Ends the connection being handled (the reason, if any, in l->why) and
 * schedules its reconnect. A stream counts a reconnect if it was serving,
 * a poll (as a failed request) if its subscriber is registered. A queued
 * poll reconnects when its next request is due. */
static void
drop(struct rconn *c)
{
	struct rloop *l = c->l;
	struct bench_run *r = l->r;

	if (!r->stopping) {
		if (l->why[0])
			bench_error(r, "%s", l->why);
		if (l->polling ? c->s->registered : c->serving)
			r->reconnects++;
	}
	l->why[0] = '\0';
	reset(c);
	if (!c->queued)
		retry_later(c);
}

static void
conn_start(struct rconn *c)
{
	struct rloop *l = c->l;
	struct epoll_event ev;
	int one = 1;

	if (l->polling)		/* polls count each request they send */
		c->deadline = bench_now_ns() + CONNECT_TMO_NS;
	else
		l->r->requests++;
	c->fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		       SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		fail(l, "socket: %s", strerror(errno));
		drop(c);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&l->addr, l->addrlen) &&
	    errno != EINPROGRESS) {
		fail(l, "connect: %s", strerror(errno));
		drop(c);
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev)) {
		fail(l, "epoll_ctl: %s", strerror(errno));
		drop(c);
		return;
	}
	c->state = C_CONNECTING;
	c->pollout = 1;
}

/* Writes a Sec-WebSocket-Key: 16 random bytes in base64, NUL-ended. */
static void
b64_key(struct rloop *l, char out[25])
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[18];
	int o = 0;

	for (int i = 0; i < 16; i++)
		raw[i] = (unsigned char)rng32(l);
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

static int poll_request(struct rconn *c);

/* The socket connected (or failed): sends the request. 0 or -1. */
static int
connected(struct rconn *c)
{
	struct rloop *l = c->l;
	struct bench_run *r = l->r;
	char req[1024], room[96], key[25];
	socklen_t sl = sizeof(int);
	int err = 0, n;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) || err)
		return fail(l, "connect: %s", strerror(err ? err : errno));
	if (l->polling)
		return poll_request(c);
	if (r->tp == BENCH_WS) {
		b64_key(l, key);
		n = snprintf(req, sizeof(req), "GET /ws HTTP/1.1\r\n"
			     "Host: %s\r\nUpgrade: websocket\r\n"
			     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
			     "Sec-WebSocket-Version: 13\r\n\r\n", l->hostport,
			     key);
	} else {
		bench_room_name(r, c->s->room, room, sizeof(room));
		n = snprintf(req, sizeof(req), "GET /sse?rooms=%s&since=%llu"
			     "&cid=%s&from=bench HTTP/1.1\r\nHost: %s\r\n"
			     "Accept: text/event-stream\r\n\r\n", room,
			     (unsigned long long)c->s->cursor, r->cid,
			     l->hostport);
	}
	c->state = C_HEAD;
	return send_bytes(c, req, (size_t)n);
}

/* ---- WebSocket ------------------------------------------------------- */

/* Writes one masked client frame (n < 65536) into dst; returns its size. */
static size_t
ws_frame(struct rloop *l, unsigned char *dst, int op, const void *p,
	 size_t n)
{
	const unsigned char *s = p;
	unsigned char *m;
	uint32_t key = rng32(l);
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

/* 101: sends hello and join in one write. */
static int
ws_open(struct rconn *c)
{
	struct rloop *l = c->l;
	struct bench_run *r = l->r;
	unsigned char f[1024];
	char m[400], room[96];
	size_t len;
	int n;

	n = snprintf(m, sizeof(m), "{\"op\":\"hello\",\"cid\":\"%s\","
		     "\"from\":\"bench\"}", r->cid);
	len = ws_frame(l, f, 0x1, m, (size_t)n);
	bench_room_name(r, c->s->room, room, sizeof(room));
	n = snprintf(m, sizeof(m), "{\"op\":\"join\",\"room\":\"%s\","
		     "\"since\":%llu}", room,
		     (unsigned long long)c->s->cursor);
	len += ws_frame(l, f + len, 0x1, m, (size_t)n);
	return send_bytes(c, f, len);
}

/* One complete message from the server, read in one pass: a "msgs" array
 * is delivered while it is walked. */
static void
ws_message(struct rconn *c, const char *p, size_t len, int64_t now)
{
	struct bench_run *r = c->l->r;
	struct bench_json_it it, ai;
	const char *key, *val, *vend, *op = NULL, *end = p + len;
	size_t klen, oplen = 0;
	int n, m;

	r->frames++;
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
ws_fragment(struct rconn *c, const char *p, size_t n, int fin, int64_t now)
{
	if (c->msg.len + n > FRAME_MAX || buf_add(&c->msg, p, n))
		return fail(c->l, "message too large");
	if (fin) {
		ws_message(c, c->msg.p, c->msg.len, now);
		c->in_msg = 0;
		buf_free(&c->msg);
	}
	return 0;
}

/* Parses the frames in [b, b + have): returns the bytes consumed, or -1
 * to drop the connection (l->why empty: it closed cleanly). */
static ssize_t
ws_frames(struct rconn *c, const char *b, size_t have, int64_t now)
{
	struct rloop *l = c->l;
	unsigned char ctl[140];
	size_t off = 0;

	c->need = 0;
	while (have - off >= 2) {
		const unsigned char *h = (const unsigned char *)b + off;
		const char *p;
		size_t hl = 2, plen = h[1] & 0x7f;
		int fin = h[0] & 0x80, op = h[0] & 0x0f;

		if ((h[1] & 0x80) || (h[0] & 0x70))
			return fail(l, "masked or RSV frame from the server");
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
		if (plen > FRAME_MAX)
			return fail(l, "message too large");
		if (have - off < hl + plen) {
			c->need = hl + plen;
			break;
		}
		p = b + off + hl;
		off += hl + plen;
		switch (op) {
		case 0x1:
		case 0x2:
			if (c->in_msg)
				return fail(l, "new message in a fragmented "
					    "one");
			if (fin) {
				ws_message(c, p, plen, now);
				break;
			}
			c->msg.len = 0;
			c->in_msg = 1;
			if (ws_fragment(c, p, plen, 0, now))
				return -1;
			break;
		case 0x0:
			if (!c->in_msg)
				return fail(l, "continuation of nothing");
			if (ws_fragment(c, p, plen, fin, now))
				return -1;
			break;
		case 0x8:	/* close: echo its code, then end */
			if (plen > 125)
				return fail(l, "bad close frame");
			send_bytes(c, ctl, ws_frame(l, ctl, 0x8, p,
						    plen < 2 ? plen : 2));
			l->why[0] = '\0';
			if (!c->serving)
				fail(l, "closed before joined");
			return -1;
		case 0x9:
			if (plen > 125)
				return fail(l, "bad ping frame");
			if (send_bytes(c, ctl, ws_frame(l, ctl, 0xa, p, plen)))
				return -1;
			break;
		case 0xa:
			break;
		default:
			return fail(l, "opcode %d from the server", op);
		}
	}
	return (ssize_t)off;
}

/* ---- SSE ------------------------------------------------------------- */

/* One SSE event block (lines without the blank line ending it). */
static void
sse_event(struct rconn *c, const char *p, const char *end, int64_t now)
{
	struct bench_run *r = c->l->r;
	const char *data = NULL, *event = NULL;
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
				event = v;
				elen = (size_t)(le - v);
			}
		}
		p = nl ? nl + 1 : end;
	}
	if (event && elen == 3 && !memcmp(event, "gap", 3)) {
		r->gaps++;
		return;
	}
	if (data)
		bench_deliver(r, c->s, data, data + dlen, now);
}

/* Parses the complete events in [p, end); returns where the rest starts. */
static const char *
sse_events(struct rconn *c, const char *p, const char *end, int64_t now)
{
	const char *sep;

	while ((sep = memmem(p, (size_t)(end - p), "\n\n", 2))) {
		sse_event(c, p, sep + 1, now);
		p = sep + 2;
	}
	return p;
}

/* Takes n bytes of the event stream. 0 or -1. */
static int
sse_feed(struct rconn *c, const char *p, size_t n, int64_t now)
{
	const char *rest;
	size_t from = c->ev.len ? c->ev.len - 1 : 0;

	if (!c->ev.len) {
		/* the usual case: whole events, parsed where they are */
		rest = sse_events(c, p, p + n, now);
		n -= (size_t)(rest - p);
		p = rest;
		if (n && buf_add(&c->ev, p, n))
			return fail(c->l, "no memory");
		return 0;
	}
	if (c->ev.len + n > FRAME_MAX || buf_add(&c->ev, p, n))
		return fail(c->l, "event too large");
	/* a big event comes in many pieces: look at the new bytes only */
	if (!memmem(c->ev.p + from, c->ev.len - from, "\n\n", 2))
		return 0;
	rest = sse_events(c, c->ev.p, c->ev.p + c->ev.len, now);
	c->ev.len -= (size_t)(rest - c->ev.p);
	memmove(c->ev.p, rest, c->ev.len);
	if (!c->ev.len)
		buf_free(&c->ev);
	return 0;
}

/* Parses the response body in [b, b + have): bytes consumed, or -1. */
static ssize_t
sse_body(struct rconn *c, const char *b, size_t have, int64_t now)
{
	size_t off = 0, n;

	if (!c->chunked)
		return sse_feed(c, b, have, now) ? -1 : (ssize_t)have;
	while (off < have) {
		const char *nl, *q;
		size_t size = 0;

		switch (c->ch) {
		case CH_SIZE:
			nl = memchr(b + off, '\n', have - off);
			if (!nl) {
				if (have - off > 64)
					return fail(c->l, "bad chunk size");
				return (ssize_t)off;
			}
			for (q = b + off; q < nl; q++) {
				int d = *q >= '0' && *q <= '9' ? *q - '0' :
					*q >= 'a' && *q <= 'f' ? *q - 'a' + 10 :
					*q >= 'A' && *q <= 'F' ? *q - 'A' + 10 :
					-1;

				if (d < 0)
					break;
				if (size > FRAME_MAX)
					return fail(c->l, "chunk too large");
				size = size * 16 + (size_t)d;
			}
			if (q == b + off)
				return fail(c->l, "bad chunk size");
			off = (size_t)(nl + 1 - b);
			if (!size)	/* the last chunk: the stream ended */
				return -1;
			c->chunk_left = size;
			c->ch = CH_DATA;
			break;
		case CH_DATA:
			n = have - off < c->chunk_left ? have - off :
			    c->chunk_left;
			if (sse_feed(c, b + off, n, now))
				return -1;
			off += n;
			c->chunk_left -= n;
			if (!c->chunk_left)
				c->ch = CH_CRLF;
			break;
		case CH_CRLF:
			if (b[off] == '\n')
				c->ch = CH_SIZE;
			else if (b[off] != '\r')
				return fail(c->l, "bad chunk end");
			off++;
			break;
		}
	}
	return (ssize_t)off;
}

/* ---- poll, long poll -------------------------------------------------- */

static void
heap_push(struct rloop *l, struct rconn *c, int64_t due)
{
	int i = l->heap_n++;

	c->due = due;
	c->queued = 1;
	while (i > 0 && l->heap[(i - 1) / 2]->due > due) {
		l->heap[i] = l->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	l->heap[i] = c;
}

static struct rconn *
heap_pop(struct rloop *l)
{
	struct rconn *top = l->heap[0], *last = l->heap[--l->heap_n];
	int i = 0;

	for (;;) {
		int k = 2 * i + 1;

		if (k >= l->heap_n)
			break;
		if (k + 1 < l->heap_n && l->heap[k + 1]->due < l->heap[k]->due)
			k++;
		if (l->heap[k]->due >= last->due)
			break;
		l->heap[i] = l->heap[k];
		i = k;
	}
	if (l->heap_n)
		l->heap[i] = last;
	top->queued = 0;
	return top;
}

/* A long poll is registered once its request is on the wire: all of it
 * handed to the kernel. */
static void
on_wire(struct rconn *c)
{
	if (c->l->r->tp == BENCH_LONGPOLL && c->state == C_HEAD &&
	    !c->out.len)
		bench_registered(c->l->r, c->s);
}

/* Sends the next request on the open connection, from the subscriber's
 * cursor. 0 or -1. */
static int
poll_request(struct rconn *c)
{
	struct rloop *l = c->l;
	struct bench_run *r = l->r;
	char req[1024], room[96], tmo[32] = "";
	int64_t wait = POLL_TMO_NS;
	int n;

	if (r->tp == BENCH_LONGPOLL) {
		snprintf(tmo, sizeof(tmo), "&timeout=%d",
			 BENCH_LONGPOLL_TIMEOUT);
		wait = (BENCH_LONGPOLL_TIMEOUT + 15) * 1000000000ll;
	}
	bench_room_name(r, c->s->room, room, sizeof(room));
	n = snprintf(req, sizeof(req), "GET /%s?rooms=%s&since=%llu&cid=%s"
		     "&from=bench%s HTTP/1.1\r\nHost: %s\r\n\r\n",
		     bench_tp_name(r->tp), room,
		     (unsigned long long)c->s->cursor, r->cid, tmo,
		     l->hostport);
	r->requests++;
	c->state = C_HEAD;
	c->deadline = bench_now_ns() + wait;
	if (send_bytes(c, req, (size_t)n))
		return -1;
	on_wire(c);
	return 0;
}

/* A poll or long-poll body {"messages":[E,...],"last_id":N,"gap":B} in
 * [p, end), read in one pass. */
static void
batch_parse(struct rconn *c, const char *p, const char *end, int64_t now)
{
	struct bench_run *r = c->l->r;
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

/* An answer was read whole: a long poll asks again at once, a poll
 * --interval ms later (its first time at a random offset in it). 0 or
 * -1. */
static int
poll_done(struct rconn *c, int64_t now)
{
	struct rloop *l = c->l;
	struct bench_run *r = l->r;
	int64_t iv = (int64_t)r->o->interval_ms * 1000000ll;

	c->reused = 1;
	c->deadline = 0;
	bench_registered(r, c->s);
	if (r->tp == BENCH_POLL) {
		heap_push(l, c, now + (c->polled ? iv :
			  (int64_t)(rand() % r->o->interval_ms) * 1000000ll));
		c->polled = 1;
		c->state = c->close_after ? C_CLOSING : C_WAIT;
		return 0;
	}
	if (c->close_after) {
		c->state = C_CLOSING;
		return 0;
	}
	return poll_request(c);
}

static ssize_t head(struct rconn *c, const char *b, size_t have);

/* Parses answers in [b, b + have): bytes consumed, or -1 to drop. */
static ssize_t
poll_parse(struct rconn *c, const char *b, size_t have, int64_t now)
{
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
			if (have - off < c->body_len) {
				c->need = c->body_len;
				return (ssize_t)off;
			}
			batch_parse(c, b + off, b + off + c->body_len, now);
			off += c->body_len;
			if (poll_done(c, now))
				return -1;
			break;
		case C_CLOSING:		/* the rest does not matter */
			return (ssize_t)have;
		default:
			if (off == have)
				return (ssize_t)off;
			return fail(c->l, "data with no request open");
		}
	}
}

/* The connection ended between requests (or before the first byte of an
 * answer on a kept-alive connection): opens a new one at once, or when
 * the queued poll is due, without counting an error or a reconnect. */
static void
reopen(struct rconn *c)
{
	reset(c);
	if (!c->queued)
		conn_start(c);
}

/* ---- responses ------------------------------------------------------- */

/* Returns 1 if the header block [p, end) has a field name (with its ':')
 * whose value contains val, both case-insensitive. */
static int
has_header(const char *p, const char *end, const char *name,
	   const char *val)
{
	size_t nl = strlen(name), vl = strlen(val);

	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));

		if (!e)
			e = end;
		if ((size_t)(e - p) >= nl && !strncasecmp(p, name, nl)) {
			for (const char *v = p + nl; v + vl <= e; v++)
				if (!strncasecmp(v, val, vl))
					return 1;
		}
		p = e + 1;
	}
	return 0;
}

/* Reads the decimal value of the header field name (with its ':',
 * case-insensitive) in the block [p, end) into *out; 0, or -1 if there is
 * no such field or its value is not a number up to FRAME_MAX. */
static int
header_size(const char *p, const char *end, const char *name, size_t *out)
{
	size_t nl = strlen(name), v = 0;

	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p)), *q;

		if (!e)
			e = end;
		if ((size_t)(e - p) > nl && !strncasecmp(p, name, nl)) {
			for (q = p + nl; q < e && (*q == ' ' || *q == '\t');)
				q++;
			if (q == e || *q < '0' || *q > '9')
				return -1;
			for (; q < e && *q >= '0' && *q <= '9'; q++) {
				v = v * 10 + (size_t)(*q - '0');
				if (v > FRAME_MAX)
					return -1;
			}
			*out = v;
			return 0;
		}
		p = e + 1;
	}
	return -1;
}

/* Reads the response head in [b, b + have): its length, 0 if it is not
 * complete yet, or -1. */
static ssize_t
head(struct rconn *c, const char *b, size_t have)
{
	struct rloop *l = c->l;
	struct bench_run *r = l->r;
	const char *end = memmem(b, have, "\r\n\r\n", 4);
	int status = 0;

	if (!end)
		return have > HEAD_MAX ? fail(l, "response head too large") :
		       0;
	if (have < 12 || memcmp(b, "HTTP/1.", 7))
		return fail(l, "not an HTTP response");
	for (int i = 9; i < 12; i++) {
		if (b[i] < '0' || b[i] > '9')
			return fail(l, "bad status line");
		status = status * 10 + b[i] - '0';
	}
	end += 4;
	if (r->tp == BENCH_WS) {
		if (status != 101)
			return fail(l, "upgrade answered HTTP %d", status);
		c->state = C_BODY;
		return ws_open(c) ? -1 : end - b;
	}
	if (status != 200) {
		size_t rest = have - (size_t)(end - b);

		return fail(l, "HTTP %d: %.*s", status,
			    (int)(rest < 160 ? rest : 160), end);
	}
	if (l->polling) {
		/* imlab answers polls with a Content-Length, never chunked */
		if (has_header(b, end, "transfer-encoding:", "chunked") ||
		    header_size(b, end, "content-length:", &c->body_len))
			return fail(l, "no Content-Length (or too large)");
		c->close_after = has_header(b, end, "connection:", "close");
		c->state = C_BODY;
		return end - b;
	}
	c->chunked = has_header(b, end, "transfer-encoding:", "chunked");
	c->ch = CH_SIZE;
	c->state = C_BODY;
	c->serving = 1;
	bench_registered(r, c->s);
	return end - b;
}

/* Parses [b, b + have): bytes consumed, or -1 to drop. */
static ssize_t
parse(struct rconn *c, const char *b, size_t have, int64_t now)
{
	ssize_t off = 0, n;

	if (c->l->polling)
		return poll_parse(c, b, have, now);
	if (c->state == C_HEAD) {
		off = head(c, b, have);
		if (off <= 0)
			return off;
	}
	if (c->l->r->tp == BENCH_WS)
		n = ws_frames(c, b + off, have - (size_t)off, now);
	else
		n = sse_body(c, b + off, have - (size_t)off, now);
	return n < 0 ? -1 : off + n;
}

/* The peer closed or reset the connection. Returns -1, or 1 if a poll
 * connection should be reopened quietly (it closed between requests, or
 * before any byte of the answer to a request sent on it once reused). */
static int
ended(struct rconn *c)
{
	if (c->l->polling) {
		if (c->state == C_WAIT || c->state == C_CLOSING ||
		    (c->state == C_HEAD && c->reused && !c->in.len))
			return 1;
		return fail(c->l, "closed before the answer %s",
			    c->state == C_BODY ? "ended" : "came");
	}
	if (!c->serving)
		return fail(c->l, "closed before %s",
			    c->l->r->tp == BENCH_WS ? "joined" :
			    "the response");
	return -1;
}

/* The socket is readable: a few large reads, each parsed at once. 0, -1
 * to drop the connection, or 1 to reopen it (polls, see ended()). */
static int
rx(struct rconn *c)
{
	struct rloop *l = c->l;

	for (int i = 0; i < READS_MAX; i++) {
		int direct = c->need > RX_DIRECT || c->in.len > RX_DIRECT;
		size_t have = c->in.len, room, tail;
		ssize_t n, used;
		char *b;

		if (direct) {
			size_t want = c->need > have ? c->need :
				      have + RX_CHUNK;

			if (buf_reserve(&c->in, want))
				return fail(l, "no memory");
			b = c->in.p;
			room = c->in.cap - have;
		} else {
			b = l->rx;
			if (have)
				memcpy(b, c->in.p, have);
			room = RX_CHUNK;
		}
		n = recv(c->fd, b + have, room, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				return ended(c);
			return fail(l, "recv: %s", strerror(errno));
		}
		if (!n)
			return ended(c);
		have += (size_t)n;
		used = parse(c, b, have, bench_now_ns());
		if (used < 0)
			return -1;
		if (c->state == C_CLOSING)
			return 1;
		tail = have - (size_t)used;
		if (direct) {
			memmove(b, b + used, tail);
			c->in.len = tail;
		} else {
			c->in.len = 0;
			if (tail && buf_add(&c->in, b + used, tail))
				return fail(l, "no memory");
		}
		if (!c->in.len)	/* idle connections hold no buffer */
			buf_free(&c->in);
		if ((size_t)n < room)
			break;
	}
	return 0;
}

static void
conn_event(struct rconn *c, uint32_t events)
{
	int rc;

	if (c->state == C_CONNECTING) {
		if (connected(c))
			drop(c);
		return;
	}
	if (events & EPOLLOUT) {
		if (flush_out(c)) {
			drop(c);
			return;
		}
		on_wire(c);
	}
	if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
	rc = rx(c);
	if (rc < 0)
		drop(c);
	else if (rc > 0)
		reopen(c);
}

/* ---- the loop -------------------------------------------------------- */

static int
raw_start(struct bench_run *r)
{
	struct rloop *l = calloc(1, sizeof(*l));
	struct addrinfo hints, *ai = NULL;
	char port[16];
	int rc;

	if (!l) {
		snprintf(r->last_error, sizeof(r->last_error), "no memory");
		return -1;
	}
	r->loop = l;
	l->r = r;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->c = calloc((size_t)r->o->subs, sizeof(*l->c));
	l->rx = malloc(RX_DIRECT + RX_CHUNK);
	l->polling = r->tp == BENCH_POLL || r->tp == BENCH_LONGPOLL;
	if (r->tp == BENCH_POLL)
		l->heap = calloc((size_t)r->o->subs, sizeof(*l->heap));
	if (l->ep < 0 || !l->c || !l->rx ||
	    (r->tp == BENCH_POLL && !l->heap)) {
		snprintf(r->last_error, sizeof(r->last_error),
			 "cannot set up the %s loop", bench_tp_name(r->tp));
		return -1;
	}
	for (int i = 0; i < r->o->subs; i++) {
		l->c[i].l = l;
		l->c[i].s = &r->subs[i];
		l->c[i].fd = -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", r->o->port);
	rc = getaddrinfo(r->o->host, port, &hints, &ai);
	if (rc || !ai || ai->ai_addrlen > sizeof(l->addr)) {
		snprintf(r->last_error, sizeof(r->last_error), "%s: %s",
			 r->o->host, rc ? gai_strerror(rc) : "no address");
		if (ai)
			freeaddrinfo(ai);
		return -1;
	}
	memcpy(&l->addr, ai->ai_addr, ai->ai_addrlen);
	l->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	snprintf(l->hostport, sizeof(l->hostport), "%s:%d", r->o->host,
		 r->o->port);
	l->rng = (uint64_t)bench_now_ns() ^ ((uint64_t)getpid() << 32) ^
		 0x9E3779B97F4A7C15ull;
	return 0;
}

/* Polls: fails every connect or request past its deadline. */
static void
sweep(struct rloop *l, int64_t now)
{
	for (int i = 0; i < l->r->started; i++) {
		struct rconn *c = &l->c[i];

		if (c->fd < 0 || !c->deadline || c->deadline > now)
			continue;
		fail(l, "%s timed out", c->state == C_CONNECTING ?
		     "connect" : "request");
		drop(c);
	}
}

/* Polls: sends the requests that are due. */
static void
poll_due(struct rloop *l, int64_t now)
{
	while (l->heap_n && l->heap[0]->due <= now) {
		struct rconn *c = heap_pop(l);

		if (c->fd < 0)
			conn_start(c);
		else if (c->state == C_WAIT && poll_request(c))
			drop(c);
	}
}

static void
raw_step(struct bench_run *r, int wait_ms)
{
	struct rloop *l = r->loop;
	struct epoll_event ev[MAX_EVENTS];
	int64_t now = bench_now_ns();
	int n;

	while (r->started < r->o->subs &&
	       r->started - r->registered < BENCH_RAMP)
		conn_start(&l->c[r->started++]);
	if (l->retries) {
		for (int i = 0; i < r->started; i++) {
			struct rconn *c = &l->c[i];

			if (!c->retry_at || c->retry_at > now)
				continue;
			c->retry_at = 0;
			l->retries--;
			conn_start(c);
		}
	}
	if (l->polling && now >= l->sweep_at) {
		l->sweep_at = now + SWEEP_NS;
		sweep(l, now);
	}
	if (l->heap_n) {
		int64_t w;

		poll_due(l, now);
		w = l->heap_n ? (l->heap[0]->due - now + 999999) / 1000000 :
		    wait_ms;
		if (w < wait_ms)
			wait_ms = w < 0 ? 0 : (int)w;
	}
	n = epoll_wait(l->ep, ev, MAX_EVENTS, wait_ms);
	for (int i = 0; i < n; i++)
		conn_event(ev[i].data.ptr, ev[i].events);
}

static void
raw_bytes(struct bench_run *r, uint64_t *in, uint64_t *out)
{
	struct rloop *l = r->loop;

	*in += l->closed_in;
	*out += l->closed_out;
	for (int i = 0; i < r->o->subs; i++)
		if (l->c[i].fd >= 0)
			bench_proc_tcp_bytes(l->c[i].fd, in, out);
}

static void
raw_stop(struct bench_run *r)
{
	struct rloop *l = r->loop;

	if (!l)
		return;
	for (int i = 0; l->c && i < r->o->subs; i++) {
		struct rconn *c = &l->c[i];

		if (c->fd >= 0)
			close(c->fd);
		buf_free(&c->in);
		buf_free(&c->out);
		buf_free(&c->msg);
		buf_free(&c->ev);
	}
	if (l->ep >= 0)
		close(l->ep);
	free(l->c);
	free(l->rx);
	free(l->heap);
	free(l);
	r->loop = NULL;
}

/* The transports share the loop; run->tp picks the protocol. */
const struct bench_tp_ops bench_poll_ops = {
	.start = raw_start,
	.step = raw_step,
	.bytes = raw_bytes,
	.stop = raw_stop,
};

const struct bench_tp_ops bench_longpoll_ops = {
	.start = raw_start,
	.step = raw_step,
	.bytes = raw_bytes,
	.stop = raw_stop,
};

const struct bench_tp_ops bench_ws_ops = {
	.start = raw_start,
	.step = raw_step,
	.bytes = raw_bytes,
	.stop = raw_stop,
};

const struct bench_tp_ops bench_sse_ops = {
	.start = raw_start,
	.step = raw_step,
	.bytes = raw_bytes,
	.stop = raw_stop,
};
