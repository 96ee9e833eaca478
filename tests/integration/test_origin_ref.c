/* SPDX-License-Identifier: MIT */
/*
 * test_origin_ref: refusals that say why. One --allow-origin list grants
 * both CORS on the HTTP API and the WebSocket upgrade (--cors-origin is
 * the same option); a refused upgrade is logged naming the Origin, the
 * Host and --allow-origin; a WebSocket ref over 128 bytes is an error,
 * not silently dropped from the reply.
 */
#include "autoconf.h"

#include <check.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trun.h"
#include "testlib.h"
#include "wsclient.h"

#define T 3000	/* ms: a bound for a hang, never a measure */

START_TEST(one_allow_origin_list_grants_http_and_websocket)
{
	struct config cfg;
	struct t_resp r;
	struct t_ws c;

	t_config(&cfg);
	cfg.allow_origin = "http://a.example, http://b.example:8000";
	t_restart(&cfg);
	ck_assert_int_eq(t_http(t_port, "GET", "/api/info", NULL,
				"Origin: http://b.example:8000", &r), 0);
	ck_assert_str_eq(t_header(&r, "Access-Control-Allow-Origin"),
			 "http://b.example:8000");
	t_resp_free(&r);
	ck_assert_int_eq(t_http(t_port, "GET", "/api/info", NULL,
				"Origin: http://c.example", &r), 0);
	ck_assert_ptr_null(t_header(&r, "Access-Control-Allow-Origin"));
	t_resp_free(&r);
	ck_assert_int_eq(t_ws_connect(&c, t_port,
				      "Origin: http://a.example\r\n", T), 101);
	t_ws_close(&c);
	ck_assert_int_eq(t_ws_connect(&c, t_port,
				      "Origin: http://c.example\r\n", T), 403);
	t_ws_drop(&c);
}
END_TEST

START_TEST(refused_origin_is_logged_with_origin_host_and_option)
{
	char path[] = "/tmp/imlab-origin-XXXXXX", buf[4096];
	int fd = mkstemp(path), saved = dup(2);
	struct t_ws c;
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	dup2(fd, 2);
	ck_assert_int_eq(t_ws_connect(&c, t_port,
				      "Origin: http://evil.example\r\n", T),
			 403);
	t_ws_drop(&c);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, "http://evil.example") &&
		      strstr(buf, "127.0.0.1") &&
		      strstr(buf, "--allow-origin"), "log: %s", buf);
}
END_TEST

START_TEST(ref_over_128_bytes_is_an_error)
{
	char ref[200], *m;
	struct t_ws c;

	memset(ref, 'r', 140);
	ref[140] = '\0';
	ck_assert_int_eq(t_ws_connect(&c, t_port, NULL, T), 101);
	ck_assert_int_eq(t_ws_sendf(&c, "{\"op\":\"ping\",\"ref\":\"%s\"}",
				    ref), 0);
	m = t_ws_wait_op(&c, "error", T);
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strstr(m, "\"code\":\"bad_ref\""), "%s", m);
	free(m);
	/* 126 characters + quotes: 128 bytes, echoed */
	ref[126] = '\0';
	ck_assert_int_eq(t_ws_sendf(&c, "{\"op\":\"ping\",\"ref\":\"%s\"}",
				    ref), 0);
	m = t_ws_wait_op(&c, "pong", T);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m, ref));
	free(m);
	t_ws_close(&c);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("origin_ref");
	TCase *tc = tcase_create("core");

	t_fixture(tc, NULL);
	tcase_add_test(tc, one_allow_origin_list_grants_http_and_websocket);
	tcase_add_test(tc,
		       refused_origin_is_logged_with_origin_host_and_option);
	tcase_add_test(tc, ref_over_128_bytes_is_an_error);
	suite_add_tcase(s, tc);
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
