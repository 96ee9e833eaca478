/* SPDX-License-Identifier: MIT */
/*
 * test_netem: the emulated delay (src/netem.c, netem_http.c). A bad
 * delay or jitter is a 400 on every transport; with ?delay=D a poll is
 * answered no sooner than 2 D after it was sent, and has what was
 * published before; on long poll, SSE and WebSocket a message arrives
 * no sooner than D after its ts, every one of them, in id order (with
 * jitter too). Only lower bounds that the design guarantees are checked,
 * never an upper one.
 */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msg.h"
#include "trun.h"
#include "testlib.h"

#define D 300		/* ms of emulated delay */
#define N 5		/* messages per stream test */

/* Publishes {"data":n} to room; returns its ts, *id its id. */
static int64_t
publish(const char *room, int n, uint64_t *id)
{
	char path[96], body[96];
	struct t_resp r;
	const char *p;
	int64_t ts;

	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	snprintf(body, sizeof(body), "{\"event\":\"ev\",\"from\":\"n\","
		 "\"data\":%d}", n);
	ck_assert_int_eq(t_http(t_port, "POST", path, body, NULL, &r), 0);
	ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
	p = strstr(r.body, "\"id\":");
	ck_assert_ptr_nonnull(p);
	if (id)
		*id = strtoull(p + 5, NULL, 10);
	p = strstr(r.body, "\"ts\":");
	ck_assert_ptr_nonnull(p);
	ts = strtoll(p + 5, NULL, 10);
	t_resp_free(&r);
	return ts;
}

START_TEST(bad_values_are_400_on_every_transport)
{
	static const char *const q[] = {
		"delay=2001", "delay=-1", "delay=1e3", "delay=+1", "jitter=x",
		"jitter=2001",
	};
	static const char *const ep[] = { "/poll", "/longpoll", "/sse" };
	char path[128], req[512];
	struct t_resp r;
	char *out;

	for (size_t i = 0; i < sizeof(q) / sizeof(*q); i++) {
		for (size_t k = 0; k < sizeof(ep) / sizeof(*ep); k++) {
			snprintf(path, sizeof(path), "%s?rooms=lobby&%s",
				 ep[k], q[i]);
			ck_assert_int_eq(t_http(t_port, "GET", path, NULL,
						NULL, &r), 0);
			ck_assert_msg(r.status == 400 &&
				      strstr(r.body, "bad_param"),
				      "%s: %ld %s", path, r.status, r.body);
			t_resp_free(&r);
		}
		snprintf(req, sizeof(req), "GET /ws?%s HTTP/1.1\r\nHost: "
			 "127.0.0.1:%u\r\nUpgrade: websocket\r\nConnection: "
			 "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25j"
			 "ZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", q[i],
			 t_port);
		out = t_raw(t_port, req, 2000);
		ck_assert_ptr_nonnull(out);
		ck_assert_msg(!strncmp(out, "HTTP/1.1 400", 12) &&
			      strstr(out, "bad_param"), "ws %s: %.200s", q[i],
			      out);
		free(out);
	}
}
END_TEST

START_TEST(a_poll_is_answered_after_two_delays)
{
	char path[96];
	struct t_resp r;
	int64_t t0;

	publish("netpoll", 1, NULL);
	snprintf(path, sizeof(path), "/poll?rooms=netpoll&delay=%d", D);
	t0 = im_now_ms();
	ck_assert_int_eq(t_http(t_port, "GET", path, NULL, NULL, &r), 0);
	ck_assert_int_ge(im_now_ms() - t0, 2 * D);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"data\":1"));
	t_resp_free(&r);
}
END_TEST

/* Reads fd until "\"data\":n" (n = 1..upto) all arrived, checking each
 * arrives in order and no sooner than D after its ts[n]. */
static void
read_in_order(int fd, const int64_t *ts, int upto)
{
	char buf[65536];
	size_t len = 0;
	int next = 1;

	while (next <= upto) {
		struct pollfd p = { fd, POLLIN, 0 };
		char want[32];
		ssize_t k;
		int64_t now;

		ck_assert_msg(poll(&p, 1, 10000) == 1, "waiting for %d", next);
		ck_assert_uint_lt(len, sizeof(buf) - 1);
		k = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		ck_assert_int_gt(k, 0);
		now = im_now_ms();
		len += (size_t)k;
		buf[len] = '\0';
		for (;;) {
			char *at;

			snprintf(want, sizeof(want), "\"data\":%d", next);
			at = memmem(buf, len, want, strlen(want));
			if (!at)
				break;
			for (int later = next + 1; later <= upto; later++) {
				snprintf(want, sizeof(want), "\"data\":%d",
					 later);
				ck_assert_msg(!memmem(buf, (size_t)(at - buf),
						      want, strlen(want)),
					      "%d before %d", later, next);
			}
			ck_assert_msg(now >= ts[next] + D, "message %d after "
				      "%" PRId64 " ms", next, now - ts[next]);
			next++;
		}
	}
}

