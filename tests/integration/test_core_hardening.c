/* SPDX-License-Identifier: MIT */
/*
 * test_core_hardening: the store's promises under hostile or unlucky use,
 * over real sockets to an in-process server. Ids never repeat across a
 * restart within the same second, and a cursor from before the restart is
 * a gap (poll and WebSocket); "data" arrives byte for byte as it was
 * published, numbers json-c cannot hold included (HTTP and WebSocket); a
 * publish retried with the same client message id ("mid") is stored once
 * and answered with the original id and ts (HTTP and WebSocket); a room
 * or the whole store over its byte budget drops its oldest messages with
 * a gap rather than growing.
 */
#include "autoconf.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "store.h"
#include "tdriver.h"
#include "trun.h"
#include "testlib.h"
#include "wsclient.h"

#define T 2000			/* ms a reply may take */
#define CID "core-hardening-cid"

/* Reads member key of the JSON object text s as an unsigned id. */
static uint64_t
u64_of(const char *s, const char *key)
{
	struct json_object *o = json_tokener_parse(s), *v;
	uint64_t n;

	ck_assert_msg(o != NULL, "not JSON: %s", s);
	ck_assert_msg(json_object_object_get_ex(o, key, &v), "%s: %s", key,
		      s);
	n = json_object_get_uint64(v);
	json_object_put(o);
	return n;
}

/* Publishes body to room over HTTP; returns the answer (201 asserted). */
static void
publish(const char *room, const char *body, struct t_resp *r)
{
	char path[128];

	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	ck_assert_int_eq(t_http(t_port, "POST", path, body, NULL, r), 0);
	ck_assert_msg(r->status == 201, "%s: %ld %s", body, r->status,
		      r->body);
}

static uint64_t
publish_id(const char *room, const char *body)
{
	struct t_resp r;
	uint64_t id;

	publish(room, body, &r);
	id = u64_of(r.body, "id");
	t_resp_free(&r);
	return id;
}

/* GETs /poll?rooms=room&since=since into r (200 asserted). */
static void
poll_room(const char *room, uint64_t since, struct t_resp *r)
{
	char path[160];

	snprintf(path, sizeof(path), "/poll?rooms=%s&since=%" PRIu64, room,
		 since);
	ck_assert_int_eq(t_http(t_port, "GET", path, NULL, NULL, r), 0);
	ck_assert_msg(r->status == 200, "%s: %ld", path, r->status);
}

#define MSG "{\"event\":\"chat\",\"from\":\"a\",\"data\":1}"

START_TEST(restart_in_the_same_second_hands_out_new_larger_ids)
{
	uint64_t a[3], b;

	for (int i = 0; i < 3; i++)
		a[i] = publish_id("restart", MSG);
	t_restart(NULL);
	b = publish_id("restart", MSG);
	ck_assert_msg(b > a[2], "after the restart %" PRIu64 " <= %" PRIu64,
		      b, a[2]);
	/* ids stay exact in a JavaScript number */
	ck_assert_uint_lt(b, (uint64_t)1 << 53);
}
END_TEST

START_TEST(cursor_from_before_the_restart_is_a_gap_on_poll)
{
	struct t_resp r;
	uint64_t old, id;

	old = publish_id("gap-poll", MSG);
	t_restart(NULL);
	/* nothing published yet in this run: still a gap */
	poll_room("gap-poll", old, &r);
	ck_assert_ptr_nonnull(strstr(r.body, "\"gap\":true"));
	/* and the last_id it gives is no gap any more */
	id = u64_of(r.body, "last_id");
	t_resp_free(&r);
	poll_room("gap-poll", id, &r);
	ck_assert_ptr_nonnull(strstr(r.body, "\"gap\":false"));
	t_resp_free(&r);
	id = publish_id("gap-poll", MSG);
	poll_room("gap-poll", old, &r);
	ck_assert_ptr_nonnull(strstr(r.body, "\"gap\":true"));
	t_resp_free(&r);
	/* since=0 never reports a gap */
	poll_room("gap-poll", 0, &r);
	ck_assert_ptr_nonnull(strstr(r.body, "\"gap\":false"));
	t_resp_free(&r);
	(void)id;
}
END_TEST

START_TEST(cursor_from_before_the_restart_is_a_gap_op_on_websocket)
{
	struct t_ws ws;
	uint64_t old, id;
	char *m;

	old = publish_id("gap-ws", MSG);
	t_restart(NULL);
	id = publish_id("gap-ws", MSG);
	ck_assert_int_eq(t_ws_connect(&ws, t_port, NULL, T), 101);
	ck_assert_int_eq(t_ws_sendf(&ws, "{\"op\":\"join\",\"room\":\"gap-ws\","
				    "\"since\":%" PRIu64 "}", old), 0);
	m = t_ws_wait_op(&ws, "gap", T);
	ck_assert_ptr_nonnull(m);
	free(m);
	m = t_ws_wait_op(&ws, "msg", T);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m, "\"data\":1"));
	free(m);
	t_ws_close(&ws);
	(void)id;
}
END_TEST

