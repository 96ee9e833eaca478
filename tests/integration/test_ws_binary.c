/* SPDX-License-Identifier: MIT */
/*
 * test_ws_binary: binary frames on /ws against an in-process server. A
 * send announcing "binary":N followed by N binary frames is stored with
 * each placeholder replaced by {"_binary":"<base64>"} (what every other
 * transport reads); a client whose hello asked for "binary":true gets
 * such a message as a text frame with placeholders and "binary":N, then
 * the N values as binary frames, byte for byte; every misuse is a clear
 * error and the connection goes on.
 */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "server_ctx.h"
#include "testlib.h"
#include "trun.h"
#include "wsclient.h"

#define T 5000			/* ms a reply may take */
#define ROOM "bin"

/* two attachments: every byte value, and three bytes */
static unsigned char all[256];
static const unsigned char three[3] = { 'h', 'i', 0 };
#define ALL_B64 \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss" \
	"LS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZ" \
	"WltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWG" \
	"h4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKz" \
	"tLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g" \
	"4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w=="
#define THREE_B64 "aGkA"

/* A /ws connection that said hello as cid (asking for binary frames
 * when binary) and joined ROOM. */
static void
open_ws(struct t_ws *c, const char *cid, int binary)
{
	char *m;

	ck_assert_int_eq(t_ws_connect(c, t_port, NULL, T), 101);
	ck_assert_int_eq(t_ws_sendf(c, "{\"op\":\"hello\",\"cid\":\"%s\","
				    "\"from\":\"b\"%s}", cid, binary ?
				    ",\"binary\":true" : ""), 0);
	ck_assert_ptr_nonnull(m = t_ws_wait_op(c, "hello", T));
	if (binary)
		ck_assert_ptr_nonnull(strstr(m, "\"binary\":true"));
	free(m);
	ck_assert_int_eq(t_ws_send(c, "{\"op\":\"join\",\"room\":\"" ROOM
				   "\"}"), 0);
	ck_assert_ptr_nonnull(m = t_ws_wait_op(c, "joined", T));
	free(m);
}

/* Waits for a reply op (ack or error) with the given ref, skipping the
 * room's messages; returns it (malloc'd). */
static char *
reply(struct t_ws *c, int ref)
{
	char want[32], *m = NULL;
	size_t len;

	snprintf(want, sizeof(want), "\"ref\":%d", ref);
	while (t_ws_recv(c, T, &m, &len) == 1) {
		if (!strncmp(m, "{\"op\":\"ack\"", 11) ||
		    !strncmp(m, "{\"op\":\"error\"", 13)) {
			ck_assert_msg(strstr(m, want) != NULL, "%s", m);
			return m;
		}
		free(m);
		m = NULL;
	}
	ck_abort_msg("no reply with ref %d", ref);
	return NULL;
}

static void
expect_error(struct t_ws *c, int ref, const char *code)
{
	char want[64], *m = reply(c, ref);

	snprintf(want, sizeof(want), "\"code\":\"%s\"", code);
	ck_assert_msg(strstr(m, want) != NULL, "%s, not %s", m, code);
	free(m);
}

/* Sends the two attachments announced by a send with ref. */
static void
send_two(struct t_ws *c)
{
	ck_assert_int_eq(t_ws_send_frame(c, T_WS_BINARY, 1, all,
					 sizeof(all)), 0);
	ck_assert_int_eq(t_ws_send_frame(c, T_WS_BINARY, 1, three,
					 sizeof(three)), 0);
}

#define SEND_TWO "{\"op\":\"send\",\"ref\":%d,\"room\":\"" ROOM "\"," \
	"\"event\":\"img\",\"binary\":2,\"data\":{\"name\":\"x\"," \
	"\"img\":{\"_placeholder\":true,\"num\":0},\"more\":[1," \
	"{\"_placeholder\":true,\"num\":1}]}}"
#define STORED "{\"name\":\"x\",\"img\":{\"_binary\":\"" ALL_B64 "\"}," \
	"\"more\":[1,{\"_binary\":\"" THREE_B64 "\"}]}"

