/* SPDX-License-Identifier: MIT */
/*
 * test_dm: direct messages ("to":"pid:<public id>") on every transport,
 * Socket.IO's reserved event names and the {"_binary":"<base64>"} form,
 * against an in-process server over real sockets. A direct message
 * reaches its sender and its recipient only: live, on resume and from
 * since=0 and in the history API read with their cid; a third client,
 * an anonymous reader, the history API without a cid and a client forging
 * a cid (the recipient's pid, a near miss of its cid)
 * never see it. An unknown or departed recipient is refused
 * (404 unknown_recipient); so are the reserved names (reserved_event)
 * and malformed binary values (bad_binary), on HTTP and on /ws alike.
 */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "room.h"
#include "server_ctx.h"
#include "tdriver.h"
#include "testlib.h"
#include "trun.h"
#include "wsclient.h"

#define WAIT_MS 10000		/* a bound for a hang, not a measure */
#define T 5000			/* ms a reply may take */
#define ROOM "dm"

static const struct tdriver *const drivers[] = {
	&tdrv_poll, &tdrv_longpoll, &tdrv_sse, &tdrv_ws,
};
#define NDRIVERS ((int)(sizeof(drivers) / sizeof(drivers[0])))

static void
tune(struct config *cfg)
{
	cfg->presence_ttl = 1;	/* a poller that stops leaves in 1 s */
	cfg->sse_ping = 1;
}

static uint64_t
now_id(void)
{
	return store_last_id(t_srv->st);
}

static void
open_client(struct tsub *s, const struct tdriver *d, const char *cid,
	    const char *from, uint64_t since)
{
	tsub_init(s, d, t_port, cid, from, ROOM, since);
	ck_assert_msg(d->open(s) == 0, "%s: open failed", d->name);
}

/* The envelope with id in s, or NULL. */
static const struct tenv *
find_id(const struct tsub *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->env[i].id == id)
			return &s->env[i];
	return NULL;
}

/* Waits (up to WAIT_MS) until s holds the message id. */
static const struct tenv *
wait_id(struct tsub *s, uint64_t id)
{
	struct timespec t0, t1;
	const struct tenv *e;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!(e = find_id(s, id))) {
		s->drv->wait(s, s->n + 1, 50);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000 > WAIT_MS)
			break;
	}
	return e;
}

/* "pid:<the public id of cid>" into out (64 bytes). */
static const char *
to_pid(const char *cid, char *out)
{
	char pid[MSG_PID_LEN + 1];

	rooms_pid(t_srv->rs, cid, pid);
	snprintf(out, 64, "pid:%s", pid);
	return out;
}

/* A reader that opens after the fact (cid, since) on d: it must hear the
 * fence, and never the direct message dm. */
static void
reader_misses(const struct tdriver *d, const char *cid, uint64_t since,
	      uint64_t dm, uint64_t fence)
{
	struct tsub s;

	open_client(&s, d, cid, "reader", since);
	ck_assert_msg(wait_id(&s, fence) != NULL, "%s %s: no fence",
		      d->name, cid);
	ck_assert_msg(find_id(&s, dm) == NULL, "%s: %s saw the DM", d->name,
		      cid);
	d->close(&s);
	tsub_free(&s);
}

/* GET /api/rooms/ROOM/messages?since=0&cid=cid holds the DM (or not). */
static void
history_has(const char *cid, int dm)
{
	char path[160];
	struct t_resp r;

	snprintf(path, sizeof(path), "/api/rooms/" ROOM "/messages?since=0"
		 "&cid=%s", cid);
	ck_assert_int_eq(t_http(t_port, "GET", path, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"fence\""));
	ck_assert_msg(!strstr(r.body, "\"secret\"") == !dm,
		      "history as %s: %s", cid, r.body);
	t_resp_free(&r);
}

