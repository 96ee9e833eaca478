/* SPDX-License-Identifier: MIT */
/*
 * test_coalesce: the adaptive coalescing measure and predicate with no
 * network and no clock (src/tp_coalesce.h, doc/internals/tp_wait.md): a
 * server that keeps up (low duty, no overlap) never opens a window; one
 * behind (duty TP_BUSY_PCT or overlap TP_BEHIND_PCT) opens it at
 * TP_MIN_WIN_US and widens it by a quarter per TP_ADJUST_US up to
 * --coalesce; catching up narrows and closes it, and so does silence.
 * While open (and only while a flusher runs) a waiter that wrote less than
 * a window ago and is not due leaves its write to the flusher.
 */
#include "autoconf.h"

#include <check.h>
#include <stdint.h>

#include "trun.h"
#include "tp_coalesce.h"

#define WIN 20		/* ms, the default --coalesce */
#define T0 1000000	/* us: any clock reading */

/* A measure with a flusher running. */
static struct tp_coalesce
measure(void)
{
	struct tp_coalesce co = { .ms = WIN, .on = 1 };

	return co;
}

/* One adjustment period ending at *now: TP_MIN_NOTES notifies, of which
 * ov overlapped, with a thread duty of duty %. */
static void
period(struct tp_coalesce *co, int64_t *now, int ov, int duty)
{
	for (int i = 0; i < TP_MIN_NOTES; i++) {
		tp_coalesce_note(co, *now, i < ov);
		if (!i)	/* after a first note, which may restart a stale one */
			tp_coalesce_duty(co, duty);
	}
	*now += TP_ADJUST_US;
	tp_coalesce_note(co, *now, 0);	/* the period ends: it adjusts */
}

START_TEST(a_server_that_keeps_up_never_defers)
{
	struct tp_coalesce co = measure();
	int64_t now = T0;

	for (int i = 0; i < 10; i++)
		period(&co, &now, 0, TP_BUSY_PCT - 1);
	ck_assert_int_eq(tp_coalesce_window(&co, now), 0);
	/* even a waiter that wrote this very moment writes again */
	ck_assert(!tp_coalesce_defer(&co, now, now, 0));
}
END_TEST

START_TEST(a_busy_thread_opens_and_widens_the_window)
{
	struct tp_coalesce co = measure();
	int64_t now = T0;

	period(&co, &now, 0, TP_BUSY_PCT);
	ck_assert_int_eq(tp_coalesce_window(&co, now), TP_MIN_WIN_US);
	ck_assert(tp_coalesce_defer(&co, now, now - TP_MIN_WIN_US + 1, 0));
	ck_assert(!tp_coalesce_defer(&co, now, now - TP_MIN_WIN_US, 0));
	period(&co, &now, 0, TP_BUSY_PCT);
	ck_assert_int_eq(tp_coalesce_window(&co, now),
			 TP_MIN_WIN_US + TP_MIN_WIN_US / 4);
	for (int i = 0; i < 40; i++)
		period(&co, &now, 0, 100);
	ck_assert_int_eq(tp_coalesce_window(&co, now), WIN * 1000);
}
END_TEST

START_TEST(overlapping_fanouts_open_the_window)
{
	struct tp_coalesce co = measure();
	int64_t now = T0;

	period(&co, &now, TP_MIN_NOTES * TP_BEHIND_PCT / 100 - 1, 0);
	ck_assert_int_eq(tp_coalesce_window(&co, now), 0);
	period(&co, &now, TP_MIN_NOTES * TP_BEHIND_PCT / 100 + 1, 0);
	ck_assert_int_eq(tp_coalesce_window(&co, now), TP_MIN_WIN_US);
}
END_TEST

START_TEST(catching_up_narrows_then_closes_it)
{
	struct tp_coalesce co = measure();
	int64_t now = T0, w;

	for (int i = 0; i < 5; i++)
		period(&co, &now, 0, 100);
	w = tp_coalesce_window(&co, now);
	/* between idle and busy: it holds */
	period(&co, &now, 0, TP_IDLE_PCT);
	ck_assert_int_eq(tp_coalesce_window(&co, now), w);
	period(&co, &now, 0, TP_IDLE_PCT - 1);
	ck_assert_int_eq(tp_coalesce_window(&co, now), w - w / 8);
	for (int i = 0; i < 20; i++)
		period(&co, &now, 0, 0);
	ck_assert_int_eq(tp_coalesce_window(&co, now), 0);
}
END_TEST

START_TEST(too_few_notifies_do_not_adjust)
{
	struct tp_coalesce co = measure();
	int64_t now = T0;

	tp_coalesce_duty(&co, 100);
	tp_coalesce_note(&co, now, 1);
	tp_coalesce_note(&co, now + TP_ADJUST_US, 1);
	ck_assert_int_eq(tp_coalesce_window(&co, now + TP_ADJUST_US), 0);
}
END_TEST

START_TEST(a_due_deadline_is_never_deferred)
{
	struct tp_coalesce co = measure();
	int64_t now = T0;

	period(&co, &now, 0, 100);
	ck_assert(tp_coalesce_defer(&co, now + 1, now, 0));
	ck_assert(!tp_coalesce_defer(&co, now + 1, now, 1));
}
END_TEST

START_TEST(silence_closes_the_window)
{
	struct tp_coalesce co = measure();
	int64_t now = T0;

	period(&co, &now, 0, 100);
	ck_assert_int_gt(tp_coalesce_window(&co, now + TP_STALE_US - 1), 0);
	ck_assert_int_eq(tp_coalesce_window(&co, now + TP_STALE_US), 0);
	/* and the next notify starts afresh */
	tp_coalesce_note(&co, now + TP_STALE_US, 0);
	ck_assert_int_eq(co.win_us, 0);
}
END_TEST

START_TEST(no_flusher_or_no_window_never_defers)
{
	struct tp_coalesce co = measure();
	int64_t now = T0;

	period(&co, &now, 0, 100);
	co.on = 0;			/* the flusher stopped */
	ck_assert(!tp_coalesce_defer(&co, now + 1, now, 0));
	co = (struct tp_coalesce){ .ms = 0 };	/* --coalesce 0 */
	now = T0;
	period(&co, &now, 0, 100);
	ck_assert(!tp_coalesce_defer(&co, now + 1, now, 0));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("coalesce");
	TCase *tc = tcase_create("coalesce");

	tcase_add_test(tc, a_server_that_keeps_up_never_defers);
	tcase_add_test(tc, a_busy_thread_opens_and_widens_the_window);
	tcase_add_test(tc, overlapping_fanouts_open_the_window);
	tcase_add_test(tc, catching_up_narrows_then_closes_it);
	tcase_add_test(tc, too_few_notifies_do_not_adjust);
	tcase_add_test(tc, a_due_deadline_is_never_deferred);
	tcase_add_test(tc, silence_closes_the_window);
	tcase_add_test(tc, no_flusher_or_no_window_never_defers);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
