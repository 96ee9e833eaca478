/* SPDX-License-Identifier: MIT */
/*
 * ws_netem: held client messages and the reply timer of a /ws connection
 * behind an emulated delay (see ws_netem.h). Everything runs on the lws
 * service thread: the timer is lws's own (lws_sul_schedule()), so no lock
 * is taken and a wake-up is a callback of the thread that owns the
 * connection.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "ws_netem.h"

struct ws_held {
	struct ws_held *next;
	int64_t due;		/* run it then (lws_now_usecs()) */
	size_t len;
	int binary;
	char buf[];		/* len bytes */
};

void
ws_netem_init(struct ws_netem *q, const struct netem *net, struct lws *wsi,
	      size_t max_bytes, ws_netem_run_fn *run, ws_netem_done_fn *done,
	      void *ctx)
{
	q->net = net;
	q->wsi = wsi;
	q->max_bytes = max_bytes;
	q->run = run;
	q->done = done;
	q->ctx = ctx;
}

/* Returns the next due time of q's link, not before *last (order), in
 * lws's clock: the timer's, to the microsecond. */
static int64_t
next_due(struct ws_netem *q, int64_t *last)
{
	int64_t due = (int64_t)lws_now_usecs() +
		      netem_link_due(q->net, 0, q->seq++) * LWS_US_PER_MS;

	if (due < *last)
		due = *last;
	*last = due;
	return due;
}

int
ws_netem_hold(struct ws_netem *q, const void *buf, size_t len, int binary,
	      const char **why)
{
	struct ws_held *h;

	if (q->n >= WS_NETEM_MSGS) {
		*why = "too many messages in flight (emulated delay)";
		return -1;
	}
	if (q->bytes + len > q->max_bytes) {
		*why = "too many bytes in flight (emulated delay)";
		return -1;
	}
	h = malloc(sizeof(*h) + len);
	if (!h) {
		*why = "out of memory";
		return -1;
	}
	h->next = NULL;
	h->due = next_due(q, &q->in_last);
	h->len = len;
	h->binary = binary;
	if (len)
		memcpy(h->buf, buf, len);
	if (q->tail)
		q->tail->next = h;
	else
		q->head = h;
	q->tail = h;
	q->n++;
	q->bytes += len;
	if (q->head == h)	/* else the timer is set for the head */
		ws_netem_arm(q, q->reply_due);
	return 0;
}

int64_t
ws_netem_reply_due(struct ws_netem *q)
{
	return q->net ? next_due(q, &q->out_last) : 0;
}

/* Frees what is held. */
static void
drop_held(struct ws_netem *q)
{
	while (q->head) {
		struct ws_held *h = q->head;

		q->head = h->next;
		free(h);
	}
	q->tail = NULL;
	q->n = 0;
	q->bytes = 0;
}

/* The timer: runs the held messages that are due, in order, then lets
 * the owner look at its replies (it sets the timer again). */
static void
fire(lws_sorted_usec_list_t *sul)
{
	struct ws_netem *q = lws_container_of(sul, struct ws_netem, sul);
	int64_t now = (int64_t)lws_now_usecs();

	while (q->head && q->head->due <= now) {
		struct ws_held *h = q->head;
		int rc;

		q->head = h->next;
		if (!q->head)
			q->tail = NULL;
		q->n--;
		q->bytes -= h->len;
		rc = q->run(q->ctx, h->len ? h->buf : "", h->len, h->binary);
		free(h);
		if (rc < 0) {
			drop_held(q);
			return;
		}
	}
	q->done(q->ctx);
}

void
ws_netem_arm(struct ws_netem *q, int64_t reply_due)
{
	int64_t now = (int64_t)lws_now_usecs(), at = INT64_MAX;

	if (!q->run)
		return;
	q->reply_due = reply_due;
	if (q->head)
		at = q->head->due;
	if (reply_due > now && reply_due < at)
		at = reply_due;
	if (at == INT64_MAX) {
		lws_sul_cancel(&q->sul);
		return;
	}
	/* scheduling again moves the one entry; a time past fires soon */
	lws_sul_schedule(lws_get_context(q->wsi), 0, &q->sul, fire,
			 at > now ? (lws_usec_t)(at - now) : 1);
}

void
ws_netem_free(struct ws_netem *q)
{
	if (!q->run)
		return;
	lws_sul_cancel(&q->sul);
	drop_held(q);
}
