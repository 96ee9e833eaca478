/* SPDX-License-Identifier: MIT */
/*
 * test_msg: the message envelope. Its JSON bytes are exactly those of
 * doc/protocol.md (field order id, room, event, from, pid, via, data,
 * ts; `from` JSON-escaped), the WebSocket frame {"op":"msg","msg":E}
 * sits after MSG_WS_PRE bytes of headroom with E a slice of it, the SSE
 * frame is "id: N\nevent: E\ndata: E\n\n"; reference counting; who may
 * see a message (targets); transport names; and msg_batch_json().
 */
#include "autoconf.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "trun.h"
#include "msg.h"
#include "names.h"

#define CID_A "cid-alice-0001"
#define CID_B "cid-bob-000002"

/* Fills p with a typical chat message; data_json is borrowed. */
static void
parts(struct msg_parts *p, uint64_t id, const char *from,
      const char *data_json)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->ts = 1764147821123LL;
	p->room = "lobby";
	p->event = "chat";
	p->from = from;
	p->pid = "3f9a1c2e";
	p->cid = CID_A;
	p->via = VIA_SSE;
	p->to = MSG_TO_ROOM;
	p->data_json = data_json;
	p->data_len = strlen(data_json);
}

/* Returns m's envelope as a new NUL-terminated string (caller frees). */
static char *
envelope(const struct msg *m)
{
	char *s = malloc(m->json_len + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, m->json, m->json_len);
	s[m->json_len] = '\0';
	return s;
}

START_TEST(envelope_bytes_match_api_field_order)
{
	struct msg_parts p;
	struct msg *m;
	char *e;

	parts(&p, 42, "alice", "{\"text\":\"hi\"}");
	m = msg_create(&p);
	ck_assert_ptr_nonnull(m);
	e = envelope(m);
	ck_assert_str_eq(e, "{\"id\":42,\"room\":\"lobby\",\"event\":\"chat\","
			 "\"from\":\"alice\",\"pid\":\"3f9a1c2e\","
			 "\"via\":\"sse\",\"data\":{\"text\":\"hi\"},"
			 "\"ts\":1764147821123}");
	ck_assert_uint_eq(m->id, 42);
	ck_assert_int_eq(m->ts, 1764147821123LL);
	ck_assert_str_eq(m->room, "lobby");
	ck_assert_str_eq(m->event, "chat");
	ck_assert_str_eq(m->cid, CID_A);
	free(e);
	msg_unref(&m);
}
END_TEST

START_TEST(envelope_never_contains_the_private_cid)
{
	struct msg_parts p;
	struct msg *m;

	parts(&p, 1, "alice", "null");
	m = msg_create(&p);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(strstr(m->ws + MSG_WS_PRE, CID_A));
	msg_unref(&m);
}
END_TEST

START_TEST(envelope_keeps_data_bytes_verbatim)
{
	static const char *const datas[] = {
		"null", "true", "0", "-1.5e3", "\"a/b \\\"q\\\"\"", "[]",
		"[1,{\"k\":[null]}]", "{\"url\":\"http://x/y\"}",
	};

	for (size_t i = 0; i < sizeof(datas) / sizeof(datas[0]); i++) {
		struct msg_parts p;
		struct msg *m;
		char want[256], *e;

		parts(&p, 7, "al", datas[i]);
		m = msg_create(&p);
		ck_assert_ptr_nonnull(m);
		snprintf(want, sizeof(want), ",\"data\":%s,\"ts\":", datas[i]);
		e = envelope(m);
		ck_assert_msg(strstr(e, want), "%s lacks %s", e, want);
		free(e);
		msg_unref(&m);
	}
}
END_TEST

START_TEST(envelope_of_every_transport_names_its_via)
{
	for (int v = 0; v < VIA__COUNT; v++) {
		struct msg_parts p;
		struct msg *m;
		char want[64], *e;

		parts(&p, 9, "al", "1");
		p.via = (enum via)v;
		m = msg_create(&p);
		ck_assert_ptr_nonnull(m);
		snprintf(want, sizeof(want), ",\"via\":\"%s\",\"data\":1,",
			 via_name((enum via)v));
		e = envelope(m);
		ck_assert_msg(strstr(e, want), "%s lacks %s", e, want);
		free(e);
		msg_unref(&m);
	}
}
END_TEST

