/* SPDX-License-Identifier: MIT */
/*
 * test_store: the id sequence (strictly increasing across rooms, a fixed
 * first id or the clock seed), the per-room rings (growth, eviction,
 * counts), and store_read(): one cursor over several rooms merged in id
 * order, duplicate rings read once, last_id semantics (newest id when all
 * is read, last returned when max truncates, a cursor ahead of the
 * sequence clamped), gaps reported only when a message after the cursor
 * was evicted, and targets (room, others, self, anonymous readers).
 * store_append_at() (ids given by a shared sequence: kept, a replay
 * refused) and store_raise_base() (older cursors become a gap).
 */
#include "autoconf.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "trun.h"
#include "store.h"

#define FIRST 1000
#define CID_A "cid-alice-0001"
#define CID_B "cid-bob-000002"

static struct store *st;

static void
teardown(void)
{
	store_destroy(&st);
	ck_assert_ptr_null(st);
}

/* Appends a message to ring sent by cid with target to; returns its id. */
static uint64_t
put_to(struct store_ring *ring, const char *room, const char *cid,
       enum msg_target to)
{
	struct msg_parts p = { 0 };
	struct msg *m = NULL;
	uint64_t id;

	p.room = room;
	p.event = "chat";
	p.from = "alice";
	p.pid = "3f9a1c2e";
	p.cid = cid;
	p.via = VIA_API;
	p.to = to;
	p.data_json = "{\"n\":1}";
	p.data_len = strlen(p.data_json);
	ck_assert_int_eq(store_append(st, ring, &p, &m), IM_OK);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->room, room);
	id = m->id;
	msg_unref(&m);
	return id;
}

static uint64_t
put(struct store_ring *ring, const char *room)
{
	return put_to(ring, room, NULL, MSG_TO_ROOM);
}

static void
unref_all(struct msg **out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		msg_unref(&out[i]);
}

START_TEST(ids_start_at_first_id_and_increase_across_rooms)
{
	struct store_ring *a, *b;

	st = store_create(10, FIRST);
	ck_assert_ptr_nonnull(st);
	a = store_ring_create(st);
	b = store_ring_create(st);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(store_last_id(st), FIRST - 1);
	ck_assert_uint_eq(put(a, "a"), FIRST);
	ck_assert_uint_eq(put(b, "b"), FIRST + 1);
	ck_assert_uint_eq(put(b, "b"), FIRST + 2);
	ck_assert_uint_eq(put(a, "a"), FIRST + 3);
	ck_assert_uint_eq(store_last_id(st), FIRST + 3);
	ck_assert_uint_eq(store_ring_last_id(st, a), FIRST + 3);
	ck_assert_uint_eq(store_ring_last_id(st, b), FIRST + 2);
}
END_TEST

START_TEST(clock_seeds_ids_when_first_id_is_zero)
{
	uint64_t before = (uint64_t)im_now_ms() << STORE_ID_SHIFT, id;
	struct store_ring *a;

	st = store_create(10, 0);
	ck_assert_ptr_nonnull(st);
	a = store_ring_create(st);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_ge(store_last_id(st), before);
	ck_assert_uint_eq(store_base_id(st), store_last_id(st));
	id = put(a, "a");
	ck_assert_uint_gt(id, before);
	/* ms << STORE_ID_SHIFT, exact in a JavaScript number */
	ck_assert_uint_le(id, ((uint64_t)im_now_ms() << STORE_ID_SHIFT) + 1);
	ck_assert_uint_lt(id, (uint64_t)1 << 53);
	ck_assert_uint_eq(put(a, "a"), id + 1);
}
END_TEST

START_TEST(cursor_from_an_earlier_run_is_a_gap)
{
	struct store_read_result r;
	struct store_ring *a;
	struct msg *out[4];
	uint64_t base;

	st = store_create(10, 0);
	a = store_ring_create(st);
	base = store_base_id(st);
	/* before any message: an older cursor is a gap, the base is not */
	r = store_read(st, &a, 1, base - 5, NULL, out, 4);
	ck_assert_int_eq(r.gap, 1);
	ck_assert_uint_eq(r.last_id, base);
	r = store_read(st, &a, 1, base, NULL, out, 4);
	ck_assert_int_eq(r.gap, 0);
	put(a, "a");
	r = store_read(st, &a, 1, 1, NULL, out, 4);
	ck_assert_int_eq(r.gap, 1);
	ck_assert_uint_eq(r.n, 1);	/* and this run's messages come */
	msg_unref(&out[0]);
	r = store_read(st, &a, 1, 0, NULL, out, 4);
	ck_assert_int_eq(r.gap, 0);	/* since=0 never reports one */
	msg_unref(&out[0]);
}
END_TEST

