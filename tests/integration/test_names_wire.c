/* SPDX-License-Identifier: MIT */
/*
 * test_names_wire: one set of input rules on every road in. The same bad
 * room, event, cid, from and to - an embedded NUL (\u0000, which JSON can
 * carry) or a plain rule break - sent over HTTP and over WebSocket to an
 * in-process server gets the same error code on both, and nothing is
 * published.
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

#define T 5000			/* ms a reply may take */
#define CID "names-wire-cid-01"

static struct server *srv;
static uint16_t port;
static struct t_ws ws;

static void
setup(void)
{
	srv = t_server_start(NULL);
	port = server_port(srv);
	ck_assert_int_eq(t_ws_connect(&ws, port, NULL, T), 101);
}

static void
teardown(void)
{
	t_ws_close(&ws);
	server_stop(&srv);
}

/* Returns the error code (malloc'd) of a JSON error reply in s. */
static char *
code_of(const char *s, int ws_frame)
{
	struct json_object *root = json_tokener_parse(s), *o = root, *v;
	char *code;

	ck_assert_msg(root != NULL, "not JSON: %s", s);
	if (!ws_frame)
		ck_assert(json_object_object_get_ex(root, "error", &o));
	ck_assert_msg(json_object_object_get_ex(o, "code", &v), "%s", s);
	code = strdup(json_object_get_string(v));
	json_object_put(root);
	return code;
}

/* POSTs body to room's messages; returns the error code (400 asserted). */
static char *
http_code(const char *room, const char *body)
{
	struct t_resp r;
	char path[128];
	char *code;

	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	ck_assert_int_eq(t_http(port, "POST", path, body, NULL, &r), 0);
	ck_assert_msg(r.status == 400, "%s %s: %ld %s", path, body, r.status,
		      r.body);
	code = code_of(r.body, 0);
	t_resp_free(&r);
	return code;
}

/* Sends text over the WebSocket; returns the error frame's code. */
static char *
ws_code(const char *text)
{
	char *m, *code;

	ck_assert_int_eq(t_ws_send(&ws, text), 0);
	m = t_ws_wait_op(&ws, "error", T);
	ck_assert_msg(m != NULL, "no error frame for %s", text);
	code = code_of(m, 1);
	free(m);
	return code;
}

static void
same(char *http, char *wsc, const char *want)
{
	ck_assert_str_eq(http, want);
	ck_assert_str_eq(wsc, want);
	free(http);
	free(wsc);
}

static void
ws_hello(void)
{
	char *m;

	ck_assert_int_eq(t_ws_send(&ws, "{\"op\":\"hello\",\"cid\":\"" CID
				   "\",\"from\":\"ann\"}"), 0);
	m = t_ws_wait_op(&ws, "hello", T);
	ck_assert_ptr_nonnull(m);
	free(m);
}

START_TEST(room_with_nul_or_bad_characters_is_bad_room_on_both)
{
	static const char pub[] = "{\"event\":\"chat\",\"from\":\"ann\","
				  "\"data\":1}";

	ws_hello();
	/* a URL cannot carry the NUL (HTTP's room is in the path), so the
	 * WebSocket NUL - which used to cut "lobby\0x" to "lobby" - is set
	 * beside HTTP's plain rule break */
	same(http_code("lob%20by", pub),
	     ws_code("{\"op\":\"join\",\"room\":\"lobby\\u0000x\"}"),
	     "bad_room");
	same(http_code("lob%20by", pub),
	     ws_code("{\"op\":\"send\",\"room\":\"lobby\\u0000x\","
		     "\"event\":\"chat\",\"data\":1}"), "bad_room");
	same(http_code("lob%20by", pub),
	     ws_code("{\"op\":\"send\",\"room\":\"lob by\",\"event\":"
		     "\"chat\",\"data\":1}"), "bad_room");
}
END_TEST

START_TEST(event_with_nul_is_bad_event_on_both)
{
	ws_hello();
	same(http_code("lobby", "{\"event\":\"chat\\u0000x\",\"from\":"
		       "\"ann\",\"data\":1}"),
	     ws_code("{\"op\":\"send\",\"room\":\"lobby\",\"event\":"
		     "\"chat\\u0000x\",\"data\":1}"), "bad_event");
	same(http_code("lobby", "{\"event\":\"no event\",\"from\":\"ann\","
		       "\"data\":1}"),
	     ws_code("{\"op\":\"send\",\"room\":\"lobby\",\"event\":"
		     "\"no event\",\"data\":1}"), "bad_event");
}
END_TEST

START_TEST(cid_with_nul_or_too_short_is_bad_cid_on_both)
{
	same(http_code("lobby", "{\"event\":\"chat\",\"from\":\"ann\","
		       "\"cid\":\"abcdefgh\\u0000x\",\"data\":1}"),
	     ws_code("{\"op\":\"hello\",\"cid\":\"abcdefgh\\u0000x\","
		     "\"from\":\"ann\"}"), "bad_cid");
	same(http_code("lobby", "{\"event\":\"chat\",\"from\":\"ann\","
		       "\"cid\":\"short\",\"data\":1}"),
	     ws_code("{\"op\":\"hello\",\"cid\":\"short\",\"from\":"
		     "\"ann\"}"), "bad_cid");
}
END_TEST

START_TEST(from_with_nul_or_control_is_bad_from_on_both)
{
	same(http_code("lobby", "{\"event\":\"chat\",\"from\":\"a\\u0000b\","
		       "\"data\":1}"),
	     ws_code("{\"op\":\"hello\",\"from\":\"a\\u0000b\"}"),
	     "bad_from");
	same(http_code("lobby", "{\"event\":\"chat\",\"from\":\"a\\u0007\","
		       "\"data\":1}"),
	     ws_code("{\"op\":\"hello\",\"from\":\"a\\u0007\"}"),
	     "bad_from");
}
END_TEST

START_TEST(target_with_nul_is_bad_target_on_both)
{
	ws_hello();
	same(http_code("lobby", "{\"event\":\"chat\",\"from\":\"ann\","
		       "\"to\":\"room\\u0000\",\"data\":1}"),
	     ws_code("{\"op\":\"send\",\"room\":\"lobby\",\"event\":"
		     "\"chat\",\"to\":\"room\\u0000\",\"data\":1}"),
	     "bad_target");
}
END_TEST

START_TEST(refused_input_publishes_nothing)
{
	struct t_resp r;

	ws_hello();
	free(ws_code("{\"op\":\"send\",\"room\":\"lobby\\u0000x\","
		     "\"event\":\"chat\",\"data\":1}"));
	ck_assert_int_eq(t_http(port, "GET", "/api/rooms", NULL, NULL, &r),
			 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(strstr(r.body, "\"lobby\""));
	t_resp_free(&r);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("names_wire");
	TCase *tc = tcase_create("names");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, room_with_nul_or_bad_characters_is_bad_room_on_both);
	tcase_add_test(tc, event_with_nul_is_bad_event_on_both);
	tcase_add_test(tc, cid_with_nul_or_too_short_is_bad_cid_on_both);
	tcase_add_test(tc, from_with_nul_or_control_is_bad_from_on_both);
	tcase_add_test(tc, target_with_nul_is_bad_target_on_both);
	tcase_add_test(tc, refused_input_publishes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
