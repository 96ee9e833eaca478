/* SPDX-License-Identifier: MIT */
/*
 * test_hub: the one publish path. Every validation rule of doc/protocol.md
 * (room, event, cid, from with its UTF-8 rules, `to`, `via`, the data size
 * limit, JSON bodies that are malformed, have trailing garbage, are not
 * objects or have members of the wrong type or missing) answers with the
 * right error (enum and code string) and leaves the store untouched; the
 * strict parser finishes bare top-level numbers and refuses what would not
 * serialise back as valid JSON; a good publish returns id and ts, stores
 * the exact envelope and wakes the subscribers that may see it; and
 * several publisher threads at once lose nothing and keep ids in order.
 * Also the error enum's names and HTTP statuses (err).
 */
#include "autoconf.h"

#include <check.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trun.h"
#include "hub.h"
#include "jparse.h"
#include "names.h"

#define CID_A "cid-alice-0001"
#define CID_B "cid-bob-000002"
#define MAX_ROOMS 4
#define MAX_DATA 64
#define HISTORY 20000

static struct store *st;
static struct rooms *rs;
static struct hub h;

static void
setup(void)
{
	struct rooms_config cfg = { MAX_ROOMS, 60000, 0, 0, 0 };

	st = store_create(HISTORY, 1);
	ck_assert_ptr_nonnull(st);
	rs = rooms_create(st, &cfg);
	ck_assert_ptr_nonnull(rs);
	hub_init(&h, rs, MAX_DATA);
}

static void
teardown(void)
{
	rooms_destroy(&rs);
	store_destroy(&st);
}

/* A subscriber counting its wake-ups. */
struct tsub {
	struct sub s;
	atomic_uint n;
	uint64_t last;
};

/* names_valid() over a C string (NULL: absent). */
static int
valid(enum name_kind k, const char *s)
{
	return names_valid(k, s, s ? strlen(s) : 0);
}

static void
tsub_notify(struct sub *s, const struct msg *m)
{
	struct tsub *t = s->ctx;

	atomic_fetch_add(&t->n, 1);
	t->last = m->id;
}

static void
tsub_init(struct tsub *t, const char *cid)
{
	memset(t, 0, sizeof(*t));
	atomic_init(&t->n, 0);
	t->s.notify = tsub_notify;
	t->s.ctx = t;
	t->s.via = VIA_SSE;
	snprintf(t->s.cid, sizeof(t->s.cid), "%s", cid);
	snprintf(t->s.from, sizeof(t->s.from), "%s", "sub");
}

static void
tsub_join(struct tsub *t, const char *room)
{
	struct im_error e;
	struct room *r = rooms_get(rs, room, 1, &e);

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(rooms_subscribe(rs, &t->s, &r, 1), IM_OK);
}

/* Checks that publishing body to room fails with err and code and leaves
 * the store as it was. */
static void
json_refused(const char *room, const char *body, size_t len,
	     enum im_err err, const char *code)
{
	uint64_t last = store_last_id(st);
	size_t total = store_total(st);
	struct im_error e = { .err = IM_OK, .code = "unset" };
	struct hub_ack ack = { 0, 0, 0 };
	enum im_err got;

	got = hub_publish_json(&h, room, body, len, &ack, &e);
	ck_assert_msg(got == err && e.err == err && !strcmp(e.code, code),
		      "room %s body %.*s: got %d/%d %s (%s), want %d %s",
		      room, (int)len, body, got, e.err, e.code, e.message,
		      err, code);
	ck_assert_msg(e.message[0], "no message for %s", code);
	ck_assert_uint_eq(store_last_id(st), last);
	ck_assert_uint_eq(store_total(st), total);
}

static void
refused(const char *body, const char *code)
{
	json_refused("lobby", body, strlen(body), IM_EINVAL, code);
}

/* Publishes body to room and checks the ack; returns the id. */
static uint64_t
accepted_in(const char *room, const char *body)
{
	uint64_t last = store_last_id(st);
	size_t total = store_total(st);
	struct im_error e = { .err = IM_OK, .code = "" };
	struct hub_ack ack = { 0, 0, 0 };
	enum im_err got;

	got = hub_publish_json(&h, room, body, strlen(body), &ack, &e);
	ck_assert_msg(got == IM_OK, "body %s refused: %s (%s)", body,
		      got ? e.code : "", got ? e.message : "");
	ck_assert_uint_eq(ack.id, last + 1);
	ck_assert_uint_eq(store_last_id(st), last + 1);
	ck_assert_uint_eq(store_total(st), total + 1);
	return ack.id;
}

static uint64_t
accepted(const char *body)
{
	return accepted_in("lobby", body);
}

/* The envelope of message id in room (a new string the caller frees). */
static char *
stored(const char *room, uint64_t id)
{
	struct im_error e;
	struct room *r = rooms_get(rs, room, 0, &e);
	struct store_ring *ring;
	struct msg *m = NULL;
	struct store_read_result res;
	char *s;

	ck_assert_ptr_nonnull(r);
	ring = room_ring(r);
	res = store_read(st, &ring, 1, id - 1, CID_A, &m, 1);
	ck_assert_uint_eq(res.n, 1);
	ck_assert_uint_eq(m->id, id);
	s = strndup(m->json, m->json_len);
	ck_assert_ptr_nonnull(s);
	msg_unref(&m);
	return s;
}

/* Checks that publishing p fails with code and leaves the store alone. */
static void
pub_refused(const struct hub_pub *p, enum im_err err, const char *code)
{
	uint64_t last = store_last_id(st);
	size_t total = store_total(st);
	struct im_error e = { .err = IM_OK, .code = "unset" };
	struct hub_ack ack = { 0, 0, 0 };
	enum im_err got = hub_publish(&h, p, &ack, &e);

	ck_assert_msg(got == err && e.err == err && !strcmp(e.code, code),
		      "room %s event %s from %s cid %s to %s: got %d %s (%s)",
		      p->room, p->event, p->from, p->cid, p->to, got, e.code,
		      e.message);
	ck_assert_uint_eq(store_last_id(st), last);
	ck_assert_uint_eq(store_total(st), total);
}

