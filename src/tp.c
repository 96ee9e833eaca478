/* SPDX-License-Identifier: MIT */
/*
 * tp: what the HTTP transports share. Parsing a subscription request, and
 * the registry of waiting connections: one mutex guards every waiter's
 * suspend state, so the three wake-up sources (a publish through notify,
 * the ticker, shutdown) and the MHD thread that suspends never disagree
 * about whether a connection is suspended.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "hub.h"
#include "log.h"
#include "qs.h"
#include "server.h"
#include "tp.h"

#define TAG "tp"

/* Resumes w if it is suspended; lock held. */
static void
wake_locked(struct tp_wait *w)
{
	if (w->pprev) {
		*w->pprev = w->pnext;
		if (w->pnext)
			w->pnext->pprev = w->pprev;
		w->pnext = NULL;
		w->pprev = NULL;
	}
	if (w->state == TP_SUSPENDED) {
		w->state = TP_RUNNING;
		STATS_ADD(&w->srv->stats, w->sub.via, wakeups, 1);
		MHD_resume_connection(w->c);
	}
}

/* The flusher: resumes each pending waiter once a coalescing window has
 * passed since its last write, checking a few times per window. */
static void *
flusher(void *arg)
{
	struct tp *t = arg;
	int64_t step = t->coalesce_ms >= 4 ? t->coalesce_ms / 4 : 1;
	struct timespec ts = { step / 1000, (step % 1000) * 1000000L };

	pthread_mutex_lock(&t->lock);
	while (!t->quit) {
		struct tp_wait *w, *next;
		int64_t now;

		if (!t->pending) {
			pthread_cond_wait(&t->cond, &t->lock);
			continue;
		}
		/* let more messages gather, then wake those whose window
		 * is over */
		pthread_mutex_unlock(&t->lock);
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&t->lock);
		now = im_mono_ms();
		for (w = t->pending; w; w = next) {
			next = w->pnext;
			if (now - w->last_write < t->coalesce_ms && !t->quit)
				continue;
			w->flushed = 1;
			wake_locked(w);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

struct tp *
tp_create(int64_t coalesce_ms)
{
	struct tp *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	t->coalesce_ms = coalesce_ms;
	if (coalesce_ms > 0) {
		if (pthread_create(&t->flusher, NULL, flusher, t)) {
			pthread_cond_destroy(&t->cond);
			pthread_mutex_destroy(&t->lock);
			free(t);
			return NULL;
		}
		t->has_flusher = 1;
	}
	return t;
}

/* Stops the flusher thread (idempotent). */
static void
stop_flusher(struct tp *t)
{
	pthread_mutex_lock(&t->lock);
	t->quit = 1;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (t->has_flusher) {
		pthread_join(t->flusher, NULL);
		t->has_flusher = 0;
	}
}

void
tp_destroy(struct tp **tpp)
{
	struct tp *t = *tpp;

	if (!t)
		return;
	*tpp = NULL;
	stop_flusher(t);
	if (t->head)
		LOG_ERROR(TAG, "registry destroyed with waiters left");
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int
tp_params_parse(struct MHD_Connection *c, struct server *srv,
		struct tp_params *p, struct im_error *e)
{
	const char *rooms = qs_str(c, "rooms");
	size_t max = (size_t)srv->cfg.rooms_per_sub;
	char name[MSG_ROOM_MAX + 1];
	const char *s;

	memset(p, 0, sizeof(*p));
	if (qs_u64(c, "since", &p->since, e))
		return -1;
	p->cid = qs_str(c, "cid");
	if (p->cid && !*p->cid)
		p->cid = NULL;
	if (p->cid && !hub_cid_valid(p->cid)) {
		im_error_set(e, IM_EINVAL, "bad_cid",
			     "cid is 8-64 characters of A-Z a-z 0-9 _ -");
		return -1;
	}
	p->from = qs_str(c, "from");
	if (!p->from || !*p->from)
		p->from = "anonymous";
	else if (!hub_from_valid(p->from)) {
		im_error_set(e, IM_EINVAL, "bad_from",
			     "from is 1-32 printable UTF-8 characters");
		return -1;
	}
	/* a cursor ahead of the sequence (e.g. from a client that talked to
	 * another server) means "from now on": clamp it once, here, so a
	 * waiting long poll or stream is woken by the next message */
	if (p->since > store_last_id(srv->st))
		p->since = store_last_id(srv->st);
	if (!rooms || !*rooms) {
		im_error_set(e, IM_EINVAL, "bad_room",
			     "rooms is required: rooms=lobby or rooms=a,b");
		return -1;
	}
	p->rooms = calloc(max, sizeof(*p->rooms));
	p->rings = calloc(max, sizeof(*p->rings));
	if (!p->rooms || !p->rings) {
		tp_params_free(p);
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return -1;
	}
	for (s = rooms; *s;) {
		const char *end = strchr(s, ',');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		struct room *r;
		size_t i;

		if (!len || len > MSG_ROOM_MAX) {
			im_error_set(e, IM_EINVAL, "bad_room",
				"room names are 1-64 characters of A-Z a-z "
				"0-9 _ . -");
			goto fail;
		}
		memcpy(name, s, len);
		name[len] = '\0';
		r = rooms_get(srv->rs, name, 1, e);
		if (!r)
			goto fail;
		for (i = 0; i < p->nrooms && p->rooms[i] != r; i++)
			;
		if (i == p->nrooms) {
			if (p->nrooms == max) {
				im_error_set(e, IM_EINVAL, "too_many_rooms",
					     "at most %zu rooms per "
					     "subscription", max);
				goto fail;
			}
			p->rooms[p->nrooms] = r;
			p->rings[p->nrooms++] = room_ring(r);
		}
		s += len;
		if (*s == ',')
			s++;
	}
	return 0;
fail:
	tp_params_free(p);
	return -1;
}

void
tp_params_free(struct tp_params *p)
{
	free(p->rooms);
	free(p->rings);
	p->rooms = NULL;
	p->rings = NULL;
	p->nrooms = 0;
}

void
tp_params_touch(struct server *srv, const struct tp_params *p, enum via via)
{
	if (!p->cid)
		return;
	for (size_t i = 0; i < p->nrooms; i++)
		rooms_touch(srv->rs, p->rooms[i], p->cid, p->from, via);
}

/* Starts a new coalescing window when the current one is over; lock
 * held. */
static void
roll_window(struct tp *t, int64_t now)
{
	if (now - t->win_start >= t->coalesce_ms) {
		t->busy = t->win_writes >= TP_BUSY_WRITES;
		t->win_start = now;
		t->win_writes = 0;
	}
}

/* 1 if w (an SSE stream, or a long poll on a connection that answered
 * recently) should wait for the flusher instead of writing now; lock
 * held. */
static int
should_defer(const struct tp *t, const struct tp_wait *w, int64_t now)
{
	return (w->sub.via == VIA_SSE || w->sub.via == VIA_LONGPOLL) &&
	       t->has_flusher && !t->quit && !t->stopping && t->busy &&
	       !w->due && now - w->last_write < t->coalesce_ms;
}

/* Puts suspended w on the flusher's list; lock held. */
static void
pend_locked(struct tp *t, struct tp_wait *w)
{
	STATS_ADD(&w->srv->stats, w->sub.via, deferred, 1);
	w->pnext = t->pending;
	if (w->pnext)
		w->pnext->pprev = &w->pnext;
	w->pprev = &t->pending;
	t->pending = w;
	if (!w->pnext)
		pthread_cond_signal(&t->cond);
}

/* The sub's notify: runs under the rooms lock on the publishing thread.
 * While the server is busy, a waiter that wrote (or whose connection
 * answered) less than a window ago is left to the flusher, so its
 * messages leave together. */
static void
wait_notify(struct sub *s, const struct msg *m)
{
	struct tp_wait *w = s->ctx;
	struct tp *t = w->srv->tp;
	int64_t now = im_mono_ms();

	(void)m;
	pthread_mutex_lock(&t->lock);
	roll_window(t, now);
	if (w->state == TP_SUSPENDED && !w->pprev) {
		if (should_defer(t, w, now))
			pend_locked(t, w);
		else
			wake_locked(w);
	}
	pthread_mutex_unlock(&t->lock);
}

int
tp_gate(struct server *srv, struct tp_wait *w)
{
	struct tp *t = srv->tp;
	int64_t now = im_mono_ms();
	int defer;

	pthread_mutex_lock(&t->lock);
	roll_window(t, now);
	/* a message already half written is finished at once */
	defer = !w->flushed && !w->partial && should_defer(t, w, now);
	w->flushed = 0;
	if (defer) {
		MHD_suspend_connection(w->c);
		w->state = TP_SUSPENDED;
		pend_locked(t, w);
	}
	pthread_mutex_unlock(&t->lock);
	return defer;
}

int
tp_would_defer(struct server *srv, struct tp_wait *w)
{
	struct tp *t = srv->tp;
	int64_t now = im_mono_ms();
	int defer;

	pthread_mutex_lock(&t->lock);
	roll_window(t, now);
	defer = !w->flushed && should_defer(t, w, now);
	pthread_mutex_unlock(&t->lock);
	return defer;
}

void
tp_wrote(struct server *srv, struct tp_wait *w)
{
	struct tp *t = srv->tp;
	int64_t now = im_mono_ms();

	pthread_mutex_lock(&t->lock);
	roll_window(t, now);
	t->win_writes++;
	w->last_write = now;
	w->flushed = 0;
	pthread_mutex_unlock(&t->lock);
}

enum im_err
tp_wait_add(struct server *srv, struct tp_wait *w, long limit)
{
	struct tp *t = srv->tp;
	enum via via = w->sub.via;
	enum im_err err;

	pthread_mutex_lock(&t->lock);
	if (t->held[via] >= limit || t->stopping) {
		pthread_mutex_unlock(&t->lock);
		return IM_EFULL;
	}
	t->held[via]++;
	w->state = TP_RUNNING;
	w->prev = NULL;
	w->next = t->head;
	if (t->head)
		t->head->prev = w;
	t->head = w;
	pthread_mutex_unlock(&t->lock);
	atomic_fetch_add(&srv->stats.tp[via].open, 1);

	{
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
			w->c, MHD_CONNECTION_INFO_CONNECTION_FD);

		w->fd = ci ? ci->connect_fd : -1;
	}
	w->sub.notify = wait_notify;
	w->sub.ctx = w;
	snprintf(w->sub.cid, sizeof(w->sub.cid), "%s", w->p.cid ? w->p.cid :
		 "");
	snprintf(w->sub.from, sizeof(w->sub.from), "%s", w->p.from);
	err = rooms_subscribe(srv->rs, &w->sub, w->p.rooms, w->p.nrooms);
	if (err != IM_OK) {
		tp_wait_remove(srv, w);
		return err;
	}
	w->subscribed = 1;
	return IM_OK;
}

void
tp_wait_remove(struct server *srv, struct tp_wait *w)
{
	struct tp *t = srv->tp;

	if (w->subscribed) {
		rooms_unsubscribe_all(srv->rs, &w->sub);
		w->subscribed = 0;
	}
	pthread_mutex_lock(&t->lock);
	if (w->pprev) {
		*w->pprev = w->pnext;
		if (w->pnext)
			w->pnext->pprev = w->pprev;
		w->pnext = NULL;
		w->pprev = NULL;
	}
	if (w->prev || w->next || t->head == w) {
		if (w->prev)
			w->prev->next = w->next;
		else
			t->head = w->next;
		if (w->next)
			w->next->prev = w->prev;
		w->prev = w->next = NULL;
		t->held[w->sub.via]--;
		atomic_fetch_sub(&srv->stats.tp[w->sub.via].open, 1);
	}
	pthread_mutex_unlock(&t->lock);
}

int
tp_wait_suspend(struct server *srv, struct tp_wait *w,
		int (*has_news)(struct tp_wait *w))
{
	struct tp *t = srv->tp;
	int suspended = 0;

	pthread_mutex_lock(&t->lock);
	if (!t->stopping && !w->due && !has_news(w)) {
		MHD_suspend_connection(w->c);
		w->state = TP_SUSPENDED;
		suspended = 1;
	}
	pthread_mutex_unlock(&t->lock);
	return suspended;
}

int
tp_stopping(struct server *srv)
{
	struct tp *t = srv->tp;
	int v;

	pthread_mutex_lock(&t->lock);
	v = t->stopping;
	pthread_mutex_unlock(&t->lock);
	return v;
}

/* 1 if the peer of a suspended connection has closed or reset it. */
static int
peer_gone(int fd)
{
	char c;
	ssize_t n;

	if (fd < 0)
		return 0;
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 ||
	       (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		errno != EINTR);
}

void
tp_tick(struct server *srv, int64_t now_ms)
{
	struct tp *t = srv->tp;
	int peek;

	pthread_mutex_lock(&t->lock);
	peek = now_ms - t->last_peek >= 1000;
	if (peek)
		t->last_peek = now_ms;
	for (struct tp_wait *w = t->head; w; w = w->next) {
		if (w->deadline > now_ms &&
		    !(peek && w->state == TP_SUSPENDED && peer_gone(w->fd)))
			continue;
		w->due = 1;
		wake_locked(w);
	}
	pthread_mutex_unlock(&t->lock);
}

void
tp_shutdown(struct server *srv)
{
	struct tp *t = srv->tp;

	if (!t)
		return;
	stop_flusher(t);
	pthread_mutex_lock(&t->lock);
	t->stopping = 1;
	for (struct tp_wait *w = t->head; w; w = w->next)
		wake_locked(w);
	pthread_mutex_unlock(&t->lock);
}

size_t
tp_news_count(struct tp_wait *w, size_t max)
{
	struct msg *m[TP_FULL_BATCH];
	struct store_read_result r;

	if (max > TP_FULL_BATCH)
		max = TP_FULL_BATCH;
	r = store_read(w->srv->st, w->p.rings, w->p.nrooms, w->cursor,
		       w->sub.cid, m, max);
	for (size_t i = 0; i < r.n; i++)
		msg_unref(&m[i]);
	return r.gap ? max : r.n;
}

int
tp_has_news(struct tp_wait *w)
{
	return tp_news_count(w, 1) > 0;
}
