/* SPDX-License-Identifier: MIT */
/*
 * test_coalesce: the coalescing predicate with no network and no clock
 * (src/tp_coalesce.h, doc/internals/tp_wait.md): a window of TP_BUSY_WRITES
 * writes or more makes the next window busy; while busy (and only while a
 * flusher runs) a waiter that wrote less than a window ago and is not due
 * leaves its write to the flusher; a quiet window ends the busy state.
 */
#include "autoconf.h"

#include <check.h>
#include <stdint.h>

#include "trun.h"
#include "tp_coalesce.h"

#define WIN 20		/* ms, the default --coalesce */

/* A measure with a flusher running, its first window starting at 0. */
static struct tp_coalesce
measure(void)
{
	struct tp_coalesce co = { .ms = WIN, .on = 1 };

	return co;
}

/* Counts n writes at now. */
static void
writes(struct tp_coalesce *co, int64_t now, long n)
{
	for (long i = 0; i < n; i++)
		tp_coalesce_count(co, now);
}

START_TEST(a_busy_window_defers_the_next_ones_recent_writers)
{
	struct tp_coalesce co = measure();

	writes(&co, 1, TP_BUSY_WRITES);
	ck_assert(!co.busy);		/* the window is not over yet */
	ck_assert(!tp_coalesce_defer(&co, 1, 0, 0));
	tp_coalesce_roll(&co, WIN);
	ck_assert(co.busy);
	ck_assert_int_eq(co.win_start, WIN);
	ck_assert_int_eq(co.win_writes, 0);
	/* wrote less than a window ago: deferred */
	ck_assert(tp_coalesce_defer(&co, WIN + 5, WIN, 0));
	ck_assert(tp_coalesce_defer(&co, WIN + 5, 5 + 1, 0));
	/* a window ago or more: written now */
	ck_assert(!tp_coalesce_defer(&co, WIN + 5, 5, 0));
	ck_assert(!tp_coalesce_defer(&co, WIN + 5, 0, 0));
}
END_TEST

START_TEST(a_due_deadline_is_never_deferred)
{
	struct tp_coalesce co = measure();

	writes(&co, 0, TP_BUSY_WRITES);
	tp_coalesce_roll(&co, WIN);
	ck_assert(tp_coalesce_defer(&co, WIN + 1, WIN, 0));
	ck_assert(!tp_coalesce_defer(&co, WIN + 1, WIN, 1));
}
END_TEST

START_TEST(one_write_short_of_the_threshold_is_not_busy)
{
	struct tp_coalesce co = measure();

	writes(&co, 0, TP_BUSY_WRITES - 1);
	tp_coalesce_roll(&co, WIN);
	ck_assert(!co.busy);
	ck_assert(!tp_coalesce_defer(&co, WIN + 1, WIN, 0));
}
END_TEST

START_TEST(a_quiet_window_ends_the_busy_state)
{
	struct tp_coalesce co = measure();

	writes(&co, 0, TP_BUSY_WRITES);
	tp_coalesce_count(&co, WIN);		/* rolls: busy, one write */
	ck_assert(co.busy);
	ck_assert_int_eq(co.win_writes, 1);
	tp_coalesce_roll(&co, 2 * WIN);
	ck_assert(!co.busy);
	ck_assert(!tp_coalesce_defer(&co, 2 * WIN + 1, 2 * WIN, 0));
	/* within a window nothing rolls, however often it is asked */
	tp_coalesce_roll(&co, 3 * WIN - 1);
	ck_assert_int_eq(co.win_start, 2 * WIN);
}
END_TEST

START_TEST(no_flusher_or_no_window_never_defers)
{
	struct tp_coalesce co = measure();

	writes(&co, 0, TP_BUSY_WRITES);
	tp_coalesce_roll(&co, WIN);
	ck_assert(co.busy);
	co.on = 0;			/* the flusher stopped */
	ck_assert(!tp_coalesce_defer(&co, WIN + 1, WIN, 0));
	co = (struct tp_coalesce){ .ms = 0 };	/* --coalesce 0 */
	writes(&co, 0, 10 * TP_BUSY_WRITES);
	ck_assert(!tp_coalesce_defer(&co, 0, 0, 0));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("coalesce");
	TCase *tc = tcase_create("coalesce");

	tcase_add_test(tc, a_busy_window_defers_the_next_ones_recent_writers);
	tcase_add_test(tc, a_due_deadline_is_never_deferred);
	tcase_add_test(tc, one_write_short_of_the_threshold_is_not_busy);
	tcase_add_test(tc, a_quiet_window_ends_the_busy_state);
	tcase_add_test(tc, no_flusher_or_no_window_never_defers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