static struct hub_pub
good_pub(void)
{
	struct hub_pub p = { 0 };

	p.room = "lobby";
	p.event = "chat";
	p.from = "alice";
	p.cid = CID_A;
	p.to = NULL;
	p.via = VIA_WS;
	p.data = NULL;
	return p;
}

START_TEST(good_publish_returns_id_and_ts_and_stores_envelope)
{
	struct im_error e;
	struct hub_ack ack = { 0, 0, 0 };
	const char *body = "{\"event\":\"chat\",\"from\":\"alice\","
		"\"cid\":\"" CID_A "\",\"data\":{\"text\":\"hi\","
		"\"url\":\"http://x/y\"},\"to\":\"room\",\"via\":\"poll\"}";
	char pid[MSG_PID_LEN + 1], want[512], *env;
	int64_t t0 = (int64_t)time(NULL) * 1000;

	ck_assert_int_eq(hub_publish_json(&h, "lobby", body, strlen(body),
					  &ack, &e), IM_OK);
	ck_assert_uint_eq(ack.id, 1);
	ck_assert_uint_eq(store_last_id(st), 1);
	ck_assert_uint_eq(store_total(st), 1);
	ck_assert_int_ge(ack.ts, t0 - 2000);
	ck_assert_int_le(ack.ts, (int64_t)time(NULL) * 1000 + 2000);
	rooms_pid(rs, CID_A, pid);
	snprintf(want, sizeof(want), "{\"id\":1,\"room\":\"lobby\","
		 "\"event\":\"chat\",\"from\":\"alice\",\"pid\":\"%s\","
		 "\"via\":\"poll\",\"data\":{\"text\":\"hi\","
		 "\"url\":\"http://x/y\"},\"ts\":%lld}", pid,
		 (long long)ack.ts);
	env = stored("lobby", 1);
	ck_assert_str_eq(env, want);
	free(env);
	ck_assert_uint_eq(atomic_load(&h.published[VIA_POLL]), 1);
	ck_assert_uint_eq(atomic_load(&h.published[VIA_API]), 0);
}
END_TEST

START_TEST(via_defaults_to_api_and_data_may_be_null)
{
	uint64_t id = accepted("{\"event\":\"chat\",\"from\":\"bob\","
			       "\"data\":null}");
	char *env = stored("lobby", id);

	ck_assert_ptr_nonnull(strstr(env, ",\"from\":\"bob\",\"pid\":\"\","
				     "\"via\":\"api\",\"data\":null,\"ts\":"));
	free(env);
	ck_assert_uint_eq(atomic_load(&h.published[VIA_API]), 1);
}
END_TEST

START_TEST(publish_wakes_subscribers_who_may_see_it)
{
	struct tsub a, b, anon, elsewhere;
	struct hub_pub p = good_pub();
	struct hub_ack ack;
	struct im_error e;

	tsub_init(&a, CID_A);
	tsub_init(&b, CID_B);
	tsub_init(&anon, "");
	tsub_init(&elsewhere, "");
	tsub_join(&a, "lobby");
	tsub_join(&b, "lobby");
	tsub_join(&anon, "lobby");
	tsub_join(&elsewhere, "side");
	atomic_store(&a.n, 0);
	atomic_store(&b.n, 0);
	atomic_store(&anon.n, 0);
	atomic_store(&elsewhere.n, 0);

	ck_assert_int_eq(hub_publish(&h, &p, &ack, &e), IM_OK);
	ck_assert_uint_eq(atomic_load(&a.n), 1);
	ck_assert_uint_eq(atomic_load(&b.n), 1);
	ck_assert_uint_eq(atomic_load(&anon.n), 1);
	ck_assert_uint_eq(a.last, ack.id);

	p.to = "others";
	ck_assert_int_eq(hub_publish(&h, &p, &ack, &e), IM_OK);
	ck_assert_uint_eq(atomic_load(&a.n), 1);
	ck_assert_uint_eq(atomic_load(&b.n), 2);
	ck_assert_uint_eq(atomic_load(&anon.n), 2);
	ck_assert_uint_eq(b.last, ack.id);

	p.to = "self";
	ck_assert_int_eq(hub_publish(&h, &p, &ack, &e), IM_OK);
	ck_assert_uint_eq(atomic_load(&a.n), 2);
	ck_assert_uint_eq(atomic_load(&b.n), 2);
	ck_assert_uint_eq(atomic_load(&anon.n), 2);
	ck_assert_uint_eq(a.last, ack.id);

	ck_assert_uint_eq(atomic_load(&elsewhere.n), 0);
	ck_assert_uint_eq(atomic_load(&h.published[VIA_WS]), 3);
	rooms_unsubscribe_all(rs, &a.s);
	rooms_unsubscribe_all(rs, &b.s);
	rooms_unsubscribe_all(rs, &anon.s);
	rooms_unsubscribe_all(rs, &elsewhere.s);
}
END_TEST

START_TEST(bad_room_is_refused)
{
	static const char body[] = "{\"event\":\"chat\",\"from\":\"a\","
				   "\"data\":1}";
	static const char long65[] =
		"12345678901234567890123456789012345678901234567890123456789"
		"012345";
	static const char *const rooms[] = {
		"", "a b", "a/b", "caf\xc3\xa9", "a?b", long65,
	};
	struct hub_pub p = good_pub();

	for (size_t i = 0; i < sizeof(rooms) / sizeof(rooms[0]); i++)
		json_refused(rooms[i], body, strlen(body), IM_EINVAL,
			     "bad_room");
	p.room = NULL;
	pub_refused(&p, IM_EINVAL, "bad_room");
	ck_assert_uint_eq(rooms_list(rs, NULL, 0), 0);
	accepted_in("12345678901234567890123456789012345678901234567890"
		    "12345678901234", body);
}
END_TEST

