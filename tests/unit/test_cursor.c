/* SPDX-License-Identifier: MIT */
/*
 * test_cursor: the reader's position over the store, with no network.
 * A since ahead of the sequence is clamped at init; reads merge rings in
 * id order and stop at a message count or a byte budget without losing
 * anything; a gap is reported once per position, alone, then the
 * messages follow; pending counts without taking references; a ring added
 * with an older since rewinds the position while the rings joined before
 * skip what they had; a ring added with a newer since skips up to it;
 * removed rings are no longer read; hidden messages are passed over.
 */
#include "autoconf.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "trun.h"
#include "cursor.h"

#define FIRST 1000
#define CID_A "cid-alice-0001"

static struct store *st;
static struct cursor cur;

static void
teardown(void)
{
	cursor_free(&cur);
	store_destroy(&st);
}

/* Appends a message whose data is a JSON string of len (>= 2) bytes, or
 * 1 when len is 0, to ring; returns its id. */
static uint64_t
put_sized(struct store_ring *ring, const char *room, const char *cid,
	  enum msg_target to, size_t len)
{
	struct msg_parts p = { 0 };
	struct msg *m = NULL;
	char data[128];
	uint64_t id;

	ck_assert_uint_lt(len, sizeof(data));
	memset(data, 'x', len);
	if (len >= 2)
		data[0] = data[len - 1] = '"';
	p.room = room;
	p.event = "chat";
	p.from = "alice";
	p.pid = "3f9a1c2e";
	p.cid = cid;
	p.via = VIA_API;
	p.to = to;
	p.data_json = len ? data : "1";
	p.data_len = len ? len : 1;
	ck_assert_int_eq(store_append(st, ring, &p, &m), IM_OK);
	id = m->id;
	msg_unref(&m);
	return id;
}

static uint64_t
put(struct store_ring *ring, const char *room)
{
	return put_sized(ring, room, NULL, MSG_TO_ROOM, 0);
}

static void
unref_all(struct msg **out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		msg_unref(&out[i]);
}

START_TEST(init_clamps_a_since_ahead_of_the_sequence)
{
	struct store_ring *a;
	struct cursor_batch b;
	struct msg *out[4];
	uint64_t id;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	put(a, "a");
	cursor_init(&cur, st, NULL, FIRST + 500);
	ck_assert_uint_eq(cursor_pos(&cur), FIRST);
	ck_assert_int_eq(cursor_add_rings(&cur, &a, 1), IM_OK);
	ck_assert_uint_eq(cursor_pending(&cur, 4), 0);
	id = put(a, "a");
	ck_assert_uint_eq(cursor_pending(&cur, 4), 1);
	b = cursor_read(&cur, out, 4, SIZE_MAX);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_int_eq(b.gap, 0);
	ck_assert_int_eq(b.more, 0);
	ck_assert_uint_eq(out[0]->id, id);
	ck_assert_uint_eq(cursor_pos(&cur), id);
	unref_all(out, b.n);
}
END_TEST

