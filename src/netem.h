/* SPDX-License-Identifier: MIT */
/*
 * netem: emulated network delay for one connection (?delay=MS and
 * ?jitter=MS on /poll, /longpoll, /sse and the /ws upgrade). Downstream
 * it is a rule of the cursor: a message m becomes visible to that
 * connection at m.ts + delay + j(m), j(m) in [0, jitter] a hash of the
 * message id (so order is kept: a reader takes only the prefix that is
 * visible). Upstream, an HTTP request (and the /ws upgrade) is held
 * (suspended) for 2 x delay before its handler runs: delay for the
 * request to arrive, delay for its first answer to get back. A clock
 * thread (struct netem_clock) wakes what waits for a message to become
 * visible, or for a held request's time. Nothing is buffered: the store
 * already holds the messages, and a wake-up is one entry per waiting
 * connection (at most NETEM_TIMERS, then the ticker's own wake-ups are
 * the fallback). On an open /ws both directions are per frame
 * (ws_netem.h): a client message is handled at arrival + delay + j, a
 * reply written at ready + delay + j (j from netem_link_due()), so an
 * ack comes 2 x delay after its send, and the message it stored is
 * visible to delayed readers at ts + delay; those held messages are the
 * one buffer, bounded per connection, timed by lws's own timer on the
 * service thread rather than by this clock.
 */
#ifndef IMLAB_NETEM_H
#define IMLAB_NETEM_H

#include <stdint.h>

#include "msg.h"

#define NETEM_MAX_MS 2000	/* delay and jitter at most */
#define NETEM_TIMERS 8192	/* pending wake-ups at most */

struct netem_clock;

/* Called by the clock thread when an entry is due: must take no lock
 * that is held around netem_at(), netem_forget() excepted. */
typedef void (*netem_fire_fn)(void *key);

/* One connection's emulated link, and how to wake its reader. */
struct netem {
	int delay_ms, jitter_ms;	/* 0 0: no emulation */
	struct netem_clock *clk;	/* borrowed; NULL: no wake-ups */
	netem_fire_fn fire;
	void *key;
};

/* Returns 1 if n emulates a delay. */
static inline int
netem_on(const struct netem *n)
{
	return n && (n->delay_ms || n->jitter_ms);
}

/* Returns when m becomes visible through n (wall ms):
 * netem_link_due(n, m->ts, m->id). */
int64_t netem_due(const struct netem *n, const struct msg *m);

/* Returns when something ready at ready (wall ms) is through n: ready +
 * delay + j, j in [0, jitter] a hash of seq (a message id, or a /ws
 * connection's count of what it timed, ws_netem.h). */
int64_t netem_link_due(const struct netem *n, int64_t ready, uint64_t seq);

/* Starts the clock thread; NULL when out of memory or threads. */
struct netem_clock *netem_clock_start(void);

/* Fires every pending entry now and stops the thread; from then on
 * netem_at() adds nothing (readers may still ask, until the front ends
 * are stopped). */
void netem_clock_stop(struct netem_clock *c);

/* Frees a stopped clock (after every front end stopped); NULLs *cp. */
void netem_clock_free(struct netem_clock **cp);

/* Asks for fire(key) at due (wall ms); a key has one entry, the earliest
 * asked. Any thread, any lock but what fire takes. */
void netem_at(struct netem_clock *nc, int64_t due, netem_fire_fn fire,
	      void *key);

/* Removes key's entry; if it is firing now, waits until it has fired.
 * Call before key is freed, holding no lock fire takes. */
void netem_forget(struct netem_clock *nc, void *key);

/* Stalls delivery until until_ms (wall): process-wide, every cursor
 * reads nothing before then (the admin stall, api_admin.c). */
void netem_stall(int64_t until_ms);

/* Returns the end of a stall in force at now, else 0. */
int64_t netem_stalled(int64_t now);

/* Schedules n's wake-up (n->fire(n->key)) for when m becomes visible. */
void netem_wake_for(const struct netem *n, const struct msg *m);

#endif