START_TEST(dm_reaches_sender_and_recipient_only)
{
	const struct tdriver *d = drivers[_i];
	struct tsub alice, bob, carol, again;
	char to[64], bobpid[MSG_PID_LEN + 1], want[80];
	const struct tenv *e;
	uint64_t start = now_id(), dm, fence;
	struct t_resp r;

	open_client(&alice, d, "alice-cid-1", "alice", start);
	open_client(&bob, d, "bob-cid-22", "bob", start);
	open_client(&carol, d, "carol-cid-3", "carol", start);
	dm = d->publish(&alice, ROOM, "chat", "\"secret\"",
			to_pid("bob-cid-22", to));
	ck_assert_uint_ne(dm, 0);
	fence = d->publish(&alice, ROOM, "chat", "\"fence\"", NULL);
	ck_assert_uint_ne(fence, 0);

	/* live: the sender and the recipient, with the target shown */
	rooms_pid(t_srv->rs, "bob-cid-22", bobpid);
	snprintf(want, sizeof(want), "\"to\":\"pid:%s\"", bobpid);
	ck_assert_ptr_nonnull(e = wait_id(&bob, dm));
	ck_assert_ptr_nonnull(strstr(e->json, want));
	ck_assert_ptr_nonnull(strstr(e->json, "\"secret\""));
	ck_assert_ptr_nonnull(e = wait_id(&alice, dm));
	ck_assert_ptr_nonnull(strstr(e->json, want));
	ck_assert_ptr_nonnull(wait_id(&bob, fence));
	ck_assert_ptr_nonnull(wait_id(&alice, fence));
	/* carol hears the fence, published after the DM, and not the DM */
	ck_assert_ptr_nonnull(wait_id(&carol, fence));
	ck_assert_ptr_null(find_id(&carol, dm));

	/* resume and since=0: the recipient and the sender again */
	open_client(&again, d, "bob-cid-22", "bob", dm - 1);
	ck_assert_ptr_nonnull(wait_id(&again, dm));
	d->close(&again);
	tsub_free(&again);
	open_client(&again, d, "alice-cid-1", "alice", 0);
	ck_assert_ptr_nonnull(wait_id(&again, dm));
	d->close(&again);
	tsub_free(&again);

	/* nobody else: carol again, forged cids, from since=0 and resume */
	reader_misses(d, "carol-cid-3", 0, dm, fence);
	reader_misses(d, "carol-cid-3", dm - 1, dm, fence);
	reader_misses(d, bobpid, 0, dm, fence);	/* the pid as a cid */
	reader_misses(d, "bob-cid-23", 0, dm, fence);
	reader_misses(d, "bob-cid-2", dm - 1, dm, fence);

	/* anonymous readers and the history API */
	ck_assert_int_eq(t_http(t_port, "GET", "/api/rooms/" ROOM
				"/messages?since=0", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"fence\""));
	ck_assert_ptr_null(strstr(r.body, "secret"));
	t_resp_free(&r);
	ck_assert_int_eq(t_http(t_port, "GET", "/poll?rooms=" ROOM "&since=0",
				NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"fence\""));
	ck_assert_ptr_null(strstr(r.body, "secret"));
	t_resp_free(&r);
	/* the history API read as a cid: the two ends, and no one else */
	history_has("alice-cid-1", 1);
	history_has("bob-cid-22", 1);
	history_has("carol-cid-3", 0);
	history_has(bobpid, 0);
	history_has("bob-cid-2", 0);

	d->close(&alice);
	d->close(&bob);
	d->close(&carol);
	tsub_free(&alice);
	tsub_free(&bob);
	tsub_free(&carol);
}
END_TEST

START_TEST(dm_across_transports_reaches_no_third_transport)
{
	const struct tdriver *sender = drivers[_i];
	const struct tdriver *rx = drivers[(_i + 1) % NDRIVERS];
	struct tsub alice, bob, others[NDRIVERS];
	char to[64], cid[32];
	uint64_t start = now_id(), dm, fence;

	open_client(&alice, sender, "alice-cid-1", "alice", start);
	open_client(&bob, rx, "bob-cid-22", "bob", start);
	for (int i = 0; i < NDRIVERS; i++) {
		snprintf(cid, sizeof(cid), "third-%s-1", drivers[i]->name);
		open_client(&others[i], drivers[i], cid, "third", start);
	}
	dm = sender->publish(&alice, ROOM, "chat", "\"secret\"",
			     to_pid("bob-cid-22", to));
	fence = sender->publish(&alice, ROOM, "chat", "\"fence\"", NULL);
	ck_assert(dm && fence);
	ck_assert_ptr_nonnull(wait_id(&bob, dm));
	for (int i = 0; i < NDRIVERS; i++) {
		ck_assert_ptr_nonnull(wait_id(&others[i], fence));
		ck_assert_msg(!find_id(&others[i], dm), "%s sent, %s saw it",
			      sender->name, drivers[i]->name);
		drivers[i]->close(&others[i]);
		tsub_free(&others[i]);
	}
	sender->close(&alice);
	rx->close(&bob);
	tsub_free(&alice);
	tsub_free(&bob);
}
END_TEST

/* The error code of a JSON reply: {"error":{"code"}} (HTTP) or an /ws
 * error frame {"op":"error","code"}; malloc'd. */