START_TEST(registry_full_is_efull)
{
	static const char body[] = "{\"event\":\"chat\",\"from\":\"a\","
				   "\"data\":1}";

	accepted_in("r1", body);
	accepted_in("r2", body);
	accepted_in("r3", body);
	accepted_in("r4", body);
	json_refused("r5", body, strlen(body), IM_EFULL, "too_many_rooms");
	accepted_in("r1", body);
}
END_TEST

START_TEST(bad_event_is_refused)
{
	refused("{\"from\":\"a\",\"data\":1}", "bad_event");
	refused("{\"event\":null,\"from\":\"a\",\"data\":1}", "bad_event");
	refused("{\"event\":\"\",\"from\":\"a\",\"data\":1}", "bad_event");
	refused("{\"event\":\"a b\",\"from\":\"a\",\"data\":1}", "bad_event");
	refused("{\"event\":\"chat/x\",\"from\":\"a\",\"data\":1}",
		"bad_event");
	refused("{\"event\":\"caf\xc3\xa9\",\"from\":\"a\",\"data\":1}",
		"bad_event");
	refused("{\"event\":\"\\\"q\",\"from\":\"a\",\"data\":1}",
		"bad_event");
	refused("{\"event\":\"123456789012345678901234567890123\","
		"\"from\":\"a\",\"data\":1}", "bad_event");	/* 33 */
	accepted("{\"event\":\"12345678901234567890123456789012\","
		 "\"from\":\"a\",\"data\":1}");			/* 32 */
	accepted("{\"event\":\"A.z:0-_\",\"from\":\"a\",\"data\":1}");
	ck_assert(valid(NAME_EVENT, "typing:start"));
	ck_assert(!valid(NAME_EVENT, NULL));
	ck_assert(!valid(NAME_EVENT, ""));
}
END_TEST

START_TEST(bad_cid_is_refused)
{
	refused("{\"event\":\"c\",\"from\":\"a\",\"cid\":\"short12\","
		"\"data\":1}", "bad_cid");			/* 7 */
	refused("{\"event\":\"c\",\"from\":\"a\",\"cid\":\"\",\"data\":1}",
		"bad_cid");
	refused("{\"event\":\"c\",\"from\":\"a\",\"cid\":\"has space 1\","
		"\"data\":1}", "bad_cid");
	refused("{\"event\":\"c\",\"from\":\"a\",\"cid\":\"cid.with.dot\","
		"\"data\":1}", "bad_cid");
	refused("{\"event\":\"c\",\"from\":\"a\",\"cid\":\"12345678901234567"
		"890123456789012345678901234567890123456789012345\","
		"\"data\":1}", "bad_cid");			/* 65 */
	accepted("{\"event\":\"c\",\"from\":\"a\",\"cid\":\"12345678\","
		 "\"data\":1}");				/* 8 */
	accepted("{\"event\":\"c\",\"from\":\"a\",\"cid\":\"12345678901234567"
		 "89012345678901234567890123456789012345678901234\","
		 "\"data\":1}");				/* 64 */
	accepted("{\"event\":\"c\",\"from\":\"a\",\"cid\":null,\"data\":1}");
	ck_assert(valid(NAME_CID, "Az09_-Az"));
	ck_assert(!valid(NAME_CID, NULL));
}
END_TEST

START_TEST(bad_from_is_refused)
{
	static const char *const bad[] = {
		"",
		"123456789012345678901234567890123",		/* 33 */
		"\x01", "a\nb", "a\tb", "\x1b[31m", "\x7f",	/* C0, DEL */
		"\xc2\x85", "\xc2\x9f",				/* C1 */
		"\xff", "\xfe", "\x80", "a\xbf",		/* bad bytes */
		"\xc3", "\xe2\x82", "\xf0\x9f\x98",		/* truncated */
		"\xc3\x28", "\xe2\x28\xa1",			/* bad tails */
		"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf",		/* overlong */
		"\xf0\x80\x80\xaf",
		"\xed\xa0\x80", "\xed\xbf\xbf",			/* surrogates */
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80",		/* > U+10FFFF */
		"\xf8\x88\x80\x80\x80",
		/* 33 two-byte characters */
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	};
	static const char *const good[] = {
		"a", "Al Ice", "\"quoted\" \\ back", "caf\xc3\xa9",
		"\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc2\xa0", "\xef\xbf\xbd",
		"\xf4\x8f\xbf\xbf",
		"12345678901234567890123456789012",		/* 32 */
		/* 32 four-byte characters */
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98"
		"\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f"
		"\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0"
		"\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98"
		"\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f"
		"\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0"
		"\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		"\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
	};
	struct hub_pub p = good_pub();
	struct hub_ack ack;
	struct im_error e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!valid(NAME_FROM, bad[i]), "bad #%zu", i);
		p.from = bad[i];
		pub_refused(&p, IM_EINVAL, "bad_from");
	}
	p.from = NULL;
	pub_refused(&p, IM_EINVAL, "bad_from");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(valid(NAME_FROM, good[i]), "good #%zu", i);
		p.from = good[i];
		ck_assert_int_eq(hub_publish(&h, &p, &ack, &e), IM_OK);
	}
	/* the same rules through a JSON body */
	refused("{\"event\":\"c\",\"data\":1}", "bad_from");
	refused("{\"event\":\"c\",\"from\":null,\"data\":1}", "bad_from");
	refused("{\"event\":\"c\",\"from\":\"\",\"data\":1}", "bad_from");
	refused("{\"event\":\"c\",\"from\":\"a\\u0001\",\"data\":1}",
		"bad_from");
	refused("{\"event\":\"c\",\"from\":\"a\\nb\",\"data\":1}", "bad_from");
	refused("{\"event\":\"c\",\"from\":\"\\u007f\",\"data\":1}",
		"bad_from");
	refused("{\"event\":\"c\",\"from\":\"\\u0085\",\"data\":1}",
		"bad_from");
	refused("{\"event\":\"c\",\"from\":\"123456789012345678901234567890"
		"123\",\"data\":1}", "bad_from");
	accepted("{\"event\":\"c\",\"from\":\"\\u00e9\\ud83d\\ude00\","
		 "\"data\":1}");
}
END_TEST

