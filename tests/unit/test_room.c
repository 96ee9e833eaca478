/* SPDX-License-Identifier: MIT */
/*
 * test_room: the room registry (create on use, the max_rooms limit, name
 * rules), subscriber arrays (notify only those who may see a message,
 * unsubscribe one room or all, links kept valid as arrays move), and
 * presence: join/leave published as ordinary, ordered messages in the
 * room, one join per cid however many subscriptions it holds, pollers
 * kept by rooms_touch() until presence_ttl passes and then swept with a
 * leave (the sweep is given a future clock instead of sleeping), member
 * and room listings, and public ids that hide the private cid. The
 * hooks of nodes sharing Redis: rooms_post_at() (a given id and pid),
 * the presence hook and a shared pid key.
 */
#include "autoconf.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trun.h"
#include "names.h"
#include "room.h"

#define CID_A "cid-alice-0001"
#define CID_B "cid-bob-000002"
#define CID_C "cid-carol-0003"
#define TTL_MS 60000
#define MAX_ROOMS 8

static struct store *st;
static struct rooms *rs;

/* A subscriber that records what it was woken for. */
struct tsub {
	struct sub s;
	size_t n;
	uint64_t ids[256];
	char events[256][MSG_EVENT_MAX + 1];
};

static void
tsub_notify(struct sub *s, const struct msg *m)
{
	struct tsub *t = s->ctx;

	ck_assert_ptr_eq(&t->s, s);
	ck_assert(msg_visible(m, s->cid));
	ck_assert_uint_lt(t->n, 256);
	t->ids[t->n] = m->id;
	memcpy(t->events[t->n], m->event, sizeof(t->events[0]));
	t->n++;
}

static void
tsub_init(struct tsub *t, const char *cid, const char *from, enum via via)
{
	memset(t, 0, sizeof(*t));
	t->s.notify = tsub_notify;
	t->s.ctx = t;
	t->s.via = via;
	snprintf(t->s.cid, sizeof(t->s.cid), "%s", cid);
	snprintf(t->s.from, sizeof(t->s.from), "%s", from);
}

static void
setup(void)
{
	struct rooms_config cfg = { MAX_ROOMS, TTL_MS, 0, 0, 0 };

	st = store_create(1000, 1);
	ck_assert_ptr_nonnull(st);
	rs = rooms_create(st, &cfg);
	ck_assert_ptr_nonnull(rs);
}

static void
teardown(void)
{
	rooms_destroy(&rs);
	ck_assert_ptr_null(rs);
	store_destroy(&st);
}

static struct room *
get(const char *name)
{
	struct im_error e = { 0 };
	struct room *r = rooms_get(rs, name, 1, &e);

	ck_assert_msg(r, "rooms_get(%s): %s", name, e.message);
	return r;
}

static void
sub1(struct tsub *t, struct room *r)
{
	ck_assert_int_eq(rooms_subscribe(rs, &t->s, &r, 1), IM_OK);
}

/* Stores a chat message from cid into r and wakes its subscribers, as
 * the hub does; returns its id. */
static uint64_t
chat(struct room *r, const char *cid, enum msg_target to)
{
	struct msg_parts p = { 0 };
	struct msg *m = NULL;
	uint64_t id;

	p.room = room_name(r);
	p.event = "chat";
	p.from = "someone";
	p.pid = "";
	p.cid = cid;
	p.via = VIA_API;
	p.to = to;
	p.data_json = "\"hi\"";
	p.data_len = 4;
	ck_assert_int_eq(rooms_post(rs, r, &p, &m), IM_OK);
	id = m->id;
	msg_unref(&m);
	return id;
}

/* The messages of r after since, as "event pid data|..." in id order
 * (pid and data for presence only); the cursor moves to the newest. */
static char *
history(struct room *r, uint64_t *since)
{
	static char buf[4096];
	struct store_ring *ring = room_ring(r);
	struct msg *out[64];
	struct store_read_result res;
	size_t o = 0;

	res = store_read(st, &ring, 1, *since, NULL, out, 64);
	buf[0] = '\0';
	for (size_t i = 0; i < res.n; i++) {
		struct msg *m = out[i];

		ck_assert_str_eq(m->room, room_name(r));
		if (strcmp(m->event, "chat")) {
			const char *pid = strstr(m->json, "\"pid\":\"");
			const char *data = strstr(m->json, "\"data\":");

			ck_assert_ptr_nonnull(pid);
			ck_assert_ptr_nonnull(data);
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
				"%s%s %.32s %.*s", i ? "|" : "", m->event,
				pid + 7, (int)strcspn(data + 7, "}") + 1,
				data + 7);
		} else {
			o += (size_t)snprintf(buf + o, sizeof(buf) - o,
					      "%schat", i ? "|" : "");
		}
		ck_assert_uint_lt(o, sizeof(buf));
		msg_unref(&out[i]);
	}
	*since = res.last_id;
	return buf;
}

/* "join <pid of cid> {"transport":"<via>"}" */
static const char *
presence(const char *event, const char *cid, const char *via)
{
	static char buf[4][128];
	static int k;
	char pid[MSG_PID_LEN + 1];

	rooms_pid(rs, cid, pid);
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s %s {\"transport\":\"%s\"}",
		 event, pid, via);
	return buf[k];
}

