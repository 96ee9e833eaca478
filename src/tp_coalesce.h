/* SPDX-License-Identifier: MIT */
/*
 * tp_coalesce: the busy measure and the one predicate of write
 * coalescing for SSE streams and long polls. The server is "busy" when
 * the last window (--coalesce ms) saw TP_BUSY_WRITES or more SSE writes
 * and long-poll answers. While busy, a waiter that wrote (or, a long
 * poll, whose connection answered) less than a window ago does not write
 * again at once: it waits, suspended, and the flusher resumes it once its
 * window is over; it then writes everything that arrived meanwhile in
 * one go. A quiet server writes at once.
 *
 * This file only measures and decides; the registry (tp_wait.c) holds
 * the lock that guards struct tp_coalesce and does every suspend and
 * resume, including the gate's and the flusher's.
 */
#ifndef IMLAB_TP_COALESCE_H
#define IMLAB_TP_COALESCE_H

#include <stdint.h>

#define TP_BUSY_WRITES 256	/* writes per window that mean "busy" */

/* The measure; guarded by the lock of its owner (tp.lock). */
struct tp_coalesce {
	int64_t ms;			/* the window; 0: never coalesce */
	int64_t win_start;		/* current window, monotonic ms */
	long win_writes;		/* writes in that window */
	int busy;			/* the previous window was busy */
	int on;				/* a flusher runs to resume waiters */
};

/* Starts the measure with a window of ms (off until co->on is set). */
void tp_coalesce_init(struct tp_coalesce *co, int64_t ms);

/* Starts a new window at now (monotonic ms) when the current one is
 * over. Every use of the measure rolls it first. */
void tp_coalesce_roll(struct tp_coalesce *co, int64_t now);

/* THE predicate: returns 1 if a waiter that last wrote at last_write
 * should leave its write to the flusher now: coalescing is on, the
 * previous window was busy, its deadline is not due and it wrote less
 * than a window ago. */
int tp_coalesce_defer(const struct tp_coalesce *co, int64_t now,
		      int64_t last_write, int due);

/* Counts one write (an SSE write or a long-poll answer) at now. */
void tp_coalesce_count(struct tp_coalesce *co, int64_t now);

#endif