static char *
code_of(const char *s)
{
	struct json_object *root = json_tokener_parse(s), *o = root, *v;
	char *code;

	ck_assert_msg(root != NULL, "not JSON: %s", s);
	if (!json_object_object_get_ex(root, "error", &o))
		o = root;
	ck_assert_msg(json_object_object_get_ex(o, "code", &v), "%s", s);
	code = strdup(json_object_get_string(v));
	json_object_put(root);
	return code;
}

/* POSTs {"event":event,"from":"x","cid":...,"to":to,"data":data} to the
 * room; asserts the status and returns the error code (or NULL). */
static char *
http_post(const char *event, const char *to, const char *data, long status)
{
	char body[1024];
	struct t_resp r;
	char *code = NULL;

	snprintf(body, sizeof(body), "{\"event\":\"%s\",\"from\":\"x\","
		 "\"cid\":\"sender-cid-1\"%s%s%s,\"data\":%s}", event,
		 to ? ",\"to\":\"" : "", to ? to : "", to ? "\"" : "", data);
	ck_assert_int_eq(t_http(t_port, "POST", "/api/rooms/" ROOM
				"/messages", body, NULL, &r), 0);
	ck_assert_msg(r.status == status, "%s: %ld %s", body, r.status,
		      r.body);
	if (status != 201)
		code = code_of(r.body);
	t_resp_free(&r);
	return code;
}

/* A /ws connection that said hello as cid and joined ROOM. */
static void
ws_open(struct t_ws *c, const char *cid)
{
	char *m;

	ck_assert_int_eq(t_ws_connect(c, t_port, NULL, T), 101);
	ck_assert_int_eq(t_ws_sendf(c, "{\"op\":\"hello\",\"cid\":\"%s\","
				    "\"from\":\"w\"}", cid), 0);
	ck_assert_ptr_nonnull(m = t_ws_wait_op(c, "hello", T));
	free(m);
	ck_assert_int_eq(t_ws_send(c, "{\"op\":\"join\",\"room\":\"" ROOM
				   "\"}"), 0);
	ck_assert_ptr_nonnull(m = t_ws_wait_op(c, "joined", T));
	free(m);
}

/* Sends a /ws send op and returns the error code (NULL: acked). */
static char *
ws_send(struct t_ws *c, const char *event, const char *to, const char *data)
{
	char *m = NULL, *code = NULL;
	size_t len;

	ck_assert_int_eq(t_ws_sendf(c, "{\"op\":\"send\",\"room\":\"" ROOM
				    "\",\"event\":\"%s\"%s%s%s,\"data\":%s}",
				    event, to ? ",\"to\":\"" : "",
				    to ? to : "", to ? "\"" : "", data), 0);
	/* the reply: an ack or an error; messages of the room pass by */
	while (t_ws_recv(c, T, &m, &len) == 1) {
		if (strstr(m, "\"op\":\"ack\""))
			break;
		if (strstr(m, "\"op\":\"error\"")) {
			code = code_of(m);
			break;
		}
		free(m);
		m = NULL;
	}
	ck_assert_msg(m != NULL, "no reply to send %s", event);
	free(m);
	return code;
}

static void
expect_code(char *code, const char *want)
{
	ck_assert_ptr_nonnull(code);
	ck_assert_str_eq(code, want);
	free(code);
}

START_TEST(dm_to_unknown_or_departed_recipient_is_refused)
{
	struct t_ws a, b;
	char to[64];
	uint64_t before;
	int gone = 0;

	ws_open(&a, "sender-cid-1");
	before = now_id();
	/* never a member */
	expect_code(http_post("chat", to_pid("nobody-cid-1", to), "1", 404),
		    "unknown_recipient");
	expect_code(ws_send(&a, "chat", to, "1"), "unknown_recipient");
	/* a malformed target: upper-case hex, short, no prefix */
	expect_code(http_post("chat", "pid:ABCDEF", "1", 400), "bad_target");
	expect_code(ws_send(&a, "chat", "0123456789abcdef0123456789abcdef",
			    "1"), "bad_target");
	ck_assert_uint_eq(now_id(), before);	/* nothing stored */
	{
		struct t_resp r;	/* a history cid obeys the cid rule */

		ck_assert_int_eq(t_http(t_port, "GET", "/api/rooms/" ROOM
					"/messages?cid=short", NULL, NULL,
					&r), 0);
		ck_assert_int_eq(r.status, 400);
		expect_code(code_of(r.body), "bad_cid");
		t_resp_free(&r);
	}

	/* a member is reachable; once gone, no longer */
	ws_open(&b, "bob-cid-22");
	ck_assert_ptr_null(ws_send(&a, "chat", to_pid("bob-cid-22", to),
				   "\"hi\""));
	ck_assert_ptr_null(http_post("chat", to, "\"hi\"", 201));
	t_ws_close(&b);
	/* its leave follows the close: then the DM is refused */
	for (int i = 0; i < WAIT_MS / 20; i++) {
		char body[256];
		struct t_resp r;

		snprintf(body, sizeof(body), "{\"event\":\"chat\","
			 "\"from\":\"x\",\"cid\":\"sender-cid-1\","
			 "\"to\":\"%s\",\"data\":0}", to);
		ck_assert_int_eq(t_http(t_port, "POST", "/api/rooms/" ROOM
					"/messages", body, NULL, &r), 0);
		gone = r.status == 404;
		t_resp_free(&r);
		if (gone)
			break;
		nanosleep(&(struct timespec){ 0, 20000000 }, NULL);
	}
	ck_assert_msg(gone, "a departed recipient is still reachable");
	expect_code(ws_send(&a, "chat", to, "1"), "unknown_recipient");
	t_ws_close(&a);
}
END_TEST

