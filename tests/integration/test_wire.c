/* SPDX-License-Identifier: MIT */
/*
 * test_wire: the wire meters (src/wire.c) against a raw client that
 * counts every byte it sends and receives. On each transport the client
 * talks over its own sockets, half-closes and reads until the server
 * closes, so both sides saw the whole exchange; then the server's
 * GET /api/clients/{cid} must show exactly those figures (bytes up and
 * down, requests, connections). Also: /api/stats and /metrics carry the
 * totals, /api/clients/{cid}/wire the heads (the first one exact, the
 * WebSocket 101 the one the client read), unknown and bad cids.
 */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <json-c/json.h>

#include "trun.h"
#include "testlib.h"

#define BUFSZ 65536

/* A raw connection and what crossed it. */
struct raw {
	int fd;
	unsigned long long up, down;
	char buf[BUFSZ];	/* what was received, NUL-terminated */
	size_t len;
};

static void
raw_open(struct raw *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = t_connect(t_port);
	ck_assert_int_ge(r->fd, 0);
}

static void
raw_send(struct raw *r, const void *p, size_t n)
{
	const char *s = p;

	while (n) {
		ssize_t k = send(r->fd, s, n, MSG_NOSIGNAL);

		ck_assert_msg(k > 0, "send: %s", strerror(errno));
		r->up += (unsigned long long)k;
		s += k;
		n -= (size_t)k;
	}
}

static void
raw_sends(struct raw *r, const char *s)
{
	raw_send(r, s, strlen(s));
}

/* Reads what is there within ms; returns bytes read, 0 at EOF, -1 on
 * timeout. */
static int
raw_read(struct raw *r, int ms)
{
	struct pollfd pfd = { r->fd, POLLIN, 0 };
	ssize_t k;

	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	ck_assert_uint_lt(r->len, BUFSZ - 1);
	k = recv(r->fd, r->buf + r->len, BUFSZ - 1 - r->len, 0);
	if (k <= 0)
		return 0;
	r->down += (unsigned long long)k;
	r->len += (size_t)k;
	r->buf[r->len] = '\0';
	return (int)k;
}

/* Reads until buf holds s n times (after from). */
static void
raw_until(struct raw *r, const char *s, int n)
{
	for (int tries = 0; tries < 100; tries++) {
		const char *p = r->buf, *end = r->buf + r->len;
		int seen = 0;

		/* frames may hold NUL bytes: memmem, not strstr */
		while ((p = memmem(p, (size_t)(end - p), s, strlen(s)))) {
			seen++;
			p += strlen(s);
		}
		if (seen >= n)
			return;
		if (!raw_read(r, 100))
			break;
	}
	ck_abort_msg("never got %d x \"%s\": %.300s", n, s, r->buf);
}

/* Reads until buf holds n whole responses with Content-Length. */
static void
raw_responses(struct raw *r, int n)
{
	for (int tries = 0; tries < 100; tries++) {
		const char *p = r->buf;
		int whole = 0;

		while (p && *p) {
			const char *end = strstr(p, "\r\n\r\n");
			const char *cl = strstr(p, "Content-Length: ");
			size_t len;

			if (!end || !cl || cl > end)
				break;
			len = strtoul(cl + 16, NULL, 10);
			if ((size_t)(r->buf + r->len - (end + 4)) < len)
				break;
			whole++;
			p = end + 4 + len;
		}
		if (whole >= n)
			return;
		if (!raw_read(r, 100))
			break;
	}
	ck_abort_msg("never got %d responses: %.300s", n, r->buf);
}

/* Half-closes and reads until the server closes. */
static void
raw_finish(struct raw *r)
{
	int tries;

	shutdown(r->fd, SHUT_WR);
	for (tries = 0; tries < 100; tries++)
		if (!raw_read(r, 100))
			break;
	ck_assert_int_lt(tries, 100);
	close(r->fd);
	r->fd = -1;
}

