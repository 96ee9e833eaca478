/* SPDX-License-Identifier: MIT */
/*
 * test_rooms_api: the room registry as HTTP clients meet it: a refused
 * request creates no room, unused idle rooms are reclaimed (so
 * --max-rooms is no lasting lockout) and a resume across a reclaim is
 * told of the gap, an unused room reads as empty without being created,
 * listings come in bounded pages; and the /metrics series the docs name.
 */
#include "autoconf.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "trun.h"
#include "testlib.h"

#define CHAT(text) "{\"event\":\"chat\",\"from\":\"alice\",\"data\":" text "}"

/* GETs path and returns the status; the body in *body if not NULL. */
static long
get(const char *path, char **body)
{
	struct t_resp r;
	long st;

	ck_assert_int_eq(t_http(t_port, "GET", path, NULL, NULL, &r), 0);
	st = r.status;
	if (body) {
		*body = r.body;
		r.body = NULL;
	}
	t_resp_free(&r);
	return st;
}

/* Publishes body to room; returns the status, the id in *id. */
static long
post(const char *room, const char *body, uint64_t *id)
{
	char path[128];
	struct t_resp r;
	const char *p;
	long st;

	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	ck_assert_int_eq(t_http(t_port, "POST", path, body, NULL, &r), 0);
	st = r.status;
	p = strstr(r.body, "\"id\":");
	if (id)
		*id = p ? strtoull(p + 5, NULL, 10) : 0;
	t_resp_free(&r);
	return st;
}

/* Returns whether GET /api/rooms lists room name. */
static int
listed(const char *name)
{
	char *body, want[96];
	int yes;

	ck_assert_int_eq(get("/api/rooms?limit=1000", &body), 200);
	snprintf(want, sizeof(want), "\"room\":\"%s\"", name);
	yes = strstr(body, want) != NULL;
	free(body);
	return yes;
}

START_TEST(refused_subscriptions_create_no_room)
{
	char *body;

	ck_assert_int_eq(get("/poll?rooms=zz1,zz2,zz3,zz4,zz5,zz6,zz7,zz8,"
			     "zz9,zz10,zz11,zz12,zz13,zz14,zz15,zz16,zz17",
			     &body), 400);
	ck_assert_ptr_nonnull(strstr(body, "too_many_rooms"));
	free(body);
	ck_assert_int_eq(get("/poll?rooms=ok1,bad%20name", NULL), 400);
	ck_assert_int_eq(get("/longpoll?rooms=ok2,ok3&since=x", NULL), 400);
	ck_assert_int_eq(get("/api/rooms", &body), 200);
	ck_assert_str_eq(body, "[]");
	free(body);
}
END_TEST

START_TEST(sse_refused_503_creates_no_room)
{
	static const char sreq[] = "GET /sse?rooms=held HTTP/1.1\r\n"
				   "Host: localhost\r\n\r\n";
	struct config cfg;
	char buf[512];
	int fd;

	t_config(&cfg);
	cfg.max_sse = 1;
	t_restart(&cfg);
	fd = t_connect(t_port);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(send(fd, sreq, sizeof(sreq) - 1, 0), 0);
	ck_assert_int_gt(recv(fd, buf, sizeof(buf), 0), 0);
	ck_assert_int_eq(get("/sse?rooms=refused", NULL), 503);
	ck_assert(!listed("refused"));
	ck_assert(listed("held"));
	close(fd);
}
END_TEST

