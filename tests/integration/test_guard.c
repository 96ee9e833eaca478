/* SPDX-License-Identifier: MIT */
/*
 * test_guard: other web sites acting through a visitor's browser, over
 * raw sockets: a cross-site form's text/plain or form-encoded publish is a
 * 415 and stores nothing, a state-changing request from a foreign Origin
 * a 403, and a DNS-rebinding page (Host and Origin both evil.example) is
 * refused on the HTTP API and the WebSocket upgrade, while the server's
 * own names (localhost, 127.0.0.1, [::1], the bind address) and the
 * --allow-host list are served.
 */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_guard.h"
#include "trun.h"
#include "testlib.h"

#define T 5000			/* ms an answer may take */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define MSG "{\"event\":\"chat\",\"from\":\"g\",\"data\":\"%s\"}"

/* Sends a request (Connection: close added) and returns the answer. */
static char *
ask(const char *method, const char *path, const char *host,
    const char *extra, const char *body)
{
	char req[2048];
	char *r;

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\n%s%s%s%s"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 method, path, host ? "Host: " : "", host ? host : "",
		 host ? "\r\n" : "", extra ? extra : "",
		 body ? strlen(body) : 0, body ? body : "");
	r = t_raw(t_port, req, T);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* Asserts the answer r has status (its status line) and, if code, the
 * JSON error code; frees r. */
static void
expect(char *r, int status, const char *code)
{
	char line[32], want[64];

	snprintf(line, sizeof(line), "HTTP/1.1 %d ", status);
	ck_assert_msg(!strncmp(r, line, strlen(line)), "want %d, got %.200s",
		      status, r);
	if (code) {
		snprintf(want, sizeof(want), "\"code\":\"%s\"", code);
		ck_assert_msg(strstr(r, want), "no %s in %.400s", code, r);
		ck_assert_ptr_nonnull(strstr(r, "application/json"));
	}
	free(r);
}

static char *
us(void)
{
	static char host[64];

	snprintf(host, sizeof(host), "127.0.0.1:%u", t_port);
	return host;
}

/* Publishes data to room g with Content-Type type (NULL: none). */
static char *
publish(const char *type, const char *data)
{
	char extra[128] = "", body[128];

	if (type)
		snprintf(extra, sizeof(extra), "Content-Type: %s\r\n", type);
	snprintf(body, sizeof(body), MSG, data);
	return ask("POST", "/api/rooms/g/messages", us(), extra, body);
}