/* Reads what else comes within 300 ms, then closes with a reset (SO_LINGER
 * 0): a stream does not end on a half-close (its heartbeat still goes
 * through), but on a reset its next peek or write fails. */
static void
raw_reset(struct raw *r)
{
	struct linger lg = { 1, 0 };

	while (raw_read(r, 300) > 0)
		;
	ck_assert_int_eq(setsockopt(r->fd, SOL_SOCKET, SO_LINGER, &lg,
				    sizeof(lg)), 0);
	close(r->fd);
	r->fd = -1;
}

/* Returns GET path's JSON (status want), parsed; the caller puts it. */
static struct json_object *
get_json(const char *path, long want)
{
	struct t_resp resp;
	struct json_object *o;

	ck_assert_int_eq(t_http(t_port, "GET", path, NULL, NULL, &resp), 0);
	ck_assert_msg(resp.status == want, "%s: %ld %s", path, resp.status,
		      resp.body);
	o = json_tokener_parse(resp.body);
	ck_assert_ptr_nonnull(o);
	t_resp_free(&resp);
	return o;
}

static long long
field(struct json_object *o, const char *tp, const char *k)
{
	struct json_object *t, *x, *v;

	ck_assert(json_object_object_get_ex(o, "transports", &t));
	ck_assert(json_object_object_get_ex(t, tp, &x));
	ck_assert(json_object_object_get_ex(x, k, &v));
	return json_object_get_int64(v);
}

/* Waits until cid's figures for tp are the client's (the server charges
 * a connection when it closes it, a moment after the client saw EOF). */
static void
expect(const char *cid, const char *tp, const struct raw *r, int requests,
       int conns)
{
	char path[128];
	struct json_object *o = NULL;

	snprintf(path, sizeof(path), "/api/clients/%s", cid);
	for (int tries = 0; tries < 50; tries++) {
		if (o)
			json_object_put(o);
		o = get_json(path, 200);
		if (field(o, tp, "bytes_up") == (long long)r->up &&
		    field(o, tp, "bytes_down") == (long long)r->down)
			break;
		usleep(100 * 1000);
	}
	ck_assert_int_eq(field(o, tp, "bytes_up"), (long long)r->up);
	ck_assert_int_eq(field(o, tp, "bytes_down"), (long long)r->down);
	ck_assert_int_eq(field(o, tp, "requests"), requests);
	ck_assert_int_eq(field(o, tp, "connections"), conns);
	json_object_put(o);
}

static char *
request(const char *path)
{
	char *s;

	ck_assert_int_gt(asprintf(&s, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u"
				  "\r\nUser-Agent: test_wire\r\n\r\n", path,
				  t_port), 0);
	return s;
}

START_TEST(poll_bytes_match_a_raw_client)
{
	struct raw r;
	char *q = request("/poll?rooms=lobby&cid=wirepoll0001");
	struct json_object *o, *recs, *rec, *v;

	raw_open(&r);
	for (int i = 1; i <= 3; i++) {
		raw_sends(&r, q);
		raw_responses(&r, i);
	}
	raw_finish(&r);
	expect("wirepoll0001", "poll", &r, 3, 1);
	/* a second connection counts as one more */
	raw_open(&r);
	raw_sends(&r, q);
	raw_responses(&r, 1);
	raw_finish(&r);
	o = get_json("/api/clients/wirepoll0001", 200);
	ck_assert_int_eq(field(o, "poll", "connections"), 2);
	ck_assert_int_eq(field(o, "poll", "requests"), 4);
	ck_assert_int_eq(field(o, "sse", "requests"), 0);
	json_object_put(o);
	/* the records: the first head of a connection is the bytes sent */
	o = get_json("/api/clients/wirepoll0001/wire", 200);
	ck_assert(json_object_object_get_ex(o, "records", &recs));
	ck_assert_int_eq(json_object_array_length(recs), 4);
	rec = json_object_array_get_idx(recs, 0);
	ck_assert(json_object_object_get_ex(rec, "request", &v));
	ck_assert_str_eq(json_object_get_string(v), q);
	ck_assert(json_object_object_get_ex(rec, "exact", &v));
	ck_assert(json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(rec, "response", &v));
	ck_assert_ptr_nonnull(strstr(json_object_get_string(v),
				     "HTTP/1.1 200 OK\r\n"));
	rec = json_object_array_get_idx(recs, 1);
	ck_assert(json_object_object_get_ex(rec, "exact", &v));
	ck_assert(!json_object_get_boolean(v));
	json_object_put(o);
	free(q);
}
END_TEST

