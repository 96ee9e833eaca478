/* SPDX-License-Identifier: MIT */
/*
 * tp_coalesce: the "behind" measure and the one predicate of write
 * coalescing (SSE writes and long-poll answers; doc/internals/tp_wait.md).
 * The measure says whether the HTTP threads keep up with what the
 * publishers send, two ways: their duty (the CPU time a thread that runs
 * waiters used over about TP_DUTY_US of wall time, sampled on that
 * thread; the latest sample counts) and overlap (a publish that finds a
 * waiter it resumed for an earlier one not yet run: one fan-out did not
 * finish before the next began). Every TP_ADJUST_US with at least
 * TP_MIN_NOTES notifies, a duty of TP_BUSY_PCT or an overlap of
 * TP_BEHIND_PCT widens the window by a quarter (from TP_MIN_WIN_US, at
 * most --coalesce); a duty under
 * TP_IDLE_PCT with under a fifth of that overlap narrows it by an eighth,
 * and below TP_MIN_WIN_US it closes; no notify for TP_STALE_US closes it
 * too. A server that keeps up therefore never defers: each message leaves
 * at once, however many streams it goes to. One that is behind (the
 * publishers' rate is more than single writes sustain) defers a waiter
 * that wrote less than a window ago, so its messages leave in one write.
 * Pure arithmetic over microseconds: the registry (tp_wait.c) holds the
 * lock that guards it, samples the duty and does every suspend and
 * resume.
 */
#ifndef IMLAB_TP_COALESCE_H
#define IMLAB_TP_COALESCE_H

#include <stdint.h>
#include <time.h>
#ifdef TP_TRACE
#include <stdio.h>
#endif

#define TP_BEHIND_PCT 10	/* overlapping notifies that mean behind */
#define TP_BUSY_PCT 75		/* a thread's duty that means behind */
#define TP_IDLE_PCT 50		/* a duty under which the window narrows */
#define TP_DUTY_US 50000	/* the wall time one duty sample spans */
#define TP_MIN_NOTES 64		/* notifies an adjustment needs */
#define TP_STALE_US 1000000	/* no notify for this long: keeps up */
#define TP_ADJUST_US 5000	/* the window moves at most this often */
#define TP_MIN_WIN_US 1000	/* the smallest open window */

/* The measure; guarded by its owner's lock (tp.lock). */
struct tp_coalesce {
	int64_t ms;		/* the longest window; 0: never coalesce */
	int64_t win_us;		/* the window; 0: closed */
	int64_t period;		/* monotonic us the counting began */
	int64_t last_note;	/* monotonic us of the last notify */
	long notes, overlaps;	/* in this period */
	int duty;		/* the latest duty sampled, % */
	int on;			/* a flusher runs to resume waiters */
};

/* Returns a monotonic clock reading in microseconds. */
static inline int64_t
tp_coalesce_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Moves the window after the period's overlap (see above) at now (us),
 * once the period is TP_ADJUST_US old and counted enough. */
static inline void
tp_coalesce_adjust(struct tp_coalesce *co, int64_t now)
{
	int64_t cap = co->ms * 1000;

	if (now - co->period < TP_ADJUST_US || co->notes < TP_MIN_NOTES)
		return;
	if (co->overlaps * 100 >= co->notes * TP_BEHIND_PCT ||
	    co->duty >= TP_BUSY_PCT) {
		co->win_us = co->win_us < TP_MIN_WIN_US ? TP_MIN_WIN_US :
			     co->win_us + co->win_us / 4;
		if (co->win_us > cap)
			co->win_us = cap;
	} else if (co->overlaps * 500 < co->notes * TP_BEHIND_PCT &&
		   co->duty < TP_IDLE_PCT) {
		co->win_us -= co->win_us / 8;
		if (co->win_us < TP_MIN_WIN_US)
			co->win_us = 0;
	}
#ifdef TP_TRACE
	fprintf(stderr, "co %ld notes %ld ov %d duty win %ld\n", co->notes,
		co->overlaps, co->duty, (long)co->win_us);
#endif
	co->period = now;
	co->notes = co->overlaps = 0;
}

/* Records a thread's duty (% of wall time on CPU) over the last
 * TP_DUTY_US. */
static inline void
tp_coalesce_duty(struct tp_coalesce *co, int pct)
{
	co->duty = pct;
}

/* Counts one notify at now (us); overlap: its waiter was resumed for an
 * earlier one and has not run yet. */
static inline void
tp_coalesce_note(struct tp_coalesce *co, int64_t now, int overlap)
{
	if (now - co->last_note >= TP_STALE_US) {
		co->win_us = 0;		/* quiet: start afresh */
		co->period = now;
		co->notes = co->overlaps = 0;
		co->duty = 0;
	}
	co->last_note = now;
	co->notes++;
	co->overlaps += overlap != 0;
	tp_coalesce_adjust(co, now);
}

/* Returns the coalescing window at now (us): 0 when coalescing is off,
 * closed, or stale (no notify for TP_STALE_US). */
static inline int64_t
tp_coalesce_window(const struct tp_coalesce *co, int64_t now)
{
	if (!co->on || co->ms <= 0 || now - co->last_note >= TP_STALE_US)
		return 0;
	return co->win_us;
}

/* THE predicate: returns 1 if a waiter that last wrote at last_write (us)
 * should leave its write to the flusher: the server is behind (a window
 * is open), the waiter's deadline is not due and it wrote less than a
 * window ago. */
static inline int
tp_coalesce_defer(const struct tp_coalesce *co, int64_t now,
		  int64_t last_write, int due)
{
	return !due && now - last_write < tp_coalesce_window(co, now);
}

#endif