START_TEST(read_merges_rings_in_id_order_and_advances)
{
	struct store_ring *r[2];
	struct cursor_batch b;
	struct msg *out[8];
	uint64_t ids[4];

	st = store_create(10, FIRST);
	r[0] = store_ring_create(st);
	r[1] = store_ring_create(st);
	cursor_init(&cur, st, NULL, 0);
	ck_assert_int_eq(cursor_add_rings(&cur, r, 2), IM_OK);
	ids[0] = put(r[0], "a");
	ids[1] = put(r[1], "b");
	ids[2] = put(r[1], "b");
	ids[3] = put(r[0], "a");
	b = cursor_read(&cur, out, 8, SIZE_MAX);
	ck_assert_uint_eq(b.n, 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert_uint_eq(out[i]->id, ids[i]);
	unref_all(out, b.n);
	ck_assert_uint_eq(cursor_pos(&cur), ids[3]);
	b = cursor_read(&cur, out, 8, SIZE_MAX);
	ck_assert_uint_eq(b.n, 0);
	ck_assert_int_eq(b.more, 0);
}
END_TEST

START_TEST(message_bound_sets_more_and_loses_nothing)
{
	struct store_ring *a;
	struct cursor_batch b;
	struct msg *out[3];
	uint64_t first, next;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	cursor_init(&cur, st, NULL, 0);
	ck_assert_int_eq(cursor_add_ring(&cur, a, 0), IM_OK);
	first = put(a, "a");
	for (int i = 0; i < 4; i++)
		put(a, "a");
	b = cursor_read(&cur, out, 3, SIZE_MAX);
	ck_assert_uint_eq(b.n, 3);
	ck_assert_int_eq(b.more, 1);
	ck_assert_uint_eq(out[0]->id, first);
	next = out[2]->id + 1;
	unref_all(out, b.n);
	b = cursor_read(&cur, out, 3, SIZE_MAX);
	ck_assert_uint_eq(b.n, 2);
	ck_assert_int_eq(b.more, 0);
	ck_assert_uint_eq(out[0]->id, next);
	unref_all(out, b.n);
}
END_TEST

START_TEST(byte_bound_takes_the_first_and_stops_before_overflow)
{
	struct store_ring *a;
	struct cursor_batch b;
	struct msg *out[8];
	uint64_t big, s1;
	size_t cost;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	cursor_init(&cur, st, NULL, 0);
	ck_assert_int_eq(cursor_add_ring(&cur, a, 0), IM_OK);
	big = put_sized(a, "a", NULL, MSG_TO_ROOM, 80);
	s1 = put(a, "a");
	put(a, "a");
	put(a, "a");
	/* a budget smaller than the first message: it goes alone */
	b = cursor_read(&cur, out, 8, 10);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_int_eq(b.more, 1);
	ck_assert_uint_eq(out[0]->id, big);
	ck_assert_uint_eq(cursor_pos(&cur), big);
	unref_all(out, b.n);
	b = cursor_read(&cur, out, 8, 1);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_uint_eq(out[0]->id, s1);
	cost = out[0]->json_len + 1;
	unref_all(out, b.n);
	/* two messages of that size fit a budget of exactly two */
	b = cursor_read(&cur, out, 8, 2 * cost);
	ck_assert_uint_eq(b.n, 2);
	ck_assert_uint_eq(out[0]->id, s1 + 1);
	ck_assert_int_eq(b.more, 0);
	unref_all(out, b.n);
}
END_TEST

START_TEST(gap_is_reported_once_alone_then_messages_follow)
{
	struct store_ring *a;
	struct cursor_batch b;
	struct msg *out[8];
	uint64_t first;

	st = store_create(4, FIRST);
	a = store_ring_create(st);
	first = put(a, "a");
	cursor_init(&cur, st, NULL, first);
	ck_assert_int_eq(cursor_add_rings(&cur, &a, 1), IM_OK);
	for (int i = 0; i < 6; i++)
		put(a, "a");		/* evicts first + 1, first + 2 */
	ck_assert_uint_eq(cursor_pending(&cur, 5), 5);
	b = cursor_read(&cur, out, 8, SIZE_MAX);
	ck_assert_uint_eq(b.n, 0);
	ck_assert_int_eq(b.gap, 1);
	ck_assert_int_eq(b.more, 1);
	ck_assert_uint_eq(cursor_pos(&cur), first);
	/* told: now the four kept messages, no second gap */
	ck_assert_uint_eq(cursor_pending(&cur, 8), 4);
	b = cursor_read(&cur, out, 8, SIZE_MAX);
	ck_assert_uint_eq(b.n, 4);
	ck_assert_int_eq(b.gap, 0);
	ck_assert_uint_eq(out[0]->id, first + 3);
	unref_all(out, b.n);
}
END_TEST

START_TEST(pending_counts_without_advancing_or_referencing)
{
	struct store_ring *a;
	struct msg *out[1];
	struct cursor_batch b;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	cursor_init(&cur, st, NULL, 0);
	ck_assert_int_eq(cursor_add_ring(&cur, a, 0), IM_OK);
	for (int i = 0; i < 5; i++)
		put(a, "a");
	ck_assert_uint_eq(cursor_pending(&cur, 3), 3);
	ck_assert_uint_eq(cursor_pending(&cur, 16), 5);
	ck_assert_uint_eq(cursor_pos(&cur), 0);
	b = cursor_read(&cur, out, 1, SIZE_MAX);
	ck_assert_uint_eq(b.n, 1);
	/* the ring's slot and ours: pending took none */
	ck_assert_int_eq(atomic_load(&out[0]->refs), 2);
	unref_all(out, b.n);
	ck_assert_uint_eq(cursor_pending(&cur, 16), 4);
}
END_TEST

START_TEST(older_since_rewinds_and_joined_rings_skip_what_they_had)
{
	struct store_ring *a, *r2;
	struct cursor_batch b;
	struct msg *out[16];
	uint64_t b1, b2, a3;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	r2 = store_ring_create(st);
	put(a, "a");
	b1 = put(r2, "b");
	put(a, "a");
	b2 = put(r2, "b");
	cursor_init(&cur, st, NULL, 0);
	ck_assert_int_eq(cursor_add_ring(&cur, a, store_last_id(st)),
			 IM_OK);
	ck_assert_uint_eq(cursor_pos(&cur), b2);
	/* join b from before b1: b1, b2 arrive; a's old ones do not */
	ck_assert_int_eq(cursor_add_ring(&cur, r2, b1 - 1), IM_OK);
	ck_assert_uint_eq(cursor_pos(&cur), b1 - 1);
	a3 = put(a, "a");
	b = cursor_read(&cur, out, 16, SIZE_MAX);
	ck_assert_uint_eq(b.n, 3);
	ck_assert_uint_eq(out[0]->id, b1);
	ck_assert_uint_eq(out[1]->id, b2);
	ck_assert_uint_eq(out[2]->id, a3);
	unref_all(out, b.n);
	ck_assert_uint_eq(cursor_pos(&cur), a3);
}
END_TEST

START_TEST(newer_since_makes_the_new_ring_skip_up_to_it)
{
	struct store_ring *a, *r2;
	struct cursor_batch b;
	struct msg *out[16];
	uint64_t a1, b2, b3;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	r2 = store_ring_create(st);
	cursor_init(&cur, st, NULL, 0);
	ck_assert_int_eq(cursor_add_ring(&cur, a, 0), IM_OK);
	a1 = put(a, "a");
	put(r2, "b");
	b2 = put(r2, "b");
	ck_assert_int_eq(cursor_add_ring(&cur, r2, b2 - 1), IM_OK);
	ck_assert_uint_eq(cursor_pos(&cur), 0);
	b3 = put(r2, "b");
	b = cursor_read(&cur, out, 16, SIZE_MAX);
	ck_assert_uint_eq(b.n, 3);
	ck_assert_uint_eq(out[0]->id, a1);
	ck_assert_uint_eq(out[1]->id, b2);
	ck_assert_uint_eq(out[2]->id, b3);
	unref_all(out, b.n);
}
END_TEST

START_TEST(removed_ring_is_not_read_and_first_ring_resets)
{
	struct store_ring *a, *r2;
	struct cursor_batch b;
	struct msg *out[4];
	uint64_t b1;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	r2 = store_ring_create(st);
	cursor_init(&cur, st, NULL, 0);
	ck_assert_int_eq(cursor_add_ring(&cur, a, 0), IM_OK);
	ck_assert_int_eq(cursor_add_ring(&cur, r2, 0), IM_OK);
	cursor_del_ring(&cur, a);
	cursor_del_ring(&cur, a);	/* absent: no-op */
	put(a, "a");
	b1 = put(r2, "b");
	b = cursor_read(&cur, out, 4, SIZE_MAX);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_uint_eq(out[0]->id, b1);
	unref_all(out, b.n);
	cursor_del_ring(&cur, r2);
	b = cursor_read(&cur, out, 4, SIZE_MAX);
	ck_assert_uint_eq(b.n, 0);
	ck_assert_uint_eq(cursor_pending(&cur, 4), 0);
	/* with no ring left, the next ring sets the position */
	ck_assert_int_eq(cursor_add_ring(&cur, a, FIRST - 1), IM_OK);
	ck_assert_uint_eq(cursor_pos(&cur), FIRST - 1);
	b = cursor_read(&cur, out, 4, SIZE_MAX);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_uint_eq(out[0]->id, FIRST);
	unref_all(out, b.n);
}
END_TEST

START_TEST(hidden_messages_are_passed_over)
{
	struct store_ring *a;
	struct cursor_batch b;
	struct msg *out[4];
	uint64_t hidden, seen;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	cursor_init(&cur, st, CID_A, 0);
	ck_assert_int_eq(cursor_add_ring(&cur, a, 0), IM_OK);
	put_sized(a, "a", CID_A, MSG_TO_OTHERS, 0);
	hidden = put_sized(a, "a", "cid-bob-000002", MSG_TO_SELF, 0);
	ck_assert_uint_eq(cursor_pending(&cur, 4), 0);
	b = cursor_read(&cur, out, 4, SIZE_MAX);
	ck_assert_uint_eq(b.n, 0);
	ck_assert_uint_eq(cursor_pos(&cur), hidden);
	seen = put_sized(a, "a", CID_A, MSG_TO_SELF, 0);
	b = cursor_read(&cur, out, 4, SIZE_MAX);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_uint_eq(out[0]->id, seen);
	unref_all(out, b.n);
}
END_TEST

START_TEST(seek_gives_back_what_was_not_used)
{
	struct store_ring *a;
	struct cursor_batch b;
	struct msg *out[4];
	uint64_t id1;

	st = store_create(10, FIRST);
	a = store_ring_create(st);
	cursor_init(&cur, st, NULL, 0);
	ck_assert_int_eq(cursor_add_ring(&cur, a, 0), IM_OK);
	id1 = put(a, "a");
	put(a, "a");
	b = cursor_read(&cur, out, 4, SIZE_MAX);
	ck_assert_uint_eq(b.n, 2);
	unref_all(out, b.n);
	cursor_seek(&cur, id1);
	b = cursor_read(&cur, out, 4, SIZE_MAX);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_uint_eq(out[0]->id, id1 + 1);
	unref_all(out, b.n);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("cursor");
	TCase *tc = tcase_create("cursor");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, init_clamps_a_since_ahead_of_the_sequence);
	tcase_add_test(tc, read_merges_rings_in_id_order_and_advances);
	tcase_add_test(tc, message_bound_sets_more_and_loses_nothing);
	tcase_add_test(tc,
		byte_bound_takes_the_first_and_stops_before_overflow);
	tcase_add_test(tc, gap_is_reported_once_alone_then_messages_follow);
	tcase_add_test(tc, pending_counts_without_advancing_or_referencing);
	tcase_add_test(tc,
		older_since_rewinds_and_joined_rings_skip_what_they_had);
	tcase_add_test(tc, newer_since_makes_the_new_ring_skip_up_to_it);
	tcase_add_test(tc, removed_ring_is_not_read_and_first_ring_resets);
	tcase_add_test(tc, hidden_messages_are_passed_over);
	tcase_add_test(tc, seek_gives_back_what_was_not_used);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
