/* SPDX-License-Identifier: MIT */
/*
 * test_behaviour: the pub/sub behaviour suite, written once and run
 * against every transport through tests/lib/tdriver.h: order, catch-up after
 * `since`, several rooms on one subscription, room isolation, history
 * overflow reported as a gap, reconnect without loss or duplicates, the
 * `to` targets, and presence join/leave in the stream. Then one
 * cross-transport test: a message published on any transport reaches
 * subscribers on every transport as the same bytes with the same id.
 */
#include "autoconf.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trun.h"
#include "tdriver.h"
#include "testlib.h"

#define WAIT_MS 10000		/* generous: a busy 2-core machine */

static const struct tdriver *const drivers[] = {
	&tdrv_poll, &tdrv_longpoll, &tdrv_sse, &tdrv_ws,
};
#define NDRIVERS ((int)(sizeof(drivers) / sizeof(drivers[0])))

/* The fixture's options: presence and SSE pings every second. */
static void
tune(struct config *cfg)
{
	cfg->history = 1000;
	cfg->presence_ttl = 1;
	cfg->sse_ping = 1;	/* a closed SSE client is noticed in 1 s */
}

static void
start_with(int history)
{
	struct config cfg;

	t_config(&cfg);
	tune(&cfg);
	cfg.history = history;
	t_restart(&cfg);
}

/* A second client on the same transport, used to publish. */
static void
open_client(struct tsub *s, const struct tdriver *d, const char *cid,
	    const char *from, const char *rooms, uint64_t since)
{
	tsub_init(s, d, t_port, cid, from, rooms, since);
	ck_assert_msg(d->open(s) == 0, "%s: open %s failed", d->name, rooms);
}

/* Index of the n-th envelope with event in s, or -1. */
static const struct tenv *
nth(const struct tsub *s, const char *event, size_t n)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->env[i].event, event) && n-- == 0)
			return &s->env[i];
	return NULL;
}

/* Waits (up to WAIT_MS) until s holds want events named event. */
static size_t
wait_for(struct tsub *s, const char *event, size_t want)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (tsub_count(s, event, NULL) < want) {
		s->drv->wait(s, s->n + 1, 50);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 > WAIT_MS)
			break;
	}
	return tsub_count(s, event, NULL);
}

static uint64_t
now_id(void)
{
	return store_last_id(t_srv->st);
}

START_TEST(messages_arrive_in_id_order)
{
	const struct tdriver *d = drivers[_i];
	struct tsub sub, pub;
	uint64_t ids[20];

	open_client(&sub, d, "subscriber1", "sub", "lobby", now_id());
	open_client(&pub, d, "publisher1", "pub", "lobby", now_id());
	for (int i = 0; i < 20; i++) {
		char data[32];

		snprintf(data, sizeof(data), "{\"n\":%d}", i);
		ids[i] = d->publish(&pub, "lobby", "chat", data, NULL);
		ck_assert_uint_ne(ids[i], 0);
		if (i)
			ck_assert_uint_gt(ids[i], ids[i - 1]);
	}
	ck_assert_uint_eq(wait_for(&sub, "chat", 20), 20);
	for (size_t i = 0; i < 20; i++)
		ck_assert_uint_eq(nth(&sub, "chat", i)->id, ids[i]);
	for (size_t i = 1; i < sub.n; i++)
		ck_assert_uint_gt(sub.env[i].id, sub.env[i - 1].id);
	d->close(&sub);
	d->close(&pub);
	tsub_free(&sub);
	tsub_free(&pub);
}
END_TEST