START_TEST(ring_budget_evicts_its_oldest_with_a_gap)
{
	struct store_read_result r;
	struct store_ring *a, *b;
	struct msg *out[8];
	uint64_t first, keep;
	size_t one;

	st = store_create(100, FIRST);
	a = store_ring_create(st);
	b = store_ring_create(st);
	first = put(a, "a");
	one = store_bytes(st);	/* every message here costs the same */
	ck_assert_uint_gt(one, 0);
	store_set_budget(st, 0, 3 * one);
	put(b, "b");
	put(a, "a");
	keep = put(a, "a");
	put(a, "a");
	/* a holds 3, b (under its own budget) keeps its one */
	ck_assert_uint_eq(store_ring_len(st, a), 3);
	ck_assert_uint_eq(store_ring_len(st, b), 1);
	ck_assert_uint_eq(store_bytes(st), 4 * one);
	r = store_read(st, &a, 1, first - 1, NULL, out, 8);
	ck_assert_int_eq(r.gap, 1);
	ck_assert_uint_eq(r.n, 3);
	unref_all(out, r.n);
	/* a reader that had the evicted one missed nothing */
	r = store_read(st, &a, 1, first, NULL, out, 8);
	ck_assert_int_eq(r.gap, 0);
	ck_assert_uint_eq(r.n, 3);
	unref_all(out, r.n);
	r = store_read(st, &a, 1, keep, NULL, out, 8);
	ck_assert_int_eq(r.gap, 0);
	ck_assert_uint_eq(r.n, 1);
	unref_all(out, r.n);
}
END_TEST

/* The time floor keeps a burst past --history while it is young, then
 * the ring goes back to history messages with a gap for those behind. */
START_TEST(time_floor_keeps_young_messages_past_history)
{
	struct store_read_result r;
	struct store_ring *a;
	struct msg *out[16];
	uint64_t first;

	st = store_create(2, FIRST);
	a = store_ring_create(st);
	store_set_history_ms(st, 3600 * 1000);
	first = put(a, "a");
	for (int i = 0; i < 9; i++)
		put(a, "a");
	ck_assert_uint_eq(store_ring_len(st, a), 10);
	r = store_read(st, &a, 1, first - 1, NULL, out, 16);
	ck_assert_int_eq(r.gap, 0);
	ck_assert_uint_eq(r.n, 10);
	unref_all(out, r.n);
	/* a floor of 1 ms: once it passed, the next append trims to 2 */
	store_set_history_ms(st, 1);
	usleep(5000);
	put(a, "a");
	ck_assert_uint_eq(store_ring_len(st, a), 2);
	r = store_read(st, &a, 1, first, NULL, out, 16);
	ck_assert_int_eq(r.gap, 1);
	ck_assert_uint_eq(r.n, 2);
	unref_all(out, r.n);
	/* and the byte budget still bounds it */
	store_set_history_ms(st, 3600 * 1000);
	store_set_budget(st, 0, 4 * store_bytes(st) / 2);
	for (int i = 0; i < 9; i++)
		put(a, "a");
	ck_assert_uint_eq(store_ring_len(st, a), 4);
}
END_TEST

START_TEST(store_budget_evicts_the_oldest_anywhere_but_never_the_new)
{
	struct store_read_result r;
	struct store_ring *a, *b;
	struct msg *out[8];
	uint64_t ida, idb;
	size_t one;

	st = store_create(100, FIRST);
	a = store_ring_create(st);
	b = store_ring_create(st);
	ida = put(a, "a");
	one = store_bytes(st);
	idb = put(b, "b");
	put(b, "b");
	store_set_budget(st, 2 * one, 0);
	put(b, "b");
	/* the oldest anywhere was a's: a is empty now, b holds 2 */
	ck_assert_uint_eq(store_ring_len(st, a), 0);
	ck_assert_uint_eq(store_ring_len(st, b), 2);
	ck_assert_uint_eq(store_total(st), 2);
	r = store_read(st, &a, 1, ida - 1, NULL, out, 8);
	ck_assert_int_eq(r.gap, 1);
	ck_assert_uint_eq(r.n, 0);
	r = store_read(st, &b, 1, idb - 1, NULL, out, 8);
	ck_assert_int_eq(r.gap, 1);
	unref_all(out, r.n);
	/* a budget below one message keeps the newest alone */
	store_set_budget(st, 1, 1);
	put(a, "a");
	ck_assert_uint_eq(store_total(st), 1);
	ck_assert_uint_eq(store_ring_len(st, a), 1);
	ck_assert_uint_eq(store_bytes(st), one);
}
END_TEST

