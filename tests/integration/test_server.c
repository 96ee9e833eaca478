/* SPDX-License-Identifier: MIT */
/*
 * test_server: the imlab binary's foundation over real sockets: an
 * in-process server on 127.0.0.1 port 0 serves the client's files (with
 * content types, revalidation and no traversal), the Markdown pages under
 * /doc/ (and nothing else there), /healthz, /api/info, and
 * answers a WebSocket upgrade with 101 from libwebsockets on the same port.
 */
#include "autoconf.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trun.h"
#include "testlib.h"

START_TEST(static_index_served_with_type_and_etag)
{
	struct t_resp r, r2;
	char inm[1100];

	ck_assert_int_eq(t_http(t_port, "GET", "/", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "<html"));
	ck_assert_str_eq(t_header(&r, "Content-Type"),
			 "text/html; charset=utf-8");
	ck_assert_ptr_nonnull(t_header(&r, "ETag"));
	snprintf(inm, sizeof(inm), "If-None-Match: %s", t_header(&r, "ETag"));
	ck_assert_int_eq(t_http(t_port, "GET", "/index.html", NULL, inm, &r2),
			 0);
	ck_assert_int_eq(r2.status, 304);
	t_resp_free(&r);
	t_resp_free(&r2);
}
END_TEST

START_TEST(static_missing_file_is_404_json)
{
	struct t_resp r;

	ck_assert_int_eq(t_http(t_port, "GET", "/nope.js", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 404);
	ck_assert_ptr_nonnull(strstr(r.body, "\"code\":\"not_found\""));
	t_resp_free(&r);
}
END_TEST

START_TEST(static_traversal_refused)
{
	static const char *const paths[] = {
		"/../configure.ac", "/%2e%2e/configure.ac",
		"/..%2fconfigure.ac", "/./index.html", "/.hidden",
		"/a/../../README", "/..\\README",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char req[256], *resp;

		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n"
			 "Host: localhost\r\nConnection: close\r\n\r\n",
			 paths[i]);
		resp = t_raw(t_port, req, 5000);
		ck_assert_ptr_nonnull(resp);
		ck_assert_msg(!strncmp(resp, "HTTP/1.1 403", 12) ||
			      !strncmp(resp, "HTTP/1.1 404", 12) ||
			      !strncmp(resp, "HTTP/1.1 400", 12),
			      "%s answered: %.40s", paths[i], resp);
		ck_assert_ptr_null(strstr(resp, "AC_INIT"));
		free(resp);
	}
}
END_TEST

