/* SPDX-License-Identifier: MIT */
/*
 * test_ws: the WebSocket transport over real sockets, against an
 * in-process server on 127.0.0.1 port 0, with the raw RFC 6455 client of
 * wsclient.c: the ops (hello, join, leave, send, ping) and their replies,
 * errors that keep the connection open, the size limit (close 1009), the
 * Origin check, several rooms per connection, presence ending with the
 * connection, batching of bursts into msgs frames, gaps, and a reader too
 * slow to keep up.
 */
#include "autoconf.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "trun.h"
#include "tdriver.h"
#include "testlib.h"
#include "wsclient.h"

#define T 5000			/* ms a reply may take */

/* What a client received: envelopes in arrival order, frames by kind. */
struct got {
	uint64_t id[8192];
	char room[8192][16];
	char event[8192][16];
	char via[8192][8];
	size_t n;
	unsigned msg_frames, msgs_frames, gaps;
};

static void
ws_open(struct t_ws *c)
{
	ck_assert_int_eq(t_ws_connect(c, t_port, NULL, T), 101);
}

/* Waits for the next frame with op; returns it parsed. */
static struct json_object *
expect_op(struct t_ws *c, const char *op)
{
	char *m = t_ws_wait_op(c, op, T);
	struct json_object *o;

	ck_assert_msg(m != NULL, "no %s frame arrived", op);
	o = json_tokener_parse(m);
	ck_assert_msg(o != NULL, "bad JSON from the server: %s", m);
	free(m);
	return o;
}

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

static int64_t
jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	return json_object_get_int64(v);
}

static void
hello(struct t_ws *c, const char *cid, const char *from)
{
	struct json_object *o;

	ck_assert_int_eq(t_ws_sendf(c, "{\"op\":\"hello\",\"cid\":\"%s\","
				    "\"from\":\"%s\"}", cid, from), 0);
	o = expect_op(c, "hello");
	ck_assert_int_eq(strlen(jstr(o, "pid")), MSG_PID_LEN);
	json_object_put(o);
}

/* Joins room after since; returns the joined frame's last_id. */
static uint64_t
join(struct t_ws *c, const char *room, uint64_t since)
{
	struct json_object *o;
	uint64_t last;

	ck_assert_int_eq(t_ws_sendf(c, "{\"op\":\"join\",\"room\":\"%s\","
				    "\"since\":%" PRIu64 "}", room, since), 0);
	o = expect_op(c, "joined");
	ck_assert_str_eq(jstr(o, "room"), room);
	last = (uint64_t)jint(o, "last_id");
	json_object_put(o);
	return last;
}

static void
add_env(struct got *g, struct json_object *e)
{
	if (g->n >= 8192)
		return;
	g->id[g->n] = (uint64_t)jint(e, "id");
	snprintf(g->room[g->n], 16, "%s", jstr(e, "room"));
	snprintf(g->event[g->n], 16, "%s", jstr(e, "event"));
	snprintf(g->via[g->n], 8, "%s", jstr(e, "via"));
	g->n++;
}

/* Collects deliveries until g holds want envelopes or timeout_ms passes;
 * other frames are dropped. Returns g->n. */
static size_t
collect(struct t_ws *c, struct got *g, size_t want, int timeout_ms)
{
	int64_t deadline = im_mono_ms() + timeout_ms;

	while (g->n < want) {
		int64_t left = deadline - im_mono_ms();
		struct json_object *o, *v;
		const char *op;
		char *m;
		size_t len;

		if (left <= 0 || t_ws_recv(c, (int)left, &m, &len) != 1)
			break;
		o = json_tokener_parse(m);
		ck_assert_msg(o != NULL, "bad JSON from the server: %.80s", m);
		free(m);
		op = jstr(o, "op");
		if (!strcmp(op, "msg")) {
			g->msg_frames++;
			json_object_object_get_ex(o, "msg", &v);
			add_env(g, v);
		} else if (!strcmp(op, "msgs")) {
			g->msgs_frames++;
			json_object_object_get_ex(o, "msgs", &v);
			for (size_t i = 0; i < json_object_array_length(v); i++)
				add_env(g, json_object_array_get_idx(v, i));
		} else if (!strcmp(op, "gap")) {
			g->gaps++;
		}
		json_object_put(o);
	}
	return g->n;
}

