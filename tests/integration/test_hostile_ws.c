/* SPDX-License-Identifier: MIT */
/*
 * test_hostile_ws: WebSocket frames a well-behaved client never sends,
 * written byte for byte on a raw socket to an in-process server: an empty
 * first fragment (reassembly that starts empty; the sanitizer build is
 * what sees the undefined behaviour), invalid UTF-8 in a text frame,
 * whole or split between fragments (1007), and the public id's length
 * (128 bits, so repeated hello cannot find a cid that wears someone
 * else's pid). After
 * each, the server still serves a fresh connection.
 */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "trun.h"
#include "testlib.h"
#include "wsclient.h"

#define T 2000			/* ms a reply may take */

static struct t_ws ws;

static void
open_ws(void)
{
	ck_assert_int_eq(t_ws_connect(&ws, t_port, NULL, T), 101);
}

/* The server still answers a ping on a new connection. */
static void
still_serving(void)
{
	struct t_ws c;
	char *m;

	ck_assert_int_eq(t_ws_connect(&c, t_port, NULL, T), 101);
	ck_assert_int_eq(t_ws_send(&c, "{\"op\":\"ping\"}"), 0);
	m = t_ws_wait_op(&c, "pong", T);
	ck_assert_ptr_nonnull(m);
	free(m);
	t_ws_close(&c);
}

START_TEST(empty_first_fragment_then_message_is_answered)
{
	static const char ping[] = "{\"op\":\"ping\",\"t\":7}";
	char *m;

	open_ws();
	/* an empty text frame with FIN=0 starts a message with no bytes */
	ck_assert_int_eq(t_ws_send_frame(&ws, T_WS_TEXT, 0, "", 0), 0);
	ck_assert_int_eq(t_ws_send_frame(&ws, 0, 0, "", 0), 0);
	ck_assert_int_eq(t_ws_send_frame(&ws, 0, 1, ping, strlen(ping)), 0);
	m = t_ws_wait_op(&ws, "pong", T);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m, "\"t\":7"));
	free(m);
	/* and a message made of empty fragments only is empty JSON */
	ck_assert_int_eq(t_ws_send_frame(&ws, T_WS_TEXT, 0, "", 0), 0);
	ck_assert_int_eq(t_ws_send_frame(&ws, 0, 1, "", 0), 0);
	m = t_ws_wait_op(&ws, "error", T);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m, "bad_json"));
	free(m);
	t_ws_close(&ws);
	still_serving();
}
END_TEST

START_TEST(invalid_utf8_text_closes_with_1007)
{
	static const char bad[] = "{\"op\":\"ping\",\"t\":\"\xc3\x28\"}";

	open_ws();
	ck_assert_int_eq(t_ws_send_frame(&ws, T_WS_TEXT, 1, bad,
					 sizeof(bad) - 1), 0);
	ck_assert_int_eq(t_ws_closed(&ws, T), 1007);
	t_ws_drop(&ws);
	still_serving();
}
END_TEST

START_TEST(invalid_utf8_across_fragments_closes_with_1007)
{
	/* an overlong encoding of '/', split over two fragments */
	static const char a[] = "{\"op\":\"ping\",\"t\":\"\xc0";
	static const char b[] = "\xaf\"}";

	open_ws();
	ck_assert_int_eq(t_ws_send_frame(&ws, T_WS_TEXT, 0, a,
					 sizeof(a) - 1), 0);
	ck_assert_int_eq(t_ws_send_frame(&ws, 0, 1, b, sizeof(b) - 1), 0);
	ck_assert_int_eq(t_ws_closed(&ws, T), 1007);
	t_ws_drop(&ws);
	still_serving();
}
END_TEST

/* Returns the pid of a hello with cid (malloc'd). */
static char *
hello_pid(const char *cid)
{
	struct json_object *o, *v;
	char *m, *pid;

	ck_assert_int_eq(t_ws_sendf(&ws, "{\"op\":\"hello\",\"cid\":\"%s\","
				    "\"from\":\"x\"}", cid), 0);
	m = t_ws_wait_op(&ws, "hello", T);
	ck_assert_ptr_nonnull(m);
	o = json_tokener_parse(m);
	ck_assert(json_object_object_get_ex(o, "pid", &v));
	pid = strdup(json_object_get_string(v));
	json_object_put(o);
	free(m);
	return pid;
}

START_TEST(public_id_is_128_bits_of_hex)
{
	char *a, *b;

	open_ws();
	a = hello_pid("hostile-ws-cid-one");
	b = hello_pid("hostile-ws-cid-two");
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
	ck_assert_str_ne(a, b);
	free(b);
	b = hello_pid("hostile-ws-cid-one");
	ck_assert_str_eq(a, b);		/* stable within a run */
	free(a);
	free(b);
	t_ws_close(&ws);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("hostile_ws");
	TCase *tc = tcase_create("frames");

	t_fixture(tc, NULL);
	tcase_add_test(tc, empty_first_fragment_then_message_is_answered);
	tcase_add_test(tc, invalid_utf8_text_closes_with_1007);
	tcase_add_test(tc, invalid_utf8_across_fragments_closes_with_1007);
	tcase_add_test(tc, public_id_is_128_bits_of_hex);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
