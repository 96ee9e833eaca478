/* SPDX-License-Identifier: MIT */
/*
 * test_hmap: the string hash map under the room registry and the member
 * tables: put/get/del of many keys, growth, iteration visiting every value
 * once, and backward-shift deletion: after any sequence of deletions every
 * remaining key is still found, including runs of colliding keys that wrap
 * around the end of the table (checked against a reference and against
 * the probing invariant: no empty slot between a key's home and its slot).
 */
#include "autoconf.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trun.h"
#include "hmap.h"

/* A value that holds its own key, as the map requires. */
struct item {
	char key[24];
	int present;
};

static struct item *
items_new(size_t n, const char *prefix)
{
	struct item *it = calloc(n, sizeof(*it));

	ck_assert_ptr_nonnull(it);
	for (size_t i = 0; i < n; i++)
		snprintf(it[i].key, sizeof(it[i].key), "%s%zu", prefix, i);
	return it;
}

/* Every key sits after its home slot with no empty slot in between, and
 * len counts the keys. */
static void
check_invariant(const struct hmap *h)
{
	size_t used = 0;

	for (size_t i = 0; i < h->cap; i++) {
		const struct hmap_slot *s = &h->slots[i];
		size_t j;

		if (!s->key)
			continue;
		used++;
		if (s->hash != hmap_hash(s->key))
			ck_abort_msg("%s: stale hash", s->key);
		for (j = s->hash & (h->cap - 1); j != i;
		     j = (j + 1) & (h->cap - 1))
			if (!h->slots[j].key)
				ck_abort_msg("hole at %zu before %s (home %zu, "
					     "slot %zu)", j, s->key,
					     (size_t)(s->hash & (h->cap - 1)),
					     i);
		if (hmap_get(h, s->key) != s->val)
			ck_abort_msg("%s: not found at slot %zu", s->key, i);
	}
	ck_assert_uint_eq(used, h->len);
	if (h->cap)
		ck_assert_uint_lt(h->len, h->cap);
}

/* Checks h against the reference: present items found, others not. */
static void
check_all(const struct hmap *h, struct item *it, size_t n)
{
	size_t len = 0;

	/* no ck_assert per key: each one costs a message to the runner */
	for (size_t i = 0; i < n; i++) {
		if (hmap_get(h, it[i].key) != (it[i].present ? &it[i] : NULL))
			ck_abort_msg("%s: wrong lookup (present %d)",
				     it[i].key, it[i].present);
		len += (size_t)it[i].present;
	}
	ck_assert_uint_eq(h->len, len);
	check_invariant(h);
}

START_TEST(empty_map_finds_nothing)
{
	struct hmap h = { 0 };
	size_t pos = 0;

	ck_assert_ptr_null(hmap_get(&h, "a"));
	ck_assert_ptr_null(hmap_del(&h, "a"));
	ck_assert_ptr_null(hmap_next(&h, &pos));
	hmap_clear(&h);
	ck_assert_uint_eq(h.len, 0);
}
END_TEST

START_TEST(put_get_del_many_keys)
{
	enum { N = 5000 };
	struct item *it = items_new(N, "key-");
	struct hmap h = { 0 };

	for (size_t i = 0; i < N; i++) {
		ck_assert_int_eq(hmap_put(&h, it[i].key, &it[i]), 0);
		it[i].present = 1;
	}
	ck_assert_uint_eq(h.len, N);
	ck_assert_uint_eq(h.cap & (h.cap - 1), 0);	/* power of two */
	check_all(&h, it, N);
	ck_assert_ptr_null(hmap_get(&h, "key-"));
	ck_assert_ptr_null(hmap_get(&h, "key-5000"));
	/* delete every other, then the rest */
	for (size_t i = 0; i < N; i += 2) {
		ck_assert_ptr_eq(hmap_del(&h, it[i].key), &it[i]);
		it[i].present = 0;
		ck_assert_ptr_null(hmap_del(&h, it[i].key));
	}
	check_all(&h, it, N);
	for (size_t i = 1; i < N; i += 2) {
		ck_assert_ptr_eq(hmap_del(&h, it[i].key), &it[i]);
		it[i].present = 0;
	}
	check_all(&h, it, N);
	ck_assert_uint_eq(h.len, 0);
	/* reusable after emptying and after clearing */
	ck_assert_int_eq(hmap_put(&h, it[7].key, &it[7]), 0);
	ck_assert_ptr_eq(hmap_get(&h, "key-7"), &it[7]);
	hmap_clear(&h);
	ck_assert_ptr_null(h.slots);
	ck_assert_uint_eq(h.cap, 0);
	ck_assert_ptr_null(hmap_get(&h, "key-7"));
	ck_assert_int_eq(hmap_put(&h, it[7].key, &it[7]), 0);
	ck_assert_ptr_eq(hmap_get(&h, "key-7"), &it[7]);
	hmap_clear(&h);
	free(it);
}
END_TEST

START_TEST(lookup_compares_whole_keys)
{
	struct hmap h = { 0 };
	struct item a = { "ab", 0 }, b = { "abc", 0 }, e = { "", 0 };

	ck_assert_int_eq(hmap_put(&h, a.key, &a), 0);
	ck_assert_int_eq(hmap_put(&h, b.key, &b), 0);
	ck_assert_int_eq(hmap_put(&h, e.key, &e), 0);
	ck_assert_ptr_eq(hmap_get(&h, "ab"), &a);
	ck_assert_ptr_eq(hmap_get(&h, "abc"), &b);
	ck_assert_ptr_eq(hmap_get(&h, ""), &e);
	ck_assert_ptr_null(hmap_get(&h, "a"));
	ck_assert_ptr_null(hmap_get(&h, "abcd"));
	/* found by content, not by pointer */
	ck_assert_ptr_eq(hmap_get(&h, (char[]){ 'a', 'b', 0 }), &a);
	hmap_clear(&h);
}
END_TEST