static struct got *
got_new(void)
{
	struct got *g = calloc(1, sizeof(*g));

	ck_assert_ptr_nonnull(g);
	return g;
}

static uint64_t
publish(const char *room, const char *event, const char *data_json)
{
	struct json_object *d = json_tokener_parse(data_json);
	struct hub_pub p = { .room = room, .event = event, .from = "tester",
			     .via = VIA_API, .data = d };
	struct hub_ack ack;
	struct im_error e;

	ck_assert_int_eq(hub_publish(&t_srv->hub, &p, &ack, &e), IM_OK);
	json_object_put(d);
	return ack.id;
}

/* Waits until room has n members (bounded); returns the count. */
static size_t
members_become(const char *room, size_t n)
{
	struct room_member_info info[4];
	struct room *r = rooms_get(t_srv->rs, room, 0, NULL);
	size_t m = 0;

	for (int i = 0; r && i < 200; i++) {
		m = rooms_members(t_srv->rs, r, info, 4);
		if (m == n)
			break;
		usleep(10000);
	}
	return m;
}

START_TEST(hello_join_send_gets_ack_and_own_message)
{
	struct t_ws c;
	struct json_object *o;
	struct got *g = got_new();
	uint64_t id;

	ws_open(&c);
	hello(&c, "alice-cid-0001", "alice");
	ck_assert_uint_eq(join(&c, "lobby", 0), 0);
	/* own join (presence) first */
	ck_assert_uint_eq(collect(&c, g, 1, T), 1);
	ck_assert_str_eq(g->event[0], "join");
	ck_assert_int_eq(t_ws_send(&c, "{\"op\":\"send\",\"room\":\"lobby\","
				   "\"event\":\"chat\",\"data\":{\"text\":"
				   "\"hi\"},\"ref\":7}"), 0);
	o = expect_op(&c, "ack");
	ck_assert_int_eq(jint(o, "ref"), 7);
	id = (uint64_t)jint(o, "id");
	ck_assert_int_gt(jint(o, "ts"), 1700000000000LL);
	json_object_put(o);
	/* then the chat message, sent via ws */
	ck_assert_uint_eq(collect(&c, g, 2, T), 2);
	ck_assert_str_eq(g->event[1], "chat");
	ck_assert_uint_eq(g->id[1], id);
	ck_assert_str_eq(g->via[1], "ws");
	ck_assert_uint_gt(atomic_load(&t_srv->stats.tp[VIA_WS].delivered), 1);
	ck_assert_uint_gt(atomic_load(&t_srv->stats.tp[VIA_WS].bytes_in), 0);
	ck_assert_int_eq(atomic_load(&t_srv->stats.tp[VIA_WS].open), 1);
	t_ws_close(&c);
	free(g);
}
END_TEST

START_TEST(ping_answers_pong_with_server_time)
{
	struct t_ws c;
	struct json_object *o;
	int64_t before = im_now_ms(), after;

	ws_open(&c);
	ck_assert_int_eq(t_ws_send(&c, "{\"op\":\"ping\",\"ref\":3,"
				   "\"t\":12345.5}"), 0);
	o = expect_op(&c, "pong");
	after = im_now_ms();
	ck_assert_int_eq(jint(o, "ref"), 3);
	ck_assert_ptr_nonnull(strstr(json_object_to_json_string_ext(o,
				     JSON_C_TO_STRING_PLAIN), "\"t\":12345.5"));
	ck_assert_int_ge(jint(o, "ts"), before);
	ck_assert_int_le(jint(o, "ts"), after);
	json_object_put(o);
	t_ws_close(&c);
}
END_TEST

/* Sends text and expects an error frame with code (and ref if >= 0). */
static void
expect_error(struct t_ws *c, const char *text, const char *code, int ref)
{
	struct json_object *o;

	ck_assert_int_eq(t_ws_send(c, text), 0);
	o = expect_op(c, "error");
	ck_assert_str_eq(jstr(o, "code"), code);
	ck_assert_ptr_nonnull(jstr(o, "message"));
	if (ref >= 0)
		ck_assert_int_eq(jint(o, "ref"), ref);
	json_object_put(o);
}