START_TEST(bad_target_is_refused)
{
	struct hub_pub p = good_pub();

	refused("{\"event\":\"c\",\"from\":\"a\",\"cid\":\"" CID_A "\","
		"\"to\":\"everyone\",\"data\":1}", "bad_target");
	refused("{\"event\":\"c\",\"from\":\"a\",\"cid\":\"" CID_A "\","
		"\"to\":\"ROOM\",\"data\":1}", "bad_target");
	refused("{\"event\":\"c\",\"from\":\"a\",\"cid\":\"" CID_A "\","
		"\"to\":\"\",\"data\":1}", "bad_target");
	/* others and self need the sender's cid */
	refused("{\"event\":\"c\",\"from\":\"a\",\"to\":\"others\","
		"\"data\":1}", "bad_target");
	refused("{\"event\":\"c\",\"from\":\"a\",\"to\":\"self\","
		"\"data\":1}", "bad_target");
	p.cid = NULL;
	p.to = "self";
	pub_refused(&p, IM_EINVAL, "bad_target");
	accepted("{\"event\":\"c\",\"from\":\"a\",\"to\":\"room\","
		 "\"data\":1}");
	accepted("{\"event\":\"c\",\"from\":\"a\",\"to\":null,\"data\":1}");
	accepted("{\"event\":\"c\",\"from\":\"a\",\"cid\":\"" CID_A "\","
		 "\"to\":\"others\",\"data\":1}");
	accepted("{\"event\":\"c\",\"from\":\"a\",\"cid\":\"" CID_A "\","
		 "\"to\":\"self\",\"data\":1}");
	ck_assert_int_eq(names_word(NAME_TO, "room", 4), MSG_TO_ROOM);
	ck_assert_int_eq(names_word(NAME_TO, "others", 6), MSG_TO_OTHERS);
	ck_assert_int_eq(names_word(NAME_TO, "self", 4), MSG_TO_SELF);
	ck_assert_int_eq(names_word(NAME_TO, "selfish", 7), -1);
}
END_TEST

START_TEST(bad_via_is_refused)
{
	struct hub_pub p = good_pub();

	refused("{\"event\":\"c\",\"from\":\"a\",\"via\":\"pigeon\","
		"\"data\":1}", "bad_via");
	refused("{\"event\":\"c\",\"from\":\"a\",\"via\":\"WS\",\"data\":1}",
		"bad_via");
	refused("{\"event\":\"c\",\"from\":\"a\",\"via\":\"\",\"data\":1}",
		"bad_via");
	p.via = VIA__COUNT;
	pub_refused(&p, IM_EINVAL, "bad_via");
	accepted("{\"event\":\"c\",\"from\":\"a\",\"via\":\"longpoll\","
		 "\"data\":1}");
	ck_assert_uint_eq(atomic_load(&h.published[VIA_LONGPOLL]), 1);
}
END_TEST

START_TEST(missing_data_is_refused)
{
	refused("{\"event\":\"c\",\"from\":\"a\"}", "bad_data");
	refused("{\"event\":\"c\",\"from\":\"a\",\"Data\":1}", "bad_data");
}
END_TEST

START_TEST(data_over_the_limit_is_too_large)
{
	char body[256];
	char fill[MAX_DATA + 1];
	struct hub_pub p = good_pub();

	/* a string of MAX_DATA - 2 characters serialises to MAX_DATA */
	memset(fill, 'x', sizeof(fill));
	fill[MAX_DATA - 2] = '\0';
	snprintf(body, sizeof(body), "{\"event\":\"c\",\"from\":\"a\","
		 "\"data\":\"%s\"}", fill);
	accepted(body);
	fill[MAX_DATA - 2] = 'x';
	fill[MAX_DATA - 1] = '\0';
	snprintf(body, sizeof(body), "{\"event\":\"c\",\"from\":\"a\","
		 "\"data\":\"%s\"}", fill);
	json_refused("lobby", body, strlen(body), IM_ETOOBIG, "too_large");
	/* measured as serialised, after escaping */
	snprintf(body, sizeof(body), "{\"event\":\"c\",\"from\":\"a\","
		 "\"data\":[%s]}", "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
		 "0,0,0,0,0,0,0,0,0,0,0,0,0");
	json_refused("lobby", body, strlen(body), IM_ETOOBIG, "too_large");
	p.data = json_object_new_string(fill);
	pub_refused(&p, IM_ETOOBIG, "too_large");
	json_object_put(p.data);
}
END_TEST