START_TEST(shared_connection_charges_each_request_to_its_cid)
{
	/* a browser shares its sockets: a lane's polls, the sender's
	 * publishes and the page's reads take turns on one connection */
	struct raw r;
	char *q = request("/poll?rooms=lobby&cid=wireshare001");
	char *other = request("/api/info");
	unsigned long long up = 0, down = 0, mark;

	raw_open(&r);
	raw_sends(&r, q);
	raw_responses(&r, 1);
	up += r.up;
	down += r.down;
	raw_sends(&r, other);
	raw_responses(&r, 2);
	mark = r.down;
	raw_sends(&r, q);
	raw_responses(&r, 3);
	up += strlen(q);
	down += r.down - mark;
	raw_finish(&r);
	r.up = up;
	r.down = down;
	expect("wireshare001", "poll", &r, 2, 1);
	free(q);
	free(other);
}
END_TEST

START_TEST(longpoll_bytes_match_a_raw_client)
{
	struct raw r;
	char *q = request("/longpoll?rooms=lobby&cid=wirelong0001&timeout=1");

	raw_open(&r);
	raw_sends(&r, q);
	raw_responses(&r, 1);
	raw_sends(&r, q);
	raw_responses(&r, 2);
	raw_finish(&r);
	expect("wirelong0001", "longpoll", &r, 2, 1);
	free(q);
}
END_TEST

START_TEST(sse_bytes_match_a_raw_client)
{
	struct raw r;
	char *q = request("/sse?rooms=lobby&cid=wiresse00001");
	struct t_resp resp;

	raw_open(&r);
	raw_sends(&r, q);
	raw_until(&r, "retry: ", 1);
	raw_until(&r, "\"join\"", 1);
	ck_assert_int_eq(t_http(t_port, "POST", "/api/rooms/lobby/messages",
				"{\"event\":\"ev\",\"from\":\"g\",\"data\":1}",
				NULL, &resp), 0);
	ck_assert_int_eq(resp.status, 201);
	t_resp_free(&resp);
	raw_until(&r, "\"ev\"", 1);
	raw_reset(&r);
	expect("wiresse00001", "sse", &r, 1, 1);
	free(q);
}
END_TEST

/* Sends a masked text frame (the mask 0: the payload as it is). */
static void
ws_text(struct raw *r, const char *s)
{
	unsigned char h[8];
	size_t n = strlen(s);

	ck_assert_uint_lt(n, 126);
	h[0] = 0x81;
	h[1] = (unsigned char)(0x80 | n);
	memset(h + 2, 0, 4);
	raw_send(r, h, 6);
	raw_send(r, s, n);
}

