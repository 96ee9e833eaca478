/* SPDX-License-Identifier: MIT */
/*
 * test_netem: the emulated delay (src/netem.c, netem_http.c). A bad
 * delay or jitter is a 400 on every transport; with ?delay=D a poll is
 * answered no sooner than 2 D after it was sent, and has what was
 * published before; on long poll, SSE and WebSocket a message arrives
 * no sooner than D after its ts, every one of them, in id order (with
 * jitter too). On /ws the client's messages are held too (ws_netem.c):
 * a reply (hello, joined, ack, pong) comes no sooner than 2 D after its
 * message was sent, in the order the messages were sent; a client with
 * more held than the bounds is closed with 1008, and the server goes on
 * serving. Only lower bounds that the design guarantees are checked,
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
#include "wsclient.h"
#include "ws_netem.h"

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

/* Opens /ws?delay=d (and jitter) on c: the upgrade takes 2 d. */
static void
ws_open(struct t_ws *c, int d, int jitter)
{
	char path[64];

	snprintf(path, sizeof(path), "/ws?delay=%d&jitter=%d", d, jitter);
	ck_assert_int_eq(t_ws_connect_path(c, t_port, path, NULL, 10000),
			 101);
}

/* Sends text on c and waits for the reply op; returns the ms between. */
static int64_t
ws_round_trip(struct t_ws *c, const char *text, const char *op,
	      const char *has)
{
	int64_t t0 = im_now_ms();
	char *m;

	ck_assert_int_eq(t_ws_send(c, text), 0);
	m = t_ws_wait_op(c, op, 10000);
	ck_assert_msg(m != NULL, "no %s for %s", op, text);
	ck_assert_msg(!has || strstr(m, has), "%s: %s", text, m);
	free(m);
	return im_now_ms() - t0;
}

START_TEST(ws_replies_come_after_two_delays)
{
	struct t_ws c;
	int64_t ms;

	ws_open(&c, D, 0);
	ms = ws_round_trip(&c, "{\"op\":\"hello\",\"from\":\"n\",\"cid\":"
			   "\"netcid01\",\"ref\":1}", "hello", "\"ref\":1");
	ck_assert_msg(ms >= 2 * D, "hello after %" PRId64 " ms", ms);
	ms = ws_round_trip(&c, "{\"op\":\"join\",\"room\":\"netack\","
			   "\"ref\":2}", "joined", "\"ref\":2");
	ck_assert_msg(ms >= 2 * D, "joined after %" PRId64 " ms", ms);
	ms = ws_round_trip(&c, "{\"op\":\"send\",\"room\":\"netack\","
			   "\"event\":\"ev\",\"data\":1,\"ref\":3}", "ack",
			   "\"ref\":3");
	ck_assert_msg(ms >= 2 * D, "ack after %" PRId64 " ms", ms);
	/* an error reply is held as well */
	ms = ws_round_trip(&c, "{\"op\":\"nope\",\"ref\":4}", "error",
			   "unknown_op");
	ck_assert_msg(ms >= 2 * D, "error after %" PRId64 " ms", ms);
	t_ws_close(&c);
}
END_TEST

START_TEST(ws_held_messages_run_in_order)
{
	enum { K = 12 };
	int64_t sent[K];
	struct t_ws c;
	char *m;

	ws_open(&c, D, 150);	/* jitter must not reorder */
	for (int i = 0; i < K; i++) {
		sent[i] = im_now_ms();
		ck_assert_int_eq(t_ws_sendf(&c, "{\"op\":\"ping\",\"t\":%d}",
					    i), 0);
	}
	for (int i = 0; i < K; i++) {
		char want[32];
		int64_t now;

		m = t_ws_wait_op(&c, "pong", 10000);
		now = im_now_ms();
		ck_assert_ptr_nonnull(m);
		snprintf(want, sizeof(want), "\"t\":%d,", i);
		ck_assert_msg(strstr(m, want), "pong %d: %s", i, m);
		ck_assert_msg(now - sent[i] >= 2 * D, "pong %d after %" PRId64
			      " ms", i, now - sent[i]);
		free(m);
	}
	t_ws_close(&c);
}
END_TEST

/* A new client, with and without a delay, still gets its pong. */
static void
still_serving(void)
{
	struct t_ws c;

	ck_assert_int_eq(t_ws_connect(&c, t_port, NULL, 10000), 101);
	ws_round_trip(&c, "{\"op\":\"ping\"}", "pong", NULL);
	t_ws_close(&c);
	ws_open(&c, 50, 0);
	ws_round_trip(&c, "{\"op\":\"ping\"}", "pong", NULL);
	t_ws_close(&c);
}

START_TEST(ws_flood_over_the_held_count_closes_1008)
{
	struct t_ws c;

	/* a long delay: all of them are held when the last arrives; one
	 * over and no more (bytes after the close would reset it) */
	ws_open(&c, 1500, 0);
	for (int i = 0; i < WS_NETEM_MSGS + 1; i++)
		ck_assert_int_eq(t_ws_send(&c, "{\"op\":\"ping\"}"), 0);
	ck_assert_int_eq(t_ws_closed(&c, 10000), 1008);
	t_ws_drop(&c);
	still_serving();
}
END_TEST

START_TEST(ws_flood_over_the_held_bytes_closes_1008)
{
	struct config cfg;
	char big[256];
	struct t_ws c;

	t_config(&cfg);
	cfg.ws_max_msg = 256;	/* the least: held bytes at most 4 x 256 */
	t_restart(&cfg);
	snprintf(big, sizeof(big), "{\"op\":\"ping\",\"t\":\"%0*d\"}", 200,
		 0);
	ws_open(&c, 1500, 0);
	for (int i = 0; i < WS_NETEM_BYTES_MUL + 1; i++)
		ck_assert_int_eq(t_ws_send(&c, big), 0);
	ck_assert_int_eq(t_ws_closed(&c, 10000), 1008);
	t_ws_drop(&c);
	still_serving();
}
END_TEST

START_TEST(ws_without_delay_replies_at_once)
{
	struct t_ws c;

	/* delay=0 is no emulation: the same path as no parameter */
	ws_open(&c, 0, 0);
	ws_round_trip(&c, "{\"op\":\"hello\",\"from\":\"n\"}", "hello",
		      NULL);
	for (int i = 0; i < 3 * WS_NETEM_MSGS; i++)
		ck_assert_int_eq(t_ws_send(&c, "{\"op\":\"ping\"}"), 0);
	for (int i = 0; i < 3 * WS_NETEM_MSGS; i++) {
		char *m = t_ws_wait_op(&c, "pong", 10000);

		ck_assert_ptr_nonnull(m);
		free(m);
	}
	t_ws_close(&c);
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
	tcase_add_test(tc, ws_replies_come_after_two_delays);
	tcase_add_test(tc, ws_held_messages_run_in_order);
	tcase_add_test(tc, ws_flood_over_the_held_count_closes_1008);
	tcase_add_test(tc, ws_flood_over_the_held_bytes_closes_1008);
	tcase_add_test(tc, ws_without_delay_replies_at_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