START_TEST(since_last_points_before_the_newest_n)
{
	struct store_ring *a, *b;
	uint64_t ids[6];

	st = store_create(4, FIRST);
	a = store_ring_create(st);
	b = store_ring_create(st);
	ck_assert_uint_eq(store_ring_since_last(st, a, 1), 0);	/* empty */
	for (int i = 0; i < 6; i++) {
		ids[i] = put(a, "a");
		put(b, "b");	/* other rooms interleave */
	}
	/* the ring keeps ids[2..5] */
	ck_assert_uint_eq(store_ring_since_last(st, a, 1), ids[4]);
	ck_assert_uint_eq(store_ring_since_last(st, a, 3), ids[2]);
	ck_assert_uint_eq(store_ring_since_last(st, a, 4), 0);
	ck_assert_uint_eq(store_ring_since_last(st, a, 100), 0);
}
END_TEST

START_TEST(append_fills_message_and_counts)
{
	struct msg_parts p = { 0 };
	struct store_ring *a, *b;
	struct msg *m = NULL;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	b = store_ring_create(st);
	ck_assert_uint_eq(store_ring_len(st, a), 0);
	ck_assert_uint_eq(store_ring_last_id(st, a), 0);
	ck_assert_uint_eq(store_total(st), 0);
	p.id = 5;		/* ignored */
	p.ts = 6;		/* ignored */
	p.room = "a";
	p.event = "chat";
	p.from = "al";
	p.pid = "";
	p.via = VIA_WS;
	p.to = MSG_TO_ROOM;
	p.data_json = "null";
	p.data_len = 4;
	ck_assert_int_eq(store_append(st, a, &p, &m), IM_OK);
	ck_assert_uint_eq(m->id, FIRST);
	/* the publish time, in ms since the epoch */
	ck_assert_int_ge(m->ts, (int64_t)time(NULL) * 1000 - 2000);
	ck_assert_int_le(m->ts, (int64_t)time(NULL) * 1000 + 2000);
	ck_assert_uint_eq(atomic_load(&m->refs), 2);	/* store + us */
	msg_unref(&m);
	ck_assert_int_eq(store_append(st, a, &p, NULL), IM_OK);
	put(b, "b");
	ck_assert_uint_eq(store_ring_len(st, a), 2);
	ck_assert_uint_eq(store_ring_len(st, b), 1);
	ck_assert_uint_eq(store_total(st), 3);
}
END_TEST

START_TEST(read_merges_rooms_in_id_order)
{
	struct store_ring *r[3];
	struct msg *out[64];
	struct store_read_result res;
	const char *names[3] = { "a", "b", "c" };
	uint64_t want[40];

	st = store_create(100, FIRST);
	for (int i = 0; i < 3; i++)
		r[i] = store_ring_create(st);
	/* an irregular interleaving */
	for (int i = 0; i < 40; i++) {
		int k = (i * 7 + i / 3) % 3;

		want[i] = put(r[k], names[k]);
	}
	res = store_read(st, r, 3, 0, NULL, out, 64);
	ck_assert_uint_eq(res.n, 40);
	ck_assert_int_eq(res.gap, 0);
	ck_assert_uint_eq(res.last_id, want[39]);
	for (int i = 0; i < 40; i++)
		ck_assert_uint_eq(out[i]->id, want[i]);
	unref_all(out, res.n);

	/* and from a cursor in the middle */
	res = store_read(st, r, 3, want[24], NULL, out, 64);
	ck_assert_uint_eq(res.n, 15);
	for (int i = 0; i < 15; i++)
		ck_assert_uint_eq(out[i]->id, want[25 + i]);
	ck_assert_uint_eq(res.last_id, want[39]);
	unref_all(out, res.n);

	/* a subset of the rooms, in any order */
	{
		struct store_ring *cb[2] = { r[2], r[1] };
		uint64_t prev = 0;

		res = store_read(st, cb, 2, 0, NULL, out, 64);
		ck_assert_uint_eq(res.n, store_ring_len(st, r[1]) +
				  store_ring_len(st, r[2]));
		for (size_t i = 0; i < res.n; i++) {
			ck_assert_uint_gt(out[i]->id, prev);
			ck_assert_str_ne(out[i]->room, "a");
			prev = out[i]->id;
		}
		unref_all(out, res.n);
	}
}
END_TEST