START_TEST(bad_json_bodies_are_refused)
{
	static const char *const bodies[] = {
		"", " ", "\n", "{", "}", "{\"event\":", "{\"event\":\"c\"",
		"nul", "tru", "\"abc", "{\"event\":\"c\",}",
		"{\"event\" \"c\"}", "{event:\"c\"}",
		/* trailing garbage */
		"{\"event\":\"c\",\"from\":\"a\",\"data\":1} x",
		"{\"event\":\"c\",\"from\":\"a\",\"data\":1}{}",
		"{\"event\":\"c\",\"from\":\"a\",\"data\":1},",
		"{\"event\":\"c\",\"from\":\"a\",\"data\":1}]",
		/* not an object */
		"[]", "[{\"event\":\"c\",\"from\":\"a\",\"data\":1}]",
		"\"chat\"", "42", "-1.5e3", "0", "true", "false", "null",
		/* not JSON */
		"{\"event\":\"c\",\"from\":\"a\",\"data\":01}",
		"{\"event\":\"c\",\"from\":\"a\",\"data\":+1}",
		"{\"event\":\"c\",\"from\":\"a\",\"data\":0x10}",
		"{\"event\":\"c\",\"from\":\"a\",\"data\":.5}",
		"{\"event\":\"c\",\"from\":\"a\",\"data\":[1,]}",
		"{\"event\":\"c\",\"from\":\"a\",\"data\":\"\\x\"}",
		"{\"event\":\"c\",\"from\":\"a\",\"data\":'x'}",
		"/* c */ {\"event\":\"c\",\"from\":\"a\",\"data\":1}",
		"\xef\xbb\xbf{\"event\":\"c\",\"from\":\"a\",\"data\":1}",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		refused(bodies[i], "bad_json");
}
END_TEST

START_TEST(bodies_with_nul_bytes_are_refused)
{
	static const char b1[] = "{\"event\":\"c\",\"from\":\"a\",\"data\":1}"
				 "\0";
	static const char b2[] = "{\"event\":\"c\",\"from\":\"a\0\","
				 "\"data\":1}";
	static const char b3[] = "\0{\"event\":\"c\",\"from\":\"a\","
				 "\"data\":1}";

	json_refused("lobby", b1, sizeof(b1) - 1, IM_EINVAL, "bad_json");
	json_refused("lobby", b2, sizeof(b2) - 1, IM_EINVAL, "bad_json");
	json_refused("lobby", b3, sizeof(b3) - 1, IM_EINVAL, "bad_json");
	/* an escaped NUL makes the string unusable as a name: the name's
	 * own error, as over WebSocket */
	refused("{\"event\":\"c\",\"from\":\"a\\u0000b\",\"data\":1}",
		"bad_from");
	refused("{\"event\":\"c\\u0000\",\"from\":\"a\",\"data\":1}",
		"bad_event");
	refused("{\"event\":\"c\",\"from\":\"a\",\"to\":\"room\\u0000\","
		"\"data\":1}", "bad_target");
	refused("{\"event\":\"c\",\"from\":\"a\",\"via\":\"ws\\u0000\","
		"\"data\":1}", "bad_via");
	/* only len bytes are read */
	json_refused("lobby", "{\"event\":\"c\",\"from\":\"a\",\"data\":1}",
		     10, IM_EINVAL, "bad_json");
}
END_TEST

START_TEST(too_deep_json_is_refused)
{
	char body[512];
	size_t o = 0;

	o += (size_t)snprintf(body, sizeof(body),
			      "{\"event\":\"c\",\"from\":\"a\",\"data\":");
	for (int i = 0; i < 40; i++)
		body[o++] = '[';
	for (int i = 0; i < 40; i++)
		body[o++] = ']';
	body[o++] = '}';
	body[o] = '\0';
	refused(body, "bad_json");
}
END_TEST

START_TEST(members_of_the_wrong_type_are_refused)
{
	refused("{\"event\":5,\"from\":\"a\",\"data\":1}", "bad_field");
	refused("{\"event\":\"c\",\"from\":true,\"data\":1}", "bad_field");
	refused("{\"event\":\"c\",\"from\":\"a\",\"cid\":[],\"data\":1}",
		"bad_field");
	refused("{\"event\":\"c\",\"from\":\"a\",\"to\":{},\"data\":1}",
		"bad_field");
	refused("{\"event\":\"c\",\"from\":\"a\",\"via\":1,\"data\":1}",
		"bad_field");
	refused("{\"event\":[\"c\"],\"from\":\"a\",\"data\":1}", "bad_field");
}
END_TEST

START_TEST(unknown_members_are_ignored_and_whitespace_allowed)
{
	accepted(" \r\n\t{ \"event\" : \"c\" , \"from\":\"a\", \"x\":[1],"
		 "\"data\" : { } } \r\n\t");
}
END_TEST

START_TEST(data_that_is_not_valid_json_on_output_is_refused)
{
	/* json-c takes these in, but would write them back as they came,
	 * and every client would fail to parse the envelope */
	refused("{\"event\":\"c\",\"from\":\"a\",\"data\":NaN}", "bad_json");
	refused("{\"event\":\"c\",\"from\":\"a\",\"data\":Infinity}",
		"bad_json");
	refused("{\"event\":\"c\",\"from\":\"a\",\"data\":[-Infinity]}",
		"bad_json");
	refused("{\"event\":\"c\",\"from\":\"a\",\"data\":{\"x\":1.}}",
		"bad_json");
	/* invalid UTF-8 in data would break WebSocket text frames */
	refused("{\"event\":\"c\",\"from\":\"a\",\"data\":\"\xff\"}",
		"bad_json");
	refused("{\"event\":\"c\",\"from\":\"a\",\"data\":\"\xc0\xaf\"}",
		"bad_json");
	refused("{\"event\":\"c\",\"from\":\"a\",\"data\":\"\xed\xa0\x80\"}",
		"bad_json");
	refused("{\"event\":\"c\",\"from\":\"a\",\"data\":"
		"\"\xf4\x90\x80\x80\"}", "bad_json");
	refused("{\"event\":\"c\",\"from\":\"a\",\"data\":\"\xe2\x82\"}",
		"bad_json");
	refused("{\"event\":\"c\",\"from\":\"a\",\"data\":{\"\x80\":1}}",
		"bad_json");
	refused("{\"event\":\"c\",\"from\":\"\xff\",\"data\":1}", "bad_json");
	refused("{\"event\":\"c\",\"from\":\"a\",\"data\":1}\xc3", "bad_json");
	/* real numbers and UTF-8 are fine */
	accepted("{\"event\":\"c\",\"from\":\"a\",\"data\":[0,-0,1.5,-2e10,"
		 "1E+2,0.0e-1,3.25]}");
	accepted("{\"event\":\"c\",\"from\":\"a\",\"data\":\"caf\xc3\xa9 "
		 "\xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbf\"}");
	/* escaped lone surrogates come out as U+FFFD */
	accepted("{\"event\":\"c\",\"from\":\"a\",\"data\":\"\\ud800\"}");
}
END_TEST

START_TEST(bare_top_level_numbers_parse)
{
	static const char *const nums[] = {
		"0", "42", "-7", "3.25", "-1.5e3", "1E+2", " 42 ", "42\n",
	};
	struct json_object *o = NULL;
	struct im_error e;

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		ck_assert_msg(jparse(nums[i], strlen(nums[i]), &o, &e) == 0,
			      "%s: %s", nums[i], e.message);
		ck_assert_ptr_nonnull(o);
		ck_assert(json_object_is_type(o, json_type_int) ||
			  json_object_is_type(o, json_type_double));
		json_object_put(o);
	}
	ck_assert_int_eq(jparse("42", 2, &o, &e), 0);
	ck_assert_int_eq(json_object_get_int(o), 42);
	json_object_put(o);
	/* a number cut short by len ends there */
	ck_assert_int_eq(jparse("4217", 2, &o, &e), 0);
	ck_assert_int_eq(json_object_get_int(o), 42);
	json_object_put(o);
	ck_assert_int_eq(jparse("42x", 3, &o, &e), -1);
	ck_assert_ptr_null(o);
	ck_assert_str_eq(e.code, "bad_json");
	ck_assert_int_eq(jparse("-", 1, &o, &e), -1);
	ck_assert_int_eq(jparse("1e", 2, &o, &e), -1);
	/* null parses, to NULL */
	ck_assert_int_eq(jparse("null", 4, &o, &e), 0);
	ck_assert_ptr_null(o);
}
END_TEST