START_TEST(bad_input_gets_error_frame_and_connection_stays)
{
	struct t_ws c;
	struct json_object *o;

	ws_open(&c);
	hello(&c, "bob-cid-00001", "bob");
	expect_error(&c, "{\"op\":\"send\",\"room\":\"lobby\",\"event\":"
		     "\"bad event!\",\"data\":1,\"ref\":9}", "bad_event", 9);
	expect_error(&c, "{\"op\":\"send\",\"room\":\"no/room\",\"event\":"
		     "\"chat\",\"data\":1,\"ref\":10}", "bad_room", 10);
	expect_error(&c, "{\"op\":\"send\",\"room\":\"lobby\",\"event\":"
		     "\"chat\",\"data\":1,\"to\":\"all\",\"ref\":11}",
		     "bad_target", 11);
	expect_error(&c, "{\"op\":\"fly\",\"ref\":12}", "unknown_op", 12);
	expect_error(&c, "{\"ref\":13}", "bad_op", 13);
	expect_error(&c, "{not json", "bad_json", -1);
	expect_error(&c, "[1,2]", "bad_json", -1);
	expect_error(&c, "{\"op\":\"join\",\"room\":\"a\",\"since\":-1,"
		     "\"ref\":14}", "bad_since", 14);
	expect_error(&c, "{\"op\":\"leave\",\"room\":\"a\",\"ref\":15}",
		     "not_joined", 15);
	/* a string ref comes back as it was sent */
	ck_assert_int_eq(t_ws_send(&c, "{\"op\":\"nope\",\"ref\":\"x-1\"}"),
			 0);
	o = expect_op(&c, "error");
	ck_assert_str_eq(jstr(o, "ref"), "x-1");
	json_object_put(o);
	/* binary frames are refused politely too */
	ck_assert_int_eq(t_ws_send_frame(&c, T_WS_BINARY, 1, "{}", 2), 0);
	json_object_put(expect_op(&c, "error"));
	/* still open and working */
	ck_assert_int_eq(t_ws_send(&c, "{\"op\":\"ping\",\"ref\":1}"), 0);
	json_object_put(expect_op(&c, "pong"));
	t_ws_close(&c);
}
END_TEST

START_TEST(send_before_hello_is_an_error)
{
	struct t_ws c;

	ws_open(&c);
	expect_error(&c, "{\"op\":\"send\",\"room\":\"lobby\",\"event\":"
		     "\"chat\",\"data\":1,\"ref\":1}", "no_hello", 1);
	expect_error(&c, "{\"op\":\"hello\",\"cid\":\"short\",\"from\":\"x\","
		     "\"ref\":2}", "bad_cid", 2);
	expect_error(&c, "{\"op\":\"hello\",\"cid\":\"long-enough-1\","
		     "\"ref\":3}", "bad_from", 3);
	/* after a good hello, send works */
	hello(&c, "carol-cid-0001", "carol");
	ck_assert_int_eq(t_ws_send(&c, "{\"op\":\"send\",\"room\":\"lobby\","
				   "\"event\":\"chat\",\"data\":1,\"ref\":4}"),
			 0);
	json_object_put(expect_op(&c, "ack"));
	t_ws_close(&c);
}
END_TEST

START_TEST(big_and_fragmented_messages_are_reassembled)
{
	struct t_ws c;
	struct json_object *o;
	static char big[20000];
	int n;

	ws_open(&c);
	hello(&c, "dave-cid-0001", "dave");
	/* one frame much bigger than the server's rx buffer */
	n = snprintf(big, sizeof(big), "{\"op\":\"send\",\"room\":\"r\","
		     "\"event\":\"chat\",\"ref\":5,\"data\":\"");
	memset(big + n, 'x', 15000);
	memcpy(big + n + 15000, "\"}", 3);
	ck_assert_int_eq(t_ws_send(&c, big), 0);
	o = expect_op(&c, "ack");
	ck_assert_int_eq(jint(o, "ref"), 5);
	json_object_put(o);
	/* a message in three frames */
	ck_assert_int_eq(t_ws_send_frame(&c, T_WS_TEXT, 0, "{\"op\":", 6), 0);
	ck_assert_int_eq(t_ws_send_frame(&c, 0, 0, "\"ping\",", 7), 0);
	ck_assert_int_eq(t_ws_send_frame(&c, 0, 1, "\"ref\":6}", 8), 0);
	o = expect_op(&c, "pong");
	ck_assert_int_eq(jint(o, "ref"), 6);
	json_object_put(o);
	t_ws_close(&c);
}
END_TEST

