/* SPDX-License-Identifier: MIT */
/*
 * tp_wait: the registry. One mutex (tp.lock) guards every waiter's
 * suspend state and the coalescing measure; the pending list and the
 * flusher are here because they resume. Lock order: rooms -> tp -> store
 * (notify runs under the rooms lock; the re-check reads the store).
 */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "server_ctx.h"
#include "tp_coalesce.h"
#include "tp_wait.h"

#define TAG "tp"

struct tp {
	pthread_mutex_t lock;		/* tp.lock: see tp_wait.h */
	struct list head;		/* every registered waiter */
	int stopping;
	long held[VIA__COUNT];		/* waiting now, per transport */
	int64_t last_peek;		/* last check for peers gone */
	struct tp_coalesce co;		/* the "behind" measure */
	struct list pending;		/* suspended, left to the flusher */
	pthread_cond_t cond;		/* the flusher waits for pending */
	pthread_t flusher;
	int has_flusher;
};

/* Resumes w if it is suspended, taking it off the pending list, and
 * notes when (now, us) for the lag measure; lock held. */
static void
wake_locked(struct tp_wait *w, int64_t now)
{
	list_unlink(&w->pend);
	if (w->state == TP_SUSPENDED) {
		w->state = TP_RUNNING;
		w->woke = now;
		STATS_ADD(&w->srv->stats, w->sub.via, wakeups, 1);
		MHD_resume_connection(w->c);
	}
}

/* The duty of the calling thread (one that runs waiters): CPU time over
 * wall time since its last sample, per thread. */
static __thread int64_t duty_wall, duty_cpu;

/* Samples the calling thread's duty into the measure once per
 * TP_DUTY_US; lock held. */
static void
duty_locked(struct tp *t, int64_t now)
{
	struct timespec ts;
	int64_t cpu;

	if (now - duty_wall < TP_DUTY_US)
		return;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return;
	cpu = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (duty_wall)
		tp_coalesce_duty(&t->co, (int)((cpu - duty_cpu) * 100 /
					       (now - duty_wall)));
	duty_wall = now;
	duty_cpu = cpu;
}

/* w runs (its handler or reader, on an HTTP thread, at now): its resume
 * is served, and the thread's duty sampled; lock held. */
static void
ran_locked(struct tp *t, struct tp_wait *w, int64_t now)
{
	w->woke = 0;
	duty_locked(t, now);
}

/* Puts suspended w on the pending list; lock held. */
static void
pend_locked(struct tp *t, struct tp_wait *w)
{
	int was_empty = list_empty(&t->pending);

	STATS_ADD(&w->srv->stats, w->sub.via, deferred, 1);
	list_add(&t->pending, &w->pend);
	if (was_empty)
		pthread_cond_signal(&t->cond);
}

/* The flusher: resumes each pending waiter once the current window
 * has passed since its last write (at once when the server no longer
 * lags), checking about twice per window. */