static const char *const reserved[] = {
	"connect", "disconnect", "connect_error", "disconnecting",
	"newListener", "removeListener",
};

START_TEST(reserved_event_names_refused_on_http_and_ws)
{
	struct t_ws a;
	uint64_t before;

	ws_open(&a, "sender-cid-1");
	before = now_id();
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		expect_code(http_post(reserved[i], NULL, "1", 400),
			    "reserved_event");
		expect_code(ws_send(&a, reserved[i], NULL, "1"),
			    "reserved_event");
	}
	ck_assert_uint_eq(now_id(), before);
	/* names that only look alike are fine */
	ck_assert_ptr_null(http_post("connected", NULL, "1", 201));
	ck_assert_ptr_null(ws_send(&a, "Connect", NULL, "1"));
	t_ws_close(&a);
}
END_TEST

/* data values with a malformed binary value */
static const char *const bad_binary[] = {
	"{\"_binary\":\"aGk\"}",		/* no padding */
	"{\"_binary\":\"a%Gk\"}",		/* not the alphabet */
	"{\"_binary\":\"aG=k\"}",		/* '=' inside */
	"{\"_binary\":\"aGk===\"}",		/* too much padding */
	"{\"_binary\":\"aGk=\",\"type\":\"x\"}",	/* not alone */
	"{\"_binary\":42}",			/* not a string */
	"[1,{\"a\":{\"_binary\":\"!!!!\"}}]",	/* nested */
	"{\"\\u005fbinary\":\"a%Gk\"}",		/* the key escaped */
};

START_TEST(binary_values_checked_on_http_and_ws)
{
	struct t_ws a;
	struct tsub s;
	uint64_t before, id;
	const char *good = "{\"img\":{\"_binary\":\"iVBORw0KGgo=\"},"
			   "\"parts\":[{\"_binary\":\"\"},{\"_binary\":"
			   "\"aGk=\"}]}";
	const struct tenv *e;

	ws_open(&a, "sender-cid-1");
	before = now_id();
	for (size_t i = 0; i < sizeof(bad_binary) / sizeof(bad_binary[0]);
	     i++) {
		expect_code(http_post("chat", NULL, bad_binary[i], 400),
			    "bad_binary");
		expect_code(ws_send(&a, "chat", NULL, bad_binary[i]),
			    "bad_binary");
	}
	ck_assert_uint_eq(now_id(), before);

	/* a good one is stored byte for byte and read back on every
	 * transport */
	ck_assert_ptr_null(http_post("chat", NULL, good, 201));
	ck_assert_ptr_null(ws_send(&a, "chat", NULL, good));
	id = now_id();
	for (int i = 0; i < NDRIVERS; i++) {
		open_client(&s, drivers[i], "reader-cid-1", "r", before);
		ck_assert_ptr_nonnull(e = wait_id(&s, id));
		ck_assert_ptr_nonnull(strstr(e->json, good));
		drivers[i]->close(&s);
		tsub_free(&s);
	}
	t_ws_close(&a);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("dm");
	TCase *tc = tcase_create("dm");
	TCase *in = tcase_create("input");

	t_fixture(tc, tune);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, dm_reaches_sender_and_recipient_only, 0,
			    NDRIVERS);
	tcase_add_loop_test(tc, dm_across_transports_reaches_no_third_transport,
			    0, NDRIVERS);
	suite_add_tcase(s, tc);
	t_fixture(in, tune);
	tcase_set_timeout(in, 60);
	tcase_add_test(in, dm_to_unknown_or_departed_recipient_is_refused);
	tcase_add_test(in, reserved_event_names_refused_on_http_and_ws);
	tcase_add_test(in, binary_values_checked_on_http_and_ws);
	suite_add_tcase(s, in);
	return s;
}

int
main(void)
{
	return trun(suite());
}