START_TEST(subscribe_publishes_join_with_transport)
{
	struct room *r = get("lobby");
	struct tsub a;
	uint64_t since = 0;
	struct msg *out[2];
	struct store_read_result res;
	struct store_ring *ring = room_ring(r);
	char pid[MSG_PID_LEN + 1], want[256];

	tsub_init(&a, CID_A, "alice", VIA_SSE);
	sub1(&a, r);
	ck_assert_str_eq(history(r, &since),
			 presence("join", CID_A, "sse"));
	/* the whole envelope: from, pid, via, data; the cid stays private */
	res = store_read(st, &ring, 1, 0, NULL, out, 2);
	ck_assert_uint_eq(res.n, 1);
	rooms_pid(rs, CID_A, pid);
	snprintf(want, sizeof(want), "{\"id\":1,\"room\":\"lobby\","
		 "\"event\":\"join\",\"from\":\"alice\",\"pid\":\"%s\","
		 "\"via\":\"sse\",\"data\":{\"transport\":\"sse\"},\"ts\":",
		 pid);
	ck_assert_int_eq(strncmp(out[0]->json, want, strlen(want)), 0);
	ck_assert_ptr_null(memmem(out[0]->json, out[0]->json_len, CID_A,
				  strlen(CID_A)));
	ck_assert_int_eq(out[0]->to, MSG_TO_ROOM);
	msg_unref(&out[0]);
	/* the subscriber itself is woken for its join */
	ck_assert_uint_eq(a.n, 1);
	ck_assert_str_eq(a.events[0], "join");
	rooms_unsubscribe_all(rs, &a.s);
	ck_assert_str_eq(history(r, &since),
			 presence("leave", CID_A, "sse"));
}
END_TEST

START_TEST(join_once_per_cid_with_two_subscriptions)
{
	struct room *r = get("lobby");
	struct tsub sse, ws;
	uint64_t since = 0;

	tsub_init(&sse, CID_A, "alice", VIA_SSE);
	tsub_init(&ws, CID_A, "alice", VIA_WS);
	sub1(&sse, r);
	ck_assert_str_eq(history(r, &since),
			 presence("join", CID_A, "sse"));
	sub1(&ws, r);
	ck_assert_str_eq(history(r, &since), "");
	ck_assert_uint_eq(rooms_members(rs, r, NULL, 0), 1);
	/* the first subscription goes: the cid is still here */
	rooms_unsubscribe(rs, &sse.s, r);
	ck_assert_str_eq(history(r, &since), "");
	ck_assert_uint_eq(rooms_members(rs, r, NULL, 0), 1);
	/* the last one goes: leave, with the latest arrival's transport */
	rooms_unsubscribe(rs, &ws.s, r);
	ck_assert_str_eq(history(r, &since), presence("leave", CID_A, "ws"));
	ck_assert_uint_eq(rooms_members(rs, r, NULL, 0), 0);
	rooms_unsubscribe_all(rs, &sse.s);
	rooms_unsubscribe_all(rs, &ws.s);
	ck_assert_str_eq(history(r, &since), "");
}
END_TEST

START_TEST(presence_is_ordered_with_chat)
{
	struct room *r = get("lobby");
	struct tsub a, b;
	uint64_t since = 0;
	char want[512];

	tsub_init(&a, CID_A, "alice", VIA_WS);
	tsub_init(&b, CID_B, "bob", VIA_SSE);
	sub1(&a, r);
	chat(r, CID_A, MSG_TO_ROOM);
	sub1(&b, r);
	chat(r, CID_B, MSG_TO_ROOM);
	rooms_unsubscribe_all(rs, &a.s);
	chat(r, CID_B, MSG_TO_ROOM);
	rooms_unsubscribe_all(rs, &b.s);
	snprintf(want, sizeof(want), "%s|chat|%s|chat|%s|chat|%s",
		 presence("join", CID_A, "ws"), presence("join", CID_B, "sse"),
		 presence("leave", CID_A, "ws"),
		 presence("leave", CID_B, "sse"));
	ck_assert_str_eq(history(r, &since), want);
	/* a saw its join, the chat, b's join and the chat, in id order */
	ck_assert_uint_eq(a.n, 4);
	ck_assert_str_eq(a.events[2], "join");
	for (size_t i = 1; i < a.n; i++)
		ck_assert_uint_gt(a.ids[i], a.ids[i - 1]);
	/* b saw its join, the chat, a's leave and the chat */
	ck_assert_uint_eq(b.n, 4);
	ck_assert_str_eq(b.events[0], "join");
	ck_assert_str_eq(b.events[2], "leave");
	ck_assert_uint_eq(b.ids[3], store_last_id(st) - 1);
}
END_TEST

START_TEST(anonymous_subscriber_has_no_presence)
{
	struct room *r = get("lobby");
	struct tsub anon;
	uint64_t since = 0;

	tsub_init(&anon, "", "", VIA_SSE);
	sub1(&anon, r);
	ck_assert_uint_eq(store_last_id(st), 0);
	ck_assert_uint_eq(rooms_members(rs, r, NULL, 0), 0);
	chat(r, CID_A, MSG_TO_ROOM);
	ck_assert_uint_eq(anon.n, 1);
	rooms_touch(rs, r, "", "x", VIA_POLL);
	rooms_touch(rs, r, NULL, "x", VIA_POLL);
	rooms_unsubscribe_all(rs, &anon.s);
	ck_assert_str_eq(history(r, &since), "chat");
	ck_assert_uint_eq(rooms_members(rs, r, NULL, 0), 0);
}
END_TEST

