/* SPDX-License-Identifier: MIT */
/*
 * test_histdb: durable history without the network. A store, its rooms
 * and a histdb on a file in a temporary directory are "restarted" (all
 * three destroyed and built again on the same file): what was published
 * comes back byte for byte, with its ids, targets (a direct message
 * only to its two parties) and order; the ids go
 * on after the highest one, even when the clock seed is behind it; an
 * earlier run's cursor resumes without a gap while the messages are in
 * the file, and is a gap when they are not (--history, retention by
 * count and by age); a full disk refuses publishes with
 * history_write_failed and loses nothing acknowledged, a full queue
 * with history_busy and stores nothing; a damaged file,
 * a foreign SQLite file, a missing directory and a file held by another
 * histdb are refused with bad_history_db. Skipped (77) without SQLite.
 */
#include "autoconf.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "histdb.h"
#include "room.h"
#include "store.h"
#include "trun.h"

#define WAIT_MS 10000

static char dir[64], path[96];
static struct store *st;
static struct rooms *rs;
static struct histdb *db;
static size_t queue_max = 1024;	/* of the next boot() */

/* Builds a store (first_id 0: the clock), its rooms and a histdb on
 * path; returns what histdb_start() returned (NULL with e). */
static struct histdb *
boot(size_t history, uint64_t first_id, size_t keep, int64_t age_ms,
     struct im_error *e)
{
	struct rooms_config rc = { .max_rooms = 100,
				   .presence_ttl_ms = 30000 };
	struct histdb_config hc = {
		.path = path, .history = history, .keep = keep,
		.max_age_ms = age_ms, .queue_max = queue_max, .sync = 0,
	};

	st = store_create(history, first_id);
	ck_assert_ptr_nonnull(st);
	rs = rooms_create(st, &rc);
	ck_assert_ptr_nonnull(rs);
	db = histdb_start(&hc, st, rs, e);
	return db;
}

static void
up(size_t history, uint64_t first_id, size_t keep, int64_t age_ms)
{
	struct im_error e = { 0 };

	ck_assert_msg(boot(history, first_id, keep, age_ms, &e) != NULL,
		      "histdb_start: %s", e.message);
}

static void
down(void)
{
	rooms_destroy(&rs);
	histdb_stop(&db);
	store_destroy(&st);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/imlab-histdb-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/h.db", dir);
}

