/* SPDX-License-Identifier: MIT */
/*
 * test_query_ints: one rule for every integer in a query string (since,
 * limit, timeout, last, named) on every endpoint that reads one: ASCII
 * digits only - no sign, no blank, no "0x", no fraction - with no
 * overflow, or a 400 "bad_param" naming the parameter (issue 11 item 10,
 * doc/protocol.md "Errors"). Each bad value is sent raw over a socket
 * (bounded: a stream accepted by mistake ends the read after T ms and
 * fails), then the server still answers a good request.
 */
#include "autoconf.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trun.h"
#include "testlib.h"

#define T 3000	/* ms: a bound for a hang, never a measure */
#define ROOM "qi"

/* One endpoint's integer parameter: path ends where its value goes. */
struct qparam {
	const char *path;
	const char *key;
	int unsigned64;	/* since: any 64-bit value is in range */
};

static const struct qparam params[] = {
	{ "/poll?rooms=" ROOM "&since=", "since", 1 },
	{ "/longpoll?rooms=" ROOM "&timeout=1&since=", "since", 1 },
	{ "/sse?rooms=" ROOM "&since=", "since", 1 },
	{ "/api/rooms/" ROOM "/messages?since=", "since", 1 },
	{ "/poll?rooms=" ROOM "&since=0&limit=", "limit", 0 },
	{ "/longpoll?rooms=" ROOM "&since=0&timeout=1&limit=", "limit", 0 },
	{ "/api/rooms?limit=", "limit", 0 },
	{ "/api/rooms/" ROOM "/messages?limit=", "limit", 0 },
	{ "/longpoll?rooms=" ROOM "&since=0&timeout=", "timeout", 0 },
	{ "/api/rooms/" ROOM "/messages?last=", "last", 0 },
	{ "/sse?rooms=" ROOM "&named=", "named", 0 },
};

/* Refused for every parameter (URL-encoded as sent). */
static const char *const bad_all[] = {
	"-1", "-0", "-5", "%2D1",		/* negative */
	"%2B5", "%2B0", "%2B1", "%2B3",		/* a plus sign */
	"%205", "5%20", "%095", "5%0A", "%20",	/* blanks */
	"abc", "5a", "1.5", "0x10", "1e3", "%E2%80%8B5",
	"18446744073709551616",			/* 2^64 */
	"99999999999999999999999999999999",	/* overflow */
	"-9223372036854775809", "-18446744073709551616",
};

/* Refused for the bounded parameters only (in range for since). */
static const char *const bad_bounded[] = {
	"18446744073709551615", "9223372036854775807",
	"9223372036854775808", "100000",
};

/* Sends GET path raw; returns the status, and the reply in *out (the
 * caller frees it). */
static int
get(const char *path, char **out)
{
	char req[1024];
	int status = 0;
	char *r;

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		 "Connection: close\r\n\r\n", path);
	r = t_raw(t_port, req, T);
	ck_assert_ptr_nonnull(r);
	if (sscanf(r, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	*out = r;
	return status;
}

static void
expect_bad(const struct qparam *q, const char *value)
{
	char path[512], *r;
	int status;

	snprintf(path, sizeof(path), "%s%s", q->path, value);
	status = get(path, &r);
	ck_assert_msg(status == 400 && strstr(r, "\"bad_param\"") &&
		      strstr(r, q->key), "%s: %d, not a 400 bad_param naming "
		      "%s: %.300s", path, status, q->key, r);
	free(r);
}

static void
expect_ok(const struct qparam *q, const char *value)
{
	char path[512], *r;
	int status;

	snprintf(path, sizeof(path), "%s%s", q->path, value);
	status = get(path, &r);
	ck_assert_msg(status == 200, "%s: %d: %.300s", path, status, r);
	free(r);
}

static void
publish_one(void)
{
	struct t_resp r;

	ck_assert_int_eq(t_http(t_port, "POST", "/api/rooms/" ROOM
				"/messages", "{\"event\":\"x\",\"from\":\"qi\","
				"\"data\":{}}",
				NULL, &r), 0);
	ck_assert_int_eq(r.status, 201);
	t_resp_free(&r);
}

START_TEST(integers_are_digits_only)
{
	const struct qparam *q = &params[_i];

	publish_one();	/* long polls answer at once, the room exists */
	for (size_t i = 0; i < sizeof(bad_all) / sizeof(bad_all[0]); i++)
		expect_bad(q, bad_all[i]);
	if (!q->unsigned64)
		for (size_t i = 0;
		     i < sizeof(bad_bounded) / sizeof(bad_bounded[0]); i++)
			expect_bad(q, bad_bounded[i]);
	/* still serving, and plain digits (leading zeros too) are fine;
	 * SSE streams, so its good values are left to the SSE tests */
	if (strncmp(q->path, "/sse", 4)) {
		expect_ok(q, "1");
		expect_ok(q, "001");
	}
	if (q->unsigned64 && strncmp(q->path, "/sse", 4)) {
		expect_ok(q, "0");
		expect_ok(q, "18446744073709551615");
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("query_ints");
	TCase *tc = tcase_create("core");

	t_fixture(tc, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, integers_are_digits_only, 0,
			    (int)(sizeof(params) / sizeof(params[0])));
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