/* Waits (bounded) until room name is gone from the listing. */
static int
wait_gone(const char *name)
{
	for (int i = 0; i < 100; i++) {
		if (!listed(name))
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

START_TEST(idle_rooms_are_reclaimed_and_free_the_limit)
{
	static const char sreq[] = "GET /sse?rooms=kept HTTP/1.1\r\n"
				   "Host: localhost\r\n\r\n";
	struct config cfg;
	char buf[512];
	int fd;

	t_config(&cfg);
	cfg.max_rooms = 2;
	cfg.room_idle = 1;
	t_restart(&cfg);
	fd = t_connect(t_port);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(send(fd, sreq, sizeof(sreq) - 1, 0), 0);
	ck_assert_int_gt(recv(fd, buf, sizeof(buf), 0), 0);
	ck_assert_int_eq(post("kept", CHAT("1"), NULL), 201);
	ck_assert_int_eq(post("gone", CHAT("1"), NULL), 201);
	ck_assert_int_eq(post("third", CHAT("1"), NULL), 503);
	/* an anonymous poll of a new room is refused, and leaves nothing */
	ck_assert_int_eq(get("/poll?rooms=third", NULL), 503);
	ck_assert(wait_gone("gone"));
	ck_assert(listed("kept"));	/* a subscriber keeps it */
	ck_assert_int_eq(post("third", CHAT("1"), NULL), 201);
	close(fd);
}
END_TEST

START_TEST(resume_across_a_reclaimed_room_reports_a_gap)
{
	struct config cfg;
	uint64_t a, b;
	char path[128], *body;

	t_config(&cfg);
	cfg.room_idle = 1;
	t_restart(&cfg);
	ck_assert_int_eq(post("old", CHAT("1"), &a), 201);
	ck_assert_int_eq(post("old", CHAT("2"), &b), 201);
	ck_assert(wait_gone("old"));
	snprintf(path, sizeof(path), "/poll?rooms=old&since=%llu",
		 (unsigned long long)a);
	ck_assert_int_eq(get(path, &body), 200);
	ck_assert_msg(strstr(body, "\"gap\":true"), "%s", body);
	free(body);
	snprintf(path, sizeof(path), "/api/rooms/old/messages?since=%llu",
		 (unsigned long long)a);
	ck_assert_int_eq(get(path, &body), 200);
	ck_assert_msg(strstr(body, "\"gap\":true"), "%s", body);
	free(body);
	/* a cursor at or after what was dropped: no gap */
	snprintf(path, sizeof(path), "/poll?rooms=old&since=%llu",
		 (unsigned long long)b);
	ck_assert_int_eq(get(path, &body), 200);
	ck_assert_msg(strstr(body, "\"gap\":false"), "%s", body);
	free(body);
}
END_TEST

START_TEST(unused_room_reads_empty_and_is_not_created)
{
	char *body;

	ck_assert_int_eq(get("/api/rooms/lobby/messages?last=300", &body),
			 200);
	ck_assert_ptr_nonnull(strstr(body, "\"messages\":[]"));
	ck_assert_ptr_nonnull(strstr(body, "\"gap\":false"));
	free(body);
	ck_assert_int_eq(get("/api/rooms/lobby", &body), 200);
	ck_assert_ptr_nonnull(strstr(body, "\"room\":\"lobby\""));
	ck_assert_ptr_nonnull(strstr(body, "\"count\":0"));
	ck_assert_ptr_nonnull(strstr(body, "\"members\":[]"));
	free(body);
	ck_assert_int_eq(get("/api/rooms", &body), 200);
	ck_assert_str_eq(body, "[]");
	free(body);
	ck_assert_int_eq(get("/api/rooms/bad%20name", NULL), 400);
}
END_TEST

START_TEST(room_listing_comes_in_bounded_pages)
{
	char name[16], *body;
	int n = 0;

	for (int i = 0; i < 105; i++) {
		snprintf(name, sizeof(name), "p%03d", i);
		ck_assert_int_eq(post(name, CHAT("1"), NULL), 201);
	}
	/* the default page is 100 rooms, in name order */
	ck_assert_int_eq(get("/api/rooms", &body), 200);
	for (const char *p = body; (p = strstr(p, "\"room\":")); p++)
		n++;
	ck_assert_int_eq(n, 100);
	ck_assert_ptr_nonnull(strstr(body, "[{\"room\":\"p000\""));
	free(body);
	ck_assert_int_eq(get("/api/rooms?limit=2&after=p049", &body), 200);
	ck_assert_msg(strstr(body, "\"room\":\"p050\"") &&
		      strstr(body, "\"room\":\"p051\"") &&
		      !strstr(body, "p049") && !strstr(body, "p052"),
		      "%s", body);
	free(body);
	ck_assert_int_eq(get("/api/rooms?after=p103", &body), 200);
	ck_assert_msg(strstr(body, "p104") && !strstr(body, "p103"), "%s",
		      body);
	free(body);
	ck_assert_int_eq(get("/api/rooms?limit=1001", NULL), 400);
	ck_assert_int_eq(get("/api/rooms?limit=0", NULL), 400);
	ck_assert_int_eq(get("/api/rooms/p000?limit=1001", NULL), 400);
}
END_TEST

START_TEST(metrics_name_every_documented_series)
{
	static const char *const names[] = {
		"imlab_open_connections{transport=\"sse\"} ",
		"imlab_requests_total{transport=\"poll\"} ",
		"imlab_messages_delivered_total{transport=\"ws\"} ",
		"imlab_empty_responses_total{transport=\"longpoll\"} ",
		"imlab_wakeups_total{transport=\"sse\"} ",
		"imlab_deferred_total{transport=\"longpoll\"} ",
		"imlab_bytes_sent_total{transport=\"api\"} ",
		"imlab_bytes_received_total{transport=\"api\"} ",
		"imlab_messages_published_total{transport=\"api\"} ",
		"\nimlab_messages_stored ", "\nimlab_last_id ",
		"\nimlab_connections ", "\nimlab_rooms ", "\nimlab_uptime_ms ",
		/* NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one */
		"\nimlab_build_info{version=\"" PACKAGE_VERSION "\"} 1\n",
		"\nprocess_cpu_seconds_total ",
		"\nprocess_resident_memory_bytes ",
		"# TYPE imlab_wakeups_total counter\n",
		"# TYPE imlab_connections gauge\n",
	};
	char *body;

	ck_assert_int_eq(post("m", CHAT("1"), NULL), 201);
	ck_assert_int_eq(get("/metrics", &body), 200);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_msg(strstr(body, names[i]), "no %s", names[i]);
	ck_assert_ptr_nonnull(strstr(body, "\nimlab_rooms 1\n"));
	/* a resident set is never 0 */
	ck_assert_ptr_null(strstr(body, "process_resident_memory_bytes 0\n"));
	free(body);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("rooms_api");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	t_fixture(tc, NULL);
	tcase_add_test(tc, refused_subscriptions_create_no_room);
	tcase_add_test(tc, sse_refused_503_creates_no_room);
	tcase_add_test(tc, idle_rooms_are_reclaimed_and_free_the_limit);
	tcase_add_test(tc, resume_across_a_reclaimed_room_reports_a_gap);
	tcase_add_test(tc, unused_room_reads_empty_and_is_not_created);
	tcase_add_test(tc, room_listing_comes_in_bounded_pages);
	tcase_add_test(tc, metrics_name_every_documented_series);
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