START_TEST(read_takes_duplicate_rings_once)
{
	struct store_ring *a, *b;
	struct msg *out[16];
	struct store_read_result res;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	b = store_ring_create(st);
	put(a, "a");
	put(b, "b");
	put(a, "a");
	{
		struct store_ring *rs[5] = { a, b, a, a, b };

		res = store_read(st, rs, 5, 0, NULL, out, 16);
	}
	ck_assert_uint_eq(res.n, 3);
	ck_assert_uint_eq(out[0]->id, FIRST);
	ck_assert_uint_eq(out[1]->id, FIRST + 1);
	ck_assert_uint_eq(out[2]->id, FIRST + 2);
	unref_all(out, res.n);
}
END_TEST

START_TEST(read_of_nothing_returns_cursor_of_newest)
{
	struct store_ring *a, *b;
	struct msg *out[4];
	struct store_read_result res;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	b = store_ring_create(st);
	res = store_read(st, &a, 1, 0, NULL, out, 4);
	ck_assert_uint_eq(res.n, 0);
	ck_assert_uint_eq(res.last_id, FIRST - 1);
	ck_assert_int_eq(res.gap, 0);
	res = store_read(st, &a, 0, 0, NULL, out, 4);
	ck_assert_uint_eq(res.n, 0);
	/* another room moved on: the cursor moves with the sequence */
	put(b, "b");
	put(b, "b");
	res = store_read(st, &a, 1, 0, NULL, out, 4);
	ck_assert_uint_eq(res.n, 0);
	ck_assert_uint_eq(res.last_id, FIRST + 1);
	res = store_read(st, &a, 1, FIRST, NULL, out, 4);
	ck_assert_uint_eq(res.n, 0);
	ck_assert_uint_eq(res.last_id, FIRST + 1);
}
END_TEST

START_TEST(read_last_id_is_newest_when_all_read)
{
	struct store_ring *a, *b;
	struct msg *out[8];
	struct store_read_result res;
	uint64_t ida;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	b = store_ring_create(st);
	ida = put(a, "a");
	put(b, "b");
	put(b, "b");
	res = store_read(st, &a, 1, 0, NULL, out, 8);
	ck_assert_uint_eq(res.n, 1);
	ck_assert_uint_eq(out[0]->id, ida);
	ck_assert_uint_eq(res.last_id, store_last_id(st));
	ck_assert_uint_gt(res.last_id, ida);
	unref_all(out, res.n);
}
END_TEST

START_TEST(read_truncated_by_max_resumes_without_loss)
{
	struct store_ring *r[2];
	struct msg *out[4];
	struct store_read_result res;
	uint64_t ids[10], since = 0;
	size_t got = 0;

	st = store_create(100, FIRST);
	r[0] = store_ring_create(st);
	r[1] = store_ring_create(st);
	for (int i = 0; i < 10; i++)
		ids[i] = put(r[i % 2], i % 2 ? "b" : "a");
	res = store_read(st, r, 2, 0, NULL, out, 4);
	ck_assert_uint_eq(res.n, 4);
	ck_assert_uint_eq(res.last_id, out[3]->id);
	ck_assert_uint_eq(res.last_id, ids[3]);
	ck_assert_int_eq(res.gap, 0);
	unref_all(out, res.n);
	/* paging with the returned cursor sees each message once */
	do {
		res = store_read(st, r, 2, since, NULL, out, 4);
		for (size_t i = 0; i < res.n; i++)
			ck_assert_uint_eq(out[i]->id, ids[got++]);
		if (res.n == 4)
			ck_assert_uint_eq(res.last_id, out[3]->id);
		unref_all(out, res.n);
		since = res.last_id;
	} while (res.n);
	ck_assert_uint_eq(got, 10);
	ck_assert_uint_eq(since, ids[9]);
	/* max 0 returns nothing and does not move the cursor past news */
	res = store_read(st, r, 2, ids[4], NULL, out, 0);
	ck_assert_uint_eq(res.n, 0);
	ck_assert_uint_eq(res.last_id, ids[4]);
}
END_TEST

