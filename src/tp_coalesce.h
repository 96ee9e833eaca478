/* SPDX-License-Identifier: MIT */
/*
 * tp_coalesce: the busy measure and the one predicate of write coalescing
 * (SSE writes and long-poll answers; doc/internals/tp_wait.md). The
 * server is busy in a window of ms after one that saw TP_BUSY_WRITES or
 * more writes; while busy, a waiter that wrote less than a window ago
 * leaves its write to the flusher, which then writes all that gathered
 * in one go. Pure arithmetic: the registry (tp_wait.c) holds the lock
 * that guards it and does every suspend and resume.
 */
#ifndef IMLAB_TP_COALESCE_H
#define IMLAB_TP_COALESCE_H

#include <stdint.h>

#define TP_BUSY_WRITES 256	/* writes per window that mean "busy" */

/* The measure; guarded by its owner's lock (tp.lock). */
struct tp_coalesce {
	int64_t ms;		/* the window; 0: never coalesce */
	int64_t win_start;	/* current window, monotonic ms */
	long win_writes;	/* writes in that window */
	int busy;		/* the previous window was busy */
	int on;			/* a flusher runs to resume waiters */
};

/* Starts a new window at now (monotonic ms) when the current one is
 * over. Every use of the measure rolls it first. */
static inline void
tp_coalesce_roll(struct tp_coalesce *co, int64_t now)
{
	if (now - co->win_start >= co->ms) {
		co->busy = co->win_writes >= TP_BUSY_WRITES;
		co->win_start = now;
		co->win_writes = 0;
	}
}

/* THE predicate: returns 1 if a waiter that last wrote at last_write
 * should leave its write to the flusher: coalescing is on, the previous
 * window was busy, its deadline is not due and it wrote less than a
 * window ago. */
static inline int
tp_coalesce_defer(const struct tp_coalesce *co, int64_t now,
		  int64_t last_write, int due)
{
	return co->on && co->busy && !due && now - last_write < co->ms;
}

/* Counts one write (an SSE write or a long-poll answer) at now. */
static inline void
tp_coalesce_count(struct tp_coalesce *co, int64_t now)
{
	tp_coalesce_roll(co, now);
	co->win_writes++;
}

#endif