START_TEST(cursor_from_before_the_restart_is_a_gap_on_every_transport)
{
	const struct tdriver *drv[] = { &tdrv_poll, &tdrv_longpoll, &tdrv_sse,
					&tdrv_ws };
	enum { NDRV = sizeof(drv) / sizeof(drv[0]) };
	static struct tsub sub;	/* large: not on the stack */
	char room[NDRV][32];
	uint64_t old[NDRV];

	for (size_t i = 0; i < NDRV; i++) {
		snprintf(room[i], sizeof(room[i]), "gap-%s", drv[i]->name);
		old[i] = publish_id(room[i], MSG);
	}
	t_restart(NULL);
	for (size_t i = 0; i < NDRV; i++) {
		uint64_t id;

		/* anonymous: no presence join to wait past */
		tsub_init(&sub, drv[i], t_port, "", "a", room[i], old[i]);
		ck_assert_int_eq(drv[i]->open(&sub), 0);
		id = publish_id(room[i], MSG);
		drv[i]->wait(&sub, 1, T);
		ck_assert_msg(sub.gaps >= 1, "%s: no gap", drv[i]->name);
		ck_assert_msg(sub.n == 1 && sub.env[0].id == id,
			      "%s: this run's message missing (n %zu)",
			      drv[i]->name, sub.n);
		drv[i]->close(&sub);
		tsub_free(&sub);
	}
}
END_TEST

#define BIG "123456789012345678901234567890"
#define DATA "{\"n\":" BIG ",\"f\":1.10,\"e\":1E400,\"s\":\"\\u00e9\\/\"," \
	     "\"a\":[-0,0.000000000000000000001]}"

/* Asserts that the poll answer in body carries "data":DATA exactly. */
static void
assert_data_exact(const char *room)
{
	struct t_resp r;

	poll_room(room, 0, &r);
	ck_assert_msg(strstr(r.body, "\"data\":" DATA ",") != NULL, "%s",
		      r.body);
	t_resp_free(&r);
}

START_TEST(data_is_delivered_byte_for_byte_over_http)
{
	struct t_resp r;

	/* the whitespace between tokens goes; the tokens stay as sent */
	publish("exact-http", "{\"event\":\"chat\",\"from\":\"a\",\"data\": "
		"{\"n\": " BIG ",\n \"f\":1.10,\"e\":1E400,"
		"\"s\":\"\\u00e9\\/\",\"a\":[ -0, 0.000000000000000000001 ]}"
		"}", &r);
	t_resp_free(&r);
	assert_data_exact("exact-http");
}
END_TEST

START_TEST(data_is_delivered_byte_for_byte_over_websocket)
{
	struct t_ws ws;
	char *m;

	ck_assert_int_eq(t_ws_connect(&ws, t_port, NULL, T), 101);
	ck_assert_int_eq(t_ws_send(&ws, "{\"op\":\"hello\",\"from\":\"a\"}"),
			 0);
	m = t_ws_wait_op(&ws, "hello", T);
	free(m);
	ck_assert_int_eq(t_ws_send(&ws, "{\"op\":\"send\",\"room\":"
				   "\"exact-ws\",\"event\":\"chat\","
				   "\"data\":" DATA "}"), 0);
	m = t_ws_wait_op(&ws, "ack", T);
	ck_assert_ptr_nonnull(m);
	free(m);
	t_ws_close(&ws);
	assert_data_exact("exact-ws");
}
END_TEST

#define MID_MSG(mid) "{\"event\":\"chat\",\"from\":\"a\",\"cid\":\"" CID \
	"\",\"mid\":\"" mid "\",\"data\":1}"

/* Returns how many messages room holds (a poll from 0). */
static size_t
count(const char *room)
{
	struct t_resp r;
	struct json_object *o, *v;
	size_t n;

	poll_room(room, 0, &r);
	o = json_tokener_parse(r.body);
	ck_assert(json_object_object_get_ex(o, "messages", &v));
	n = json_object_array_length(v);
	json_object_put(o);
	t_resp_free(&r);
	return n;
}

START_TEST(publish_retried_with_the_same_mid_is_stored_once_over_http)
{
	struct t_resp a, b;
	char path[64];

	publish("mid-http", MID_MSG("retry-1"), &a);
	publish("mid-http", MID_MSG("retry-1"), &b);
	ck_assert_str_eq(a.body, b.body);	/* same id and ts */
	t_resp_free(&b);
	publish("mid-http", MID_MSG("retry-2"), &b);
	ck_assert_str_ne(a.body, b.body);
	t_resp_free(&a);
	t_resp_free(&b);
	ck_assert_uint_eq(count("mid-http"), 2);
	/* a mid needs a cid, and follows the name rule */
	snprintf(path, sizeof(path), "/api/rooms/mid-http/messages");
	ck_assert_int_eq(t_http(t_port, "POST", path,
				"{\"event\":\"chat\",\"from\":\"a\","
				"\"mid\":\"x\",\"data\":1}", NULL, &a), 0);
	ck_assert_int_eq(a.status, 400);
	ck_assert_ptr_nonnull(strstr(a.body, "bad_mid"));
	t_resp_free(&a);
	ck_assert_int_eq(t_http(t_port, "POST", path, MID_MSG("a b"), NULL,
				&a), 0);
	ck_assert_int_eq(a.status, 400);
	ck_assert_ptr_nonnull(strstr(a.body, "bad_mid"));
	t_resp_free(&a);
	ck_assert_uint_eq(count("mid-http"), 2);
}
END_TEST

