/* SPDX-License-Identifier: MIT */
/*
 * test_sse_frames: the SSE stream as a plain EventSource reads it. By
 * default a message is "id: N\ndata: E\n\n" (no event: line, so
 * EventSource.onmessage gets it; the name is in E); ?named=1 adds the
 * "event: NAME" line; a frame bigger than a write block arrives whole and
 * in order; the gap notice stays the named event `gap` in both modes.
 */
#include "autoconf.h"

#include <check.h>
#include <curl/curl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "trun.h"
#include "testlib.h"

/* Publishes body to room; returns its id. */
static uint64_t
publish(const char *room, const char *body)
{
	char path[128];
	struct t_resp r;
	const char *p;
	uint64_t id;

	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	ck_assert_int_eq(t_http(t_port, "POST", path, body, NULL, &r), 0);
	ck_assert_int_eq(r.status, 201);
	p = strstr(r.body, "\"id\":");
	ck_assert_ptr_nonnull(p);
	id = strtoull(p + 5, NULL, 10);
	t_resp_free(&r);
	return id;
}

/* What open_sse() read after the retry: line, for read_until(). */
static char rest[1024];

/* Opens /sse?QUERY over HTTP/1.0 (no chunking) and reads the head and
 * the retry: line, keeping what came after it in rest; returns the fd. */
static int
open_sse(const char *query)
{
	char req[512], buf[1024];
	const char *r;
	size_t len = 0;
	int fd = t_connect(t_port);

	ck_assert_int_ge(fd, 0);
	snprintf(req, sizeof(req), "GET /sse?%s HTTP/1.0\r\n"
		 "Host: localhost\r\n\r\n", query);
	ck_assert_int_gt(send(fd, req, strlen(req), 0), 0);
	while (len < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

		ck_assert_int_gt(n, 0);
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "retry: 2000\n\n"))
			break;
	}
	ck_assert_ptr_nonnull(strstr(buf, "200 OK"));
	r = strstr(buf, "retry: 2000\n\n");
	ck_assert_ptr_nonnull(r);
	snprintf(rest, sizeof(rest), "%s", r + 13);
	return fd;
}

/* Reads from fd until want bytes, or until the text holds stop (if not
 * NULL) after its first `skip` bytes, or nothing comes for 3 s (a bound
 * for a hang); returns a malloc'd NUL-terminated buffer. */
static char *
read_until(int fd, size_t want, const char *stop, size_t skip)
{
	char *buf = malloc(want + 1);
	size_t len = 0;

	ck_assert_ptr_nonnull(buf);
	len = strlen(rest) < want ? strlen(rest) : want;
	memcpy(buf, rest, len);
	buf[len] = '\0';
	rest[0] = '\0';
	while (len < want &&
	       !(stop && len > skip && strstr(buf + skip, stop))) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 3000) <= 0)
			break;
		n = recv(fd, buf + len, want - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (stop && len > skip && strstr(buf + skip, stop))
			break;
	}
	return buf;
}

#define read_upto(fd, want) read_until(fd, want, NULL, 0)

#define BODY "{\"event\":\"chat\",\"from\":\"al\",\"data\":\"hi\"}"

/* The frame head a message with id id gets, with or without its name. */
static size_t
head(char *out, size_t max, uint64_t id, const char *event)
{
	return (size_t)(event ?
		snprintf(out, max, "id: %llu\nevent: %s\ndata: {\"id\":%llu,",
			 (unsigned long long)id, event,
			 (unsigned long long)id) :
		snprintf(out, max, "id: %llu\ndata: {\"id\":%llu,",
			 (unsigned long long)id, (unsigned long long)id));
}

START_TEST(default_stream_has_no_event_line)
{
	char want[128], *got;
	int fd = open_sse("rooms=plain");
	uint64_t id = publish("plain", BODY);
	size_t n = head(want, sizeof(want), id, NULL);

	got = read_upto(fd, n);
	ck_assert_msg(!strcmp(got, want), "got %s want %s", got, want);
	free(got);
	close(fd);
}
END_TEST

START_TEST(named_stream_has_the_event_line)
{
	char want[128], *got;
	int fd = open_sse("rooms=named&named=1");
	uint64_t id = publish("named", BODY);
	size_t n = head(want, sizeof(want), id, "chat");

	got = read_upto(fd, n);
	ck_assert_msg(!strcmp(got, want), "got %s want %s", got, want);
	free(got);
	close(fd);
}
END_TEST

START_TEST(named_must_be_0_or_1)
{
	struct t_resp r;

	ck_assert_int_eq(t_http(t_port, "GET", "/sse?rooms=a&named=2", NULL,
				NULL, &r), 0);
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "bad_param"));
	t_resp_free(&r);
}
END_TEST

START_TEST(a_frame_bigger_than_a_block_arrives_whole)
{
	size_t dlen = 5000, n;
	char *body = malloc(dlen + 64), *got, want[128];
	uint64_t id, id2;
	int fd;

	for (int named = 0; named < 2; named++) {
		const char *room = named ? "big1" : "big0";

		fd = open_sse(named ? "rooms=big1&named=1" : "rooms=big0");
		n = (size_t)snprintf(body, 64, "{\"event\":\"chat\",\"from\":"
				     "\"al\",\"data\":\"");
		memset(body + n, 'x', dlen);
		memcpy(body + n + dlen, "\"}", 3);
		id = publish(room, body);
		id2 = publish(room, BODY);
		head(want, sizeof(want), id2, named ? "chat" : NULL);
		got = read_until(fd, 2 * dlen, want, 0);
		ck_assert_msg(strstr(got, want), "%.200s", got);
		n = head(want, sizeof(want), id, named ? "chat" : NULL);
		ck_assert_int_eq(strncmp(got, want, n), 0);
		/* the big frame ends, then the next one begins */
		ck_assert_ptr_nonnull(strstr(got, "xxx\",\"ts\":"));
		ck_assert_ptr_nonnull(strstr(got, "}\n\nid: "));
		ck_assert_ptr_null(strstr(got, "\n\n\n"));
		free(got);
		close(fd);
	}
	free(body);
}
END_TEST

START_TEST(gap_notice_is_the_named_event_gap)
{
	struct config cfg;
	char q[128], *got;
	uint64_t first;
	int fd;

	t_config(&cfg);
	cfg.history = 2;
	t_restart(&cfg);
	first = publish("g", BODY);
	publish("g", BODY);
	publish("g", BODY);
	publish("g", BODY);
	snprintf(q, sizeof(q), "rooms=g&since=%llu",
		 (unsigned long long)first);
	fd = open_sse(q);
	got = read_until(fd, 256, "}\n\n", 0);
	ck_assert_msg(!strncmp(got, "event: gap\ndata: {\"since\":", 26),
		      "%s", got);
	free(got);
	close(fd);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("sse_frames");
	TCase *tc = tcase_create("core");

	t_fixture(tc, NULL);
	tcase_add_test(tc, default_stream_has_no_event_line);
	tcase_add_test(tc, named_stream_has_the_event_line);
	tcase_add_test(tc, named_must_be_0_or_1);
	tcase_add_test(tc, a_frame_bigger_than_a_block_arrives_whole);
	tcase_add_test(tc, gap_notice_is_the_named_event_gap);
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