START_TEST(read_cursor_ahead_of_sequence_is_clamped)
{
	struct store_ring *a;
	struct msg *out[4];
	struct store_read_result res;
	uint64_t id;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	put(a, "a");
	res = store_read(st, &a, 1, UINT64_MAX, NULL, out, 4);
	ck_assert_uint_eq(res.n, 0);
	ck_assert_int_eq(res.gap, 0);
	ck_assert_uint_eq(res.last_id, FIRST);
	/* the clamped cursor still catches the next message */
	id = put(a, "a");
	res = store_read(st, &a, 1, res.last_id, NULL, out, 4);
	ck_assert_uint_eq(res.n, 1);
	ck_assert_uint_eq(out[0]->id, id);
	unref_all(out, res.n);
	/* likewise on an empty store */
	store_destroy(&st);
	st = store_create(10, FIRST);
	a = store_ring_create(st);
	res = store_read(st, &a, 1, FIRST + 500, NULL, out, 4);
	ck_assert_uint_eq(res.last_id, FIRST - 1);
	id = put(a, "a");
	res = store_read(st, &a, 1, res.last_id, NULL, out, 4);
	ck_assert_uint_eq(res.n, 1);
	ck_assert_uint_eq(out[0]->id, id);
	unref_all(out, res.n);
}
END_TEST

START_TEST(ring_keeps_last_history_messages)
{
	static const size_t hist[] = { 1, 2, 7, 8, 9, 12, 16, 100 };

	for (size_t h = 0; h < sizeof(hist) / sizeof(hist[0]); h++) {
		struct store_ring *a, *b;
		struct msg *out[128];
		struct store_read_result res;
		size_t n = hist[h] * 3 + 5;
		uint64_t last = 0;

		st = store_create(hist[h], FIRST);
		ck_assert_ptr_nonnull(st);
		a = store_ring_create(st);
		b = store_ring_create(st);
		for (size_t i = 0; i < n; i++) {
			last = put(a, "a");
			ck_assert_uint_eq(store_ring_len(st, a),
					  i + 1 < hist[h] ? i + 1 : hist[h]);
		}
		put(b, "b");
		ck_assert_uint_eq(store_total(st), hist[h] + 1);
		ck_assert_uint_eq(store_ring_last_id(st, a), last);
		res = store_read(st, &a, 1, 0, NULL, out, 128);
		ck_assert_uint_eq(res.n, hist[h]);
		ck_assert_int_eq(res.gap, 0);
		for (size_t i = 0; i < res.n; i++)
			ck_assert_uint_eq(out[i]->id,
					  last - hist[h] + 1 + i);
		unref_all(out, res.n);
		/* a binary search over the wrapped ring finds the cursor */
		for (size_t k = 0; k < hist[h]; k++) {
			uint64_t since = last - hist[h] + 1 + k;

			res = store_read(st, &a, 1, since, NULL, out, 128);
			ck_assert_uint_eq(res.n, hist[h] - 1 - k);
			ck_assert_int_eq(res.gap, 0);
			if (res.n)
				ck_assert_uint_eq(out[0]->id, since + 1);
			unref_all(out, res.n);
		}
		store_destroy(&st);
	}
}
END_TEST

START_TEST(eviction_after_cursor_is_a_gap)
{
	struct store_ring *a;
	struct msg *out[16];
	struct store_read_result res;
	uint64_t ids[10];

	st = store_create(4, FIRST);
	a = store_ring_create(st);
	for (int i = 0; i < 10; i++)
		ids[i] = put(a, "a");
	/* ids[0..5] evicted, ids[6..9] kept */

	/* the reader needed ids[1..5]: gap, then what is left */
	res = store_read(st, &a, 1, ids[0], NULL, out, 16);
	ck_assert_int_eq(res.gap, 1);
	ck_assert_uint_eq(res.n, 4);
	ck_assert_uint_eq(out[0]->id, ids[6]);
	ck_assert_uint_eq(res.last_id, ids[9]);
	unref_all(out, res.n);

	/* only the newest evicted one was missed: still a gap */
	res = store_read(st, &a, 1, ids[4], NULL, out, 16);
	ck_assert_int_eq(res.gap, 1);
	ck_assert_uint_eq(res.n, 4);
	unref_all(out, res.n);

	/* a cursor older than anything ever stored here: a gap */
	res = store_read(st, &a, 1, FIRST - 1, NULL, out, 16);
	ck_assert_int_eq(res.gap, 1);
	unref_all(out, res.n);
}
END_TEST