START_TEST(poller_stays_until_ttl_then_sweep_publishes_leave)
{
	struct room *r = get("lobby");
	struct tsub a;
	uint64_t since = 0;
	int64_t now;

	tsub_init(&a, CID_A, "alice", VIA_WS);
	sub1(&a, r);
	history(r, &since);
	rooms_touch(rs, r, CID_B, "bob", VIA_POLL);
	now = im_mono_ms();
	ck_assert_str_eq(history(r, &since), presence("join", CID_B, "poll"));
	ck_assert_uint_eq(a.n, 2);
	/* polling again within the ttl publishes nothing */
	rooms_touch(rs, r, CID_B, "bob", VIA_POLL);
	rooms_touch(rs, r, CID_B, "bob", VIA_LONGPOLL);
	ck_assert_str_eq(history(r, &since), "");
	/* the ttl has not passed */
	ck_assert_uint_eq(rooms_sweep(rs, now), 0);
	ck_assert_uint_eq(rooms_members(rs, r, NULL, 0), 2);
	ck_assert_str_eq(history(r, &since), "");
	/* it has: one leave, and only the poller goes */
	ck_assert_uint_eq(rooms_sweep(rs, im_mono_ms() + TTL_MS + 1), 1);
	ck_assert_str_eq(history(r, &since),
			 presence("leave", CID_B, "longpoll"));
	ck_assert_uint_eq(a.n, 3);
	ck_assert_str_eq(a.events[2], "leave");
	ck_assert_uint_eq(rooms_members(rs, r, NULL, 0), 1);
	ck_assert_uint_eq(rooms_sweep(rs, im_mono_ms() + 10 * TTL_MS), 0);
	ck_assert_str_eq(history(r, &since), "");
	/* coming back is a new join */
	rooms_touch(rs, r, CID_B, "bob", VIA_POLL);
	ck_assert_str_eq(history(r, &since), presence("join", CID_B, "poll"));
	rooms_unsubscribe_all(rs, &a.s);
}
END_TEST

START_TEST(tiny_ttl_poller_is_swept_at_a_later_clock)
{
	struct rooms_config cfg = { MAX_ROOMS, 1, 0, 0, 0 };
	struct rooms *tiny = rooms_create(st, &cfg);
	struct im_error e;
	struct room *r;
	uint64_t since;

	ck_assert_ptr_nonnull(tiny);
	r = rooms_get(tiny, "quick", 1, &e);
	ck_assert_ptr_nonnull(r);
	rooms_touch(tiny, r, CID_A, "alice", VIA_POLL);
	since = store_last_id(st);
	ck_assert_uint_eq(rooms_sweep(tiny, im_mono_ms() + 1000), 1);
	ck_assert_uint_eq(rooms_members(tiny, r, NULL, 0), 0);
	ck_assert_uint_eq(store_last_id(st), since + 1);
	rooms_destroy(&tiny);
}
END_TEST

START_TEST(subscribed_member_who_also_polled_outlives_subscription)
{
	struct room *r = get("lobby");
	struct tsub a;
	uint64_t since = 0;

	tsub_init(&a, CID_A, "alice", VIA_SSE);
	rooms_touch(rs, r, CID_A, "alice", VIA_POLL);
	sub1(&a, r);
	ck_assert_str_eq(history(r, &since), presence("join", CID_A, "poll"));
	/* a subscription keeps it however late the sweep is */
	ck_assert_uint_eq(rooms_sweep(rs, im_mono_ms() + 100 * TTL_MS), 0);
	ck_assert_uint_eq(rooms_members(rs, r, NULL, 0), 1);
	/* its poll keeps it after the subscription ends ... */
	rooms_unsubscribe_all(rs, &a.s);
	ck_assert_str_eq(history(r, &since), "");
	ck_assert_uint_eq(rooms_members(rs, r, NULL, 0), 1);
	/* ... until the ttl passes */
	ck_assert_uint_eq(rooms_sweep(rs, im_mono_ms() + TTL_MS + 1), 1);
	ck_assert_str_eq(history(r, &since), presence("leave", CID_A, "sse"));
}
END_TEST

START_TEST(sweep_removes_every_expired_poller_once)
{
	struct room *r[2] = { get("lobby"), get("side") };
	struct tsub subs[10];
	struct store_ring *rings[2] = { room_ring(r[0]), room_ring(r[1]) };
	struct msg *out[256];
	struct store_read_result res;
	char cid[32];
	uint64_t since;

	for (int i = 0; i < 10; i++) {
		snprintf(cid, sizeof(cid), "cid-sub-%04d", i);
		tsub_init(&subs[i], cid, "s", VIA_WS);
		ck_assert_int_eq(rooms_subscribe(rs, &subs[i].s, r, 2),
				 IM_OK);
	}
	for (int i = 0; i < 60; i++) {
		snprintf(cid, sizeof(cid), "cid-poll-%04d", i);
		rooms_touch(rs, r[i % 2], cid, "p", VIA_POLL);
		if (i % 3 == 0)
			rooms_touch(rs, r[(i + 1) % 2], cid, "p", VIA_POLL);
	}
	ck_assert_uint_eq(rooms_members(rs, r[0], NULL, 0), 10 + 30 + 10);
	ck_assert_uint_eq(rooms_members(rs, r[1], NULL, 0), 10 + 30 + 10);
	since = store_last_id(st);
	ck_assert_uint_eq(rooms_sweep(rs, im_mono_ms() + TTL_MS + 1), 80);
	ck_assert_uint_eq(rooms_members(rs, r[0], NULL, 0), 10);
	ck_assert_uint_eq(rooms_members(rs, r[1], NULL, 0), 10);
	res = store_read(st, rings, 2, since, NULL, out, 256);
	ck_assert_uint_eq(res.n, 80);
	for (size_t i = 0; i < res.n; i++) {
		ck_assert_str_eq(out[i]->event, "leave");
		ck_assert_ptr_nonnull(strstr(out[i]->json, "\"data\":"
					     "{\"transport\":\"poll\"}"));
		msg_unref(&out[i]);
	}
	/* and every subscriber was woken for each of the 80 leaves */
	for (int i = 0; i < 10; i++) {
		size_t leaves = 0;

		for (size_t k = 0; k < subs[i].n; k++) {
			if (!strcmp(subs[i].events[k], "leave"))
				leaves++;
		}
		ck_assert_uint_eq(leaves, 80);
	}
	for (int i = 0; i < 10; i++)
		rooms_unsubscribe_all(rs, &subs[i].s);
	ck_assert_uint_eq(rooms_members(rs, r[0], NULL, 0), 0);
}
END_TEST