START_TEST(binary_frames_in_are_stored_as_base64)
{
	struct t_ws a;
	struct t_resp r;
	char *m;

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	open_ws(&a, "sender-cid-1", 0);
	ck_assert_int_eq(t_ws_sendf(&a, SEND_TWO, 7), 0);
	send_two(&a);
	m = reply(&a, 7);
	ck_assert_msg(!strncmp(m, "{\"op\":\"ack\"", 11), "%s", m);
	free(m);
	/* the JSON form, on HTTP as on the sender's own /ws */
	ck_assert_int_eq(t_http(t_port, "GET", "/poll?rooms=" ROOM
				"&since=0", NULL, NULL, &r), 0);
	ck_assert_msg(strstr(r.body, "\"data\":" STORED ",") != NULL, "%s",
		      r.body);
	t_resp_free(&r);
	t_ws_close(&a);
}
END_TEST

START_TEST(binary_client_gets_binary_frames)
{
	struct t_ws a, b, j;
	char *m, *p;
	size_t len;

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	open_ws(&a, "sender-cid-1", 0);
	open_ws(&b, "binary-cid-1", 1);
	open_ws(&j, "json-cid-01", 0);
	ck_assert_int_eq(t_ws_sendf(&a, SEND_TWO, 1), 0);
	send_two(&a);
	free(reply(&a, 1));
	ck_assert_int_eq(t_ws_send(&a, "{\"op\":\"send\",\"ref\":2,\"room\":"
		"\"" ROOM "\",\"event\":\"chat\",\"data\":\"plain\"}"), 0);
	free(reply(&a, 2));

	/* the binary client: the text frame with placeholders, then the
	 * values, then the plain message as ever */
	ck_assert_ptr_nonnull(m = t_ws_wait_op(&b, "msg", T));
	while (strstr(m, "\"event\":\"join\"")) {	/* presence first */
		free(m);
		ck_assert_ptr_nonnull(m = t_ws_wait_op(&b, "msg", T));
	}
	ck_assert_int_eq(b.binary, 0);
	ck_assert_ptr_nonnull(strstr(m, "\"data\":{\"name\":\"x\",\"img\":"
		"{\"_placeholder\":true,\"num\":0},\"more\":[1,"
		"{\"_placeholder\":true,\"num\":1}]}"));
	ck_assert_ptr_nonnull(p = strstr(m, "},\"binary\":2}"));
	ck_assert_str_eq(p, "},\"binary\":2}");
	free(m);
	ck_assert_int_eq(t_ws_recv(&b, T, &m, &len), 1);
	ck_assert_int_eq(b.binary, 1);
	ck_assert_uint_eq(len, sizeof(all));
	ck_assert_int_eq(memcmp(m, all, len), 0);
	free(m);
	ck_assert_int_eq(t_ws_recv(&b, T, &m, &len), 1);
	ck_assert_int_eq(b.binary, 1);
	ck_assert_uint_eq(len, sizeof(three));
	ck_assert_int_eq(memcmp(m, three, len), 0);
	free(m);
	ck_assert_ptr_nonnull(m = t_ws_wait_op(&b, "msg", T));
	ck_assert_int_eq(b.binary, 0);
	ck_assert_ptr_nonnull(strstr(m, "\"data\":\"plain\""));
	ck_assert_ptr_null(strstr(m, "\"binary\""));
	free(m);

	/* a client that did not ask: the JSON form (msg or msgs) */
	while ((p = NULL, t_ws_recv(&j, T, &m, &len) == 1) &&
	       !(p = strstr(m, "\"event\":\"img\"")))
		free(m);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(j.binary, 0);
	ck_assert_ptr_nonnull(strstr(m, "\"data\":" STORED ","));
	free(m);
	t_ws_close(&a);
	t_ws_close(&b);
	t_ws_close(&j);
}
END_TEST