START_TEST(eviction_before_cursor_is_no_gap)
{
	struct store_ring *a;
	struct msg *out[16];
	struct store_read_result res;
	uint64_t ids[10];

	st = store_create(4, FIRST);
	a = store_ring_create(st);
	for (int i = 0; i < 10; i++)
		ids[i] = put(a, "a");
	/* cursor at the newest evicted id: nothing needed was lost */
	res = store_read(st, &a, 1, ids[5], NULL, out, 16);
	ck_assert_int_eq(res.gap, 0);
	ck_assert_uint_eq(res.n, 4);
	unref_all(out, res.n);
	res = store_read(st, &a, 1, ids[8], NULL, out, 16);
	ck_assert_int_eq(res.gap, 0);
	ck_assert_uint_eq(res.n, 1);
	unref_all(out, res.n);
	res = store_read(st, &a, 1, ids[9], NULL, out, 16);
	ck_assert_int_eq(res.gap, 0);
	ck_assert_uint_eq(res.n, 0);
}
END_TEST

START_TEST(cursor_zero_never_reports_a_gap)
{
	struct store_ring *a;
	struct msg *out[16];
	struct store_read_result res;

	st = store_create(3, FIRST);
	a = store_ring_create(st);
	for (int i = 0; i < 10; i++)
		put(a, "a");
	res = store_read(st, &a, 1, 0, NULL, out, 16);
	ck_assert_int_eq(res.gap, 0);
	ck_assert_uint_eq(res.n, 3);
	unref_all(out, res.n);
}
END_TEST

START_TEST(gap_in_one_of_several_rooms_is_reported)
{
	struct store_ring *r[2];
	struct msg *out[32];
	struct store_read_result res;
	uint64_t quiet, since;

	st = store_create(4, FIRST);
	r[0] = store_ring_create(st);	/* busy */
	r[1] = store_ring_create(st);	/* quiet */
	quiet = put(r[1], "quiet");
	since = put(r[0], "busy");
	for (int i = 0; i < 8; i++)
		put(r[0], "busy");
	res = store_read(st, r, 2, since, NULL, out, 32);
	ck_assert_int_eq(res.gap, 1);
	ck_assert_uint_eq(res.n, 4);
	unref_all(out, res.n);
	/* the quiet room alone lost nothing */
	res = store_read(st, &r[1], 1, quiet - 1, NULL, out, 32);
	ck_assert_int_eq(res.gap, 0);
	ck_assert_uint_eq(res.n, 1);
	unref_all(out, res.n);
}
END_TEST

START_TEST(read_obeys_targets)
{
	struct store_ring *a;
	struct msg *out[16];
	struct store_read_result res;
	uint64_t room, others, self;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	room = put_to(a, "a", CID_A, MSG_TO_ROOM);
	others = put_to(a, "a", CID_A, MSG_TO_OTHERS);
	self = put_to(a, "a", CID_A, MSG_TO_SELF);

	/* the sender: room and self */
	res = store_read(st, &a, 1, 0, CID_A, out, 16);
	ck_assert_uint_eq(res.n, 2);
	ck_assert_uint_eq(out[0]->id, room);
	ck_assert_uint_eq(out[1]->id, self);
	ck_assert_uint_eq(res.last_id, self);
	unref_all(out, res.n);

	/* someone else: room and others */
	res = store_read(st, &a, 1, 0, CID_B, out, 16);
	ck_assert_uint_eq(res.n, 2);
	ck_assert_uint_eq(out[0]->id, room);
	ck_assert_uint_eq(out[1]->id, others);
	/* the invisible last message still moves the cursor */
	ck_assert_uint_eq(res.last_id, self);
	unref_all(out, res.n);

	/* anonymous readers (NULL or ""): room and others */
	res = store_read(st, &a, 1, 0, NULL, out, 16);
	ck_assert_uint_eq(res.n, 2);
	ck_assert_uint_eq(out[1]->id, others);
	unref_all(out, res.n);
	res = store_read(st, &a, 1, 0, "", out, 16);
	ck_assert_uint_eq(res.n, 2);
	ck_assert_uint_eq(out[1]->id, others);
	unref_all(out, res.n);
}
END_TEST

