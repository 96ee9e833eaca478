/* SPDX-License-Identifier: MIT */
/*
 * tp_sse: Server-Sent Events. GET /sse subscribes to its rooms and answers
 * a text/event-stream whose content reader writes everything after the
 * stream's cursor (`since`, or the Last-Event-ID header, which wins). A
 * frame is written in pieces, so a message is held once (its envelope):
 * "id: N\n", with ?named=1 "event: EV\n", "data: ", the envelope, "\n\n".
 * With no event line (the default) every message reaches a plain
 * EventSource.onmessage; the event name is inside the envelope. The gap
 * notice is always the named event `gap`. With nothing to send
 * the reader suspends the connection; a publish resumes it, and so does
 * the ticker every --sse-ping seconds for a ": ping" comment, which is how
 * a client that went away is noticed (the write fails, the request ends,
 * its presence ends).
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "netem_http.h"
#include "qs.h"
#include "server_ctx.h"
#include "tp.h"
#include "tp_wait.h"

#define TAG "sse"
#define SSE_READ_MAX 64		/* messages read from the cursor at once */
#define SSE_BLOCK 1024		/* content reader block size */
/* "id: " 20 digits "\nevent: " the name "\ndata: " */
#define SSE_HEAD_MAX (4 + 20 + 8 + MSG_EVENT_MAX + 7 + 1)

/* A stream's private state: the waiter and the frame being written. */
struct sse {
	struct tp_wait w;		/* first: req->tp points at both */
	struct msg *partial;		/* message being written, a ref */
	size_t partial_off;		/* bytes of its frame written */
	char head[SSE_HEAD_MAX];	/* its frame's lines before the data */
	size_t head_len;
	int named;			/* ?named=1: an event: line */
	int started;			/* retry: line sent */
	int gap_owed;			/* the cursor told a gap whose notice
					 * did not fit: write it first */
};

static void
sse_done(struct http_req *req)
{
	struct sse *s = req->tp;

	/* out of the registry first: no other thread can then read the
	 * cursor and arm a wake-up for it again (cursor.c) */
	tp_wait_remove(req->srv, &s->w);
	if (netem_on(&s->w.p.net))
		netem_forget(req->srv->clock, &s->w.sub);
	msg_unref(&s->partial);
	tp_wait_free(&s->w);
	free(s);
	req->tp = NULL;
}

/* Writes m's lines before the data - "id: N\n", with ?named=1 "event:
 * EV\n", then "data: " - into s->head; returns their length. Hand-made
 * rather than snprintf: it runs once per message per stream. */