/* Returns 1 if room g's history holds data. */
static int
stored(const char *data)
{
	struct t_resp r;
	int found;

	ck_assert_int_eq(t_http(t_port, "GET", "/api/rooms/g/messages", NULL,
				NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	found = strstr(r.body, data) != NULL;
	t_resp_free(&r);
	return found;
}

START_TEST(text_plain_publish_is_415_and_not_stored)
{
	expect(publish("text/plain", "plain-one"), 415, "bad_content_type");
	expect(publish("text/plain;charset=UTF-8", "plain-two"), 415,
	       "bad_content_type");
	expect(publish("application/x-www-form-urlencoded", "form-one"), 415,
	       "bad_content_type");
	expect(publish("multipart/form-data; boundary=x", "form-two"), 415,
	       "bad_content_type");
	expect(publish("application/jsonp", "jsonp"), 415,
	       "bad_content_type");
	expect(publish(NULL, "untyped"), 415, "bad_content_type");
	ck_assert(!stored("plain-one"));
	ck_assert(!stored("plain-two"));
	ck_assert(!stored("form-one"));
	ck_assert(!stored("form-two"));
	ck_assert(!stored("jsonp"));
	ck_assert(!stored("untyped"));
}
END_TEST

START_TEST(json_publish_with_parameters_is_stored)
{
	expect(publish("application/json", "json-one"), 201, NULL);
	expect(publish("Application/JSON; charset=utf-8", "json-two"), 201,
	       NULL);
	expect(publish(" application/json ;charset=UTF-8", "json-three"), 201,
	       NULL);
	ck_assert(stored("json-one"));
	ck_assert(stored("json-two"));
	ck_assert(stored("json-three"));
}
END_TEST

START_TEST(foreign_origin_publish_is_403_and_not_stored)
{
	char extra[256], body[128];

	snprintf(body, sizeof(body), MSG, "foreign");
	/* what a cross-site form sends */
	expect(ask("POST", "/api/rooms/g/messages", us(),
		   "Origin: http://evil.example\r\n"
		   "Content-Type: text/plain\r\n", body), 403,
	       "foreign_origin");
	expect(ask("POST", "/api/rooms/g/messages", us(),
		   "Origin: http://evil.example\r\n"
		   "Content-Type: application/json\r\n", body), 403,
	       "foreign_origin");
	expect(ask("POST", "/api/rooms/g/messages", us(),
		   "Origin: null\r\nContent-Type: application/json\r\n",
		   body), 403, "foreign_origin");
	expect(ask("DELETE", "/api/rooms/g", us(),
		   "Origin: http://evil.example\r\n", NULL), 403,
	       "foreign_origin");
	ck_assert(!stored("foreign"));
	/* the server's own page */
	snprintf(extra, sizeof(extra), "Origin: http://%s\r\n"
		 "Content-Type: application/json\r\n", us());
	snprintf(body, sizeof(body), MSG, "own-page");
	expect(ask("POST", "/api/rooms/g/messages", us(), extra, body), 201,
	       NULL);
	ck_assert(stored("own-page"));
}
END_TEST

static void
allow_origin(struct config *cfg)
{
	cfg->allow_origin = "http://app.example";
}

START_TEST(allowed_origin_may_publish)
{
	char body[128];
	struct config cfg;

	t_config(&cfg);
	allow_origin(&cfg);
	t_restart(&cfg);
	snprintf(body, sizeof(body), MSG, "from-app");
	expect(ask("POST", "/api/rooms/g/messages", us(),
		   "Origin: http://app.example\r\n"
		   "Content-Type: application/json\r\n", body), 201, NULL);
	ck_assert(stored("from-app"));
}
END_TEST

START_TEST(rebinding_upgrade_is_refused)
{
	char *r = ask("GET", "/ws", "evil.example:8080",
		      "Origin: http://evil.example:8080\r\n"
		      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		      "Sec-WebSocket-Version: 13\r\n"
		      "Sec-WebSocket-Key: " KEY "\r\n", NULL);

	ck_assert_ptr_null(strstr(r, " 101 "));
	expect(r, 421, "bad_host");
}
END_TEST

START_TEST(api_with_a_foreign_host_is_refused)
{
	char *r = ask("GET", "/api/rooms", "evil.example", NULL, NULL);

	ck_assert_ptr_nonnull(strstr(r, "evil.example"));
	expect(r, 421, "bad_host");
	expect(ask("GET", "/healthz", "evil.example:80", NULL, NULL), 421,
	       "bad_host");
	expect(ask("GET", "/", "127.0.0.1.evil.example", NULL, NULL), 421,
	       "bad_host");
	expect(ask("POST", "/api/rooms/g/messages", "evil.example",
		   "Origin: http://evil.example\r\n"
		   "Content-Type: application/json\r\n",
		   "{\"event\":\"chat\",\"from\":\"g\",\"data\":\"rebound\"}"),
	       421, "bad_host");
	ck_assert(!stored("rebound"));
}
END_TEST

START_TEST(own_names_are_served)
{
	static const char *const names[] = {
		"localhost", "LOCALHOST:1", "127.0.0.1", "[::1]:8080",
		"localhost.", NULL,
	};
	char host[64];

	for (const char *const *n = names; *n; n++)
		expect(ask("GET", "/healthz", *n, NULL, NULL), 200, NULL);
	expect(ask("GET", "/healthz", us(), NULL, NULL), 200, NULL);
	snprintf(host, sizeof(host), "localhost:%u", t_port);
	expect(ask("GET", "/api/rooms", host, NULL, NULL), 200, NULL);
	/* HTTP/1.0 without Host: not a browser */
	expect(t_raw(t_port, "GET /healthz HTTP/1.0\r\n\r\n", T), 200, NULL);
}
END_TEST

START_TEST(allow_host_lets_a_name_in)
{
	struct config cfg;

	t_config(&cfg);
	cfg.allow_host = "chat.example, Other.Example";
	t_restart(&cfg);
	expect(ask("GET", "/healthz", "chat.example", NULL, NULL), 200, NULL);
	expect(ask("GET", "/healthz", "other.example:9000", NULL, NULL), 200,
	       NULL);
	expect(ask("GET", "/healthz", "localhost", NULL, NULL), 200, NULL);
	expect(ask("GET", "/healthz", "evil.example", NULL, NULL), 421,
	       "bad_host");
	cfg.allow_host = "*";
	t_restart(&cfg);
	expect(ask("GET", "/healthz", "evil.example", NULL, NULL), 200, NULL);
}
END_TEST

/* The rule under --bind 0.0.0.0, where the server cannot know its names
 * (no network: the check itself). */
START_TEST(any_address_bind_rule)
{
	struct config cfg;

	t_config(&cfg);
	cfg.bind = "0.0.0.0";
	ck_assert(http_guard_host_ok(&cfg, "evil.example"));
	ck_assert(http_guard_host_ok(&cfg, "192.168.1.5:8080"));
	cfg.allow_host = "chat.example";
	ck_assert(!http_guard_host_ok(&cfg, "evil.example"));
	ck_assert(http_guard_host_ok(&cfg, "chat.example:8080"));
	ck_assert(http_guard_host_ok(&cfg, "localhost"));
	ck_assert(!http_guard_host_ok(&cfg, "0.0.0.0"));
	cfg.bind = "10.1.2.3";
	cfg.allow_host = "";
	ck_assert(http_guard_host_ok(&cfg, "10.1.2.3:8080"));
	ck_assert(!http_guard_host_ok(&cfg, "10.1.2.4"));
}
END_TEST

static Suite *
guard_suite(void)
{
	Suite *s = suite_create("guard");
	TCase *tc = tcase_create("cross-site");

	t_fixture(tc, NULL);
	tcase_add_test(tc, text_plain_publish_is_415_and_not_stored);
	tcase_add_test(tc, json_publish_with_parameters_is_stored);
	tcase_add_test(tc, foreign_origin_publish_is_403_and_not_stored);
	tcase_add_test(tc, allowed_origin_may_publish);
	tcase_add_test(tc, rebinding_upgrade_is_refused);
	tcase_add_test(tc, api_with_a_foreign_host_is_refused);
	tcase_add_test(tc, own_names_are_served);
	tcase_add_test(tc, allow_host_lets_a_name_in);
	tcase_add_test(tc, any_address_bind_rule);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(guard_suite());
}