START_TEST(largest_id_and_ts_are_printed_in_full)
{
	struct msg_parts p;
	struct msg *m;
	char *e;

	parts(&p, UINT64_MAX, "al", "0");
	p.ts = INT64_MAX;
	m = msg_create(&p);
	ck_assert_ptr_nonnull(m);
	e = envelope(m);
	ck_assert_ptr_nonnull(strstr(e, "{\"id\":18446744073709551615,"));
	ck_assert_ptr_nonnull(strstr(e, ",\"ts\":9223372036854775807}"));
	free(e);
	msg_unref(&m);
}
END_TEST

START_TEST(from_is_json_escaped)
{
	struct msg_parts p;
	struct msg *m;
	struct json_object *o, *f;
	const char *from = "a\"b\\c\n\t\x01\x1f\x7f \xc3\xa9\xe2\x82\xac"
			   "\xf0\x9f\x98\x80/";
	char *e;

	parts(&p, 5, from, "{}");
	m = msg_create(&p);
	ck_assert_ptr_nonnull(m);
	e = envelope(m);
	/* quotes and backslash escaped, control characters as \u00XX,
	 * DEL and UTF-8 kept as they are, no escaping of / */
	ck_assert_msg(strstr(e, ",\"from\":\"a\\\"b\\\\c\\u000a\\u0009"
			     "\\u0001\\u001f\x7f \xc3\xa9\xe2\x82\xac"
			     "\xf0\x9f\x98\x80/\",\"pid\":"), "got %s", e);
	/* and it round-trips through a JSON parser */
	o = json_tokener_parse(e);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "from", &f));
	ck_assert_str_eq(json_object_get_string(f), from);
	json_object_put(o);
	free(e);
	msg_unref(&m);
}
END_TEST

START_TEST(empty_from_and_pid_are_empty_strings)
{
	struct msg_parts p;
	struct msg *m;
	char *e;

	parts(&p, 5, "", "{}");
	p.pid = "";
	p.cid = NULL;
	m = msg_create(&p);
	ck_assert_ptr_nonnull(m);
	e = envelope(m);
	ck_assert_ptr_nonnull(strstr(e, ",\"from\":\"\",\"pid\":\"\","));
	ck_assert_str_eq(m->cid, "");
	free(e);
	msg_unref(&m);
}
END_TEST

START_TEST(ws_frame_follows_headroom_and_contains_envelope)
{
	struct msg_parts p;
	struct msg *m;
	char want[512], *e;
	size_t n;

	parts(&p, 42, "alice", "{\"text\":\"hi\"}");
	m = msg_create(&p);
	ck_assert_ptr_nonnull(m);
	e = envelope(m);
	n = (size_t)snprintf(want, sizeof(want), "{\"op\":\"msg\",\"msg\":%s}",
			     e);
	ck_assert_uint_eq(m->ws_len, n);
	ck_assert_mem_eq(m->ws + MSG_WS_PRE, want, n);
	/* E is a slice of the frame, not a copy */
	ck_assert_ptr_eq(m->json, m->ws + MSG_WS_PRE + strlen(
				 "{\"op\":\"msg\",\"msg\":"));
	/* the frame is also a C string */
	ck_assert_int_eq(m->ws[MSG_WS_PRE + m->ws_len], '\0');
	free(e);
	msg_unref(&m);
}
END_TEST

START_TEST(envelope_is_one_line_for_the_sse_data_field)
{
	struct msg_parts p;
	struct msg *m;

	parts(&p, 42, "alice", "{\"text\":\"a\\nb\"}");
	p.event = "typing:start";
	m = msg_create(&p);
	ck_assert_ptr_nonnull(m);
	/* tp_sse writes "data: " + the envelope: nothing in it may end the
	 * data: field */
	ck_assert_ptr_null(memchr(m->json, '\n', m->json_len));
	ck_assert_ptr_null(memchr(m->json, '\r', m->json_len));
	msg_unref(&m);
}
END_TEST