START_TEST(sse_messages_arrive_after_the_delay_in_order)
{
	char req[256];
	int64_t ts[N + 1];
	int fd = t_connect(t_port);

	ck_assert_int_ge(fd, 0);
	snprintf(req, sizeof(req), "GET /sse?rooms=netsse&delay=%d&jitter="
		 "200 HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", D, t_port);
	ck_assert_int_eq(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	/* the stream starts after 2 D: wait for its head */
	{
		char b[4096];
		struct pollfd p = { fd, POLLIN, 0 };

		ck_assert_int_eq(poll(&p, 1, 10000), 1);
		ck_assert_int_gt(recv(fd, b, sizeof(b), 0), 0);
	}
	for (int i = 1; i <= N; i++)
		ts[i] = publish("netsse", i, NULL);
	read_in_order(fd, ts, N);
	close(fd);
}
END_TEST

START_TEST(longpoll_answers_after_the_delay)
{
	char req[256];
	int64_t ts[N + 1];
	int fd = t_connect(t_port);

	ck_assert_int_ge(fd, 0);
	publish("netlp", 0, NULL);
	/* since=now: only what comes next; N published while it waits */
	snprintf(req, sizeof(req), "GET /longpoll?rooms=netlp&delay=%d"
		 "&since=%" PRIu64 "&limit=100 HTTP/1.1\r\nHost: "
		 "127.0.0.1:%u\r\n\r\n", D, (uint64_t)UINT64_MAX / 2, t_port);
	ck_assert_int_eq(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	usleep(3 * D * 1000);	/* held 2 D, then waiting */
	for (int i = 1; i <= N; i++)
		ts[i] = publish("netlp", i, NULL);
	read_in_order(fd, ts, 1);	/* the answer has a visible prefix */
	close(fd);
}
END_TEST

START_TEST(ws_messages_arrive_after_the_delay_in_order)
{
	static const char hello[] = "{\"op\":\"hello\",\"from\":\"n\"}";
	static const char join[] = "{\"op\":\"join\",\"room\":\"netws\"}";
	char req[512], b[4096];
	unsigned char h[6] = { 0x81, 0, 0, 0, 0, 0 };
	int64_t ts[N + 1], t0;
	int fd = t_connect(t_port);
	struct pollfd p = { fd, POLLIN, 0 };

	ck_assert_int_ge(fd, 0);
	snprintf(req, sizeof(req), "GET /ws?delay=%d&jitter=100 HTTP/1.1\r\n"
		 "Host: 127.0.0.1:%u\r\nUpgrade: websocket\r\nConnection: "
		 "Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\n\r\n", D, t_port);
	t0 = im_now_ms();
	ck_assert_int_eq(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	/* frames only after the 101 (bytes before it are lost), which
	 * comes after a round trip */
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	ck_assert_int_gt(recv(fd, b, sizeof(b), 0), 0);
	ck_assert_int_ge(im_now_ms() - t0, 2 * D);
	ck_assert_int_eq(strncmp(b, "HTTP/1.1 101", 12), 0);
	h[1] = 0x80 | (sizeof(hello) - 1);
	send(fd, h, 6, 0);
	send(fd, hello, sizeof(hello) - 1, 0);
	h[1] = 0x80 | (sizeof(join) - 1);
	send(fd, h, 6, 0);
	send(fd, join, sizeof(join) - 1, 0);
	/* the hello and joined replies */
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	ck_assert_int_gt(recv(fd, b, sizeof(b), 0), 0);
	usleep(2 * D * 1000);
	while (poll(&p, 1, 0) == 1 && recv(fd, b, sizeof(b), 0) > 0)
		;
	for (int i = 1; i <= N; i++)
		ts[i] = publish("netws", i, NULL);
	read_in_order(fd, ts, N);
	close(fd);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("netem");
	TCase *tc = tcase_create("netem");

	tcase_set_timeout(tc, 60);
	t_fixture(tc, NULL);
	tcase_add_test(tc, bad_values_are_400_on_every_transport);
	tcase_add_test(tc, a_poll_is_answered_after_two_delays);
	tcase_add_test(tc, sse_messages_arrive_after_the_delay_in_order);
	tcase_add_test(tc, longpoll_answers_after_the_delay);
	tcase_add_test(tc, ws_messages_arrive_after_the_delay_in_order);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