static void
teardown(void)
{
	char cmd[128];

	down();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Posts data to room as cid (NULL: anonymous) for to; returns the id, or
 * 0 with *err set when refused. */
static uint64_t
post_to(const char *room, const char *cid, enum msg_target to,
	const char *data, enum im_err *err)
{
	struct msg_parts p = { 0 };
	struct im_error e = { 0 };
	struct room *r = rooms_get(rs, room, 1, &e);
	struct msg *m = NULL;
	enum im_err x;
	uint64_t id = 0;

	ck_assert_ptr_nonnull(r);
	p.event = "chat";
	p.from = "al\"ice";
	p.cid = cid;
	p.via = VIA_WS;
	p.to = to;
	p.data_json = data;
	p.data_len = strlen(data);
	x = rooms_post(rs, r, &p, &m);
	if (err)
		*err = x;
	if (x == IM_OK)
		id = m->id;
	msg_unref(&m);
	rooms_release(rs, &r);
	return id;
}

static uint64_t
post(const char *room, const char *data)
{
	uint64_t id = post_to(room, NULL, MSG_TO_ROOM, data, NULL);

	ck_assert_uint_ne(id, 0);
	return id;
}

/* Reads room after since as cid: up to max messages into out. */
static struct store_read_result
read_room(const char *room, uint64_t since, const char *cid,
	  struct msg **out, size_t max)
{
	struct im_error e = { 0 };
	struct room *r = rooms_get(rs, room, 0, &e);
	struct store_ring *ring;
	struct store_read_result res;

	ck_assert_msg(r != NULL, "room %s: %s", room, e.message);
	ring = room_ring(r);
	res = store_read(st, &ring, 1, since, cid, out, max);
	rooms_release(rs, &r);
	return res;
}

static void
unref_all(struct msg **m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		msg_unref(&m[i]);
}

/* Waits until the writer deleted at least want messages by retention. */
static void
wait_deleted(uint64_t want)
{
	struct histdb_stats s;

	for (int i = 0; i < WAIT_MS / 20; i++) {
		histdb_get_stats(db, &s);
		if (s.deleted >= want)
			return;
		usleep(20 * 1000);
	}
	ck_abort_msg("retention deleted %llu, not %llu",
		     (unsigned long long)s.deleted, (unsigned long long)want);
}

START_TEST(messages_come_back_byte_for_byte_after_a_restart)
{
	struct msg *before[4], *after[4];
	struct store_read_result r1, r2;
	uint64_t self;

	up(100, 0, 100, 0);
	post("lobby", "{\"n\":1}");
	post("lobby", "[1, 2,\"x\\u00e9\"]");
	self = post_to("lobby", "cid-alice-0001", MSG_TO_SELF, "\"mine\"",
		       NULL);
	post("other", "null");
	r1 = read_room("lobby", 0, "cid-alice-0001", before, 4);
	ck_assert_uint_eq(r1.n, 3);
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	down();

	up(100, 0, 100, 0);
	r2 = read_room("lobby", 0, "cid-alice-0001", after, 4);
	ck_assert_uint_eq(r2.n, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_uint_eq(after[i]->id, before[i]->id);
		ck_assert_int_eq(after[i]->ts, before[i]->ts);
		ck_assert_uint_eq(after[i]->json_len, before[i]->json_len);
		ck_assert_mem_eq(after[i]->json, before[i]->json,
				 before[i]->json_len);
		ck_assert_uint_eq(after[i]->ws_len, before[i]->ws_len);
		ck_assert_mem_eq(after[i]->ws + MSG_WS_PRE,
				 before[i]->ws + MSG_WS_PRE,
				 before[i]->ws_len);
	}
	unref_all(after, r2.n);
	/* the target survives: an anonymous reader does not see "self" */
	r2 = read_room("lobby", 0, NULL, after, 4);
	ck_assert_uint_eq(r2.n, 2);
	for (size_t i = 0; i < r2.n; i++)
		ck_assert_uint_ne(after[i]->id, self);
	unref_all(after, r2.n);
	unref_all(before, r1.n);
	r2 = read_room("other", 0, NULL, after, 4);
	ck_assert_uint_eq(r2.n, 1);
	ck_assert_ptr_nonnull(memmem(after[0]->json, after[0]->json_len,
				     "\"data\":null,", 12));
	unref_all(after, r2.n);
}
END_TEST

START_TEST(a_direct_message_stays_private_after_a_restart)
{
	struct msg_parts p = { 0 };
	struct im_error e = { 0 };
	struct msg *m = NULL, *got[2];
	struct room *r;
	char json[512];
	size_t len;

	up(100, 0, 100, 0);
	r = rooms_get(rs, "dm", 1, &e);
	ck_assert_ptr_nonnull(r);
	p.room = "dm";
	p.event = "chat";
	p.from = "alice";
	p.pid = "0000000000000000000000000000000a";
	p.cid = "cid-alice-0001";
	p.via = VIA_WS;
	p.to = MSG_TO_PID;
	p.to_pid = "0123456789abcdef0123456789abcdef";
	p.to_cid = "cid-bob-000002";
	p.data_json = "\"psst\"";
	p.data_len = strlen(p.data_json);
	ck_assert_int_eq(store_append(st, room_ring(r), &p, &m), IM_OK);
	rooms_release(rs, &r);
	len = m->json_len;
	ck_assert_uint_lt(len, sizeof(json));
	memcpy(json, m->json, len);
	msg_unref(&m);
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	down();

	up(100, 0, 100, 0);
	ck_assert_uint_eq(read_room("dm", 0, "cid-bob-000002", got, 2).n, 1);
	ck_assert_str_eq(got[0]->to_cid, "cid-bob-000002");
	ck_assert_uint_eq(got[0]->json_len, len);
	ck_assert_mem_eq(got[0]->json, json, len);
	msg_unref(&got[0]);
	ck_assert_uint_eq(read_room("dm", 0, "cid-alice-0001", NULL, 2).n, 1);
	ck_assert_uint_eq(read_room("dm", 0, "cid-carol-0003", NULL, 2).n, 0);
	ck_assert_uint_eq(read_room("dm", 0, NULL, NULL, 2).n, 0);
}
END_TEST

START_TEST(ids_continue_after_the_highest_stored)
{
	uint64_t a, b;

	up(100, 5000, 100, 0);
	post("lobby", "1");
	a = post("lobby", "2");
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	down();
	/* a seed far behind what was handed out: the ids still go on */
	up(100, 10, 100, 0);
	ck_assert_uint_ge(store_last_id(st), a);
	b = post("lobby", "3");
	ck_assert_uint_gt(b, a);
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	down();
	up(100, 0, 100, 0);	/* and the clock seed, far ahead */
	ck_assert_uint_gt(post("lobby", "4"), b);
}
END_TEST

START_TEST(an_earlier_runs_cursor_resumes_without_a_gap)
{
	struct store_read_result r;
	struct msg *m[8];
	uint64_t ids[4];

	up(100, 0, 100, 0);
	for (int i = 0; i < 4; i++)
		ids[i] = post("lobby", "\"x\"");
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	down();
	up(100, 0, 100, 0);
	r = read_room("lobby", ids[1], NULL, m, 8);
	ck_assert_int_eq(r.gap, 0);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(m[0]->id, ids[2]);
	ck_assert_uint_eq(m[1]->id, ids[3]);
	unref_all(m, r.n);
	/* a cursor from before the database existed is a gap */
	r = read_room("lobby", 7, NULL, m, 8);
	ck_assert_int_eq(r.gap, 1);
	unref_all(m, r.n);
	/* and one from a run whose messages never reached the file */
	r = read_room("lobby", ids[3] + 1, NULL, NULL, 8);
	ck_assert_int_eq(r.gap, 1);
}
END_TEST

START_TEST(history_gives_back_the_newest_and_the_rest_is_a_gap)
{
	struct store_read_result r;
	struct msg *m[8];
	uint64_t ids[5];

	up(10, 0, 100, 0);
	for (int i = 0; i < 5; i++)
		ids[i] = post("lobby", "0");
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	down();
	up(3, 0, 100, 0);
	r = read_room("lobby", 0, NULL, m, 8);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(m[0]->id, ids[2]);
	unref_all(m, r.n);
	r = read_room("lobby", ids[0], NULL, NULL, 8);
	ck_assert_int_eq(r.gap, 1);	/* ids[1] stayed in the file */
	r = read_room("lobby", ids[1], NULL, NULL, 8);
	ck_assert_int_eq(r.gap, 0);
	ck_assert_uint_eq(r.n, 3);
}
END_TEST

START_TEST(retention_by_count_keeps_the_newest)
{
	struct store_read_result r;
	uint64_t ids[6];

	up(100, 0, 2, 0);
	for (int i = 0; i < 6; i++)
		ids[i] = post("lobby", "0");
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	wait_deleted(4);
	down();
	up(100, 0, 2, 0);
	r = read_room("lobby", 0, NULL, NULL, 8);
	ck_assert_uint_eq(r.n, 2);
	r = read_room("lobby", ids[2], NULL, NULL, 8);
	ck_assert_int_eq(r.gap, 1);	/* ids[3] was deleted */
	r = read_room("lobby", ids[3], NULL, NULL, 8);
	ck_assert_int_eq(r.gap, 0);
	ck_assert_uint_eq(r.n, 2);
}
END_TEST

START_TEST(retention_by_age_drops_old_messages_with_a_gap)
{
	uint64_t a, b;

	up(100, 0, 100, 1);	/* 1 ms: everything is old at once */
	a = post("gone", "0");
	b = post("gone", "1");
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	wait_deleted(2);
	down();
	up(100, 0, 100, 0);
	/* the room is not given back: nothing of it is left ... */
	ck_assert_ptr_null(rooms_get(rs, "gone", 0, NULL));
	/* ... and its cursor, made again, is told of the gap */
	ck_assert_uint_ge(rooms_floor(rs), b);
	(void)a;
}
END_TEST

START_TEST(a_full_disk_refuses_publishes_and_loses_nothing)
{
	char big[3000], buf[3100];
	struct im_error e = { 0 };
	enum im_err err = IM_OK;
	uint64_t last = 0, n = 0;
	struct histdb_stats s;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(buf, sizeof(buf), "\"%s\"", big);
	up(1000, 0, 1000, 0);
	histdb_test_max_pages(db, 1);	/* the file cannot grow */
	for (int i = 0; i < WAIT_MS / 5 && err == IM_OK; i++) {
		uint64_t id = post_to("lobby", NULL, MSG_TO_ROOM, buf, &err);

		if (id) {
			last = id;
			n++;
		}
		usleep(5 * 1000);
	}
	ck_assert_int_eq(err, IM_EFULL);
	ck_assert_int_eq(store_explain(st, err, &e), IM_EFULL);
	ck_assert_str_eq(e.code, "history_write_failed");
	histdb_get_stats(db, &s);
	ck_assert_int_eq(s.failing, 1);
	ck_assert_uint_ge(s.errors, 1);
	ck_assert_uint_eq(s.pending + s.written, n);
	/* room again: the waiting batch is written, publishing resumes */
	histdb_test_max_pages(db, 0);
	for (int i = 0; i < WAIT_MS / 20 && histdb_flush(db, 100); i++)
		usleep(20 * 1000);
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	ck_assert_uint_gt(post("lobby", "1"), last);
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	down();
	up(1000, 0, 1000, 0);
	ck_assert_uint_eq(read_room("lobby", 0, NULL, NULL, 2000).n, n + 1);
}
END_TEST

START_TEST(a_full_queue_refuses_publishes_with_history_busy)
{
	struct im_error e = { 0 };
	enum im_err err = IM_OK;
	struct histdb_stats s;
	uint64_t ids[16];

	queue_max = 16;
	up(100, 0, 100, 0);
	histdb_test_hold(db, 1);
	for (int i = 0; i < 16; i++)
		ids[i] = post("lobby", "1");
	ck_assert_uint_eq(post_to("lobby", NULL, MSG_TO_ROOM, "2", &err), 0);
	ck_assert_int_eq(err, IM_EFULL);
	ck_assert_int_eq(store_explain(st, err, &e), IM_EFULL);
	ck_assert_str_eq(e.code, "history_busy");
	/* refused means not stored: no id used, nothing to read */
	ck_assert_uint_eq(store_last_id(st), ids[15]);
	ck_assert_uint_eq(read_room("lobby", 0, NULL, NULL, 100).n, 16);
	histdb_get_stats(db, &s);
	ck_assert_uint_eq(s.refused_busy, 1);
	ck_assert_uint_eq(s.pending, 16);
	histdb_test_hold(db, 0);
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	ck_assert_uint_gt(post("lobby", "3"), ids[15]);
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	down();
	up(100, 0, 100, 0);
	ck_assert_uint_eq(read_room("lobby", 0, NULL, NULL, 100).n, 17);
}
END_TEST

/* histdb_start() on path fails with bad_history_db naming path. */
static void
refused(const char *why)
{
	struct im_error e = { 0 };

	ck_assert_ptr_null(boot(100, 0, 100, 0, &e));
	ck_assert_int_eq(e.err, IM_EINVAL);
	ck_assert_str_eq(e.code, "bad_history_db");
	ck_assert_msg(strstr(e.message, path) && strstr(e.message, why),
		      "message: %s", e.message);
}

START_TEST(a_damaged_file_is_refused)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 4096; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);
	refused("not an SQLite database");
}
END_TEST