/* Above presence_batch members, arrivals and departures are gathered into
 * one `presence` message per interval; the member list stays exact; a
 * room back at the threshold announces each one again. */
START_TEST(big_room_batches_presence_and_keeps_members_exact)
{
	struct rooms_config cfg = { MAX_ROOMS, TTL_MS, 0, 2, 1000 };
	struct room_member_info info[4];
	struct tsub a, b, c;
	struct room *r;
	uint64_t since = 0;
	char want[512], pid[MSG_PID_LEN + 1];
	const char *h;

	rooms_destroy(&rs);
	rs = rooms_create(st, &cfg);
	ck_assert_ptr_nonnull(rs);
	r = get("big");
	tsub_init(&a, CID_A, "alice", VIA_SSE);
	tsub_init(&b, CID_B, "bob", VIA_WS);
	tsub_init(&c, CID_C, "carol", VIA_LONGPOLL);
	sub1(&a, r);
	sub1(&b, r);
	snprintf(want, sizeof(want), "%s|%s", presence("join", CID_A, "sse"),
		 presence("join", CID_B, "ws"));
	ck_assert_str_eq(history(r, &since), want);
	sub1(&c, r);
	/* the third is a member at once, but nothing is published yet */
	ck_assert_uint_eq(rooms_members(rs, r, info, 4), 3);
	ck_assert_str_eq(history(r, &since), "");
	rooms_presence_flush(rs, im_mono_ms(), 0);	/* not a second old */
	ck_assert_str_eq(history(r, &since), "");
	rooms_presence_flush(rs, im_mono_ms() + 1000, 0);
	h = history(r, &since);
	rooms_pid(rs, CID_C, pid);
	snprintf(want, sizeof(want), "{\"members\":3,\"joined\":1,"
		 "\"left\":0,\"join\":[{\"pid\":\"%s\",\"from\":\"carol\","
		 "\"transport\":\"longpoll\"}", pid);
	ck_assert_int_eq(strncmp(h, "presence ", 9), 0);
	ck_assert_ptr_nonnull(strstr(h, want));
	ck_assert_ptr_null(strchr(h, '|'));	/* one message */
	ck_assert_str_eq(c.events[c.n - 1], "presence");
	/* a leave from 3 members is batched too; then, at 2, one each */
	rooms_unsubscribe_all(rs, &a.s);
	ck_assert_str_eq(history(r, &since), "");
	rooms_presence_flush(rs, 0, 1);
	h = history(r, &since);
	ck_assert_ptr_nonnull(strstr(h, "{\"members\":2,\"joined\":0,"
				     "\"left\":1,"));
	rooms_unsubscribe_all(rs, &b.s);
	ck_assert_str_eq(history(r, &since), presence("leave", CID_B, "ws"));
	rooms_unsubscribe_all(rs, &c.s);
	rooms_release(rs, &r);
}
END_TEST

START_TEST(notify_only_subscribers_who_may_see)
{
	struct room *r = get("lobby");
	struct tsub a, b, anon;
	uint64_t id;

	tsub_init(&a, CID_A, "alice", VIA_WS);
	tsub_init(&b, CID_B, "bob", VIA_SSE);
	tsub_init(&anon, "", "", VIA_SSE);
	sub1(&a, r);
	sub1(&b, r);
	sub1(&anon, r);
	a.n = b.n = anon.n = 0;

	id = chat(r, CID_A, MSG_TO_ROOM);
	ck_assert_uint_eq(a.n, 1);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_uint_eq(anon.n, 1);
	ck_assert_uint_eq(a.ids[0], id);

	id = chat(r, CID_A, MSG_TO_OTHERS);
	ck_assert_uint_eq(a.n, 1);
	ck_assert_uint_eq(b.n, 2);
	ck_assert_uint_eq(b.ids[1], id);
	ck_assert_uint_eq(anon.n, 2);

	id = chat(r, CID_A, MSG_TO_SELF);
	ck_assert_uint_eq(a.n, 2);
	ck_assert_uint_eq(a.ids[1], id);
	ck_assert_uint_eq(b.n, 2);
	ck_assert_uint_eq(anon.n, 2);

	rooms_unsubscribe_all(rs, &a.s);
	rooms_unsubscribe_all(rs, &b.s);
	rooms_unsubscribe_all(rs, &anon.s);
}
END_TEST