START_TEST(ws_bytes_match_a_raw_client)
{
	struct raw r;
	char *q;
	struct json_object *o, *recs, *rec, *v;
	const char *end;

	ck_assert_int_gt(asprintf(&q, "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%u"
				  "\r\nUpgrade: websocket\r\nConnection: "
				  "Upgrade\r\nSec-WebSocket-Key: "
				  "dGhlIHNhbXBsZSBub25jZQ==\r\n"
				  "Sec-WebSocket-Version: 13\r\n\r\n",
				  t_port), 0);
	raw_open(&r);
	raw_sends(&r, q);
	raw_until(&r, "\r\n\r\n", 1);
	/* RFC 6455's own example key and its accept */
	ck_assert_ptr_nonnull(strstr(r.buf, "Sec-WebSocket-Accept: "
				     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
	ws_text(&r, "{\"op\":\"hello\",\"cid\":\"wirews000001\","
		"\"from\":\"w\"}");
	raw_until(&r, "\"hello\"", 1);
	ws_text(&r, "{\"op\":\"join\",\"room\":\"lobby\"}");
	raw_until(&r, "\"joined\"", 1);
	ws_text(&r, "{\"op\":\"send\",\"room\":\"lobby\",\"event\":\"ev\","
		"\"data\":2}");
	raw_until(&r, "\"ev\"", 1);
	raw_until(&r, "\"ack\"", 1);
	raw_send(&r, "\x88\x82\0\0\0\0\x03\xe8", 8);	/* close 1000 */
	raw_finish(&r);
	/* requests: the 3 messages (control frames are not counted) */
	expect("wirews000001", "ws", &r, 3, 1);
	/* the handshake record: the request sent, the 101 received */
	o = get_json("/api/clients/wirews000001/wire", 200);
	ck_assert(json_object_object_get_ex(o, "records", &recs));
	ck_assert_int_eq(json_object_array_length(recs), 1);
	rec = json_object_array_get_idx(recs, 0);
	ck_assert(json_object_object_get_ex(rec, "transport", &v));
	ck_assert_str_eq(json_object_get_string(v), "ws");
	ck_assert(json_object_object_get_ex(rec, "request", &v));
	ck_assert_str_eq(json_object_get_string(v), q);
	ck_assert(json_object_object_get_ex(rec, "response", &v));
	end = strstr(r.buf, "\r\n\r\n");
	ck_assert_int_eq(strncmp(json_object_get_string(v), r.buf,
				 (size_t)(end + 4 - r.buf)), 0);
	json_object_put(o);
	free(q);
}
END_TEST

START_TEST(stats_metrics_and_unknown_cids)
{
	struct raw r;
	char *q = request("/poll?rooms=lobby&cid=wirestat0001");
	struct json_object *o;
	struct t_resp resp;

	raw_open(&r);
	raw_sends(&r, q);
	raw_responses(&r, 1);
	raw_finish(&r);
	expect("wirestat0001", "poll", &r, 1, 1);
	o = get_json("/api/stats", 200);
	ck_assert_int_ge(field(o, "poll", "bytes_received"),
			 (long long)r.up);
	ck_assert_int_ge(field(o, "poll", "bytes_sent"), (long long)r.down);
	ck_assert_int_ge(field(o, "poll", "connections"), 1);
	ck_assert_int_ge(field(o, "poll", "requests"), 1);
	json_object_put(o);
	ck_assert_int_eq(t_http(t_port, "GET", "/metrics", NULL, NULL, &resp),
			 0);
	ck_assert_ptr_nonnull(strstr(resp.body,
		"imlab_connections_opened_total{transport=\"poll\"} "));
	ck_assert_ptr_nonnull(strstr(resp.body,
		"imlab_bytes_sent_total{transport=\"sse\"} "));
	t_resp_free(&resp);
	o = get_json("/api/clients/nobodyatall1", 404);
	json_object_put(o);
	o = get_json("/api/clients/x!", 400);
	json_object_put(o);
	free(q);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("wire");

	tcase_set_timeout(tc, 60);
	t_fixture(tc, NULL);
	tcase_add_test(tc, poll_bytes_match_a_raw_client);
	tcase_add_test(tc, shared_connection_charges_each_request_to_its_cid);
	tcase_add_test(tc, longpoll_bytes_match_a_raw_client);
	tcase_add_test(tc, sse_bytes_match_a_raw_client);
	tcase_add_test(tc, ws_bytes_match_a_raw_client);
	tcase_add_test(tc, stats_metrics_and_unknown_cids);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