START_TEST(static_doc_serves_markdown_pages_only)
{
	static const char *const refused[] = {
		"/doc/../README", "/doc/%2e%2e/README",
		"/doc/internals/cursor.md",
		"/doc/lesson.txt", "/doc/.lesson.md", "/doc/lesson.md/",
		"/doc/benchmarks-latency.svg", "/doc/nope.md", "/doc/a%2fb.md",
	};
	struct t_resp r;

	ck_assert_int_eq(t_http(t_port, "GET", "/doc/lesson.md", NULL, NULL,
				&r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(t_header(&r, "Content-Type"),
			 "text/markdown; charset=utf-8");
	ck_assert_ptr_nonnull(strstr(r.body, "Sec-WebSocket-Accept"));
	t_resp_free(&r);
	ck_assert_int_eq(t_http(t_port, "GET", "/doc/", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 302);
	ck_assert_str_eq(t_header(&r, "Location"), "/#doc/lesson");
	t_resp_free(&r);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char req[256], *resp;

		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n"
			 "Host: localhost\r\nConnection: close\r\n\r\n",
			 refused[i]);
		resp = t_raw(t_port, req, 5000);
		ck_assert_ptr_nonnull(resp);
		ck_assert_msg(!strncmp(resp, "HTTP/1.1 403", 12) ||
			      !strncmp(resp, "HTTP/1.1 404", 12),
			      "%s answered: %.40s", refused[i], resp);
		free(resp);
	}
}
END_TEST

START_TEST(static_close_asked_ends_the_connection)
{
	struct t_resp r;

	ck_assert_int_eq(t_http(t_port, "GET", "/app.js?close=1", NULL, NULL,
				&r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(t_header(&r, "Connection"), "close");
	t_resp_free(&r);
	ck_assert_int_eq(t_http(t_port, "GET", "/app.js", NULL, NULL, &r), 0);
	ck_assert_ptr_null(t_header(&r, "Connection"));
	t_resp_free(&r);
}
END_TEST

START_TEST(healthz_ok)
{
	struct t_resp r;

	ck_assert_int_eq(t_http(t_port, "GET", "/healthz", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "ok\n");
	t_resp_free(&r);
	ck_assert_int_eq(t_http(t_port, "POST", "/healthz", "{}", NULL, &r), 0);
	ck_assert_int_eq(r.status, 405);
	t_resp_free(&r);
}
END_TEST

START_TEST(api_info_describes_server)
{
	struct t_resp r;

	ck_assert_int_eq(t_http(t_port, "GET", "/api/info", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"name\":\"imlab\""));
	ck_assert_ptr_nonnull(strstr(r.body, "\"transports\":[\"poll\","
				     "\"longpoll\",\"sse\",\"ws\",\"sio\"]"));
	ck_assert_ptr_nonnull(strstr(r.body, "\"history\":1000"));
	t_resp_free(&r);
}
END_TEST

static const char upgrade[] =
	"GET /ws HTTP/1.1\r\n"
	"Host: 127.0.0.1\r\n"
	"Upgrade: websocket\r\n"
	"Connection: Upgrade\r\n"
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	"Sec-WebSocket-Version: 13\r\n\r\n";

START_TEST(websocket_101_on_the_http_port)
{
	struct t_resp r;
	char *resp;

	/* the same port answers HTTP ... */
	ck_assert_int_eq(t_http(t_port, "GET", "/healthz", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	t_resp_free(&r);
	/* ... and upgrades /ws through libwebsockets */
	resp = t_raw(t_port, upgrade, 1000);
	ck_assert_ptr_nonnull(resp);
	ck_assert_msg(!strncmp(resp, "HTTP/1.1 101", 12), "got: %.60s", resp);
	/* RFC 6455's sample key has this accept value */
	ck_assert_ptr_nonnull(strstr(resp, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
	free(resp);
}
END_TEST

START_TEST(requests_split_across_packets_are_routed)
{
	int fd = t_connect(t_port);
	char buf[512];
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	/* "GET /w" is ambiguous until the next byte arrives */
	ck_assert_int_eq(send(fd, "GET /w", 6, 0), 6);
	usleep(100 * 1000);
	ck_assert_int_eq(send(fd, upgrade + 6, strlen(upgrade) - 6, 0),
			 (ssize_t)(strlen(upgrade) - 6));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_gt(n, 12);
	buf[n] = '\0';
	ck_assert_msg(!strncmp(buf, "HTTP/1.1 101", 12), "got: %.60s", buf);
	close(fd);
}
END_TEST

START_TEST(silent_connection_closed_after_head_timeout)
{
	struct config cfg;
	struct server *s2;
	char c;
	int fd;

	t_config(&cfg);
	cfg.head_timeout = 1;
	s2 = t_server_start(&cfg);
	fd = t_connect(server_port(s2));
	ck_assert_int_ge(fd, 0);
	/* the server closes it: recv returns 0 (or a reset) */
	ck_assert_int_le(recv(fd, &c, 1, 0), 0);
	close(fd);
	server_stop(&s2);
}
END_TEST

START_TEST(over_connection_limit_gets_503)
{
	struct config cfg;
	struct server *s2;
	int fds[16];
	char *resp;

	t_config(&cfg);
	cfg.max_connections = 16;
	s2 = t_server_start(&cfg);
	/* hold 16 keep-alive connections open */
	for (int i = 0; i < 16; i++) {
		static const char req[] = "GET /healthz HTTP/1.1\r\n"
					  "Host: localhost\r\n\r\n";
		char buf[256];

		fds[i] = t_connect(server_port(s2));
		ck_assert_int_ge(fds[i], 0);
		ck_assert_int_gt(send(fds[i], req, sizeof(req) - 1, 0), 0);
		ck_assert_int_gt(recv(fds[i], buf, sizeof(buf), 0), 0);
	}
	resp = t_raw(server_port(s2), "GET /healthz HTTP/1.1\r\n"
		     "Host: localhost\r\n\r\n", 5000);
	ck_assert_ptr_nonnull(resp);
	ck_assert_msg(!strncmp(resp, "HTTP/1.1 503", 12), "got %.40s", resp);
	ck_assert_ptr_nonnull(strstr(resp, "Retry-After:"));
	free(resp);
	for (int i = 0; i < 16; i++)
		close(fds[i]);
	server_stop(&s2);
}
END_TEST

START_TEST(start_fails_cleanly_on_taken_port)
{
	struct config cfg;
	struct server *s2 = NULL;
	struct im_error e = { 0 };

	t_config(&cfg);
	cfg.port = t_port;
	ck_assert_int_ne(server_start(&cfg, &s2, &e), IM_OK);
	ck_assert_ptr_null(s2);
	ck_assert_ptr_nonnull(strstr(e.message, "cannot listen"));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("server");
	TCase *tc = tcase_create("foundation");

	t_fixture(tc, NULL);
	tcase_add_test(tc, static_index_served_with_type_and_etag);
	tcase_add_test(tc, static_missing_file_is_404_json);
	tcase_add_test(tc, static_traversal_refused);
	tcase_add_test(tc, static_doc_serves_markdown_pages_only);
	tcase_add_test(tc, static_close_asked_ends_the_connection);
	tcase_add_test(tc, healthz_ok);
	tcase_add_test(tc, api_info_describes_server);
	tcase_add_test(tc, websocket_101_on_the_http_port);
	tcase_add_test(tc, requests_split_across_packets_are_routed);
	tcase_add_test(tc, silent_connection_closed_after_head_timeout);
	tcase_add_test(tc, over_connection_limit_gets_503);
	tcase_add_test(tc, start_fails_cleanly_on_taken_port);
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