START_TEST(iteration_visits_every_value_once)
{
	enum { N = 300 };
	struct item *it = items_new(N, "it");
	struct hmap h = { 0 };
	struct item *v;
	size_t pos = 0, seen = 0;

	for (size_t i = 0; i < N; i++)
		ck_assert_int_eq(hmap_put(&h, it[i].key, &it[i]), 0);
	while ((v = hmap_next(&h, &pos))) {
		ck_assert_int_eq(v->present, 0);
		v->present = 1;
		seen++;
	}
	ck_assert_uint_eq(seen, N);
	ck_assert_ptr_null(hmap_next(&h, &pos));
	hmap_clear(&h);
	free(it);
}
END_TEST

/* Finds n keys "c<k>" whose home slot in a table of cap slots is home. */
static struct item *
colliding(size_t n, size_t cap, size_t home)
{
	struct item *it = calloc(n, sizeof(*it));
	size_t found = 0;

	ck_assert_ptr_nonnull(it);
	for (unsigned k = 0; found < n; k++) {
		char key[24];

		snprintf(key, sizeof(key), "c%u", k);
		if ((hmap_hash(key) & (cap - 1)) == home)
			memcpy(it[found++].key, key, sizeof(key));
	}
	return it;
}

START_TEST(deleting_from_a_wrapped_run_keeps_every_key)
{
	/* a table of 8 holds up to 6 keys; runs homed at 6 and 7 wrap
	 * around to slots 0, 1, 2; every deletion order is tried */
	struct item *a = colliding(3, 8, 6), *b = colliding(3, 8, 7);
	struct item *all[6] = { &a[0], &a[1], &a[2], &b[0], &b[1], &b[2] };
	int order[6];

	for (int perm = 0; perm < 720; perm++) {
		struct hmap h = { 0 };
		int used[6] = { 0 }, p = perm;

		/* the perm-th permutation of 0..5 */
		for (int i = 0; i < 6; i++) {
			int k = p % (6 - i), j;

			p /= 6 - i;
			for (j = 0; used[j] || k--; j++)
				;
			used[j] = 1;
			order[i] = j;
		}
		for (int i = 0; i < 6; i++) {
			/* interleave the two runs */
			struct item *x = all[i % 2 ? 3 + i / 2 : i / 2];

			ck_assert_int_eq(hmap_put(&h, x->key, x), 0);
			x->present = 1;
		}
		ck_assert_uint_eq(h.cap, 8);
		check_invariant(&h);
		for (int i = 0; i < 6; i++) {
			struct item *x = all[order[i]];

			ck_assert_ptr_eq(hmap_del(&h, x->key), x);
			x->present = 0;
			for (int k = 0; k < 6; k++)
				if (hmap_get(&h, all[k]->key) !=
				    (all[k]->present ? all[k] : NULL))
					ck_abort_msg("perm %d step %d: %s lost",
						     perm, i, all[k]->key);
			check_invariant(&h);
		}
		ck_assert_uint_eq(h.len, 0);
		hmap_clear(&h);
	}
	free(a);
	free(b);
}
END_TEST

START_TEST(random_puts_and_deletes_match_a_reference)
{
	enum { N = 400, OPS = 40000 };
	struct item *it = items_new(N, "r");
	struct hmap h = { 0 };
	uint64_t x = 0x9e3779b97f4a7c15ULL;	/* fixed seed */

	for (int op = 0; op < OPS; op++) {
		size_t i;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = (size_t)(x % N);
		if (it[i].present) {
			if (hmap_del(&h, it[i].key) != &it[i])
				ck_abort_msg("op %d: del %s", op, it[i].key);
			it[i].present = 0;
		} else {
			if (hmap_put(&h, it[i].key, &it[i]))
				ck_abort_msg("op %d: put %s", op, it[i].key);
			it[i].present = 1;
		}
		if (op % 97 == 0)
			check_all(&h, it, N);
	}
	check_all(&h, it, N);
	hmap_clear(&h);
	free(it);
}
END_TEST

START_TEST(hash_is_stable_and_tells_keys_apart)
{
	ck_assert_uint_eq(hmap_hash("lobby"), hmap_hash("lobby"));
	ck_assert_uint_ne(hmap_hash("lobby"), hmap_hash("lobbz"));
	ck_assert_uint_ne(hmap_hash("ab"), hmap_hash("ba"));
	ck_assert_uint_ne(hmap_hash(""), hmap_hash("a"));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("hmap");
	TCase *tc = tcase_create("map");

	tcase_add_test(tc, empty_map_finds_nothing);
	tcase_add_test(tc, put_get_del_many_keys);
	tcase_add_test(tc, lookup_compares_whole_keys);
	tcase_add_test(tc, iteration_visits_every_value_once);
	tcase_add_test(tc, hash_is_stable_and_tells_keys_apart);
	suite_add_tcase(s, tc);

	tc = tcase_create("deletion");
	tcase_add_test(tc, deleting_from_a_wrapped_run_keeps_every_key);
	tcase_add_test(tc, random_puts_and_deletes_match_a_reference);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
