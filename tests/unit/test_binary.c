/* SPDX-License-Identifier: MIT */
/*
 * test_binary: the core of direct messages and binary values, with no
 * network. The "pid:<32 hex>" target and the names Socket.IO reserves
 * (names.c); who may see a direct message and its envelope (msg.c); the
 * base64 codec, the {"_binary":"..."} check and the placeholders
 * (binary.c); a direct
 * message to a member and to a pid that is none (room.c, hub.c).
 */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "binary.h"
#include "hub.h"
#include "msg.h"
#include "names.h"
#include "room.h"
#include "store.h"
#include "trun.h"

#define PID "0123456789abcdef0123456789abcdef"

START_TEST(pid_targets_are_pid_and_32_lower_case_hex_digits)
{
	const char *good = "pid:" PID;
	struct im_error e = { 0 };

	ck_assert_int_eq(names_word(NAME_TO, good, strlen(good)), MSG_TO_PID);
	ck_assert(names_valid(NAME_TO, good, strlen(good)));
	ck_assert_str_eq(names_to_pid(good, strlen(good)), PID);
	ck_assert_ptr_null(names_to_pid("self", 4));
	ck_assert(!names_valid(NAME_TO, "pid:" PID "0", 37));
	ck_assert(!names_valid(NAME_TO, "pid:0123", 8));
	ck_assert(!names_valid(NAME_TO, "pid:0123456789ABCDEF0123456789abcdef",
			       36));
	ck_assert(!names_valid(NAME_TO, PID, 32));
	ck_assert(!names_valid(NAME_TO, "PID:" PID, 36));
	ck_assert_int_eq(names_check(NAME_TO, "pid:x", 5, &e), IM_EINVAL);
	ck_assert_str_eq(e.code, "bad_target");
}
END_TEST

START_TEST(reserved_event_names_have_their_own_code)
{
	static const char *const r[] = { "connect", "disconnect",
		"connect_error", "disconnecting", "newListener",
		"removeListener" };
	struct im_error e = { 0 };

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		ck_assert_int_eq(names_check(NAME_EVENT, r[i], strlen(r[i]),
					     &e), IM_EINVAL);
		ck_assert_str_eq(e.code, "reserved_event");
	}
	ck_assert_int_eq(names_check(NAME_EVENT, "connected", 9, &e), IM_OK);
	ck_assert_int_eq(names_check(NAME_EVENT, "Connect", 7, &e), IM_OK);
	ck_assert_int_eq(names_check(NAME_EVENT, "connect", 6, &e), IM_OK);
	/* the rule comes first: a bad name stays bad_event */
	ck_assert_int_eq(names_check(NAME_EVENT, "connect!", 8, &e),
			 IM_EINVAL);
	ck_assert_str_eq(e.code, "bad_event");
}
END_TEST

START_TEST(a_direct_message_is_seen_by_its_two_ends_only)
{
	struct msg_parts p = { .id = 1, .ts = 2, .room = "r", .event = "chat",
		.from = "a", .pid = "ffffffffffffffffffffffffffffffff",
		.cid = "alice-cid-1", .via = VIA_API, .to = MSG_TO_PID,
		.to_pid = PID, .to_cid = "bob-cid-22", .data_json = "1",
		.data_len = 1 };
	struct msg *m = msg_create(&p);
	char *env;

	ck_assert_ptr_nonnull(m);
	ck_assert(msg_visible(m, "alice-cid-1"));
	ck_assert(msg_visible(m, "bob-cid-22"));
	ck_assert(!msg_visible(m, "carol-cid-3"));
	ck_assert(!msg_visible(m, PID));
	ck_assert(!msg_visible(m, ""));
	ck_assert(!msg_visible(m, NULL));
	env = strndup(m->json, m->json_len);
	ck_assert_str_eq(env, "{\"id\":1,\"room\":\"r\",\"event\":\"chat\","
		"\"from\":\"a\",\"pid\":\"ffffffffffffffffffffffffffffffff\","
		"\"to\":\"pid:" PID "\",\"via\":\"api\",\"data\":1,\"ts\":2}");
	ck_assert_ptr_null(strstr(env, "bob-cid"));
	free(env);
	msg_unref(&m);
	p.to_pid = NULL;		/* a DM names its recipient */
	ck_assert_ptr_null(msg_create(&p));
}
END_TEST

