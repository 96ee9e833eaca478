/* SPDX-License-Identifier: MIT */
/*
 * netem: the visibility rule and the clock thread (see netem.h). The
 * clock keeps an unsorted array of entries (a few per emulated
 * connection at most; a scan is cheap next to a write) and sleeps on a
 * condition variable until the earliest. It fires an entry without its
 * lock held, marking it as firing, so fire may take the transports' locks
 * while other threads, holding those, ask for entries.
 */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "netem.h"

struct entry {
	int64_t due;
	netem_fire_fn fire;
	void *key;
};

struct netem_clock {
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* the earliest changed, or stop */
	pthread_cond_t fired;		/* an entry finished firing */
	pthread_t thread;
	struct entry e[NETEM_TIMERS];
	size_t n;
	void *firing;			/* key being fired, or NULL */
	int stop;
};

static _Atomic int64_t stall_until;

void
netem_stall(int64_t until_ms)
{
	atomic_store(&stall_until, until_ms);
}

int64_t
netem_stalled(int64_t now)
{
	int64_t u = atomic_load(&stall_until);

	return now < u ? u : 0;
}

int64_t
netem_link_due(const struct netem *n, int64_t ready, uint64_t seq)
{
	uint64_t h = seq * 0x9E3779B97F4A7C15ull;

	h ^= h >> 29;
	return ready + n->delay_ms +
	       (n->jitter_ms ? (int64_t)(h % (uint64_t)(n->jitter_ms + 1)) :
		0);
}

int64_t
netem_due(const struct netem *n, const struct msg *m)
{
	return netem_link_due(n, m->ts, m->id);
}

/* Fires entry i (under c->lock, which it drops and takes again). */
static void
fire_one(struct netem_clock *c, size_t i)
{
	struct entry x = c->e[i];

	c->e[i] = c->e[--c->n];
	c->firing = x.key;
	pthread_mutex_unlock(&c->lock);
	x.fire(x.key);
	pthread_mutex_lock(&c->lock);
	c->firing = NULL;
	pthread_cond_broadcast(&c->fired);
}

static void *
run(void *arg)
{
	struct netem_clock *c = arg;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		int64_t now = im_now_ms(), min = INT64_MAX;
		size_t at = 0;
		struct timespec ts;

		for (size_t i = 0; i < c->n; i++)
			if (c->e[i].due < min) {
				min = c->e[i].due;
				at = i;
			}
		if (c->n && min <= now) {
			fire_one(c, at);
			continue;
		}
		if (!c->n) {
			pthread_cond_wait(&c->cond, &c->lock);
			continue;
		}
		ts.tv_sec = (time_t)(min / 1000);
		ts.tv_nsec = (long)(min % 1000) * 1000000L;
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	}
	while (c->n)
		fire_one(c, 0);
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct netem_clock *
netem_clock_start(void)
{
	struct netem_clock *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);	/* CLOCK_REALTIME: im_now_ms */
	pthread_cond_init(&c->fired, NULL);
	if (pthread_create(&c->thread, NULL, run, c)) {
		pthread_cond_destroy(&c->fired);
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return NULL;
	}
	return c;
}

void
netem_clock_stop(struct netem_clock *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	if (c->stop) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	c->stop = 1;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
}

void
netem_clock_free(struct netem_clock **cp)
{
	struct netem_clock *c = *cp;

	if (!c)
		return;
	netem_clock_stop(c);
	*cp = NULL;
	pthread_cond_destroy(&c->fired);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void
netem_at(struct netem_clock *c, int64_t due, netem_fire_fn fire, void *key)
{
	size_t i;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < c->n && c->e[i].key != key; i++)
		;
	if (i < c->n) {
		if (due < c->e[i].due)
			c->e[i].due = due;
	} else if (c->n < NETEM_TIMERS && !c->stop) {
		c->e[c->n++] = (struct entry){ due, fire, key };
	}
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void
netem_forget(struct netem_clock *c, void *key)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].key == key) {
			c->e[i] = c->e[--c->n];
			break;
		}
	while (c->firing == key)
		pthread_cond_wait(&c->fired, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

void
netem_wake_for(const struct netem *n, const struct msg *m)
{
	if (netem_on(n) && n->clk && n->fire)
		netem_at(n->clk, netem_due(n, m), n->fire, n->key);
}
