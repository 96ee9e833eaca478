/* SPDX-License-Identifier: MIT */
/*
 * eio_beat: the Engine.IO heartbeat: a ping queued every pingInterval, a
 * session closed when one goes unanswered for pingTimeout, run at each
 * deadline by its own thread and on the server's tick (which also calls
 * the layer's tick); and, while an upgrade is probed, a "6" owed to the
 * held GET every EIO_PROBE_NOOP_MS, so the client's polling can pause.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "eio.h"
#include "eio_private.h"
#include "msg.h"

void
eio_beat_by_locked(struct eio *e, int64_t t)
{
	if (t < e->wake_at) {
		e->wake_at = t;
		pthread_cond_signal(&e->cond);
	}
}

int
eio_beat_locked(struct eio_session *s, int64_t now)
{
	if (s->closed)
		return -1;
	if (s->ping_out)
		return now >= s->ping_sent + s->e->ping_timeout ? -1 : 0;
	if (s->noop_at && now >= s->noop_at) {
		/* probed: a GET held now would hold the upgrade up */
		s->noop = 1;
		s->noop_at = now + EIO_PROBE_NOOP_MS;
		eio_wake_locked(s);
	}
	if (now >= s->next_ping && !s->probe) {
		/* the nominal time: a late check gives the client no more */
		s->ping_sent = s->next_ping;
		s->ping_out = 1;
		if (eio_queue_control_locked(s, EIO_PING, NULL))
			return -1;
	}
	return 0;
}

/* The next heartbeat deadline of s; eio.lock held. */
static int64_t
deadline_locked(const struct eio_session *s)
{
	int64_t t = s->ping_out ? s->ping_sent + s->e->ping_timeout :
		    s->next_ping;

	return s->noop_at && s->noop_at < t ? s->noop_at : t;
}

/* Runs every session's heartbeat at now; with all, fills *all (new
 * references, *na of them) with the live sessions. Returns the next
 * deadline (at most a second away). */
static int64_t
beat_all(struct eio *e, int64_t now, struct eio_session ***all, size_t *na)
{
	struct eio_session **dead = NULL, *s;
	size_t nd = 0, pos = 0, cap;
	int64_t next = now + 1000;

	if (all)
		*all = NULL;
	pthread_mutex_lock(&e->lock);
	cap = e->table.len;
	if (cap) {
		dead = calloc(cap, sizeof(*dead));
		if (all)
			*all = calloc(cap, sizeof(**all));
	}
	while (dead && (!all || *all) && (s = hmap_next(&e->table, &pos))) {
		if (eio_beat_locked(s, now)) {
			s->refs++;
			dead[nd++] = s;
			continue;
		}
		if (deadline_locked(s) < next)
			next = deadline_locked(s);
		if (all) {
			s->refs++;
			(*all)[(*na)++] = s;
		}
	}
	pthread_mutex_unlock(&e->lock);
	for (size_t i = 0; i < nd; i++) {
		eio_close(dead[i], 0);
		eio_unref(&dead[i]);
	}
	free(dead);
	return next > now ? next : now + 1;
}

void *
eio_beat_thread(void *arg)
{
	struct eio *e = arg;

	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		int64_t now = im_mono_ms();
		struct timespec ts;

		if (now >= e->wake_at) {
			e->wake_at = INT64_MAX;
			pthread_mutex_unlock(&e->lock);
			now = beat_all(e, now, NULL, NULL);
			pthread_mutex_lock(&e->lock);
			if (now < e->wake_at)
				e->wake_at = now;
			continue;
		}
		ts.tv_sec = (time_t)(e->wake_at / 1000);
		ts.tv_nsec = (long)(e->wake_at % 1000) * 1000000L;
		pthread_cond_timedwait(&e->cond, &e->lock, &ts);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

void
eio_beat_tick(struct eio *e, int64_t now)
{
	struct eio_session **all = NULL;
	size_t na = 0;

	if (!e)
		return;
	beat_all(e, now, &all, &na);
	for (size_t i = 0; i < na; i++) {
		const struct eio_app *app = e->app[all[i]->kind];
		int rc = 0;

		if (app->tick) {
			pthread_mutex_lock(&all[i]->alock);
			if (!all[i]->app_closed && all[i]->ctx)
				rc = app->tick(all[i]->ctx, now);
			pthread_mutex_unlock(&all[i]->alock);
		}
		if (rc)
			eio_close(all[i], 0);
		eio_unref(&all[i]);
	}
	free(all);
}