START_TEST(too_large_message_closes_1009)
{
	struct config cfg;
	struct t_ws c;
	static char big[3000];
	char *m;
	size_t len;
	int rc;

	t_config(&cfg);
	cfg.ws_max_msg = 1024;
	t_restart(&cfg);

	/* in one frame */
	ws_open(&c);
	memset(big, ' ', sizeof(big) - 1);
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	ck_assert_int_eq(t_ws_send(&c, big), 0);
	while ((rc = t_ws_recv(&c, T, &m, &len)) == 1)
		free(m);
	ck_assert_int_eq(rc, -1);
	ck_assert_uint_eq(c.close_code, 1009);
	t_ws_drop(&c);

	/* in fragments that only add up to too much */
	ws_open(&c);
	for (int i = 0; i < 3; i++)
		t_ws_send_frame(&c, i ? 0 : T_WS_TEXT, i == 2, big, 500);
	while ((rc = t_ws_recv(&c, T, &m, &len)) == 1)
		free(m);
	ck_assert_int_eq(rc, -1);
	ck_assert_uint_eq(c.close_code, 1009);
	t_ws_drop(&c);

	/* just under the limit is fine */
	ws_open(&c);
	big[1000] = '}';
	big[1001] = '\0';
	expect_error(&c, big, "bad_op", -1);
	t_ws_close(&c);
}
END_TEST

START_TEST(origin_checked)
{
	struct config cfg;
	struct t_ws c;
	char hdr[128];

	ck_assert_int_eq(t_ws_connect(&c, t_port,
				      "Origin: http://evil.example\r\n", T),
			 403);
	ck_assert_int_eq(t_ws_connect(&c, t_port, "Origin: null\r\n", T), 403);
	snprintf(hdr, sizeof(hdr), "Origin: http://127.0.0.1:%u\r\n", t_port);
	ck_assert_int_eq(t_ws_connect(&c, t_port, hdr, T), 101);
	t_ws_close(&c);
	/* a different port of the same host is another origin */
	snprintf(hdr, sizeof(hdr), "Origin: http://127.0.0.1:%u\r\n",
		 (unsigned)(t_port == 1 ? 2 : t_port - 1));
	ck_assert_int_ne(t_ws_connect(&c, t_port, hdr, T), 101);

	t_config(&cfg);
	cfg.allow_origin = "https://app.example, http://other.example";
	t_restart(&cfg);
	ck_assert_int_eq(t_ws_connect(&c, t_port,
				      "Origin: https://app.example\r\n", T),
			 101);
	t_ws_close(&c);
	ck_assert_int_eq(t_ws_connect(&c, t_port,
				      "Origin: http://other.example\r\n", T),
			 101);
	t_ws_close(&c);
	ck_assert_int_ne(t_ws_connect(&c, t_port,
				      "Origin: http://evil.example\r\n", T),
			 101);
}
END_TEST

START_TEST(several_rooms_on_one_connection_and_leave)
{
	struct t_ws c;
	struct json_object *o;
	struct got *g = got_new();
	uint64_t a1, b1, a2, b2, last;

	ws_open(&c);
	last = store_last_id(t_srv->st);
	join(&c, "ra", last);
	join(&c, "rb", last);
	a1 = publish("ra", "chat", "1");
	publish("rc", "chat", "2");		/* not joined */
	b1 = publish("rb", "chat", "3");
	ck_assert_uint_eq(collect(&c, g, 2, T), 2);
	ck_assert_uint_eq(g->id[0], a1);
	ck_assert_uint_eq(g->id[1], b1);
	ck_assert_int_eq(t_ws_send(&c, "{\"op\":\"leave\",\"room\":\"ra\","
				   "\"ref\":2}"), 0);
	o = expect_op(&c, "left");
	ck_assert_str_eq(jstr(o, "room"), "ra");
	json_object_put(o);
	a2 = publish("ra", "chat", "4");
	b2 = publish("rb", "chat", "5");
	ck_assert_uint_eq(collect(&c, g, 4, 500), 3);
	ck_assert_uint_eq(g->id[2], b2);
	ck_assert_uint_gt(b2, a2);
	/* joining the same room twice is refused */
	expect_error(&c, "{\"op\":\"join\",\"room\":\"rb\",\"ref\":3}",
		     "already_joined", 3);
	t_ws_close(&c);
	free(g);
}
END_TEST