START_TEST(jparse_str_reports_type)
{
	struct json_object *o;
	struct im_error e;
	int bad = 0;
	static const char doc[] = "{\"s\":\"v\",\"n\":null,\"i\":1}";

	ck_assert_int_eq(jparse(doc, sizeof(doc) - 1, &o, &e), 0);
	ck_assert_str_eq(jparse_str(o, "s", NULL, &bad), "v");
	ck_assert_int_eq(bad, 0);
	ck_assert_ptr_null(jparse_str(o, "n", NULL, &bad));
	ck_assert_ptr_null(jparse_str(o, "absent", NULL, &bad));
	ck_assert_int_eq(bad, 0);
	ck_assert_ptr_null(jparse_str(o, "i", NULL, &bad));
	ck_assert_int_eq(bad, 1);
	json_object_put(o);
}
END_TEST

START_TEST(errors_without_an_error_struct_still_return_codes)
{
	struct hub_pub p = good_pub();
	struct hub_ack ack;

	p.event = "bad event";
	ck_assert_int_eq(hub_publish(&h, &p, &ack, NULL), IM_EINVAL);
	ck_assert_int_eq(hub_publish_json(&h, "lobby", "{", 1, &ack, NULL),
			 IM_EINVAL);
	ck_assert_uint_eq(store_total(st), 0);
}
END_TEST

START_TEST(errors_map_to_http_status_close_codes_and_names)
{
	static const struct {
		enum im_err err;
		unsigned int status, close;
	} map[] = {
		{ IM_OK, 200, 1000 }, { IM_ENOMEM, 500, 1011 },
		{ IM_EINVAL, 400, 1008 }, { IM_ENOTFOUND, 404, 1008 },
		{ IM_EFULL, 503, 1008 }, { IM_ETOOBIG, 413, 1009 },
		{ IM_EMETHOD, 405, 1008 }, { IM_ESYS, 500, 1011 },
	};
	struct im_error e;
	char longer[400];

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		ck_assert_uint_eq(im_err_http_status(map[i].err),
				  map[i].status);
		ck_assert_uint_eq(im_err_ws_close(map[i].err), map[i].close);
		ck_assert_str_ne(im_strerror(map[i].err), "unknown error");
		for (size_t k = 0; k < i; k++)
			ck_assert_str_ne(im_strerror(map[k].err),
					 im_strerror(map[i].err));
	}
	ck_assert_str_eq(im_strerror((enum im_err)99), "unknown error");
	ck_assert_uint_eq(im_err_http_status((enum im_err)99), 500);
	ck_assert_uint_eq(im_err_ws_close((enum im_err)99), 1011);
	/* the message is cut to fit and always terminated */
	memset(longer, 'm', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	ck_assert_int_eq(im_error_set(&e, IM_EFULL, "full", "%s: %d", longer,
				      7), IM_EFULL);
	ck_assert_int_eq(e.err, IM_EFULL);
	ck_assert_str_eq(e.code, "full");
	ck_assert_uint_eq(strlen(e.message), sizeof(e.message) - 1);
	ck_assert_int_eq(im_error_set(NULL, IM_EINVAL, "x", "y"), IM_EINVAL);
}
END_TEST

/* --- several publishers at once ------------------------------------- */

#define THREADS 4
#define PER_THREAD 5000
static const char *const trooms[3] = { "t0", "t1", "t2" };

struct worker {
	pthread_t th;
	int t;
	int fails;
};

static void *
publisher(void *arg)
{
	struct worker *w = arg;
	uint64_t prev = 0;

	for (int k = 0; k < PER_THREAD; k++) {
		struct json_object *d = json_object_new_array();
		struct hub_pub p = { 0 };
		struct hub_ack ack;
		struct im_error e;

		json_object_array_add(d, json_object_new_int(w->t));
		json_object_array_add(d, json_object_new_int(k));
		p.room = trooms[(w->t + k) % 3];
		p.event = "chat";
		p.from = "worker";
		p.via = VIA_API;
		p.data = d;
		if (hub_publish(&h, &p, &ack, &e) != IM_OK || ack.id <= prev)
			w->fails++;
		prev = ack.id;
		json_object_put(d);
	}
	return NULL;
}