START_TEST(truncated_read_skipping_hidden_messages_loses_nothing)
{
	struct store_ring *a;
	struct msg *out[4];
	struct store_read_result res;
	uint64_t want[4], since = 0;
	size_t got = 0;
	int k = 0;

	st = store_create(100, FIRST);
	a = store_ring_create(st);
	/* visible to B: room, others; hidden from B: self of A */
	want[k++] = put_to(a, "a", CID_A, MSG_TO_ROOM);
	put_to(a, "a", CID_A, MSG_TO_SELF);
	put_to(a, "a", CID_A, MSG_TO_SELF);
	want[k++] = put_to(a, "a", CID_A, MSG_TO_OTHERS);
	put_to(a, "a", CID_A, MSG_TO_SELF);
	want[k++] = put_to(a, "a", CID_B, MSG_TO_SELF);
	want[k++] = put_to(a, "a", CID_A, MSG_TO_ROOM);
	put_to(a, "a", CID_B, MSG_TO_OTHERS);
	do {
		res = store_read(st, &a, 1, since, CID_B, out, 1);
		ck_assert_uint_le(res.n, 1);
		if (res.n) {
			ck_assert_uint_eq(out[0]->id, want[got++]);
			ck_assert_uint_ge(res.last_id, out[0]->id);
		}
		ck_assert_uint_ge(res.last_id, since);
		unref_all(out, res.n);
		since = res.last_id;
	} while (res.n);
	ck_assert_uint_eq(got, 4);
	ck_assert_uint_eq(since, store_last_id(st));
}
END_TEST

START_TEST(read_messages_outlive_the_store)
{
	struct store_ring *a;
	struct msg *out[4];
	struct store_read_result res;

	st = store_create(2, FIRST);
	a = store_ring_create(st);
	put(a, "a");
	res = store_read(st, &a, 1, 0, NULL, out, 4);
	ck_assert_uint_eq(res.n, 1);
	/* evicted while the reader holds it */
	put(a, "a");
	put(a, "a");
	ck_assert_uint_eq(out[0]->id, FIRST);
	store_destroy(&st);
	ck_assert_int_eq(strncmp(out[0]->json, "{\"id\":1000,", 11), 0);
	ck_assert_uint_eq(atomic_load(&out[0]->refs), 1);
	unref_all(out, res.n);
}
END_TEST

/* Appends a message with a given id (a shared sequence's); returns the
 * store's answer. */
static enum im_err
put_at(struct store_ring *ring, uint64_t id, int64_t ts)
{
	struct msg_parts p = { 0 };
	struct msg *m = NULL;
	enum im_err err;

	p.id = id;
	p.ts = ts;
	p.room = "a";
	p.event = "chat";
	p.from = "alice";
	p.pid = "3f9a1c2e";
	p.via = VIA_API;
	p.data_json = "{\"n\":1}";
	p.data_len = strlen(p.data_json);
	err = store_append_at(st, ring, &p, &m);
	if (err == IM_OK) {
		ck_assert_uint_eq(m->id, id);
		ck_assert_int_eq(m->ts, ts);
	}
	msg_unref(&m);
	return err;
}

START_TEST(append_at_keeps_the_given_id_and_refuses_a_replay)
{
	struct store_read_result r;
	struct store_ring *a, *b;
	struct msg *out[4];

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	b = store_ring_create(st);
	ck_assert_int_eq(put_at(a, FIRST + 10, 77), IM_OK);
	/* the sequence follows the given ids */
	ck_assert_uint_eq(store_last_id(st), FIRST + 10);
	ck_assert_int_eq(put_at(a, FIRST + 10, 77), IM_EINVAL);
	ck_assert_int_eq(put_at(a, FIRST + 5, 77), IM_EINVAL);
	/* another ring may hold a lower id than the store's newest */
	ck_assert_int_eq(put_at(b, FIRST + 7, 78), IM_OK);
	ck_assert_uint_eq(store_last_id(st), FIRST + 10);
	/* at or below the base: not this history's */
	ck_assert_int_eq(put_at(b, FIRST - 1, 78), IM_EINVAL);
	r = store_read(st, (struct store_ring *[]){ a, b }, 2, 0, NULL, out,
		       4);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(out[0]->id, FIRST + 7);
	ck_assert_uint_eq(out[1]->id, FIRST + 10);
	msg_unref(&out[0]);
	msg_unref(&out[1]);
}
END_TEST

