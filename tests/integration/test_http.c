/* SPDX-License-Identifier: MIT */
/*
 * test_http: the HTTP API and transports beyond the shared behaviour
 * suite: publish answers and every bad input (status + error body, store
 * unchanged, server still serving), long polls woken by a publish from
 * another thread and timing out when nothing comes, keep-alive across a
 * held long poll, SSE headers, heartbeat and Last-Event-ID resume, the
 * limits (413, 503 + Retry-After), rooms/history/stats/metrics, CORS.
 */
#include "autoconf.h"

#include <check.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "trun.h"
#include "tdriver.h"
#include "testlib.h"

int tdrv_sse_open_with(struct tsub *s, const char *header);

static uint64_t
publish(const char *room, const char *body)
{
	char path[128];
	struct t_resp r;
	uint64_t id = 0;
	const char *p;

	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	ck_assert_int_eq(t_http(t_port, "POST", path, body, NULL, &r), 0);
	ck_assert_msg(r.status == 201, "publish: %ld %s", r.status, r.body);
	p = strstr(r.body, "\"id\":");
	ck_assert_ptr_nonnull(p);
	id = strtoull(p + 5, NULL, 10);
	t_resp_free(&r);
	return id;
}

#define CHAT(text) "{\"event\":\"chat\",\"from\":\"alice\",\"data\":" text "}"

START_TEST(publish_answers_201_with_id_and_ts)
{
	struct t_resp r;

	ck_assert_int_eq(t_http(t_port, "POST", "/api/rooms/lobby/messages",
				CHAT("\"hi\""), NULL, &r), 0);
	ck_assert_int_eq(r.status, 201);
	ck_assert_ptr_nonnull(strstr(r.body, "\"id\":"));
	ck_assert_ptr_nonnull(strstr(r.body, "\"ts\":"));
	ck_assert_str_eq(t_header(&r, "Content-Type"), "application/json");
	t_resp_free(&r);
}
END_TEST

static const struct {
	const char *path, *body;
	long status;
	const char *code;
} bad_publishes[] = {
	{ "/api/rooms/b%21d/messages", CHAT("1"), 400, "bad_room" },
	{ "/api/rooms/lobby/messages", "not json", 400, "bad_json" },
	{ "/api/rooms/lobby/messages", "[1,2]", 400, "bad_json" },
	{ "/api/rooms/lobby/messages", "{\"event\":\"chat\"} x", 400,
	  "bad_json" },
	{ "/api/rooms/lobby/messages", "{\"from\":\"a\",\"data\":1}", 400,
	  "bad_event" },
	{ "/api/rooms/lobby/messages",
	  "{\"event\":\"no spaces\",\"from\":\"a\",\"data\":1}", 400,
	  "bad_event" },
	{ "/api/rooms/lobby/messages", "{\"event\":\"chat\",\"data\":1}", 400,
	  "bad_from" },
	{ "/api/rooms/lobby/messages",
	  "{\"event\":\"chat\",\"from\":\"\",\"data\":1}", 400, "bad_from" },
	{ "/api/rooms/lobby/messages",
	  "{\"event\":\"chat\",\"from\":\"a\",\"cid\":\"short\",\"data\":1}",
	  400, "bad_cid" },
	{ "/api/rooms/lobby/messages",
	  "{\"event\":\"chat\",\"from\":\"a\",\"to\":\"others\",\"data\":1}",
	  400, "bad_target" },
	{ "/api/rooms/lobby/messages",
	  "{\"event\":\"chat\",\"from\":\"a\",\"to\":\"all\",\"data\":1}",
	  400, "bad_target" },
	{ "/api/rooms/lobby/messages",
	  "{\"event\":\"chat\",\"from\":\"a\",\"via\":\"pigeon\",\"data\":1}",
	  400, "bad_via" },
	{ "/api/rooms/lobby/messages", "{\"event\":\"chat\",\"from\":\"a\"}",
	  400, "bad_data" },
	{ "/api/rooms/lobby/messages",
	  "{\"event\":7,\"from\":\"a\",\"data\":1}", 400, "bad_field" },
	{ "/api/rooms/lobby/messages", "", 400, "bad_json" },
	{ "/api/rooms/lobby/messages/x", CHAT("1"), 404, "not_found" },
	{ "/api/rooms/lobby", CHAT("1"), 405, "bad_method" },
};