START_TEST(large_data_is_serialised_whole)
{
	size_t len = 256 * 1024;
	char *data = malloc(len + 1);
	struct msg_parts p;
	struct msg *m;

	ck_assert_ptr_nonnull(data);
	data[0] = '"';
	memset(data + 1, 'x', len - 2);
	data[len - 1] = '"';
	data[len] = '\0';
	parts(&p, 3, "al", data);
	m = msg_create(&p);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_gt(m->json_len, len);
	ck_assert_ptr_nonnull(memmem(m->json, m->json_len, data, len));
	ck_assert_uint_eq(m->ws_len, strlen("{\"op\":\"msg\",\"msg\":") +
			  m->json_len + 1);
	free(data);
	msg_unref(&m);
}
END_TEST

START_TEST(create_refuses_overlong_names)
{
	char room[MSG_ROOM_MAX + 2], event[MSG_EVENT_MAX + 2];
	char cid[MSG_CID_MAX + 2];
	struct msg_parts p;
	struct msg *m;

	memset(room, 'r', sizeof(room) - 1);
	room[sizeof(room) - 1] = '\0';
	memset(event, 'e', sizeof(event) - 1);
	event[sizeof(event) - 1] = '\0';
	memset(cid, 'c', sizeof(cid) - 1);
	cid[sizeof(cid) - 1] = '\0';

	parts(&p, 1, "al", "0");
	p.room = room;
	ck_assert_ptr_null(msg_create(&p));
	room[MSG_ROOM_MAX] = '\0';		/* 64 is fine */
	m = msg_create(&p);
	ck_assert_ptr_nonnull(m);
	msg_unref(&m);

	parts(&p, 1, "al", "0");
	p.event = event;
	ck_assert_ptr_null(msg_create(&p));
	event[MSG_EVENT_MAX] = '\0';
	m = msg_create(&p);
	ck_assert_ptr_nonnull(m);
	msg_unref(&m);

	parts(&p, 1, "al", "0");
	p.cid = cid;
	ck_assert_ptr_null(msg_create(&p));
	cid[MSG_CID_MAX] = '\0';
	m = msg_create(&p);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->cid, cid);
	msg_unref(&m);
}
END_TEST

START_TEST(ref_and_unref_count_references)
{
	struct msg_parts p;
	struct msg *m, *m2, *m3;

	parts(&p, 1, "al", "0");
	m = msg_create(&p);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(atomic_load(&m->refs), 1);
	m2 = msg_ref(m);
	ck_assert_ptr_eq(m2, m);
	m3 = msg_ref(m);
	ck_assert_uint_eq(atomic_load(&m->refs), 3);
	msg_unref(&m2);
	ck_assert_ptr_null(m2);
	ck_assert_uint_eq(atomic_load(&m->refs), 2);
	msg_unref(&m);
	ck_assert_ptr_null(m);
	/* the last holder still reads a whole message */
	ck_assert_uint_eq(atomic_load(&m3->refs), 1);
	ck_assert_int_eq(strncmp(m3->json, "{\"id\":1,", 8), 0);
	msg_unref(&m3);		/* frees it (ASan checks) */
	ck_assert_ptr_null(m3);
	msg_unref(&m3);		/* NULL is accepted */
}
END_TEST

/* Who may see a message: rows are targets, columns the readers NULL, "",
 * the sender's cid and another cid. */