START_TEST(binary_misuse_is_refused_and_the_connection_goes_on)
{
	struct t_ws a;
	uint64_t before;
	char *m;

	open_ws(&a, "sender-cid-1", 0);
	before = store_last_id(t_srv->st);
	/* a binary frame nobody announced */
	ck_assert_int_eq(t_ws_send_frame(&a, T_WS_BINARY, 1, three, 3), 0);
	ck_assert_ptr_nonnull(m = t_ws_wait_op(&a, "error", T));
	ck_assert_ptr_nonnull(strstr(m, "\"code\":\"bad_frame\""));
	free(m);
	/* a bad count */
	ck_assert_int_eq(t_ws_send(&a, "{\"op\":\"send\",\"ref\":1,\"room\":"
		"\"" ROOM "\",\"event\":\"e\",\"binary\":17}"), 0);
	expect_error(&a, 1, "bad_binary");
	ck_assert_int_eq(t_ws_send(&a, "{\"op\":\"send\",\"ref\":2,\"room\":"
		"\"" ROOM "\",\"event\":\"e\",\"binary\":\"1\"}"), 0);
	expect_error(&a, 2, "bad_binary");
	/* a placeholder that names no frame, and a frame none names */
	ck_assert_int_eq(t_ws_send(&a, "{\"op\":\"send\",\"ref\":3,\"room\":"
		"\"" ROOM "\",\"event\":\"e\",\"binary\":1,\"data\":"
		"{\"_placeholder\":true,\"num\":1}}"), 0);
	ck_assert_int_eq(t_ws_send_frame(&a, T_WS_BINARY, 1, three, 3), 0);
	expect_error(&a, 3, "bad_binary");
	ck_assert_int_eq(t_ws_send(&a, "{\"op\":\"send\",\"ref\":4,\"room\":"
		"\"" ROOM "\",\"event\":\"e\",\"binary\":2,\"data\":"
		"{\"_placeholder\":true,\"num\":1}}"), 0);
	ck_assert_int_eq(t_ws_send_frame(&a, T_WS_BINARY, 1, three, 3), 0);
	ck_assert_int_eq(t_ws_send_frame(&a, T_WS_BINARY, 1, three, 3), 0);
	expect_error(&a, 4, "bad_binary");
	/* a text message before the frames: that send is dropped */
	ck_assert_int_eq(t_ws_send(&a, "{\"op\":\"send\",\"ref\":5,\"room\":"
		"\"" ROOM "\",\"event\":\"e\",\"binary\":1,\"data\":"
		"{\"_placeholder\":true,\"num\":0}}"), 0);
	ck_assert_int_eq(t_ws_send(&a, "{\"op\":\"ping\",\"ref\":6}"), 0);
	expect_error(&a, 5, "bad_binary");
	ck_assert_ptr_nonnull(m = t_ws_wait_op(&a, "pong", T));
	free(m);
	ck_assert_uint_eq(store_last_id(t_srv->st), before);
	/* and a good one still works */
	ck_assert_int_eq(t_ws_send(&a, "{\"op\":\"send\",\"ref\":8,\"room\":"
		"\"" ROOM "\",\"event\":\"e\",\"binary\":1,\"data\":"
		"{\"_placeholder\":true,\"num\":0}}"), 0);
	ck_assert_int_eq(t_ws_send_frame(&a, T_WS_BINARY, 1, three, 3), 0);
	m = reply(&a, 8);
	ck_assert_msg(!strncmp(m, "{\"op\":\"ack\"", 11), "%s", m);
	free(m);
	t_ws_close(&a);
}
END_TEST

START_TEST(binary_frames_over_the_limit_are_too_large)
{
	struct t_ws a;
	unsigned char big[100] = { 0 };
	struct config cfg;
	char *m;

	/* --max-body 256: the frames of one send may hold 192 bytes */
	t_config(&cfg);
	cfg.max_body = 256;
	t_restart(&cfg);
	open_ws(&a, "sender-cid-1", 0);
	ck_assert_int_eq(t_ws_send(&a, "{\"op\":\"send\",\"ref\":1,\"room\":"
		"\"" ROOM "\",\"event\":\"e\",\"binary\":2,\"data\":["
		"{\"_placeholder\":true,\"num\":0},"
		"{\"_placeholder\":true,\"num\":1}]}"), 0);
	ck_assert_int_eq(t_ws_send_frame(&a, T_WS_BINARY, 1, big, 100), 0);
	ck_assert_int_eq(t_ws_send_frame(&a, T_WS_BINARY, 1, big, 100), 0);
	expect_error(&a, 1, "too_large");
	ck_assert_int_eq(t_ws_send(&a, "{\"op\":\"ping\",\"ref\":2}"), 0);
	ck_assert_ptr_nonnull(m = t_ws_wait_op(&a, "pong", T));
	free(m);
	t_ws_close(&a);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("ws_binary");
	TCase *tc = tcase_create("frames");

	t_fixture(tc, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, binary_frames_in_are_stored_as_base64);
	tcase_add_test(tc, binary_client_gets_binary_frames);
	tcase_add_test(tc, binary_misuse_is_refused_and_the_connection_goes_on);
	tcase_add_test(tc, binary_frames_over_the_limit_are_too_large);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