START_TEST(rooms_per_connection_limited)
{
	struct config cfg;
	struct t_ws c;

	t_config(&cfg);
	cfg.rooms_per_sub = 2;
	t_restart(&cfg);
	ws_open(&c);
	join(&c, "l1", 0);
	join(&c, "l2", 0);
	expect_error(&c, "{\"op\":\"join\",\"room\":\"l3\",\"ref\":1}",
		     "room_limit", 1);
	t_ws_close(&c);
}
END_TEST

START_TEST(close_ends_presence)
{
	struct t_ws c, watcher;
	struct got *g = got_new();
	struct t_resp r;

	ws_open(&watcher);
	join(&watcher, "pres", 0);
	ws_open(&c);
	hello(&c, "erin-cid-0001", "erin");
	join(&c, "pres", 0);
	ck_assert_uint_eq(members_become("pres", 1), 1);
	ck_assert_int_eq(t_http(t_port, "GET", "/api/rooms/pres", NULL, NULL,
				&r), 0);
	if (r.status == 200)	/* the rooms API may not exist yet */
		ck_assert_ptr_nonnull(strstr(r.body, "erin"));
	t_resp_free(&r);
	/* a peer that vanishes without a close frame leaves too */
	t_ws_drop(&c);
	ck_assert_uint_eq(members_become("pres", 0), 0);
	ck_assert_uint_eq(collect(&watcher, g, 2, T), 2);
	ck_assert_str_eq(g->event[0], "join");
	ck_assert_str_eq(g->event[1], "leave");
	t_ws_close(&watcher);
	free(g);
}
END_TEST

START_TEST(burst_arrives_complete_in_order_and_batched)
{
	struct t_ws c;
	struct got *g = got_new();
	uint64_t first = 0, since = store_last_id(t_srv->st);

	/* a backlog: certainly more than one message per frame */
	for (int i = 0; i < 300; i++) {
		uint64_t id = publish("burst", "chat", "{\"n\":1}");

		if (!first)
			first = id;
	}
	ws_open(&c);
	join(&c, "burst", since);
	/* then a live burst while the backlog drains */
	for (int i = 0; i < 300; i++)
		publish("burst", "chat", "{\"n\":2}");
	ck_assert_uint_eq(collect(&c, g, 600, 10000), 600);
	for (size_t i = 0; i < 600; i++)
		ck_assert_uint_eq(g->id[i], first + i);
	ck_assert_uint_ge(g->msgs_frames, 1);
	ck_assert_uint_lt(g->msg_frames + g->msgs_frames, 600);
	ck_assert_uint_eq(g->gaps, 0);
	t_ws_close(&c);
	free(g);
}
END_TEST

START_TEST(rejoin_with_older_since_catches_up_without_duplicates)
{
	struct t_ws c;
	struct got *g = got_new();
	uint64_t x1, y1, x2, since = store_last_id(t_srv->st);

	y1 = publish("ry", "chat", "1");
	x1 = publish("rx", "chat", "2");
	ws_open(&c);
	join(&c, "rx", since);
	ck_assert_uint_eq(collect(&c, g, 1, T), 1);
	ck_assert_uint_eq(g->id[0], x1);
	/* joining ry from an older cursor gets its backlog, not rx's again */
	join(&c, "ry", since);
	x2 = publish("rx", "chat", "3");
	ck_assert_uint_eq(collect(&c, g, 4, 500), 3);
	ck_assert_uint_eq(g->id[1], y1);
	ck_assert_uint_eq(g->id[2], x2);
	t_ws_close(&c);
	free(g);
}
END_TEST