START_TEST(notify_reaches_remaining_subscribers_after_removals)
{
	struct room *r = get("lobby"), *other = get("other");
	struct tsub t[6];
	char cid[32];

	for (int i = 0; i < 6; i++) {
		snprintf(cid, sizeof(cid), "cid-many-%04d", i);
		tsub_init(&t[i], cid, "m", VIA_WS);
		sub1(&t[i], i % 2 ? other : r);
		if (i % 2)
			sub1(&t[i], r);
	}
	/* remove from the front, the middle and the back of the array */
	rooms_unsubscribe(rs, &t[0].s, r);
	rooms_unsubscribe(rs, &t[3].s, r);
	rooms_unsubscribe(rs, &t[5].s, r);
	rooms_unsubscribe(rs, &t[5].s, r);	/* again: no-op */
	for (int i = 0; i < 6; i++)
		t[i].n = 0;
	chat(r, NULL, MSG_TO_ROOM);
	for (int i = 0; i < 6; i++)
		ck_assert_uint_eq(t[i].n, (i == 0 || i == 3 || i == 5) ? 0 : 1);
	/* t[3] and t[5] are still in the other room */
	chat(other, NULL, MSG_TO_ROOM);
	ck_assert_uint_eq(t[3].n, 1);
	ck_assert_uint_eq(t[5].n, 1);
	ck_assert_uint_eq(t[1].n, 2);
	ck_assert_uint_eq(t[2].n, 1);
	for (int i = 0; i < 6; i++) {
		rooms_unsubscribe_all(rs, &t[i].s);
		ck_assert_ptr_null(t[i].s.links);
		ck_assert_uint_eq(t[i].s.nlinks, 0);
	}
}
END_TEST

START_TEST(unsubscribe_all_leaves_every_room_and_stops_notify)
{
	struct room *r[3] = { get("a"), get("b"), get("c") };
	struct tsub a, b;
	struct room_info info[MAX_ROOMS];

	tsub_init(&a, CID_A, "alice", VIA_SSE);
	tsub_init(&b, CID_B, "bob", VIA_SSE);
	ck_assert_int_eq(rooms_subscribe(rs, &a.s, r, 3), IM_OK);
	ck_assert_uint_eq(a.s.nlinks, 3);
	sub1(&b, r[1]);
	ck_assert_uint_eq(a.n, 4);	/* 3 joins, b's join */
	rooms_unsubscribe_all(rs, &a.s);
	ck_assert_ptr_null(a.s.links);
	ck_assert_uint_eq(a.s.nlinks, 0);
	/* a leave in each room; b saw the one in its room */
	for (int i = 0; i < 3; i++) {
		uint64_t since = store_ring_last_id(st, room_ring(r[i])) - 1;

		ck_assert_str_eq(history(r[i], &since),
				 presence("leave", CID_A, "sse"));
	}
	ck_assert_uint_eq(b.n, 2);
	ck_assert_str_eq(b.events[1], "leave");
	for (int i = 0; i < 3; i++)
		chat(r[i], NULL, MSG_TO_ROOM);
	ck_assert_uint_eq(a.n, 4);
	ck_assert_uint_eq(b.n, 3);
	ck_assert_uint_eq(rooms_list(rs, info, MAX_ROOMS), 3);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(info[i].subscribers,
				  !strcmp(info[i].name, "b"));
	/* again, and with nothing subscribed: harmless */
	rooms_unsubscribe_all(rs, &a.s);
	rooms_unsubscribe_all(rs, &b.s);
}
END_TEST

START_TEST(subscribing_more_rooms_later_keeps_links_valid)
{
	struct room *r[6];
	struct tsub a;
	char name[8];

	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		r[i] = get(name);
	}
	tsub_init(&a, "", "", VIA_WS);
	sub1(&a, r[0]);
	ck_assert_int_eq(rooms_subscribe(rs, &a.s, &r[1], 2), IM_OK);
	ck_assert_int_eq(rooms_subscribe(rs, &a.s, &r[3], 3), IM_OK);
	ck_assert_int_eq(rooms_subscribe(rs, &a.s, &r[3], 0), IM_OK);
	ck_assert_uint_eq(a.s.nlinks, 6);
	for (int i = 0; i < 6; i++) {
		ck_assert_ptr_eq(a.s.links[i].sub, &a.s);
		chat(r[i], NULL, MSG_TO_ROOM);
		ck_assert_uint_eq(a.n, (size_t)i + 1);
	}
	rooms_unsubscribe(rs, &a.s, r[0]);
	rooms_unsubscribe(rs, &a.s, r[4]);
	ck_assert_uint_eq(a.s.nlinks, 4);
	for (int i = 0; i < 6; i++)
		chat(r[i], NULL, MSG_TO_ROOM);
	ck_assert_uint_eq(a.n, 10);
	rooms_unsubscribe_all(rs, &a.s);
}
END_TEST

START_TEST(registry_full_is_efull)
{
	struct im_error e = { 0 };
	char name[16];
	struct room *first = NULL;

	for (int i = 0; i < MAX_ROOMS; i++) {
		struct room *r;

		snprintf(name, sizeof(name), "room-%d", i);
		r = get(name);
		if (!first)
			first = r;
	}
	ck_assert_ptr_null(rooms_get(rs, "one-too-many", 1, &e));
	ck_assert_int_eq(e.err, IM_EFULL);
	ck_assert_str_eq(e.code, "too_many_rooms");
	ck_assert_uint_eq(rooms_list(rs, NULL, 0), MAX_ROOMS);
	/* the rooms there are still work */
	ck_assert_ptr_eq(rooms_get(rs, "room-0", 1, &e), first);
	ck_assert_ptr_eq(rooms_get(rs, "room-0", 0, &e), first);
}
END_TEST