static size_t
head_of(struct sse *s, const struct msg *m)
{
	char dig[20], *h = s->head;
	size_t k = 4, nd = 0, el;
	uint64_t v = m->id;

	do {
		dig[nd++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(h, "id: ", 4);
	while (nd)
		h[k++] = dig[--nd];
	h[k++] = '\n';
	if (s->named) {
		el = strlen(m->event);
		memcpy(h + k, "event: ", 7);
		memcpy(h + k + 7, m->event, el);
		k += 7 + el;
		h[k++] = '\n';
	}
	memcpy(h + k, "data: ", 6);
	return k + 6;
}

/* Makes m the message being written, its head lines already in s->head
 * (head_of()). */
static void
begin(struct sse *s, struct msg *m, size_t head_len)
{
	s->head_len = head_len;
	s->partial = msg_ref(m);
	s->partial_off = 0;
}

/* Returns the length of the frame of the message being written. */
static size_t
frame_len(const struct sse *s)
{
	return s->head_len + s->partial->json_len + 2;
}

/* Copies the bytes [from, from + n) of piece p (len bytes) that lie in
 * [off, off + room) of the frame to buf; returns how many. */
static size_t
piece(char *buf, size_t off, size_t room, const char *p, size_t from,
      size_t len)
{
	size_t a, b;

	if (off >= from + len || off + room <= from)
		return 0;
	a = off > from ? off - from : 0;
	b = off + room < from + len ? off + room - from : len;
	memcpy(buf + (from + a - off), p + a, b - a);
	return b - a;
}

/* Copies as much of the partial message's frame as fits; returns bytes
 * copied. */
static size_t
put_partial(struct sse *s, char *buf, size_t room)
{
	const struct msg *m = s->partial;
	size_t off = s->partial_off, total = frame_len(s), n;

	n = piece(buf, off, room, s->head, 0, s->head_len);
	n += piece(buf, off, room, m->json, s->head_len, m->json_len);
	n += piece(buf, off, room, "\n\n", s->head_len + m->json_len, 2);
	s->partial_off += n;
	if (s->partial_off == total)
		msg_unref(&s->partial);
	return n;
}

/* Writes what is after the cursor into buf; returns bytes written. The
 * cursor ends at the last message written or begun (SSE's partial-frame
 * continuation finishes it on the next call). */
static size_t
fill(struct server *srv, struct sse *s, char *buf, size_t max)
{
	struct cursor *cur = &s->w.cur;
	struct msg *out[SSE_READ_MAX];
	struct cursor_batch b = { .gap = s->gap_owed };
	uint64_t before = cursor_pos(cur);
	size_t n = 0, i;

	if (s->partial) {
		n = put_partial(s, buf, max);
		if (s->partial)
			return n;
	}
	if (!b.gap)
		b = cursor_read(cur, out, SSE_READ_MAX, SIZE_MAX);
	if (b.gap) {	/* it comes alone; the messages on the next read */
		int k = snprintf(buf + n, max - n, "event: gap\ndata: "
				 "{\"since\":%" PRIu64 "}\n\n", before);

		s->gap_owed = k < 0 || (size_t)k >= max - n;
		if (s->gap_owed)
			return n;	/* next call, with more room */
		n += (size_t)k;
		b = cursor_read(cur, out, SSE_READ_MAX, SIZE_MAX);
	}
	for (i = 0; i < b.n && n < max; i++) {
		struct msg *m = out[i];
		size_t hl = head_of(s, m);

		if (hl + m->json_len + 2 <= max - n) {	/* the whole frame */
			memcpy(buf + n, s->head, hl);
			memcpy(buf + n + hl, m->json, m->json_len);
			memcpy(buf + n + hl + m->json_len, "\n\n", 2);
			n += hl + m->json_len + 2;
			continue;
		}
		begin(s, m, hl);
		n += put_partial(s, buf + n, max - n);
		if (s->partial) {	/* the rest on the next call */
			i++;
			break;
		}
	}
	if (i < b.n)	/* the rest is read again next call */
		cursor_seek(cur, i ? out[i - 1]->id : before);
	for (size_t j = 0; j < b.n; j++)
		msg_unref(&out[j]);
	STATS_ADD(&srv->stats, VIA_SSE, delivered, i);
	return n;
}

static ssize_t
sse_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse *s = cls;
	struct tp_wait *w = &s->w;
	struct server *srv = w->srv;
	int64_t ping_ms = (int64_t)srv->cfg.sse_ping * 1000;
	size_t n = 0;

	(void)pos;
	if (max < 64) {
		/* libmicrohttpd offers its whole write buffer (about
		 * SSE_BLOCK); returning 0 here would spin its thread */
		LOG_ERROR(TAG, "write buffer of %zu bytes: closing stream",
			  max);
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	for (int tries = 0; tries < 4; tries++) {
		if (tp_wait_stopping(srv))
			return MHD_CONTENT_READER_END_OF_STREAM;
		/* a message already half written is finished at once */
		if (s->started && !s->partial && tp_wait_gate(srv, w, 1))
			return 0;	/* suspended: the flusher wakes it */
		if (!s->started) {
			n = (size_t)snprintf(buf, max, "retry: %d\n\n",
					     srv->cfg.sse_retry);
			s->started = 1;
		}
		n += fill(srv, s, buf + n, max - n);
		if (tp_wait_take_due(srv, w, ping_ms) && n + 8 <= max) {
			memcpy(buf + n, ": ping\n\n", 8);
			n += 8;
		}
		if (n) {
			STATS_ADD(&srv->stats, VIA_SSE, bytes_out, n);
			tp_wait_wrote(srv, w);
			return (ssize_t)n;
		}
		if (tp_wait_suspend(srv, w))
			return 0;	/* suspended: resumed by news/ping */
	}
	/* news kept arriving and vanishing (e.g. not visible): wait again */
	if (tp_wait_suspend(srv, w))
		return 0;
	memcpy(buf, ": ping\n\n", 8);
	return 8;
}

enum MHD_Result
tp_sse_handle(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	struct MHD_Response *r;
	long long named = 0;
	struct im_error e;
	struct sse *s;
	enum im_err err;

	if (qs_int(c, "named", 0, 1, &named, &e))
		return http_reply_im_error(c, req, &e);
	s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	s->named = (int)named;
	if (tp_params_parse(c, srv, 1, &s->w.p, &e)) {
		free(s);
		return http_reply_im_error(c, req, &e);
	}
	req->tp = s;
	req->done = sse_done;
	if (tp_wait_init(&s->w, srv, c, VIA_SSE,
			 (int64_t)srv->cfg.sse_ping * 1000))
		return MHD_NO;
	s->w.p.net.fire = netem_http_fire_sub;	/* ?delay=: netem.h */
	s->w.p.net.key = &s->w.sub;
	err = tp_wait_add(srv, &s->w, srv->cfg.max_sse);
	if (err == IM_EFULL)
		return http_reply_busy(c, req, srv->cfg.max_sse,
				       "SSE streams are open");
	if (err != IM_OK)
		return MHD_NO;
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK,
					      sse_reader, s, NULL);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/event-stream; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	return http_queue(c, req, MHD_HTTP_OK, r, 0);
}