START_TEST(history_overflow_sends_gap_then_what_is_left)
{
	struct config cfg;
	struct t_ws c;
	struct got *g = got_new();
	uint64_t since, last = 0;

	t_config(&cfg);
	cfg.history = 10;
	t_restart(&cfg);
	since = publish("g", "chat", "0");
	for (int i = 0; i < 30; i++)
		last = publish("g", "chat", "1");
	ws_open(&c);
	join(&c, "g", since);
	ck_assert_uint_eq(collect(&c, g, 10, T), 10);
	ck_assert_uint_eq(g->gaps, 1);
	ck_assert_uint_eq(g->id[9], last);
	ck_assert_uint_eq(g->id[0], last - 9);
	t_ws_close(&c);
	free(g);
}
END_TEST

START_TEST(slow_reader_falls_behind_and_learns_of_the_gap)
{
	struct config cfg;
	struct t_ws c;
	struct got *g = got_new();
	static char data[2100];
	uint64_t last = 0;

	t_config(&cfg);
	cfg.history = 100;
	t_restart(&cfg);
	ws_open(&c);
	join(&c, "slow", store_last_id(t_srv->st));
	/* 20 MB the client does not read: far more than the socket
	 * buffers; the server must neither queue it nor stall */
	memset(data, 'y', sizeof(data) - 1);
	data[0] = '"';
	data[sizeof(data) - 2] = '"';
	for (int i = 0; i < 10000; i++)
		last = publish("slow", "chat", data);
	ck_assert_uint_eq(store_total(t_srv->st), 100);
	/* now read: whatever got through, a gap, then the newest */
	for (size_t before = SIZE_MAX; g->n != before &&
	     (!g->n || g->id[g->n - 1] != last);) {
		before = g->n;
		collect(&c, g, g->n + 1, 2000);
	}
	ck_assert_uint_gt(g->n, 0);
	ck_assert_uint_eq(g->id[g->n - 1], last);
	ck_assert_uint_ge(g->gaps, 1);
	for (size_t i = 1; i < g->n; i++)
		ck_assert_uint_gt(g->id[i], g->id[i - 1]);
	t_ws_close(&c);
	free(g);
}
END_TEST

START_TEST(silent_peer_dropped_by_keepalive)
{
	struct config cfg;
	struct t_ws quiet, live;
	int64_t end;
	char *m;
	size_t len;
	int rc;

	t_config(&cfg);
	cfg.ws_ping = 1;
	cfg.ws_hangup = 2;
	t_restart(&cfg);
	ws_open(&quiet);
	ws_open(&live);
	/* live answers the server's pings (t_ws_recv does), quiet does not
	 * read at all */
	end = im_mono_ms() + 4500;
	while (im_mono_ms() < end) {
		rc = t_ws_recv(&live, 200, &m, &len);
		ck_assert_int_ge(rc, 0);
		if (rc == 1)
			free(m);
	}
	ck_assert_int_eq(t_ws_send(&live, "{\"op\":\"ping\",\"ref\":1}"), 0);
	json_object_put(expect_op(&live, "pong"));
	while ((rc = t_ws_recv(&quiet, T, &m, &len)) == 1)
		free(m);
	ck_assert_int_eq(rc, -1);
	t_ws_drop(&quiet);
	t_ws_close(&live);
}
END_TEST

START_TEST(connection_limit_refuses_cleanly)
{
	struct config cfg;
	struct t_ws c[17];
	int refused;

	t_config(&cfg);
	cfg.max_connections = 16;
	t_restart(&cfg);
	for (int i = 0; i < 16; i++)
		ws_open(&c[i]);
	refused = t_ws_connect(&c[16], t_port, NULL, T);
	ck_assert_int_eq(refused, 503);
	/* the open ones still work, and a place frees up on close */
	ck_assert_int_eq(t_ws_send(&c[0], "{\"op\":\"ping\"}"), 0);
	json_object_put(expect_op(&c[0], "pong"));
	t_ws_close(&c[15]);
	for (int i = 0; i < 200 && atomic_load(&t_srv->open_conns) > 15; i++)
		usleep(10000);
	ws_open(&c[15]);
	for (int i = 0; i < 16; i++)
		t_ws_close(&c[i]);
}
END_TEST