START_TEST(bad_room_names_are_einval)
{
	static const char long65[] =
		"12345678901234567890123456789012345678901234567890123456789"
		"012345";
	static const char long64[] =
		"12345678901234567890123456789012345678901234567890123456789"
		"01234";
	static const char *const bad[] = {
		"", "a b", "a/b", "a\\b", "caf\xc3\xa9", "a:b", "a\nb",
		"../x", "a?b", "%41", long65,
	};
	static const char *const good[] = {
		"a", "A-Z_a.z-09", "...", "-", long64,
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct im_error e = { 0 };

		ck_assert_msg(!names_valid(NAME_ROOM, bad[i], strlen(bad[i])),
			      "%s", bad[i]);
		ck_assert_ptr_null(rooms_get(rs, bad[i], 1, &e));
		ck_assert_int_eq(e.err, IM_EINVAL);
		ck_assert_str_eq(e.code, "bad_room");
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(names_valid(NAME_ROOM, good[i], strlen(good[i])),
			      "%s", good[i]);
		ck_assert_str_eq(room_name(get(good[i])), good[i]);
	}
	ck_assert_uint_eq(rooms_list(rs, NULL, 0),
			  sizeof(good) / sizeof(good[0]));
}
END_TEST

START_TEST(get_without_create_finds_only_existing_rooms)
{
	struct im_error e = { 0 };
	struct room *r;

	ck_assert_ptr_null(rooms_get(rs, "lobby", 0, &e));
	ck_assert_int_eq(e.err, IM_ENOTFOUND);
	ck_assert_str_eq(e.code, "no_room");
	ck_assert_uint_eq(rooms_list(rs, NULL, 0), 0);
	r = get("lobby");
	ck_assert_ptr_eq(rooms_get(rs, "lobby", 0, &e), r);
	ck_assert_ptr_eq(get("lobby"), r);
	ck_assert_str_eq(room_name(r), "lobby");
	ck_assert_ptr_nonnull(room_ring(r));
	ck_assert_ptr_ne(room_ring(get("other")), room_ring(r));
}
END_TEST

START_TEST(members_list_pid_from_and_transport)
{
	struct room *r = get("lobby");
	struct tsub a;
	struct room_member_info mi[4];
	char pa[MSG_PID_LEN + 1], pb[MSG_PID_LEN + 1];
	size_t n;

	tsub_init(&a, CID_A, "al\"ice", VIA_WS);
	sub1(&a, r);
	rooms_touch(rs, r, CID_B, "bob", VIA_LONGPOLL);
	rooms_pid(rs, CID_A, pa);
	rooms_pid(rs, CID_B, pb);
	n = rooms_members(rs, r, mi, 4);
	ck_assert_uint_eq(n, 2);
	if (strcmp(mi[0].pid, pa)) {	/* in any order */
		mi[2] = mi[0];
		mi[0] = mi[1];
		mi[1] = mi[2];
	}
	ck_assert_str_eq(mi[0].pid, pa);
	ck_assert_str_eq(mi[0].from, "al\"ice");
	ck_assert_int_eq(mi[0].via, VIA_WS);
	ck_assert_str_eq(mi[1].pid, pb);
	ck_assert_str_eq(mi[1].from, "bob");
	ck_assert_int_eq(mi[1].via, VIA_LONGPOLL);
	/* a short buffer still gets the count */
	ck_assert_uint_eq(rooms_members(rs, r, mi, 1), 2);
	ck_assert_uint_eq(rooms_members(rs, get("empty"), mi, 4), 0);
	rooms_unsubscribe_all(rs, &a.s);
}
END_TEST

START_TEST(list_summarises_rooms)
{
	struct room *a = get("a"), *b = get("b");
	struct room_info info[4];
	struct tsub s1, s2;
	uint64_t last_b;
	size_t n;

	tsub_init(&s1, CID_A, "alice", VIA_SSE);
	tsub_init(&s2, "", "", VIA_SSE);
	sub1(&s1, a);
	sub1(&s2, a);
	rooms_touch(rs, a, CID_B, "bob", VIA_POLL);
	last_b = chat(b, NULL, MSG_TO_ROOM);
	chat(a, NULL, MSG_TO_ROOM);
	n = rooms_list(rs, info, 4);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(info[i].name, "a")) {
			ck_assert_uint_eq(info[i].members, 2);
			ck_assert_uint_eq(info[i].subscribers, 2);
			ck_assert_uint_eq(info[i].last_id, store_last_id(st));
		} else {
			ck_assert_str_eq(info[i].name, "b");
			ck_assert_uint_eq(info[i].members, 0);
			ck_assert_uint_eq(info[i].subscribers, 0);
			ck_assert_uint_eq(info[i].last_id, last_b);
		}
	}
	ck_assert_uint_eq(rooms_list(rs, info, 1), 2);
	get("c");
	ck_assert_uint_eq(rooms_list(rs, info, 4), 3);
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(info[i].name, "c"))
			ck_assert_uint_eq(info[i].last_id, 0);
	rooms_unsubscribe_all(rs, &s1.s);
	rooms_unsubscribe_all(rs, &s2.s);
}
END_TEST