START_TEST(catch_up_after_since)
{
	const struct tdriver *d = drivers[_i];
	struct tsub sub, pub;
	uint64_t ids[5];

	open_client(&pub, d, "publisher1", "pub", "lobby", now_id());
	for (int i = 0; i < 5; i++)
		ids[i] = d->publish(&pub, "lobby", "chat", "\"x\"", NULL);
	/* a late subscriber asks for everything after the second */
	open_client(&sub, d, "subscriber1", "sub", "lobby", ids[1]);
	ck_assert_uint_ge(wait_for(&sub, "chat", 3), 3);
	ck_assert_uint_eq(tsub_count(&sub, "chat", NULL), 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_uint_eq(nth(&sub, "chat", i)->id, ids[i + 2]);
	d->close(&sub);
	d->close(&pub);
	tsub_free(&sub);
	tsub_free(&pub);
}
END_TEST

START_TEST(several_rooms_on_one_subscription)
{
	const struct tdriver *d = drivers[_i];
	struct tsub sub, pub;
	uint64_t a, b, c, a2;

	open_client(&sub, d, "subscriber1", "sub", "ra,rb", now_id());
	open_client(&pub, d, "publisher1", "pub", "rc", now_id());
	a = d->publish(&pub, "ra", "chat", "1", NULL);
	b = d->publish(&pub, "rb", "chat", "2", NULL);
	c = d->publish(&pub, "rc", "chat", "3", NULL);
	a2 = d->publish(&pub, "ra", "chat", "4", NULL);
	ck_assert_uint_eq(wait_for(&sub, "chat", 3), 3);
	d->wait(&sub, sub.n + 1, 300);	/* anything extra would show */
	ck_assert_uint_eq(tsub_count(&sub, "chat", NULL), 3);
	ck_assert_uint_eq(nth(&sub, "chat", 0)->id, a);
	ck_assert_uint_eq(nth(&sub, "chat", 1)->id, b);
	ck_assert_uint_eq(nth(&sub, "chat", 2)->id, a2);
	ck_assert_uint_eq(tsub_count(&sub, NULL, "rc"), 0);
	(void)c;
	d->close(&sub);
	d->close(&pub);
	tsub_free(&sub);
	tsub_free(&pub);
}
END_TEST

START_TEST(rooms_are_isolated)
{
	const struct tdriver *d = drivers[_i];
	struct tsub sub, pub;
	uint64_t mark;

	open_client(&sub, d, "subscriber1", "sub", "quiet", now_id());
	open_client(&pub, d, "publisher1", "pub", "loud", now_id());
	for (int i = 0; i < 5; i++)
		d->publish(&pub, "loud", "chat", "\"noise\"", NULL);
	mark = d->publish(&pub, "quiet", "chat", "\"mark\"", NULL);
	ck_assert_uint_eq(wait_for(&sub, "chat", 1), 1);
	ck_assert_uint_eq(nth(&sub, "chat", 0)->id, mark);
	ck_assert_uint_eq(tsub_count(&sub, NULL, "loud"), 0);
	d->close(&sub);
	d->close(&pub);
	tsub_free(&sub);
	tsub_free(&pub);
}
END_TEST

START_TEST(history_overflow_is_a_gap)
{
	const struct tdriver *d = drivers[_i];
	struct tsub sub, pub;
	uint64_t first, last = 0;

	start_with(5);
	open_client(&pub, d, "publisher1", "pub", "small", now_id());
	first = d->publish(&pub, "small", "chat", "0", NULL);
	for (int i = 1; i <= 10; i++)
		last = d->publish(&pub, "small", "chat", "1", NULL);
	/* the room keeps the last 5 (the subscriber's own join takes one);
	 * a cursor at `first` has lost some */
	open_client(&sub, d, "subscriber1", "sub", "small", first);
	wait_for(&sub, "chat", 4);
	ck_assert_int_ge(sub.gaps, 1);
	ck_assert_uint_ge(sub.n, 1);
	ck_assert_uint_eq(sub.env[sub.n - 1].id >= last ? 1 : 0, 1);
	ck_assert_uint_gt(sub.env[0].id, first + 1);
	d->close(&sub);
	d->close(&pub);
	tsub_free(&sub);
	tsub_free(&pub);
}
END_TEST

START_TEST(reconnect_with_last_id_loses_and_duplicates_nothing)
{
	const struct tdriver *d = drivers[_i];
	struct tsub s1, s2, pub;
	uint64_t ids[12];
	size_t k = 0;

	open_client(&pub, d, "publisher1", "pub", "lobby", now_id());
	open_client(&s1, d, "subscriber1", "sub", "lobby", now_id());
	for (int i = 0; i < 6; i++)
		ids[i] = d->publish(&pub, "lobby", "chat", "\"a\"", NULL);
	ck_assert_uint_eq(wait_for(&s1, "chat", 6), 6);
	d->close(&s1);
	for (int i = 6; i < 12; i++)
		ids[i] = d->publish(&pub, "lobby", "chat", "\"b\"", NULL);
	open_client(&s2, d, "subscriber1", "sub", "lobby", s1.cursor);
	ck_assert_uint_eq(wait_for(&s2, "chat", 6), 6);
	d->wait(&s2, s2.n + 1, 300);
	for (size_t i = 0; i < s1.n; i++)
		if (!strcmp(s1.env[i].event, "chat"))
			ck_assert_uint_eq(s1.env[i].id, ids[k++]);
	for (size_t i = 0; i < s2.n; i++)
		if (!strcmp(s2.env[i].event, "chat"))
			ck_assert_uint_eq(s2.env[i].id, ids[k++]);
	ck_assert_uint_eq(k, 12);
	d->close(&s2);
	d->close(&pub);
	tsub_free(&s1);
	tsub_free(&s2);
	tsub_free(&pub);
}
END_TEST

START_TEST(targets_others_and_self_honoured)
{
	const struct tdriver *d = drivers[_i];
	struct tsub alice, bob;
	uint64_t o, s, r;

	open_client(&alice, d, "alice-cid-1", "alice", "lobby", now_id());
	open_client(&bob, d, "bob-cid-22", "bob", "lobby", now_id());
	o = d->publish(&alice, "lobby", "chat", "\"to others\"", "others");
	s = d->publish(&alice, "lobby", "chat", "\"to self\"", "self");
	r = d->publish(&alice, "lobby", "chat", "\"to room\"", "room");
	ck_assert(o && s && r);
	ck_assert_uint_eq(wait_for(&alice, "chat", 2), 2);
	ck_assert_uint_eq(wait_for(&bob, "chat", 2), 2);
	d->wait(&alice, alice.n + 1, 300);
	d->wait(&bob, bob.n + 1, 300);
	ck_assert_uint_eq(tsub_count(&alice, "chat", NULL), 2);
	ck_assert_uint_eq(nth(&alice, "chat", 0)->id, s);
	ck_assert_uint_eq(nth(&alice, "chat", 1)->id, r);
	ck_assert_uint_eq(tsub_count(&bob, "chat", NULL), 2);
	ck_assert_uint_eq(nth(&bob, "chat", 0)->id, o);
	ck_assert_uint_eq(nth(&bob, "chat", 1)->id, r);
	d->close(&alice);
	d->close(&bob);
	tsub_free(&alice);
	tsub_free(&bob);
}
END_TEST

START_TEST(presence_join_and_leave_in_the_stream)
{
	const struct tdriver *d = drivers[_i];
	struct tsub watch, guest;
	const struct tenv *j, *l;

	open_client(&watch, d, "watcher-01", "watcher", "hall", now_id());
	open_client(&guest, d, "guest-cid-9", "guest", "hall", now_id());
	ck_assert_uint_ge(wait_for(&watch, "join", 2), 2);
	j = nth(&watch, "join", 1);
	ck_assert_str_eq(j->from, "guest");
	ck_assert_str_eq(j->via, d->name);
	d->close(&guest);
	/* streams leave at once; pollers after presence_ttl (1 s) */
	ck_assert_uint_ge(wait_for(&watch, "leave", 1), 1);
	l = nth(&watch, "leave", 0);
	ck_assert_str_eq(l->pid, j->pid);
	ck_assert_uint_gt(l->id, j->id);
	d->close(&watch);
	tsub_free(&watch);
	tsub_free(&guest);
}
END_TEST

START_TEST(every_transport_gets_the_same_bytes)
{
	struct tsub subs[NDRIVERS];
	uint64_t ids[NDRIVERS];
	char cid[32];

	for (int i = 0; i < NDRIVERS; i++) {
		snprintf(cid, sizeof(cid), "cross-%s-1", drivers[i]->name);
		open_client(&subs[i], drivers[i], cid, drivers[i]->name,
			    "cross", now_id());
	}
	/* each transport publishes once; everyone receives all of them */
	for (int i = 0; i < NDRIVERS; i++) {
		ids[i] = drivers[i]->publish(&subs[i], "cross", "chat",
				"{\"text\":\"h\\u00e9 \\\"q\\\"\"}", NULL);
		ck_assert_uint_ne(ids[i], 0);
	}
	for (int i = 0; i < NDRIVERS; i++)
		ck_assert_uint_eq(wait_for(&subs[i], "chat", NDRIVERS),
				  NDRIVERS);
	for (int k = 0; k < NDRIVERS; k++) {
		const struct tenv *ref = nth(&subs[0], "chat", (size_t)k);

		ck_assert_uint_eq(ref->id, ids[k]);
		ck_assert_str_eq(ref->via, drivers[k]->name);
		for (int i = 1; i < NDRIVERS; i++) {
			const struct tenv *e = nth(&subs[i], "chat",
						   (size_t)k);

			ck_assert_uint_eq(e->id, ref->id);
			ck_assert_str_eq(e->json, ref->json);
		}
	}
	for (int i = 0; i < NDRIVERS; i++) {
		drivers[i]->close(&subs[i]);
		tsub_free(&subs[i]);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("behaviour");
	TCase *tc = tcase_create("per-transport");
	TCase *x = tcase_create("cross-transport");

	/* _i indexes drivers[]: poll, longpoll, sse, ws */
	t_fixture(tc, tune);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, messages_arrive_in_id_order, 0, NDRIVERS);
	tcase_add_loop_test(tc, catch_up_after_since, 0, NDRIVERS);
	tcase_add_loop_test(tc, several_rooms_on_one_subscription, 0,
			    NDRIVERS);
	tcase_add_loop_test(tc, rooms_are_isolated, 0, NDRIVERS);
	tcase_add_loop_test(tc, history_overflow_is_a_gap, 0, NDRIVERS);
	tcase_add_loop_test(tc,
		reconnect_with_last_id_loses_and_duplicates_nothing, 0,
		NDRIVERS);
	tcase_add_loop_test(tc, targets_others_and_self_honoured, 0,
			    NDRIVERS);
	tcase_add_loop_test(tc, presence_join_and_leave_in_the_stream, 0,
			    NDRIVERS);
	suite_add_tcase(s, tc);
	t_fixture(x, tune);
	tcase_set_timeout(x, 120);
	tcase_add_test(x, every_transport_gets_the_same_bytes);
	suite_add_tcase(s, x);
	return s;
}

int
main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = trun(suite());
	curl_global_cleanup();
	return rc;
}