START_TEST(concurrent_publishers_lose_nothing_and_keep_order)
{
	struct worker w[THREADS];
	struct store_ring *rings[3];
	struct tsub watcher;
	struct room *r[3];
	struct msg **out;
	struct store_read_result res;
	int next[THREADS] = { 0 };
	size_t sum = 0;
	uint64_t first = store_last_id(st) + 1;

	tsub_init(&watcher, "");
	for (int i = 0; i < 3; i++) {
		struct im_error e;

		r[i] = rooms_get(rs, trooms[i], 1, &e);
		ck_assert_ptr_nonnull(r[i]);
		rings[i] = room_ring(r[i]);
	}
	ck_assert_int_eq(rooms_subscribe(rs, &watcher.s, r, 3), IM_OK);
	for (int i = 0; i < THREADS; i++) {
		w[i].t = i;
		w[i].fails = 0;
		ck_assert_int_eq(pthread_create(&w[i].th, NULL, publisher,
						&w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(w[i].th, NULL);
		ck_assert_int_eq(w[i].fails, 0);
	}
	ck_assert_uint_eq(store_total(st), THREADS * PER_THREAD);
	ck_assert_uint_eq(store_last_id(st), first + THREADS * PER_THREAD - 1);
	ck_assert_uint_eq(atomic_load(&h.published[VIA_API]),
			  THREADS * PER_THREAD);
	ck_assert_uint_eq(atomic_load(&watcher.n), THREADS * PER_THREAD);

	out = calloc(THREADS * PER_THREAD + 1, sizeof(*out));
	ck_assert_ptr_nonnull(out);
	/* each room's ring is in strictly increasing id order */
	for (int i = 0; i < 3; i++) {
		uint64_t prev = 0;

		res = store_read(st, &rings[i], 1, 0, NULL, out,
				 THREADS * PER_THREAD + 1);

		ck_assert_uint_eq(res.n, store_ring_len(st, rings[i]));
		for (size_t k = 0; k < res.n; k++) {
			/* ck_abort_msg, not ck_assert: 20000 runner messages
			 * would cost more than the test */
			if (out[k]->id <= prev || strcmp(out[k]->room,
							 trooms[i]))
				ck_abort_msg("%s[%zu]: id %" PRIu64 " in %s "
					     "after %" PRIu64, trooms[i], k,
					     out[k]->id, out[k]->room, prev);
			prev = out[k]->id;
			msg_unref(&out[k]);
		}
		sum += res.n;
	}
	ck_assert_uint_eq(sum, THREADS * PER_THREAD);
	/* one cursor over the three: every id once, each publisher's
	 * messages complete and in the order it sent them */
	res = store_read(st, rings, 3, 0, NULL, out, THREADS * PER_THREAD + 1);
	ck_assert_uint_eq(res.n, THREADS * PER_THREAD);
	ck_assert_int_eq(res.gap, 0);
	ck_assert_uint_eq(res.last_id, store_last_id(st));
	for (size_t k = 0; k < res.n; k++) {
		const char *d = memmem(out[k]->json, out[k]->json_len,
				       "\"data\":[", 8);
		int t = -1, n = -1;

		if (out[k]->id != first + k || !d ||
		    sscanf(d + 8, "%d,%d", &t, &n) != 2 || t < 0 ||
		    t >= THREADS || n != next[t] ||
		    strcmp(out[k]->room, trooms[(t + n) % 3]))
			ck_abort_msg("message %zu: %.*s (expected id %" PRIu64
				     ")", k, (int)out[k]->json_len,
				     out[k]->json, first + k);
		next[t]++;
		msg_unref(&out[k]);
	}
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(next[i], PER_THREAD);
	free(out);
	rooms_unsubscribe_all(rs, &watcher.s);
}
END_TEST

/* Publishes {"data":1} with mid from cid to room; returns the ack. */
static struct hub_ack
pub_mid(const char *room, const char *cid, const char *mid)
{
	struct hub_pub p = { .room = room, .event = "chat", .from = "a",
			     .cid = cid, .mid = mid, .via = VIA_API,
			     .data_json = "1", .data_len = 1 };
	struct hub_ack ack;
	struct im_error e;

	ck_assert_int_eq(hub_publish(&h, &p, &ack, &e), IM_OK);
	return ack;
}

START_TEST(a_retried_mid_is_stored_once_per_cid_and_room)
{
	struct hub_ack a = pub_mid("r1", CID_A, "m-1"), b;
	char mid[16];

	b = pub_mid("r1", CID_A, "m-1");
	ck_assert_int_eq(b.dup, 1);
	ck_assert_uint_eq(b.id, a.id);
	ck_assert_int_eq(b.ts, a.ts);
	/* another cid, another room, another mid: new messages */
	ck_assert_int_eq(pub_mid("r1", CID_B, "m-1").dup, 0);
	ck_assert_int_eq(pub_mid("r2", CID_A, "m-1").dup, 0);
	ck_assert_int_eq(pub_mid("r1", CID_A, "m-2").dup, 0);
	ck_assert_int_eq(pub_mid("r1", CID_A, NULL).dup, 0);
	ck_assert_uint_eq(store_total(st), 5);
	/* the window holds the last ROOM_MID_WINDOW mids of a room */
	for (int i = 0; i < ROOM_MID_WINDOW; i++) {
		snprintf(mid, sizeof(mid), "fill-%d", i);
		pub_mid("r1", CID_A, mid);
	}
	b = pub_mid("r1", CID_A, "m-1");
	ck_assert_int_eq(b.dup, 0);
	ck_assert_uint_gt(b.id, a.id);
}
END_TEST

START_TEST(a_mid_follows_its_rule_and_needs_a_cid)
{
	struct hub_pub p = { .room = "r1", .event = "chat", .from = "a",
			     .cid = CID_A, .via = VIA_API };
	/* 65 characters: one over */
	static const char long_mid[] = "0123456789012345678901234567890"
				       "1234567890123456789012345678901234";
	static const char *const bad[] = { "", "a b", "\xc3\xa9", long_mid,
					   NULL };
	struct hub_ack ack;
	struct im_error e;

	for (int i = 0; bad[i]; i++) {
		p.mid = bad[i];
		ck_assert_int_eq(hub_publish(&h, &p, &ack, &e), IM_EINVAL);
		ck_assert_str_eq(e.code, "bad_mid");
	}
	p.mid = "ok_mid-1";
	p.cid = NULL;
	ck_assert_int_eq(hub_publish(&h, &p, &ack, &e), IM_EINVAL);
	ck_assert_str_eq(e.code, "bad_mid");
	ck_assert_uint_eq(store_total(st), 0);
}
END_TEST

START_TEST(raw_control_characters_in_strings_are_refused)
{
	/* json-c alone takes these; kept byte for byte, a raw CR would end
	 * an SSE data: line (found by fuzz_publish) */
	static const char *const bad[] = {
		"{\"event\":\"chat\",\"from\":\"a\",\"data\":\"a\tb\"}",
		"{\"event\":\"chat\",\"from\":\"a\",\"data\":\"a\rb\"}",
		"{\"event\":\"chat\",\"from\":\"a\",\"data\":[\"\n\"]}",
		"{\"event\":\"chat\",\"from\":\"a\tb\",\"data\":1}",
		NULL };
	struct hub_ack ack;
	struct im_error e;

	for (int i = 0; bad[i]; i++) {
		ck_assert_int_eq(hub_publish_json(&h, "r1", bad[i],
						  strlen(bad[i]), &ack, &e),
				 IM_EINVAL);
		ck_assert_str_eq(e.code, "bad_json");
	}
	/* escaped, and raw whitespace between tokens, are fine */
	ck_assert_int_eq(hub_publish_json(&h, "r1",
		"{\"event\":\"chat\",\t\"from\":\"a\",\r\n\"data\":\"\\t\\r\"}",
		44, &ack, &e), IM_OK);
	ck_assert_uint_eq(store_total(st), 1);
}
END_TEST

START_TEST(member_span_finds_data_as_written)
{
	static const char t[] = " { \"a\":[1,{\"data\":2}], \"d\\u0061ta\" :"
		" {\"x\": 1e400 , \"s\":\"}\\\"\"} , \"data\":-0 ,\"z\":3}";
	static const char c[] = "{ \"s\" : \" a \\\" b \" ,\n\"n\": 1.0 }";
	size_t at, n;
	char out[sizeof(t)];

	/* the last "data" member of the top level, an escaped spelling
	 * counted, never one nested deeper */
	ck_assert_int_eq(jparse_member_span(t, sizeof(t) - 1, "data", &at,
					    &n), 1);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(memcmp(t + at, "-0", 2), 0);
	ck_assert_int_eq(jparse_member_span(t, sizeof(t) - 1, "a", &at, &n),
			 1);
	ck_assert_int_eq(memcmp(t + at, "[1,{\"data\":2}]", n), 0);
	ck_assert_int_eq(jparse_member_span(t, sizeof(t) - 1, "nope", &at,
					    &n), 0);
	ck_assert_int_eq(jparse_member_span("[1]", 3, "data", &at, &n), 0);
	n = jparse_compact(c, sizeof(c) - 1, out);
	out[n] = '\0';
	ck_assert_str_eq(out, "{\"s\":\" a \\\" b \",\"n\":1.0}");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("hub");
	TCase *tc = tcase_create("publish");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good_publish_returns_id_and_ts_and_stores_envelope);
	tcase_add_test(tc, via_defaults_to_api_and_data_may_be_null);
	tcase_add_test(tc, publish_wakes_subscribers_who_may_see_it);
	suite_add_tcase(s, tc);

	tc = tcase_create("validation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bad_room_is_refused);
	tcase_add_test(tc, registry_full_is_efull);
	tcase_add_test(tc, bad_event_is_refused);
	tcase_add_test(tc, bad_cid_is_refused);
	tcase_add_test(tc, bad_from_is_refused);
	tcase_add_test(tc, bad_target_is_refused);
	tcase_add_test(tc, bad_via_is_refused);
	tcase_add_test(tc, missing_data_is_refused);
	tcase_add_test(tc, data_over_the_limit_is_too_large);
	tcase_add_test(tc, a_retried_mid_is_stored_once_per_cid_and_room);
	tcase_add_test(tc, a_mid_follows_its_rule_and_needs_a_cid);
	tcase_add_test(tc, errors_without_an_error_struct_still_return_codes);
	tcase_add_test(tc, errors_map_to_http_status_close_codes_and_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bad_json_bodies_are_refused);
	tcase_add_test(tc, bodies_with_nul_bytes_are_refused);
	tcase_add_test(tc, too_deep_json_is_refused);
	tcase_add_test(tc, members_of_the_wrong_type_are_refused);
	tcase_add_test(tc, unknown_members_are_ignored_and_whitespace_allowed);
	tcase_add_test(tc, data_that_is_not_valid_json_on_output_is_refused);
	tcase_add_test(tc, bare_top_level_numbers_parse);
	tcase_add_test(tc, jparse_str_reports_type);
	tcase_add_test(tc, member_span_finds_data_as_written);
	tcase_add_test(tc, raw_control_characters_in_strings_are_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, concurrent_publishers_lose_nothing_and_keep_order);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