START_TEST(pid_is_8_hex_stable_and_hides_cid)
{
	static const char long64[] =	/* the longest cid */
		"abcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefabcdefab"
		"cd";
	static const char *const cids[] = {
		CID_A, CID_B, "00000000", "deadbeef", "deadbeef0", long64,
	};
	char pid[MSG_PID_LEN + 1], again[MSG_PID_LEN + 1];
	char seen[6][MSG_PID_LEN + 1];
	struct rooms_config cfg = { MAX_ROOMS, TTL_MS, 0, 0, 0 };
	struct rooms *rs2;

	for (size_t i = 0; i < sizeof(cids) / sizeof(cids[0]); i++) {
		rooms_pid(rs, cids[i], pid);
		ck_assert_uint_eq(strlen(pid), MSG_PID_LEN);
		ck_assert_uint_eq(strspn(pid, "0123456789abcdef"),
				  MSG_PID_LEN);
		ck_assert_ptr_null(strstr(cids[i], pid));
		rooms_pid(rs, cids[i], again);
		ck_assert_str_eq(pid, again);
		for (size_t k = 0; k < i; k++)
			ck_assert_str_ne(seen[k], pid);
		memcpy(seen[i], pid, sizeof(pid));
	}
	rooms_pid(rs, "", pid);
	ck_assert_str_eq(pid, "");
	rooms_pid(rs, NULL, pid);
	ck_assert_str_eq(pid, "");
	/* keyed per registry: another server cannot map it back */
	rs2 = rooms_create(st, &cfg);
	ck_assert_ptr_nonnull(rs2);
	rooms_pid(rs2, CID_A, pid);
	ck_assert_str_ne(pid, seen[0]);
	rooms_destroy(&rs2);
}
END_TEST

START_TEST(unused_rooms_are_reclaimed_only_when_nothing_holds_them)
{
	struct rooms_config cfg = { MAX_ROOMS, TTL_MS, 1000, 0, 0 };
	struct store *st2 = store_create(10, 1);
	struct rooms *rs2 = rooms_create(st2, &cfg);
	struct im_error e = { 0 };
	struct room *r, *q;
	struct store_read_result res;
	struct store_ring *ring;
	struct tsub t;
	uint64_t id;

	/* empty and released: freed at once */
	r = rooms_get(rs2, "empty", 1, &e);
	ck_assert_ptr_nonnull(r);
	rooms_release(rs2, &r);
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(rooms_count(rs2), 0);
	/* history: kept while pinned or subscribed, then freed when idle */
	r = rooms_get(rs2, "hist", 1, &e);
	tsub_init(&t, "", "x", VIA_SSE);
	ck_assert_int_eq(rooms_subscribe(rs2, &t.s, &r, 1), IM_OK);
	{
		struct msg_parts p = { 0 };

		p.event = "chat";
		p.from = "x";
		p.via = VIA_API;
		p.data_json = "1";
		p.data_len = 1;
		ck_assert_int_eq(rooms_post(rs2, r, &p, NULL), IM_OK);
		ck_assert_int_eq(rooms_post(rs2, r, &p, NULL), IM_OK);
	}
	id = store_last_id(st2);
	rooms_release(rs2, &r);
	rooms_sweep(rs2, im_mono_ms() + 5000);
	ck_assert_uint_eq(rooms_count(rs2), 1);	/* a subscriber */
	rooms_unsubscribe_all(rs2, &t.s);
	q = rooms_get(rs2, "hist", 0, &e);	/* a pin */
	rooms_sweep(rs2, im_mono_ms() + 5000);
	ck_assert_uint_eq(rooms_count(rs2), 1);
	rooms_release(rs2, &q);
	rooms_sweep(rs2, im_mono_ms());		/* not idle yet */
	ck_assert_uint_eq(rooms_count(rs2), 1);
	rooms_sweep(rs2, im_mono_ms() + 5000);
	ck_assert_uint_eq(rooms_count(rs2), 0);
	ck_assert_uint_eq(store_total(st2), 0);
	ck_assert_uint_eq(rooms_floor(rs2), id);
	/* created again: a reader from before the drop sees a gap */
	r = rooms_get(rs2, "hist", 1, &e);
	ring = room_ring(r);
	res = store_read(st2, &ring, 1, id - 1, NULL, NULL, 0);
	ck_assert_int_eq(res.gap, 1);
	res = store_read(st2, &ring, 1, id, NULL, NULL, 0);
	ck_assert_int_eq(res.gap, 0);
	rooms_release(rs2, &r);
	rooms_destroy(&rs2);
	store_destroy(&st2);
}
END_TEST

START_TEST(list_pages_come_in_name_order)
{
	struct room_info info[3];
	const char *names[] = { "d", "a", "e", "c", "b" };
	size_t n;

	for (size_t i = 0; i < 5; i++)
		get(names[i]);
	n = rooms_list_page(rs, NULL, info, 3);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(info[0].name, "a");
	ck_assert_str_eq(info[1].name, "b");
	ck_assert_str_eq(info[2].name, "c");
	n = rooms_list_page(rs, "c", info, 3);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(info[0].name, "d");
	ck_assert_str_eq(info[1].name, "e");
	ck_assert_uint_eq(rooms_list_page(rs, "e", info, 3), 0);
}
END_TEST