START_TEST(publish_retried_with_the_same_mid_is_stored_once_over_websocket)
{
	struct t_ws ws;
	char *a, *b;
	uint64_t http_id;

	ck_assert_int_eq(t_ws_connect(&ws, t_port, NULL, T), 101);
	ck_assert_int_eq(t_ws_send(&ws, "{\"op\":\"hello\",\"cid\":\"" CID
				   "\",\"from\":\"a\"}"), 0);
	free(t_ws_wait_op(&ws, "hello", T));
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(t_ws_send(&ws, "{\"op\":\"send\",\"room\":"
					   "\"mid-ws\",\"event\":\"chat\","
					   "\"mid\":\"w-1\",\"data\":1}"), 0);
	a = t_ws_wait_op(&ws, "ack", T);
	b = t_ws_wait_op(&ws, "ack", T);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(u64_of(a, "id"), u64_of(b, "id"));
	ck_assert_uint_eq(u64_of(a, "ts"), u64_of(b, "ts"));
	/* the same mid from the same cid over HTTP is the same message */
	http_id = publish_id("mid-ws", MID_MSG("w-1"));
	ck_assert_uint_eq(http_id, u64_of(a, "id"));
	free(a);
	free(b);
	t_ws_close(&ws);
	ck_assert_uint_eq(count("mid-ws"), 1);
}
END_TEST

/* Publishes n messages of about kib KiB each to room; returns the first
 * id. */
static uint64_t
publish_big(const char *room, int n, size_t kib)
{
	size_t len = kib * 1024;
	char *body = malloc(len + 128);
	uint64_t first = 0;
	int o;

	ck_assert_ptr_nonnull(body);
	o = snprintf(body, 128, "{\"event\":\"chat\",\"from\":\"a\","
		     "\"data\":\"");
	memset(body + o, 'x', len);
	memcpy(body + o + len, "\"}", 3);
	for (int i = 0; i < n; i++) {
		uint64_t id = publish_id(room, body);

		if (!first)
			first = id;
	}
	free(body);
	return first;
}

START_TEST(a_room_over_its_byte_budget_drops_its_oldest_with_a_gap)
{
	struct t_resp r;
	uint64_t first;

	store_set_budget(t_srv->st, 0, 200 * 1024);
	first = publish_big("budget", 20, 10);
	ck_assert_uint_le(store_bytes(t_srv->st), 200 * 1024);
	ck_assert_uint_ge(store_total(t_srv->st), 3);
	ck_assert_uint_lt(store_total(t_srv->st), 20);
	poll_room("budget", first - 1, &r);
	ck_assert_ptr_nonnull(strstr(r.body, "\"gap\":true"));
	t_resp_free(&r);
}
END_TEST

START_TEST(the_store_over_its_byte_budget_drops_the_oldest_anywhere)
{
	struct t_resp r;
	uint64_t a;

	store_set_budget(t_srv->st, 300 * 1024, 0);
	a = publish_big("budget-a", 5, 10);
	publish_big("budget-b", 40, 10);	/* 400 KiB: over the 300 */
	ck_assert_uint_le(store_bytes(t_srv->st), 300 * 1024);
	/* room a's messages were the oldest: gone, and its readers told */
	ck_assert_uint_eq(count("budget-a"), 0);
	ck_assert_uint_ge(count("budget-b"), 10);
	poll_room("budget-a", a - 1, &r);
	ck_assert_ptr_nonnull(strstr(r.body, "\"gap\":true"));
	t_resp_free(&r);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("core_hardening");
	TCase *tc = tcase_create("core");

	t_fixture(tc, NULL);
	tcase_add_test(tc, restart_in_the_same_second_hands_out_new_larger_ids);
	tcase_add_test(tc, cursor_from_before_the_restart_is_a_gap_on_poll);
	tcase_add_test(tc,
		       cursor_from_before_the_restart_is_a_gap_op_on_websocket);
	tcase_add_test(tc,
		cursor_from_before_the_restart_is_a_gap_on_every_transport);
	tcase_add_test(tc, data_is_delivered_byte_for_byte_over_http);
	tcase_add_test(tc, data_is_delivered_byte_for_byte_over_websocket);
	tcase_add_test(tc,
		publish_retried_with_the_same_mid_is_stored_once_over_http);
	tcase_add_test(tc,
	    publish_retried_with_the_same_mid_is_stored_once_over_websocket);
	tcase_add_test(tc,
		a_room_over_its_byte_budget_drops_its_oldest_with_a_gap);
	tcase_add_test(tc,
		the_store_over_its_byte_budget_drops_the_oldest_anywhere);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