START_TEST(ws_limit_refuses_cleanly)
{
	struct config cfg;
	struct t_ws c[3];

	t_config(&cfg);
	cfg.max_ws = 2;
	t_restart(&cfg);
	ws_open(&c[0]);
	ws_open(&c[1]);
	for (int i = 0; i < 200 &&
	     atomic_load(&t_srv->stats.tp[VIA_WS].open) < 2; i++)
		usleep(10000);
	ck_assert_int_eq(t_ws_connect(&c[2], t_port, NULL, T), 503);
	t_ws_close(&c[1]);
	for (int i = 0; i < 200 &&
	     atomic_load(&t_srv->stats.tp[VIA_WS].open) > 1; i++)
		usleep(10000);
	ws_open(&c[1]);
	t_ws_close(&c[0]);
	t_ws_close(&c[1]);
}
END_TEST

START_TEST(driver_round_trip)
{
	struct tsub *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	uint64_t id;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	tsub_init(a, &tdrv_ws, t_port, "drv-a-00001", "ann", "d1,d2",
		  store_last_id(t_srv->st));
	tsub_init(b, &tdrv_ws, t_port, "drv-b-00001", "ben", "d2", 0);
	ck_assert_int_eq(tdrv_ws.open(a), 0);
	ck_assert_int_eq(tdrv_ws.open(b), 0);
	id = tdrv_ws.publish(b, "d2", "chat", "{\"k\":[1,2]}", NULL);
	ck_assert_uint_ne(id, 0);
	ck_assert_uint_ne(tdrv_ws.publish(b, "d1", "chat", "2", "others"), 0);
	/* a: its own two joins, b's join in d2, the chat in d2, the
	 * chat in d1 */
	ck_assert_uint_eq(tdrv_ws.wait(a, 5, T), 5);
	ck_assert_uint_eq(tsub_count(a, "join", NULL), 3);
	ck_assert_uint_eq(tsub_count(a, "chat", NULL), 2);
	ck_assert_ptr_nonnull(strstr(a->env[3].json,
				     "\"data\":{\"k\":[1,2]}"));
	ck_assert_str_eq(a->env[3].via, "ws");
	ck_assert_str_eq(a->env[3].from, "ben");
	ck_assert_uint_eq(a->env[3].id, id);
	ck_assert_uint_eq(a->cursor, a->env[4].id);
	tdrv_ws.close(a);
	tdrv_ws.close(b);
	tsub_free(a);
	tsub_free(b);
	free(a);
	free(b);
}
END_TEST

static Suite *
ws_suite(void)
{
	Suite *s = suite_create("ws");
	TCase *tc = tcase_create("ops");

	t_fixture(tc, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hello_join_send_gets_ack_and_own_message);
	tcase_add_test(tc, ping_answers_pong_with_server_time);
	tcase_add_test(tc, bad_input_gets_error_frame_and_connection_stays);
	tcase_add_test(tc, send_before_hello_is_an_error);
	tcase_add_test(tc, big_and_fragmented_messages_are_reassembled);
	tcase_add_test(tc, too_large_message_closes_1009);
	tcase_add_test(tc, origin_checked);
	tcase_add_test(tc, several_rooms_on_one_connection_and_leave);
	tcase_add_test(tc, rooms_per_connection_limited);
	tcase_add_test(tc, close_ends_presence);
	tcase_add_test(tc, burst_arrives_complete_in_order_and_batched);
	tcase_add_test(tc,
		       rejoin_with_older_since_catches_up_without_duplicates);
	tcase_add_test(tc, history_overflow_sends_gap_then_what_is_left);
	tcase_add_test(tc, slow_reader_falls_behind_and_learns_of_the_gap);
	tcase_add_test(tc, silent_peer_dropped_by_keepalive);
	tcase_add_test(tc, connection_limit_refuses_cleanly);
	tcase_add_test(tc, ws_limit_refuses_cleanly);
	tcase_add_test(tc, driver_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(ws_suite());
}