START_TEST(pid_is_the_same_in_every_room)
{
	struct room *r[2] = { get("a"), get("b") };
	struct tsub a;
	struct room_member_info m0, m1;

	tsub_init(&a, CID_A, "alice", VIA_WS);
	ck_assert_int_eq(rooms_subscribe(rs, &a.s, r, 2), IM_OK);
	ck_assert_uint_eq(rooms_members(rs, r[0], &m0, 1), 1);
	ck_assert_uint_eq(rooms_members(rs, r[1], &m1, 1), 1);
	ck_assert_str_eq(m0.pid, m1.pid);
	rooms_unsubscribe_all(rs, &a.s);
}
END_TEST

/* What a presence hook was called with. */
static char hooked[8][96];
static size_t nhooked;

static void
presence_hook(void *ctx, const char *room, const char *cid, const char *pid,
	      const char *from, enum via via, const char *event)
{
	ck_assert_ptr_eq(ctx, &nhooked);
	ck_assert_uint_eq(strlen(pid), MSG_PID_LEN);
	if (nhooked < 8)
		snprintf(hooked[nhooked++], sizeof(hooked[0]), "%s %s %s %s %s",
			 event, room, cid, from, via_name(via));
}

START_TEST(post_at_keeps_id_and_pid_and_notifies)
{
	struct msg_parts p = { 0 };
	struct tsub t;
	struct room *r = get("shared");
	uint64_t since = 0;

	tsub_init(&t, "", "", VIA_SSE);
	sub1(&t, r);
	p.id = 5000;
	p.ts = 1234;
	p.room = "shared";
	p.event = "chat";
	p.from = "far";
	p.pid = "0123456789abcdef0123456789abcdef";
	p.via = VIA_WS;
	p.data_json = "1";
	p.data_len = 1;
	ck_assert_int_eq(rooms_post_at(rs, &p), IM_OK);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_uint_eq(t.ids[0], 5000);
	/* a replay is refused and wakes nobody */
	ck_assert_int_eq(rooms_post_at(rs, &p), IM_EINVAL);
	ck_assert_uint_eq(t.n, 1);
	/* a room it names is created */
	p.id = 5001;
	p.room = "elsewhere";
	ck_assert_int_eq(rooms_post_at(rs, &p), IM_OK);
	ck_assert_str_eq(history(r, &since), "chat");
	p.room = "bad room";
	p.id = 5002;
	ck_assert_int_eq(rooms_post_at(rs, &p), IM_EINVAL);
	rooms_unsubscribe_all(rs, &t.s);
	rooms_release(rs, &r);
}
END_TEST

START_TEST(a_presence_hook_takes_joins_and_leaves_instead_of_the_store)
{
	static const unsigned char key[32] = { 1, 2, 3 };
	char pid1[MSG_PID_LEN + 1], pid2[MSG_PID_LEN + 1];
	struct tsub t;
	struct room *r = get("hooked");
	uint64_t since = 0;

	rooms_pid(rs, CID_A, pid1);
	rooms_pid_set_key(rs, key);
	rooms_pid(rs, CID_A, pid2);
	ck_assert_str_ne(pid1, pid2);
	rooms_set_presence_hook(rs, presence_hook, &nhooked);
	nhooked = 0;
	tsub_init(&t, CID_A, "alice", VIA_WS);
	sub1(&t, r);
	rooms_unsubscribe_all(rs, &t.s);
	ck_assert_uint_eq(nhooked, 2);
	ck_assert_str_eq(hooked[0], "join hooked " CID_A " alice ws");
	ck_assert_str_eq(hooked[1], "leave hooked " CID_A " alice ws");
	/* nothing was stored here */
	ck_assert_str_eq(history(r, &since), "");
	rooms_set_presence_hook(rs, NULL, NULL);
	rooms_release(rs, &r);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("room");
	TCase *tc = tcase_create("presence");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, subscribe_publishes_join_with_transport);
	tcase_add_test(tc, join_once_per_cid_with_two_subscriptions);
	tcase_add_test(tc, presence_is_ordered_with_chat);
	tcase_add_test(tc, anonymous_subscriber_has_no_presence);
	tcase_add_test(tc, poller_stays_until_ttl_then_sweep_publishes_leave);
	tcase_add_test(tc, tiny_ttl_poller_is_swept_at_a_later_clock);
	tcase_add_test(tc,
		       subscribed_member_who_also_polled_outlives_subscription);
	tcase_add_test(tc, sweep_removes_every_expired_poller_once);
	tcase_add_test(tc, big_room_batches_presence_and_keeps_members_exact);
	suite_add_tcase(s, tc);

	tc = tcase_create("subscribers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, notify_only_subscribers_who_may_see);
	tcase_add_test(tc, notify_reaches_remaining_subscribers_after_removals);
	tcase_add_test(tc, unsubscribe_all_leaves_every_room_and_stops_notify);
	tcase_add_test(tc, subscribing_more_rooms_later_keeps_links_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("registry");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, registry_full_is_efull);
	tcase_add_test(tc, bad_room_names_are_einval);
	tcase_add_test(tc, get_without_create_finds_only_existing_rooms);
	tcase_add_test(tc, members_list_pid_from_and_transport);
	tcase_add_test(tc, list_summarises_rooms);
	tcase_add_test(tc, pid_is_8_hex_stable_and_hides_cid);
	tcase_add_test(tc, pid_is_the_same_in_every_room);
	tcase_add_test(tc,
		       unused_rooms_are_reclaimed_only_when_nothing_holds_them);
	tcase_add_test(tc, list_pages_come_in_name_order);
	tcase_add_test(tc, post_at_keeps_id_and_pid_and_notifies);
	tcase_add_test(tc,
		a_presence_hook_takes_joins_and_leaves_instead_of_the_store);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