START_TEST(a_truncated_database_is_refused)
{
	char cmd[256];

	up(100, 0, 100, 0);
	for (int i = 0; i < 200; i++)
		post(i % 2 ? "a" : "b", "\"some text to fill pages\"");
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	down();
	snprintf(cmd, sizeof(cmd), "truncate -s 9000 '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
	refused("damaged");
}
END_TEST

START_TEST(a_missing_directory_is_refused)
{
	snprintf(path, sizeof(path), "%s/no/such/dir/h.db", dir);
	refused("cannot open");
}
END_TEST

START_TEST(a_file_in_use_is_refused)
{
	struct histdb *first;
	struct store *st1;
	struct rooms *rs1;

	up(100, 0, 100, 0);
	post("lobby", "1");
	ck_assert_int_eq(histdb_flush(db, WAIT_MS), 0);
	first = db;
	st1 = st;
	rs1 = rs;
	db = NULL;
	refused("in use");
	down();
	db = first;
	st = st1;
	rs = rs1;
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("histdb");
	TCase *tc = tcase_create("restart");
	TCase *bad = tcase_create("refused");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, messages_come_back_byte_for_byte_after_a_restart);
	tcase_add_test(tc, a_direct_message_stays_private_after_a_restart);
	tcase_add_test(tc, ids_continue_after_the_highest_stored);
	tcase_add_test(tc, an_earlier_runs_cursor_resumes_without_a_gap);
	tcase_add_test(tc,
		       history_gives_back_the_newest_and_the_rest_is_a_gap);
	tcase_add_test(tc, retention_by_count_keeps_the_newest);
	tcase_add_test(tc, retention_by_age_drops_old_messages_with_a_gap);
	tcase_add_test(tc, a_full_disk_refuses_publishes_and_loses_nothing);
	tcase_add_test(tc, a_full_queue_refuses_publishes_with_history_busy);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_test(bad, a_damaged_file_is_refused);
	tcase_add_test(bad, a_truncated_database_is_refused);
	tcase_add_test(bad, a_missing_directory_is_refused);
	tcase_add_test(bad, a_file_in_use_is_refused);
	suite_add_tcase(s, bad);
	return s;
}

int
main(void)
{
#ifndef HAVE_SQLITE
	(void)suite;
	return 77;	/* built without SQLite: nothing to test */
#else
	return trun(suite());
#endif
}