START_TEST(base64_round_trips_and_refuses_the_malformed)
{
	unsigned char in[7] = { 0, 0xff, 'a', 0x80, 1, 2, 3 }, out[8];
	char b[16];

	for (size_t n = 0; n <= sizeof(in); n++) {
		size_t len = binary_b64_encode(in, n, b);

		ck_assert_uint_eq(len, binary_b64_len(n));
		ck_assert_int_eq(binary_b64_valid(b, len), (long)n);
		ck_assert_int_eq(binary_b64_decode(b, len, out), (long)n);
		ck_assert_int_eq(memcmp(in, out, n), 0);
	}
	binary_b64_encode((const unsigned char *)"hi", 2, b);
	ck_assert_int_eq(memcmp(b, "aGk=", 4), 0);
	ck_assert_int_eq(binary_b64_valid("aGk", 3), -1);
	ck_assert_int_eq(binary_b64_valid("aG=k", 4), -1);
	ck_assert_int_eq(binary_b64_valid("a===", 4), -1);
	ck_assert_int_eq(binary_b64_valid("aGk-", 4), -1);
	ck_assert_int_eq(binary_b64_valid("aGk\n", 4), -1);
	ck_assert_int_eq(binary_b64_valid("", 0), 0);
}
END_TEST

static enum im_err
check_text(const char *json, size_t max, struct im_error *e)
{
	struct json_object *o = json_tokener_parse(json);
	enum im_err err;

	ck_assert_ptr_nonnull(o);
	err = binary_check(o, max, e);
	json_object_put(o);
	return err;
}

START_TEST(binary_values_are_checked_wherever_they_are)
{
	struct im_error e = { 0 };

	ck_assert_int_eq(check_text("{\"a\":[1,{\"_binary\":\"aGk=\"}]}", 2,
				    &e), IM_OK);
	ck_assert_int_eq(check_text("{\"_binary\":\"aGk=\"}", 1, &e),
			 IM_ETOOBIG);
	ck_assert_str_eq(e.code, "too_large");
	ck_assert_int_eq(check_text("[[[{\"_binary\":\"aGk\"}]]]", 9, &e),
			 IM_EINVAL);
	ck_assert_str_eq(e.code, "bad_binary");
	ck_assert_int_eq(check_text("{\"_binary\":\"aGk=\",\"x\":0}", 9, &e),
			 IM_EINVAL);
	ck_assert_int_eq(check_text("{\"_binary\":null}", 9, &e), IM_EINVAL);
	ck_assert_int_eq(check_text("{\"binary\":\"???\"}", 9, &e), IM_OK);
	ck_assert_int_eq(binary_check(NULL, 0, &e), IM_OK);
}
END_TEST