static void *
flusher(void *arg)
{
	struct tp *t = arg;
	int64_t cap = t->co.ms * 1000 / 4;

	pthread_mutex_lock(&t->lock);
	while (t->co.on) {
		struct list *pos, *n;
		int64_t now, win, step;
		struct timespec ts;

		if (list_empty(&t->pending)) {
			pthread_cond_wait(&t->cond, &t->lock);
			continue;
		}
		/* let more messages gather, then wake those whose window
		 * is over */
		step = tp_coalesce_window(&t->co, tp_coalesce_now_us()) / 2;
		step = step < 500 ? 500 : step > cap ? cap : step;
		ts.tv_sec = (time_t)(step / 1000000);
		ts.tv_nsec = (long)(step % 1000000) * 1000L;
		pthread_mutex_unlock(&t->lock);
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&t->lock);
		now = tp_coalesce_now_us();
		win = tp_coalesce_window(&t->co, now);
		list_for_each_safe(pos, n, &t->pending) {
			struct tp_wait *w = list_entry(pos, struct tp_wait,
						       pend);

			if (now - w->last_write < win && t->co.on)
				continue;
			w->flushed = 1;
			wake_locked(w, now);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void wait_notify(struct sub *s, const struct msg *m);

enum im_err
tp_wait_init(struct tp_wait *w, struct server *srv, struct MHD_Connection *c,
	     enum via via, int64_t deadline_ms)
{
	w->srv = srv;
	w->c = c;
	w->sub.via = via;
	/* set before any cursor read: with ?delay= that read may arm a
	 * netem wake-up (netem_http_fire_sub calls notify) before
	 * tp_wait_add; on a waiter not yet suspended notify does nothing */
	w->sub.notify = wait_notify;
	w->sub.ctx = w;
	w->deadline = im_mono_ms() + deadline_ms;
	return tp_params_cursor(&w->p, srv, &w->cur);
}

void
tp_wait_free(struct tp_wait *w)
{
	cursor_free(&w->cur);
	tp_params_free(&w->p);
}

struct tp *
tp_wait_create(int64_t coalesce_ms)
{
	struct tp *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	list_init(&t->head);
	list_init(&t->pending);
	t->co.ms = coalesce_ms;
	if (coalesce_ms > 0) {
		t->co.on = 1;
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

/* Stops the flusher thread (idempotent): coalescing is off from now. */
static void
stop_flusher(struct tp *t)
{
	pthread_mutex_lock(&t->lock);
	t->co.on = 0;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (t->has_flusher) {
		pthread_join(t->flusher, NULL);
		t->has_flusher = 0;
	}
}

void
tp_wait_destroy(struct tp **tpp)
{
	struct tp *t = *tpp;

	if (!t)
		return;
	*tpp = NULL;
	stop_flusher(t);
	if (!list_empty(&t->head))
		LOG_ERROR(TAG, "registry destroyed with waiters left");
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* The sub's notify: runs under the rooms lock on the publishing thread.
 * Resumes w, unless the server is behind and w wrote less than a window
 * ago: then the flusher resumes it, so its messages leave together. */
static void
wait_notify(struct sub *s, const struct msg *m)
{
	struct tp_wait *w = s->ctx;
	struct tp *t = w->srv->tp;
	int64_t now = tp_coalesce_now_us();

	(void)m;
	pthread_mutex_lock(&t->lock);
	/* overlap: resumed for an earlier message and not yet run */
	tp_coalesce_note(&t->co, now, w->state == TP_RUNNING && w->woke);
	if (w->state == TP_SUSPENDED && !list_linked(&w->pend)) {
		if (tp_coalesce_defer(&t->co, now, w->last_write, w->due))
			pend_locked(t, w);
		else
			wake_locked(w, now);
	}
	pthread_mutex_unlock(&t->lock);
}

int
tp_wait_gate(struct server *srv, struct tp_wait *w, int suspend)
{
	struct tp *t = srv->tp;
	int64_t now = tp_coalesce_now_us();
	int defer;

	pthread_mutex_lock(&t->lock);
	ran_locked(t, w, now);
	defer = !w->flushed &&
		tp_coalesce_defer(&t->co, now, w->last_write, w->due);
	if (suspend) {
		w->flushed = 0;
		if (defer) {
			MHD_suspend_connection(w->c);
			w->state = TP_SUSPENDED;
			pend_locked(t, w);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return defer;
}

void
tp_wait_wrote(struct server *srv, struct tp_wait *w)
{
	struct tp *t = srv->tp;
	int64_t now = tp_coalesce_now_us();

	pthread_mutex_lock(&t->lock);
	ran_locked(t, w, now);
	w->last_write = now;
	w->flushed = 0;
	pthread_mutex_unlock(&t->lock);
}

enum im_err
tp_wait_add(struct server *srv, struct tp_wait *w, long limit)
{
	struct tp *t = srv->tp;
	enum via via = w->sub.via;
	const union MHD_ConnectionInfo *ci;
	enum im_err err;

	pthread_mutex_lock(&t->lock);
	if (t->held[via] >= limit || t->stopping) {
		pthread_mutex_unlock(&t->lock);
		return IM_EFULL;
	}
	t->held[via]++;
	w->state = TP_RUNNING;
	list_add(&t->head, &w->node);
	pthread_mutex_unlock(&t->lock);
	atomic_fetch_add(&srv->stats.tp[via].open, 1);

	ci = MHD_get_connection_info(w->c, MHD_CONNECTION_INFO_CONNECTION_FD);
	w->fd = ci ? ci->connect_fd : -1;
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
	list_unlink(&w->pend);
	if (list_unlink(&w->node)) {
		t->held[w->sub.via]--;
		atomic_fetch_sub(&srv->stats.tp[w->sub.via].open, 1);
	}
	pthread_mutex_unlock(&t->lock);
}

int
tp_wait_suspend(struct server *srv, struct tp_wait *w)
{
	struct tp *t = srv->tp;
	int suspended = 0;

	pthread_mutex_lock(&t->lock);
	ran_locked(t, w, tp_coalesce_now_us());
	if (!t->stopping && !w->due && !cursor_pending(&w->cur, 1)) {
		MHD_suspend_connection(w->c);
		w->state = TP_SUSPENDED;
		suspended = 1;
	}
	pthread_mutex_unlock(&t->lock);
	return suspended;
}

int
tp_wait_take_due(struct server *srv, struct tp_wait *w, int64_t next_ms)
{
	struct tp *t = srv->tp;
	int due;

	pthread_mutex_lock(&t->lock);
	due = w->due;
	w->due = 0;
	if (due)
		w->deadline = im_mono_ms() + next_ms;
	pthread_mutex_unlock(&t->lock);
	return due;
}

void
tp_wait_wake(struct server *srv, struct tp_wait *w)
{
	struct tp *t = srv->tp;

	pthread_mutex_lock(&t->lock);
	w->due = 1;
	wake_locked(w, tp_coalesce_now_us());
	pthread_mutex_unlock(&t->lock);
}

int
tp_wait_stopping(struct server *srv)
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
tp_wait_tick(struct server *srv, int64_t now_ms)
{
	struct tp *t = srv->tp;
	struct list *pos, *n;
	int64_t now_us = tp_coalesce_now_us();
	int peek;

	pthread_mutex_lock(&t->lock);
	peek = now_ms - t->last_peek >= 1000;
	if (peek)
		t->last_peek = now_ms;
	list_for_each_safe(pos, n, &t->head) {
		struct tp_wait *w = list_entry(pos, struct tp_wait, node);

		if (w->deadline > now_ms &&
		    !(peek && w->state == TP_SUSPENDED && peer_gone(w->fd)))
			continue;
		w->due = 1;
		wake_locked(w, now_us);
	}
	pthread_mutex_unlock(&t->lock);
}

void
tp_wait_shutdown(struct server *srv)
{
	struct tp *t = srv->tp;
	struct list *pos, *n;

	if (!t)
		return;
	stop_flusher(t);
	pthread_mutex_lock(&t->lock);
	t->stopping = 1;
	list_for_each_safe(pos, n, &t->head)
		wake_locked(list_entry(pos, struct tp_wait, node),
			    tp_coalesce_now_us());
	pthread_mutex_unlock(&t->lock);
}