START_TEST(a_cursor_within_the_lead_is_kept_not_clamped)
{
	struct store_read_result r;
	struct store_ring *a;
	struct msg *out[4];

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	ck_assert_int_eq(put_at(a, FIRST + 1, 1), IM_OK);
	/* alone: a cursor from the future is the newest id */
	ck_assert_uint_eq(store_clamp(st, FIRST + 5), FIRST + 1);
	store_set_lead(st, 100);
	ck_assert_uint_eq(store_clamp(st, FIRST + 5), FIRST + 5);
	ck_assert_uint_eq(store_clamp(st, FIRST + 500), FIRST + 1);
	r = store_read(st, &a, 1, FIRST + 5, NULL, out, 4);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_uint_eq(r.last_id, FIRST + 5);
	ck_assert_int_eq(r.gap, 0);
	/* what this node applies later: only what lies after the cursor */
	ck_assert_int_eq(put_at(a, FIRST + 4, 1), IM_OK);
	ck_assert_int_eq(put_at(a, FIRST + 6, 1), IM_OK);
	r = store_read(st, &a, 1, FIRST + 5, NULL, out, 4);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(out[0]->id, FIRST + 6);
	ck_assert_uint_eq(r.last_id, FIRST + 6);
	msg_unref(&out[0]);
}
END_TEST

START_TEST(a_raised_base_makes_older_cursors_a_gap)
{
	struct store_read_result r;
	struct store_ring *a;
	struct msg *out[4];

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	ck_assert_int_eq(put_at(a, FIRST + 1, 1), IM_OK);
	r = store_read(st, &a, 1, FIRST, NULL, out, 4);
	ck_assert_int_eq(r.gap, 0);
	msg_unref(&out[0]);
	store_raise_base(st, FIRST + 100);
	ck_assert_uint_eq(store_base_id(st), FIRST + 100);
	ck_assert_uint_eq(store_last_id(st), FIRST + 100);
	/* never lowered */
	store_raise_base(st, FIRST + 50);
	ck_assert_uint_eq(store_base_id(st), FIRST + 100);
	/* what is held still comes, after the gap */
	r = store_read(st, &a, 1, FIRST, NULL, out, 4);
	ck_assert_int_eq(r.gap, 1);
	ck_assert_uint_eq(r.n, 1);
	msg_unref(&out[0]);
	ck_assert_int_eq(put_at(a, FIRST + 100, 1), IM_EINVAL);
	ck_assert_int_eq(put_at(a, FIRST + 101, 1), IM_OK);
	r = store_read(st, &a, 1, FIRST + 100, NULL, out, 4);
	ck_assert_int_eq(r.gap, 0);
	ck_assert_uint_eq(r.n, 1);
	msg_unref(&out[0]);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("ids");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, ids_start_at_first_id_and_increase_across_rooms);
	tcase_add_test(tc, clock_seeds_ids_when_first_id_is_zero);
	tcase_add_test(tc, cursor_from_an_earlier_run_is_a_gap);
	tcase_add_test(tc, ring_budget_evicts_its_oldest_with_a_gap);
	tcase_add_test(tc, time_floor_keeps_young_messages_past_history);
	tcase_add_test(tc,
		store_budget_evicts_the_oldest_anywhere_but_never_the_new);
	tcase_add_test(tc, append_fills_message_and_counts);
	tcase_add_test(tc, since_last_points_before_the_newest_n);
	tcase_add_test(tc, append_at_keeps_the_given_id_and_refuses_a_replay);
	tcase_add_test(tc, a_raised_base_makes_older_cursors_a_gap);
	tcase_add_test(tc, a_cursor_within_the_lead_is_kept_not_clamped);
	suite_add_tcase(s, tc);

	tc = tcase_create("cursor");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, read_merges_rooms_in_id_order);
	tcase_add_test(tc, read_takes_duplicate_rings_once);
	tcase_add_test(tc, read_of_nothing_returns_cursor_of_newest);
	tcase_add_test(tc, read_last_id_is_newest_when_all_read);
	tcase_add_test(tc, read_truncated_by_max_resumes_without_loss);
	tcase_add_test(tc, read_cursor_ahead_of_sequence_is_clamped);
	tcase_add_test(tc, read_messages_outlive_the_store);
	suite_add_tcase(s, tc);

	tc = tcase_create("eviction");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, ring_keeps_last_history_messages);
	tcase_add_test(tc, eviction_after_cursor_is_a_gap);
	tcase_add_test(tc, eviction_before_cursor_is_no_gap);
	tcase_add_test(tc, cursor_zero_never_reports_a_gap);
	tcase_add_test(tc, gap_in_one_of_several_rooms_is_reported);
	suite_add_tcase(s, tc);

	tc = tcase_create("targets");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, read_obeys_targets);
	tcase_add_test(tc,
		       truncated_read_skipping_hidden_messages_loses_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
