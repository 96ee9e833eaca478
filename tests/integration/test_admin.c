/* SPDX-License-Identifier: MIT */
/*
 * test_admin: the chaos switches (src/api_admin.c). Off by default (403
 * admin_disabled on each); with --admin, cut drops exactly the named
 * cid's connections of the named transport (the client reads the end),
 * stall holds a poll until the stall is over and delivers a message
 * published meanwhile only then, bad bodies are 400s, restart stays 403
 * without --admin-restart (tests/integration/test_restart.sh runs it).
 */
#include "autoconf.h"

#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msg.h"
#include "trun.h"
#include "testlib.h"

static void
tune(struct config *cfg)
{
	cfg->admin = 1;
}

/* POSTs body to path; returns the status, *out the body if asked. */
static long
post(const char *path, const char *body, char **out)
{
	struct t_resp r;
	long st;

	ck_assert_int_eq(t_http(t_port, "POST", path, body, NULL, &r), 0);
	st = r.status;
	if (out)
		*out = strdup(r.body);
	t_resp_free(&r);
	return st;
}

START_TEST(off_by_default)
{
	static const char *const sw[] = { "/api/admin/cut", "/api/admin/stall",
					  "/api/admin/restart" };
	struct config cfg;
	char *b;

	t_config(&cfg);		/* the defaults: --admin 0 */
	t_restart(&cfg);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(post(sw[i], "{\"seconds\":1}", &b), 403);
		ck_assert_ptr_nonnull(strstr(b, "admin_disabled"));
		free(b);
	}
}
END_TEST

/* Opens an SSE stream for cid and reads its first bytes. */
static int
stream(const char *cid)
{
	char req[256], b[4096];
	int fd = t_connect(t_port);
	struct pollfd p = { fd, POLLIN, 0 };

	ck_assert_int_ge(fd, 0);
	snprintf(req, sizeof(req), "GET /sse?rooms=adm&cid=%s HTTP/1.1\r\n"
		 "Host: 127.0.0.1:%u\r\n\r\n", cid, t_port);
	ck_assert_int_eq(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	ck_assert_int_gt(recv(fd, b, sizeof(b), 0), 0);
	return fd;
}

/* Returns 1 if fd reads its end within ms, 0 if it stays open. */
static int
ends_within(int fd, int ms)
{
	char b[4096];
	struct pollfd p = { fd, POLLIN, 0 };

	while (poll(&p, 1, ms) == 1)
		if (recv(fd, b, sizeof(b), 0) <= 0)
			return 1;
	return 0;
}

START_TEST(cut_drops_the_named_connections_only)
{
	int a = stream("admincut0001"), other = stream("admincut0002");
	char *b;

	ck_assert_int_eq(post("/api/admin/cut", "{\"cid\":\"admincut0001\","
			      "\"transport\":\"ws\"}", &b), 200);
	ck_assert_str_eq(b, "{\"cut\":0}");
	free(b);
	ck_assert_int_eq(post("/api/admin/cut", "{\"cid\":\"admincut0001\","
			      "\"transport\":\"sse\"}", &b), 200);
	ck_assert_str_eq(b, "{\"cut\":1}");
	free(b);
	ck_assert(ends_within(a, 5000));
	ck_assert(!ends_within(other, 300));
	close(a);
	close(other);
}
END_TEST

START_TEST(stall_holds_handling_and_delivery)
{
	char *b;
	struct t_resp r;
	int64_t until, t;
	const char *p;
	int fd = stream("adminstall01");
	char buf[8192];
	size_t len = 0;

	ck_assert_int_eq(post("/api/admin/stall", "{\"seconds\":1}", &b), 200);
	p = strstr(b, "\"until\":");
	ck_assert_ptr_nonnull(p);
	until = strtoll(p + 8, NULL, 10);
	free(b);
	ck_assert_int_eq(post("/api/rooms/adm/messages", "{\"event\":\"ev\","
			      "\"from\":\"a\",\"data\":42}", NULL), 201);
	/* a poll waits for the end of the stall, then has the message */
	ck_assert_int_eq(t_http(t_port, "GET", "/poll?rooms=adm", NULL, NULL,
				&r), 0);
	t = im_now_ms();
	ck_assert_int_ge(t, until);
	ck_assert_ptr_nonnull(strstr(r.body, "\"data\":42"));
	t_resp_free(&r);
	/* the stream got it, and not before the end */
	while (!memmem(buf, len, "\"data\":42", 9)) {
		struct pollfd pf = { fd, POLLIN, 0 };
		ssize_t k;

		ck_assert_int_eq(poll(&pf, 1, 10000), 1);
		k = recv(fd, buf + len, sizeof(buf) - len, 0);
		ck_assert_int_gt(k, 0);
		len += (size_t)k;
	}
	ck_assert_int_ge(im_now_ms(), until);
	close(fd);
}
END_TEST

START_TEST(bad_requests)
{
	static const char *const bad[][2] = {
		{ "/api/admin/stall", "{\"seconds\":0}" },
		{ "/api/admin/stall", "{\"seconds\":11}" },
		{ "/api/admin/stall", "{\"seconds\":\"1\"}" },
		{ "/api/admin/stall", "[]" },
		{ "/api/admin/cut", "{}" },
		{ "/api/admin/cut", "{\"cid\":\"x\"}" },
		{ "/api/admin/cut", "{\"cid\":\"admincut0001\","
		  "\"transport\":\"smoke\"}" },
	};
	struct t_resp r;
	char *b;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ck_assert_msg(post(bad[i][0], bad[i][1], NULL) == 400, "%s %s",
			      bad[i][0], bad[i][1]);
	ck_assert_int_eq(post("/api/admin/nothing", "{}", NULL), 404);
	ck_assert_int_eq(post("/api/admin/restart", "{}", &b), 403);
	ck_assert_ptr_nonnull(strstr(b, "--admin-restart"));
	free(b);
	ck_assert_int_eq(t_http(t_port, "GET", "/api/admin/cut", NULL, NULL,
				&r), 0);
	ck_assert_int_eq(r.status, 405);
	t_resp_free(&r);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("admin");
	TCase *on = tcase_create("admin");

	tcase_set_timeout(on, 60);
	t_fixture(on, tune);
	tcase_add_test(on, off_by_default);
	tcase_add_test(on, cut_drops_the_named_connections_only);
	tcase_add_test(on, stall_holds_handling_and_delivery);
	tcase_add_test(on, bad_requests);
	suite_add_tcase(s, on);
	return s;
}

int
main(void)
{
	return trun(suite());
}