START_TEST(visible_obeys_targets)
{
	static const struct {
		enum msg_target to;
		int anon_null, anon_empty, sender, other;
	} rows[] = {
		{ MSG_TO_ROOM,   1, 1, 1, 1 },
		{ MSG_TO_OTHERS, 1, 1, 0, 1 },
		{ MSG_TO_SELF,   0, 0, 1, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct msg_parts p;
		struct msg *m;

		parts(&p, 1, "al", "0");
		p.to = rows[i].to;
		m = msg_create(&p);
		ck_assert_ptr_nonnull(m);
		ck_assert_int_eq(msg_visible(m, NULL), rows[i].anon_null);
		ck_assert_int_eq(msg_visible(m, ""), rows[i].anon_empty);
		ck_assert_int_eq(msg_visible(m, CID_A), rows[i].sender);
		ck_assert_int_eq(msg_visible(m, CID_B), rows[i].other);
		/* a cid that merely starts like the sender's is another */
		ck_assert_int_eq(msg_visible(m, CID_A "x"), rows[i].other);
		msg_unref(&m);
	}
}
END_TEST

START_TEST(via_names_round_trip)
{
	static const char *const names[VIA__COUNT] = {
		"poll", "longpoll", "sse", "ws", "sio", "api"
	};
	for (int i = 0; i < VIA__COUNT; i++) {
		ck_assert_str_eq(via_name((enum via)i), names[i]);
		ck_assert_int_eq(names_word(NAME_VIA, names[i],
					    strlen(names[i])), i);
	}
	ck_assert_str_eq(via_name(VIA__COUNT), "?");
	ck_assert_int_eq(names_word(NAME_VIA, "carrier-pigeon", 14), -1);
	ck_assert_int_eq(names_word(NAME_VIA, "", 0), -1);
	ck_assert_int_eq(names_word(NAME_VIA, "SSE", 3), -1);
	ck_assert_int_eq(names_word(NAME_VIA, "ws\0", 3), -1);
}
END_TEST

START_TEST(clocks_read_ms)
{
	int64_t t0 = (int64_t)time(NULL) * 1000, now = im_now_ms();
	int64_t m1 = im_mono_ms(), m2 = im_mono_ms();

	/* wall clock in ms since the epoch, not seconds or us; time() reads
	 * glibc's coarse clock, which may lag a few ms behind (CI saw
	 * now == time() * 1000 + 1001), hence the 100 ms of slack */
	ck_assert_int_ge(now, t0 - 1000);
	ck_assert_int_le(now, (int64_t)time(NULL) * 1000 + 1100);
	ck_assert_int_ge(m2, m1);
}
END_TEST

START_TEST(batch_of_none_is_an_empty_list)
{
	size_t len = 0;
	char *b = msg_batch_json(NULL, 0, 7, 0, &len);

	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(len, strlen(b));
	ck_assert_str_eq(b, "{\"messages\":[],\"last_id\":7,\"gap\":false}");
	free(b);
}
END_TEST

START_TEST(batch_joins_envelopes_with_cursor_and_gap)
{
	struct msg *m[3];
	struct msg_parts p;
	char want[2048], *b, *e0, *e1, *e2;
	size_t len = 0;

	for (int i = 0; i < 3; i++) {
		parts(&p, 10 + (uint64_t)i, "al", "[1,2]");
		m[i] = msg_create(&p);
		ck_assert_ptr_nonnull(m[i]);
	}
	e0 = envelope(m[0]);
	e1 = envelope(m[1]);
	e2 = envelope(m[2]);
	b = msg_batch_json(m, 3, UINT64_MAX, 1, &len);
	ck_assert_ptr_nonnull(b);
	snprintf(want, sizeof(want), "{\"messages\":[%s,%s,%s],"
		 "\"last_id\":18446744073709551615,\"gap\":true}",
		 e0, e1, e2);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_mem_eq(b, want, len);
	free(b);
	free(e0);
	free(e1);
	free(e2);
	for (int i = 0; i < 3; i++)
		msg_unref(&m[i]);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("envelope");

	tcase_add_test(tc, envelope_bytes_match_api_field_order);
	tcase_add_test(tc, envelope_never_contains_the_private_cid);
	tcase_add_test(tc, envelope_keeps_data_bytes_verbatim);
	tcase_add_test(tc, envelope_of_every_transport_names_its_via);
	tcase_add_test(tc, largest_id_and_ts_are_printed_in_full);
	tcase_add_test(tc, from_is_json_escaped);
	tcase_add_test(tc, empty_from_and_pid_are_empty_strings);
	tcase_add_test(tc, ws_frame_follows_headroom_and_contains_envelope);
	tcase_add_test(tc, envelope_is_one_line_for_the_sse_data_field);
	tcase_add_test(tc, large_data_is_serialised_whole);
	tcase_add_test(tc, create_refuses_overlong_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifetime");
	tcase_add_test(tc, ref_and_unref_count_references);
	suite_add_tcase(s, tc);

	tc = tcase_create("targets");
	tcase_add_test(tc, visible_obeys_targets);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, via_names_round_trip);
	tcase_add_test(tc, clocks_read_ms);
	tcase_add_test(tc, batch_of_none_is_an_empty_list);
	tcase_add_test(tc, batch_joins_envelopes_with_cursor_and_gap);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