START_TEST(values_become_placeholders_and_back)
{
	const char *env = "{\"from\":\"x{\",\"data\":[{\"_binary\":"
			  "\"aGk=\"},{\"a\":{\"_binary\":\"\\/w==\"}}],"
			  "\"ts\":1}";
	struct binary_span v[4];
	char out[256];
	size_t len, n;
	unsigned char *b;
	struct json_object *o;
	const unsigned char *p[2] = { (const unsigned char *)"hi",
				      (const unsigned char *)"\xff" };
	size_t plen[2] = { 2, 1 };
	struct binary_frames f = { .n = 2, .p = p, .len = plen };
	struct im_error e = { 0 };

	ck_assert_int_eq(binary_find(env, strlen(env), v, 4), 2);
	ck_assert_int_eq(binary_find(env, strlen(env), v, 1), 2);
	ck_assert_int_eq(binary_find(env, strlen(env), v, 4), 2);
	ck_assert_ptr_nonnull(b = binary_span_decode(env, &v[0], 3, &len));
	ck_assert_uint_eq(len, 2);
	ck_assert_int_eq(memcmp(b + 3, "hi", 2), 0);
	free(b);
	ck_assert(v[1].escaped);
	ck_assert_ptr_nonnull(b = binary_span_decode(env, &v[1], 0, &len));
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(b[0], 0xff);
	free(b);
	n = binary_placeholders(env, strlen(env), v, 2, out);
	out[n] = '\0';
	ck_assert_str_eq(out, "{\"from\":\"x{\",\"data\":[{\"_placeholder\":"
		"true,\"num\":0},{\"a\":{\"_placeholder\":true,\"num\":1}}],"
		"\"ts\":1}");

	/* and back: the placeholders filled with the frames */
	o = json_tokener_parse(out);
	ck_assert_int_eq(binary_fill(o, &f, &e), IM_OK);
	ck_assert_uint_eq(f.used, 3);
	ck_assert_str_eq(json_object_to_json_string_ext(o,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
		"{\"from\":\"x{\",\"data\":[{\"_binary\":\"aGk=\"},"
		"{\"a\":{\"_binary\":\"/w==\"}}],\"ts\":1}");
	json_object_put(o);
	o = json_tokener_parse("[{\"_placeholder\":true,\"num\":2}]");
	ck_assert_int_eq(binary_fill(o, &f, &e), IM_EINVAL);
	ck_assert_str_eq(e.code, "bad_binary");
	json_object_put(o);
	o = json_tokener_parse("{\"x\":{\"_placeholder\":true,\"num\":0,"
			       "\"y\":1}}");
	ck_assert_int_eq(binary_fill(o, &f, &e), IM_EINVAL);
	json_object_put(o);
	ck_assert_int_eq(binary_find("{\"_binary\":\"aGk=\"", 14, v, 4), -1);
	ck_assert_int_eq(binary_find("{\"a\":1}", 7, v, 4), 0);
}
END_TEST

START_TEST(hub_sends_a_dm_to_a_member_and_refuses_a_stranger)
{
	struct rooms_config rc = { .max_rooms = 10, .presence_ttl_ms = 60000 };
	struct store *st = store_create(100, 1);
	struct rooms *rs = rooms_create(st, &rc);
	struct room *r;
	struct hub h;
	struct hub_ack ack;
	struct im_error e = { 0 };
	char pid[MSG_PID_LEN + 1], to[64];
	struct hub_pub p = { .room = "r", .event = "chat", .from = "a",
			     .cid = "alice-cid-1", .via = VIA_API };
	uint64_t last;

	ck_assert_ptr_nonnull(rs);
	hub_init(&h, rs, 1000);
	r = rooms_get(rs, "r", 1, &e);
	rooms_touch(rs, r, "bob-cid-22", "bob", VIA_POLL);
	rooms_pid(rs, "bob-cid-22", pid);
	snprintf(to, sizeof(to), "pid:%s", pid);
	p.to = to;
	ck_assert_int_eq(hub_publish(&h, &p, &ack, &e), IM_OK);
	last = store_last_id(st);
	rooms_pid(rs, "carol-cid-3", pid);
	snprintf(to, sizeof(to), "pid:%s", pid);
	ck_assert_int_eq(hub_publish(&h, &p, &ack, &e), IM_ENOTFOUND);
	ck_assert_str_eq(e.code, "unknown_recipient");
	ck_assert_uint_eq(store_last_id(st), last);
	p.cid = NULL;			/* a DM needs the sender's cid */
	ck_assert_int_eq(hub_publish(&h, &p, &ack, &e), IM_EINVAL);
	ck_assert_str_eq(e.code, "bad_target");
	rooms_release(rs, &r);
	rooms_destroy(&rs);
	store_destroy(&st);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("binary");
	TCase *tc = tcase_create("binary");

	tcase_add_test(tc, pid_targets_are_pid_and_32_lower_case_hex_digits);
	tcase_add_test(tc, reserved_event_names_have_their_own_code);
	tcase_add_test(tc, a_direct_message_is_seen_by_its_two_ends_only);
	tcase_add_test(tc, base64_round_trips_and_refuses_the_malformed);
	tcase_add_test(tc, binary_values_are_checked_wherever_they_are);
	tcase_add_test(tc, values_become_placeholders_and_back);
	tcase_add_test(tc, hub_sends_a_dm_to_a_member_and_refuses_a_stranger);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