START_TEST(bad_publishes_get_status_and_error_and_store_is_unchanged)
{
	uint64_t before = store_last_id(t_srv->st);
	size_t total = store_total(t_srv->st);

	for (size_t i = 0; i < sizeof(bad_publishes) /
	     sizeof(bad_publishes[0]); i++) {
		struct t_resp r;
		char code[64];

		ck_assert_int_eq(t_http(t_port, "POST", bad_publishes[i].path,
					bad_publishes[i].body, NULL, &r), 0);
		snprintf(code, sizeof(code), "\"code\":\"%s\"",
			 bad_publishes[i].code);
		ck_assert_msg(r.status == bad_publishes[i].status &&
			      strstr(r.body, code) &&
			      strstr(r.body, "\"message\":\""),
			      "case %zu (%s): %ld %s", i,
			      bad_publishes[i].body, r.status, r.body);
		t_resp_free(&r);
	}
	ck_assert_uint_eq(store_last_id(t_srv->st), before);
	ck_assert_uint_eq(store_total(t_srv->st), total);
	publish("lobby", CHAT("\"still serving\""));
}
END_TEST

START_TEST(oversized_body_is_413)
{
	static const char head[] = "{\"event\":\"chat\",\"from\":\"a\","
				   "\"data\":\"";
	size_t h = sizeof(head) - 1, n = 70 * 1024;
	char *body = malloc(h + n + 3);
	struct t_resp r;

	ck_assert_ptr_nonnull(body);
	memcpy(body, head, h);
	memset(body + h, 'x', n);
	memcpy(body + h + n, "\"}", 3);
	ck_assert_int_eq(t_http(t_port, "POST", "/api/rooms/lobby/messages",
				body, NULL, &r), 0);
	ck_assert_int_eq(r.status, 413);
	ck_assert_ptr_nonnull(strstr(r.body, "\"too_large\""));
	t_resp_free(&r);
	free(body);
	ck_assert_int_eq(t_http(t_port, "GET", "/healthz", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	t_resp_free(&r);
}
END_TEST

static const struct {
	const char *path;
	long status;
	const char *code;
} bad_gets[] = {
	{ "/poll", 400, "bad_room" },
	{ "/poll?rooms=", 400, "bad_room" },
	{ "/poll?rooms=a,,b", 400, "bad_room" },
	{ "/poll?rooms=a%20b", 400, "bad_room" },
	{ "/poll?rooms=a&since=abc", 400, "bad_param" },
	{ "/poll?rooms=a&since=-1", 400, "bad_param" },
	{ "/poll?rooms=a&cid=x", 400, "bad_cid" },
	{ "/poll?rooms=a&limit=0", 400, "bad_param" },
	{ "/poll?rooms=r1,r2,r3,r4,r5,r6,r7,r8,r9,r10,r11,r12,r13,r14,r15,"
	  "r16,r17", 400, "too_many_rooms" },
	{ "/longpoll?rooms=a&timeout=0", 400, "bad_param" },
	{ "/longpoll?rooms=a&timeout=61", 400, "bad_param" },
	{ "/sse", 400, "bad_room" },
	{ "/api/nope", 404, "not_found" },
};

START_TEST(bad_subscriptions_get_status_and_error)
{
	for (size_t i = 0; i < sizeof(bad_gets) / sizeof(bad_gets[0]); i++) {
		struct t_resp r;
		char code[64];

		ck_assert_int_eq(t_http(t_port, "GET", bad_gets[i].path, NULL,
					NULL, &r), 0);
		snprintf(code, sizeof(code), "\"code\":\"%s\"",
			 bad_gets[i].code);
		ck_assert_msg(r.status == bad_gets[i].status &&
			      strstr(r.body, code),
			      "%s: %ld %s", bad_gets[i].path, r.status,
			      r.body);
		t_resp_free(&r);
	}
}
END_TEST

static void *
publish_later(void *arg)
{
	struct hub_pub p = { 0 };
	struct hub_ack ack;
	struct im_error e;
	struct json_object *data = json_object_new_string("wake up");

	(void)arg;
	usleep(300 * 1000);
	p.room = "lobby";
	p.event = "chat";
	p.from = "thread";
	p.via = VIA_API;
	p.data = data;
	ck_assert_int_eq(hub_publish(&t_srv->hub, &p, &ack, &e), IM_OK);
	json_object_put(data);
	return NULL;
}

START_TEST(longpoll_returns_when_a_message_is_published)
{
	char path[256];
	struct t_resp r;
	pthread_t t;

	snprintf(path, sizeof(path), "/longpoll?rooms=lobby&since=%llu"
		 "&timeout=30", (unsigned long long)store_last_id(t_srv->st));
	pthread_create(&t, NULL, publish_later, NULL);
	ck_assert_int_eq(t_http(t_port, "GET", path, NULL, NULL, &r), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(r.status, 200);
	/* it came back with the message, not with a timeout */
	ck_assert_ptr_nonnull(strstr(r.body, "\"data\":\"wake up\""));
	ck_assert_ptr_nonnull(strstr(r.body, "\"gap\":false"));
	t_resp_free(&r);
}
END_TEST

START_TEST(longpoll_with_a_cursor_ahead_gets_the_next_message)
{
	/* a since beyond the sequence (another server's id) means "from
	 * now": the next message wakes the poll */
	struct t_resp r;
	pthread_t t;

	pthread_create(&t, NULL, publish_later, NULL);
	ck_assert_int_eq(t_http(t_port, "GET", "/longpoll?rooms=lobby"
				"&since=999999999999999999&timeout=30", NULL,
				NULL, &r), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"data\":\"wake up\""));
	t_resp_free(&r);
}
END_TEST

START_TEST(longpoll_times_out_empty_when_nothing_comes)
{
	char path[256], want[64];
	struct t_resp r;
	uint64_t last = store_last_id(t_srv->st);

	snprintf(path, sizeof(path), "/longpoll?rooms=lobby&since=%llu"
		 "&timeout=1", (unsigned long long)last);
	ck_assert_int_eq(t_http(t_port, "GET", path, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "{\"messages\":[],\"last_id\":%llu,"
		 "\"gap\":false}", (unsigned long long)last);
	ck_assert_str_eq(r.body, want);
	t_resp_free(&r);
}
END_TEST

static size_t
discard(char *d, size_t s, size_t n, void *u)
{
	(void)d;
	(void)u;
	return s * n;
}

START_TEST(keep_alive_survives_a_held_long_poll)
{
	CURL *c = curl_easy_init();
	char url[256];
	long status = 0, connects = -1;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/longpoll?rooms=lobby"
		 "&since=%llu&timeout=1", t_port,
		 (unsigned long long)store_last_id(t_srv->st));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz", t_port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
	ck_assert_int_eq(status, 200);
	ck_assert_int_eq(connects, 0);	/* the connection was reused */
	curl_easy_cleanup(c);
}
END_TEST

START_TEST(sse_stream_headers_and_retry_first)
{
	char *resp, req[256];

	snprintf(req, sizeof(req), "GET /sse?rooms=lobby HTTP/1.0\r\n"
		 "Host: localhost\r\n\r\n");
	resp = t_raw(t_port, req, 500);
	ck_assert_ptr_nonnull(resp);
	ck_assert_msg(!strncmp(resp, "HTTP/1.1 200", 12), "%s", resp);
	ck_assert_ptr_nonnull(strstr(resp, "Content-Type: text/event-stream"));
	ck_assert_ptr_nonnull(strstr(resp, "Cache-Control: no-store"));
	ck_assert_ptr_nonnull(strstr(resp, "X-Accel-Buffering: no"));
	ck_assert_ptr_nonnull(strstr(resp, "\r\n\r\nretry: 2000\n\n"));
	free(resp);
}
END_TEST

START_TEST(sse_heartbeat_comment)
{
	struct config cfg;
	struct server *s2;
	char *resp;

	t_config(&cfg);
	cfg.sse_ping = 1;
	s2 = t_server_start(&cfg);
	resp = t_raw(server_port(s2), "GET /sse?rooms=lobby HTTP/1.0\r\n"
		     "Host: localhost\r\n\r\n", 2500);
	ck_assert_ptr_nonnull(resp);
	ck_assert_ptr_nonnull(strstr(resp, "\n: ping\n\n"));
	free(resp);
	server_stop(&s2);
}
END_TEST

START_TEST(sse_resumes_from_last_event_id)
{
	struct tsub s;
	uint64_t a, b, c;
	char hdr[64];

	a = publish("lobby", CHAT("\"a\""));
	b = publish("lobby", CHAT("\"b\""));
	c = publish("lobby", CHAT("\"c\""));
	/* since=0 asks for everything; the header wins */
	tsub_init(&s, &tdrv_sse, t_port, "resumer-1", "r", "lobby", 0);
	snprintf(hdr, sizeof(hdr), "Last-Event-ID: %llu",
		 (unsigned long long)a);
	ck_assert_int_eq(tdrv_sse_open_with(&s, hdr), 0);
	tdrv_sse.wait(&s, 3, 5000);
	/* b, c, then the resumer's own join */
	ck_assert_uint_eq(s.n, 3);
	ck_assert_uint_eq(s.env[0].id, b);
	ck_assert_uint_eq(s.env[1].id, c);
	ck_assert_str_eq(s.env[2].event, "join");
	tdrv_sse.close(&s);
	tsub_free(&s);
}
END_TEST

START_TEST(held_longpoll_and_sse_limits_answer_503)
{
	struct config cfg;
	struct server *s2;
	struct t_resp r;
	int fds[4];
	char req[256];

	t_config(&cfg);
	cfg.max_longpolls = 2;
	cfg.max_sse = 2;
	s2 = t_server_start(&cfg);
	snprintf(req, sizeof(req), "GET /longpoll?rooms=lobby&since=%llu"
		 "&timeout=20 HTTP/1.1\r\nHost: localhost\r\n\r\n",
		 (unsigned long long)store_last_id(s2->st) + 1000);
	for (int i = 0; i < 2; i++) {
		fds[i] = t_connect(server_port(s2));
		ck_assert_int_gt(send(fds[i], req, strlen(req), 0), 0);
	}
	for (int i = 2; i < 4; i++) {
		char buf[512];

		fds[i] = t_connect(server_port(s2));
		static const char sreq[] = "GET /sse?rooms=lobby HTTP/1.1"
					   "\r\nHost: localhost\r\n\r\n";

		ck_assert_int_gt(send(fds[i], sreq, sizeof(sreq) - 1, 0), 0);
		ck_assert_int_gt(recv(fds[i], buf, sizeof(buf), 0), 0);
	}
	/* wait until both long polls are held */
	for (int i = 0; i < 100 && atomic_load(
		     &s2->stats.tp[VIA_LONGPOLL].open) < 2; i++)
		usleep(20 * 1000);
	ck_assert_int_eq(t_http(server_port(s2), "GET",
				"/longpoll?rooms=lobby&since=999999999999999999"
				"&timeout=5", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 503);
	ck_assert_ptr_nonnull(t_header(&r, "Retry-After"));
	ck_assert_ptr_nonnull(strstr(r.body, "\"code\":\"busy\""));
	t_resp_free(&r);
	ck_assert_int_eq(t_http(server_port(s2), "GET", "/sse?rooms=lobby",
				NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 503);
	ck_assert_ptr_nonnull(t_header(&r, "Retry-After"));
	t_resp_free(&r);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	/* shutdown resumes the held ones */
	server_stop(&s2);
}
END_TEST

START_TEST(rooms_members_history_and_counters)
{
	struct t_resp r;
	uint64_t id;
	char path[128];

	ck_assert_int_eq(t_http(t_port, "GET", "/poll?rooms=den&cid=member-01"
				"&from=m%C3%A9l", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	t_resp_free(&r);
	id = publish("den", CHAT("{\"n\":1}"));
	ck_assert_int_eq(t_http(t_port, "GET", "/api/rooms", NULL, NULL, &r),
			 0);
	ck_assert_ptr_nonnull(strstr(r.body, "\"room\":\"den\""));
	t_resp_free(&r);
	ck_assert_int_eq(t_http(t_port, "GET", "/api/rooms/den", NULL, NULL,
				&r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"from\":\"m\xc3\xa9l\""));
	ck_assert_ptr_nonnull(strstr(r.body, "\"transport\":\"poll\""));
	ck_assert_ptr_null(strstr(r.body, "member-01"));	/* no cid */
	t_resp_free(&r);
	snprintf(path, sizeof(path), "/api/rooms/den/messages?since=%llu",
		 (unsigned long long)(id - 1));
	ck_assert_int_eq(t_http(t_port, "GET", path, NULL, NULL, &r), 0);
	ck_assert_ptr_nonnull(strstr(r.body, "{\"n\":1}"));
	t_resp_free(&r);
	/* the newest one: the message just published */
	publish("den", CHAT("{\"n\":2}"));
	ck_assert_int_eq(t_http(t_port, "GET", "/api/rooms/den/messages?last=1",
				NULL, NULL, &r), 0);
	ck_assert_ptr_nonnull(strstr(r.body, "{\"n\":2}"));
	ck_assert_ptr_null(strstr(r.body, "{\"n\":1}"));
	t_resp_free(&r);
	ck_assert_int_eq(t_http(t_port, "GET", "/api/rooms/den/messages?last=2"
				"&since=1", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 400);
	t_resp_free(&r);
	ck_assert_int_eq(t_http(t_port, "GET", "/poll?rooms=den", NULL, NULL,
				&r), 0);
	t_resp_free(&r);
	ck_assert_int_eq(t_http(t_port, "GET", "/api/stats", NULL, NULL, &r),
			 0);
	ck_assert_ptr_nonnull(strstr(r.body, "\"poll\":{\"open\":0,"
				     "\"requests\":2,\"delivered\":4"));
	t_resp_free(&r);
	ck_assert_int_eq(t_http(t_port, "GET", "/metrics", NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "imlab_messages_delivered_total"
				     "{transport=\"poll\"} 4\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "imlab_requests_total"
				     "{transport=\"poll\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "# TYPE imlab_bytes_sent_total "
				     "counter"));
	t_resp_free(&r);
}
END_TEST

START_TEST(cors_off_by_default_and_one_origin_when_set)
{
	struct config cfg;
	struct server *s2;
	struct t_resp r;

	ck_assert_int_eq(t_http(t_port, "GET", "/api/info", NULL,
				"Origin: http://elsewhere", &r), 0);
	ck_assert_ptr_null(t_header(&r, "Access-Control-Allow-Origin"));
	t_resp_free(&r);
	t_config(&cfg);
	cfg.allow_origin = "http://teacher.example";
	s2 = t_server_start(&cfg);
	/* an origin not listed gets no grant */
	ck_assert_int_eq(t_http(server_port(s2), "GET", "/api/info", NULL,
				"Origin: http://elsewhere", &r), 0);
	ck_assert_ptr_null(t_header(&r, "Access-Control-Allow-Origin"));
	t_resp_free(&r);
	ck_assert_int_eq(t_http(server_port(s2), "GET", "/api/info", NULL,
				"Origin: http://teacher.example", &r), 0);
	ck_assert_str_eq(t_header(&r, "Access-Control-Allow-Origin"),
			 "http://teacher.example");
	t_resp_free(&r);
	ck_assert_int_eq(t_http(server_port(s2), "OPTIONS",
				"/api/rooms/x/messages", NULL,
				"Origin: http://teacher.example", &r), 0);
	ck_assert_int_eq(r.status, 204);
	ck_assert_ptr_nonnull(t_header(&r, "Access-Control-Allow-Methods"));
	t_resp_free(&r);
	server_stop(&s2);
}
END_TEST

/* Counts occurrences of needle in the stream read so far (split-safe). */
struct sse_count {
	int fd;
	size_t seen;
	char tail[16];
};

START_TEST(sse_fanout_under_load_loses_nothing)
{
	/* 300 streams and a burst: more wake-ups than TP_BUSY_WAKES per
	 * window, so the coalescing path runs; every stream must still get
	 * every message, in order */
	enum { NSTREAMS = 300, NMSGS = 60 };
	static struct sse_count sc[NSTREAMS];
	struct hub_pub p = { 0 };
	struct hub_ack ack;
	struct im_error e;
	struct json_object *data = json_object_new_string("burst");
	size_t done = 0;

	for (int i = 0; i < NSTREAMS; i++) {
		char buf[512];

		sc[i].fd = t_connect(t_port);
		sc[i].seen = 0;
		sc[i].tail[0] = '\0';
		ck_assert_int_ge(sc[i].fd, 0);
		/* named=1: each message's event: line is what is counted */
		ck_assert_int_gt(send(sc[i].fd, "GET /sse?rooms=fan&named=1 "
				      "HTTP/1.0\r\n\r\n", 39, 0), 0);
		/* headers and retry: the subscription is registered */
		ck_assert_int_gt(recv(sc[i].fd, buf, sizeof(buf), 0), 0);
	}
	p.room = "fan";
	p.event = "chat";
	p.from = "burst";
	p.via = VIA_API;
	p.data = data;
	/* 1 ms apart: streams go back to sleep between messages, so the
	 * busy server defers their next wake-up to the flusher */
	for (int k = 0; k < NMSGS; k++) {
		ck_assert_int_eq(hub_publish(&t_srv->hub, &p, &ack, &e), IM_OK);
		usleep(1000);
	}
	json_object_put(data);
	for (int round = 0; round < 3000 && done < NSTREAMS; round++) {
		done = 0;
		for (int i = 0; i < NSTREAMS; i++) {
			char buf[8192 + 16], *q;
			ssize_t n;
			size_t tl = strlen(sc[i].tail);

			if (sc[i].seen == NMSGS) {
				done++;
				continue;
			}
			memcpy(buf, sc[i].tail, tl);
			n = recv(sc[i].fd, buf + tl, 8192, MSG_DONTWAIT);
			if (n <= 0)
				continue;
			buf[tl + (size_t)n] = '\0';
			for (q = buf; (q = strstr(q, "event: chat\n")); q++)
				sc[i].seen++;
			tl += (size_t)n;
			snprintf(sc[i].tail, sizeof(sc[i].tail), "%s",
				 buf + (tl > 11 ? tl - 11 : 0));
		}
		if (done < NSTREAMS)
			usleep(10 * 1000);
	}
	for (int i = 0; i < NSTREAMS; i++) {
		ck_assert_msg(sc[i].seen == NMSGS, "stream %d got %zu of %d",
			      i, sc[i].seen, NMSGS);
		close(sc[i].fd);
	}
}
END_TEST

/* One raw keep-alive long poller: sends a request, reads one answer. */
struct lp_client {
	int fd;
	uint64_t since;
	size_t seen;		/* chat messages received */
	uint64_t last;		/* id of the last chat message */
	int bad;		/* out of order or duplicated */
	char buf[65536];
	size_t len;
};

static void
lp_send(struct lp_client *c, uint16_t p)
{
	char req[256];
	int n = snprintf(req, sizeof(req), "GET /longpoll?rooms=lpfan"
			 "&since=%llu&timeout=10 HTTP/1.1\r\n"
			 "Host: localhost\r\n\r\n",
			 (unsigned long long)c->since);

	(void)p;
	ck_assert_int_eq(send(c->fd, req, (size_t)n, 0), n);
}

/* Consumes one complete answer from c->buf if there is one: counts its
 * chat messages, takes last_id, and asks again. */
static void
lp_take(struct lp_client *c, uint16_t p)
{
	char *hend = strstr(c->buf, "\r\n\r\n"), *cl, *body, *q;
	size_t blen;

	if (!hend || !(cl = strcasestr(c->buf, "Content-Length:")))
		return;
	blen = strtoul(cl + 15, NULL, 10);
	body = hend + 4;
	if ((size_t)(body - c->buf) + blen > c->len)
		return;
	for (q = body; (q = strstr(q, "\"event\":\"chat\"")) &&
	     q < body + blen; q++) {
		char *id = q;

		/* the envelope's id precedes its event */
		while (id > body && strncmp(id, "{\"id\":", 6))
			id--;
		if (strtoull(id + 6, NULL, 10) <= c->last)
			c->bad = 1;
		c->last = strtoull(id + 6, NULL, 10);
		c->seen++;
	}
	q = strstr(body, "\"last_id\":");
	ck_assert_ptr_nonnull(q);
	c->since = strtoull(q + 10, NULL, 10);
	c->len -= (size_t)(body - c->buf) + blen;
	memmove(c->buf, body + blen, c->len);
	c->buf[c->len] = '\0';
	lp_send(c, p);
}

#define LPFAN_MSGS 100

static void *
burst_lpfan(void *arg)
{
	struct hub_pub p = { 0 };
	struct hub_ack ack;
	struct im_error e;
	struct json_object *data = json_object_new_string("burst");

	(void)arg;
	p.room = "lpfan";
	p.event = "chat";
	p.from = "burst";
	p.via = VIA_API;
	p.data = data;
	for (int k = 0; k < LPFAN_MSGS; k++) {
		if (hub_publish(&t_srv->hub, &p, &ack, &e) != IM_OK)
			abort();
		usleep(1000);
	}
	json_object_put(data);
	return NULL;
}

START_TEST(longpoll_fanout_under_load_loses_nothing)
{
	/* 300 long pollers that ask again at once, and a burst 1 ms apart:
	 * the server gets busy and makes answers wait for batches (the
	 * coalescing path); every poller must still get every message once,
	 * in order */
	enum { NPOLL = 300, NMSGS = LPFAN_MSGS };
	static struct lp_client lc[NPOLL];
	pthread_t pub;
	uint64_t start = store_last_id(t_srv->st);
	size_t done = 0;

	for (int i = 0; i < NPOLL; i++) {
		memset(&lc[i], 0, sizeof(lc[i]));
		lc[i].fd = t_connect(t_port);
		ck_assert_int_ge(lc[i].fd, 0);
		lc[i].since = start;	/* the burst comes after */
		lp_send(&lc[i], t_port);
	}
	for (int i = 0; i < 200 && atomic_load(
		     &t_srv->stats.tp[VIA_LONGPOLL].open) < NPOLL; i++)
		usleep(10 * 1000);
	/* published from another thread while the pollers read and ask
	 * again, so answers race the burst */
	pthread_create(&pub, NULL, burst_lpfan, NULL);
	for (int round = 0; round < 2000 && done < NPOLL; round++) {
		done = 0;
		for (int i = 0; i < NPOLL; i++) {
			ssize_t n;

			if (lc[i].seen >= NMSGS) {
				done++;
				continue;
			}
			n = recv(lc[i].fd, lc[i].buf + lc[i].len,
				 sizeof(lc[i].buf) - 1 - lc[i].len,
				 MSG_DONTWAIT);
			if (n <= 0)
				continue;
			lc[i].len += (size_t)n;
			lc[i].buf[lc[i].len] = '\0';
			lp_take(&lc[i], t_port);
		}
		if (done < NPOLL)
			usleep(1000);
	}
	pthread_join(pub, NULL);
	for (int i = 0; i < NPOLL; i++) {
		ck_assert_msg(lc[i].seen == NMSGS && !lc[i].bad,
			      "poller %d got %zu of %d%s", i, lc[i].seen,
			      NMSGS, lc[i].bad ? ", out of order" : "");
		close(lc[i].fd);
	}
}
END_TEST

START_TEST(gone_clients_end_their_long_poll_and_stream)
{
	/* a held long poll (timeout 60 s) and an SSE stream (ping 15 s)
	 * whose clients close: the server notices well before either timer
	 * (it peeks at waiting sockets once a second), and presence ends */
	char req[256], buf[512];
	int lp, sse;

	snprintf(req, sizeof(req), "GET /longpoll?rooms=gone-lp"
		 "&since=%llu&timeout=60 HTTP/1.1\r\nHost: localhost\r\n\r\n",
		 (unsigned long long)store_last_id(t_srv->st));
	lp = t_connect(t_port);
	ck_assert_int_gt(send(lp, req, strlen(req), 0), 0);
	sse = t_connect(t_port);
	snprintf(req, sizeof(req), "GET /sse?rooms=gone&cid=streamer01 "
		 "HTTP/1.1\r\nHost: localhost\r\n\r\n");
	ck_assert_int_gt(send(sse, req, strlen(req), 0), 0);
	ck_assert_int_gt(recv(sse, buf, sizeof(buf), 0), 0);
	for (int i = 0; i < 500 && (atomic_load(
		     &t_srv->stats.tp[VIA_LONGPOLL].open) < 1 || atomic_load(
		     &t_srv->stats.tp[VIA_SSE].open) < 1); i++)
		usleep(10 * 1000);
	ck_assert_int_eq(atomic_load(&t_srv->stats.tp[VIA_LONGPOLL].open), 1);
	ck_assert_int_eq(atomic_load(&t_srv->stats.tp[VIA_SSE].open), 1);
	close(lp);
	close(sse);
	/* bounded wait, far below the 60 s timeout and the 15 s ping */
	for (int i = 0; i < 1000 && (atomic_load(
		     &t_srv->stats.tp[VIA_LONGPOLL].open) > 0 || atomic_load(
		     &t_srv->stats.tp[VIA_SSE].open) > 0); i++)
		usleep(10 * 1000);
	ck_assert_int_eq(atomic_load(&t_srv->stats.tp[VIA_LONGPOLL].open), 0);
	ck_assert_int_eq(atomic_load(&t_srv->stats.tp[VIA_SSE].open), 0);
	/* the stream's member left at once; the poller stays for its ttl */
	{
		struct t_resp r;

		ck_assert_int_eq(t_http(t_port, "GET", "/api/rooms/gone", NULL,
					NULL, &r), 0);
		ck_assert_ptr_null(strstr(r.body, "\"transport\":\"sse\""));
		t_resp_free(&r);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("api+transports");

	t_fixture(tc, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, publish_answers_201_with_id_and_ts);
	tcase_add_test(tc,
		bad_publishes_get_status_and_error_and_store_is_unchanged);
	tcase_add_test(tc, oversized_body_is_413);
	tcase_add_test(tc, bad_subscriptions_get_status_and_error);
	tcase_add_test(tc, longpoll_returns_when_a_message_is_published);
	tcase_add_test(tc, longpoll_times_out_empty_when_nothing_comes);
	tcase_add_test(tc, longpoll_with_a_cursor_ahead_gets_the_next_message);
	tcase_add_test(tc, keep_alive_survives_a_held_long_poll);
	tcase_add_test(tc, sse_stream_headers_and_retry_first);
	tcase_add_test(tc, sse_heartbeat_comment);
	tcase_add_test(tc, sse_fanout_under_load_loses_nothing);
	tcase_add_test(tc, gone_clients_end_their_long_poll_and_stream);
	tcase_add_test(tc, longpoll_fanout_under_load_loses_nothing);
	tcase_add_test(tc, sse_resumes_from_last_event_id);
	tcase_add_test(tc, held_longpoll_and_sse_limits_answer_503);
	tcase_add_test(tc, rooms_members_history_and_counters);
	tcase_add_test(tc, cors_off_by_default_and_one_origin_when_set);
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
