/* SPDX-License-Identifier: MIT */
/*
 * test_interop: what third-party clients and hostile ones do to the HTTP
 * front door, over raw sockets so every byte is ours: request heads from
 * a few KB of cookies to over the limit (one answer each, never two, never
 * none; a publish is answered or not stored), every front-door error as
 * JSON (431, 414, 505, 426, the Origin 403), two Content-Length headers,
 * a WebSocket upgrade on a reused keep-alive connection, subprotocols,
 * the deadlines for a whole head and a whole body, the per-address
 * connection limit and the 503 when the server is out of descriptors.
 */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trun.h"
#include "testlib.h"

#define T 5000			/* ms an answer may take */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="	/* RFC 6455's example */

/* Returns how many times needle occurs in s. */
static int
count(const char *s, const char *needle)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Returns how many status lines ("HTTP/1.x NNN ") s holds. */
static int
answers(const char *s)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, "HTTP/1.")); p++)
		if (p[8] == ' ' && p[9] >= '1' && p[9] <= '5' && p[12] == ' ')
			n++;
	return n;
}

/* A Cookie header line of about bytes bytes, in 40-byte cookies. */
static char *
cookies(size_t bytes)
{
	char *b = malloc(bytes + 64);
	size_t len = (size_t)sprintf(b, "Cookie: ");

	for (int i = 0; len + 42 < bytes; i++)
		len += (size_t)sprintf(b + len, "%sck%03d=%032d", i ? "; " : "",
				       i, i);
	memcpy(b + len, "\r\n", 3);
	return b;
}

/* Sends req on a new connection, reads until close: asserts exactly one
 * answer came, returns it (the caller frees it). */
static char *
one_answer(const char *req)
{
	char *r = t_raw(t_port, req, T);

	ck_assert_ptr_nonnull(r);
	ck_assert_msg(answers(r) == 1, "%d answers to a %zu-byte head: "
		      "%.300s", answers(r), strlen(req), r);
	return r;
}

/* Asserts r is status with a JSON error body of code. */
static void
json_error(const char *r, int status, const char *code)
{
	char want[64], c[64];

	snprintf(want, sizeof(want), "HTTP/1.1 %d ", status);
	ck_assert_msg(!strncmp(r, want, strlen(want)), "want %d: %.200s",
		      status, r);
	ck_assert_ptr_nonnull(strstr(r, "Content-Type: application/json"));
	snprintf(c, sizeof(c), "{\"error\":{\"code\":\"%s\",\"message\":\"",
		 code);
	ck_assert_msg(strstr(r, c) != NULL, "want code %s: %s", code, r);
}

START_TEST(heads_up_to_16k_of_cookies_served)
{
	static const size_t sizes[] = { 1000, 1900, 2400, 3400, 4096, 8192,
					12000, 15800 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		char *ck = cookies(sizes[i]), *req = malloc(sizes[i] + 256);
		char *r;

		sprintf(req, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n%s"
			"Connection: close\r\n\r\n", ck);
		r = one_answer(req);
		ck_assert_msg(!strncmp(r, "HTTP/1.1 200 ", 13),
			      "%zu B of cookies: %.200s", sizes[i], r);
		free(r);
		free(req);
		free(ck);
	}
}
END_TEST

START_TEST(big_header_without_cookies_served)
{
	for (size_t n = 3000; n <= 15000; n += 600) {
		char *req = malloc(n + 256), *r;

		sprintf(req, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			"X-Pad: %0*d\r\nConnection: close\r\n\r\n", (int)n, 0);
		r = one_answer(req);
		ck_assert_msg(!strncmp(r, "HTTP/1.1 200 ", 13), "%zu: %.200s",
			      n, r);
		free(r);
		free(req);
	}
}
END_TEST

START_TEST(head_over_the_limit_is_one_json_431)
{
	char *ck = cookies(20000), *req = malloc(20300), *r;

	sprintf(req, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", ck);
	r = one_answer(req);
	json_error(r, 431, "head_too_large");
	free(r);
	free(req);
	free(ck);
}
END_TEST

START_TEST(long_request_line_is_json_414)
{
	char *req = malloc(20300), *r;

	sprintf(req, "GET /%020000d HTTP/1.1\r\nHost: localhost\r\n\r\n", 0);
	r = one_answer(req);
	json_error(r, 414, "uri_too_long");
	free(r);
	free(req);
}
END_TEST

START_TEST(other_http_version_is_json_505)
{
	char *r = one_answer("GET / HTTP/2.0\r\nHost: localhost\r\n\r\n");

	json_error(r, 505, "bad_version");
	free(r);
}
END_TEST

/* Reads one answer (head and Content-Length body) from fd into buf;
 * returns its length, or -1 when the peer closed first. */
static ssize_t
read_answer(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		const char *end, *cl;
		ssize_t n;

		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end) {
			cl = strcasestr(buf, "Content-Length: ");
			if (cl && (size_t)(end + 4 - buf) +
				  strtoul(cl + 16, NULL, 10) <= len)
				return (ssize_t)len;
			if (!cl)
				return (ssize_t)len;
		}
		if (poll(&p, 1, T) <= 0)
			return -1;
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			return len ? (ssize_t)len : -1;
		len += (size_t)n;
	}
}

static int
send_str(int fd, const char *s)
{
	return send(fd, s, strlen(s), MSG_NOSIGNAL) == (ssize_t)strlen(s) ?
	       0 : -1;
}

/* Messages room holds, by GET .../messages. */
static int
stored(const char *room)
{
	char path[128];
	struct t_resp r;
	int n;

	snprintf(path, sizeof(path), "/api/rooms/%s/messages?last=300", room);
	ck_assert_int_eq(t_http(t_port, "GET", path, NULL, NULL, &r), 0);
	n = r.status == 200 ? count(r.body, "\"id\":") : 0;
	t_resp_free(&r);
	return n;
}

/* A small request first puts the connection on the small-pool daemon;
 * then publishes with ever bigger heads on it. Each gets one answer, and
 * only the 201s are stored: no publish is stored and left unanswered. */
START_TEST(publish_with_growing_head_is_answered_or_not_stored)
{
	static const char body[] =
		"{\"event\":\"chat\",\"from\":\"a\",\"data\":\"x\"}";
	char *buf = malloc(65536), *req = malloc(8192);
	int created = 0;

	for (size_t pad = 2000; pad <= 4000; pad += 100) {
		int fd = t_connect(t_port);
		ssize_t n;

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(send_str(fd, "GET /healthz HTTP/1.1\r\n"
					  "Host: localhost\r\n\r\n"), 0);
		ck_assert_int_gt(read_answer(fd, buf, 65536), 0);
		sprintf(req, "POST /api/rooms/band/messages HTTP/1.1\r\n"
			"Host: localhost\r\nContent-Type: application/json\r\n"
			"X-Pad: %0*d\r\nContent-Length: %zu\r\n\r\n%s",
			(int)pad, 0, sizeof(body) - 1, body);
		ck_assert_int_eq(send_str(fd, req), 0);
		n = read_answer(fd, buf, 65536);
		close(fd);
		/* known limit (doc/architecture.md): a head within ~600 B
		 * of this small pool on a later request gets no answer,
		 * yet is never handled */
		if (n < 0)
			continue;
		ck_assert_int_eq(answers(buf), 1);
		if (!strncmp(buf, "HTTP/1.1 201 ", 13))
			created++;
		else if (strstr(buf, "application/json"))
			json_error(buf, 431, "head_too_large");
		else	/* libmicrohttpd's own, from its reader */
			ck_assert(!strncmp(buf, "HTTP/1.1 431 ", 13));
	}
	ck_assert_int_gt(created, 0);
	ck_assert_int_eq(stored("band"), created);
	free(req);
	free(buf);
}
END_TEST

/* A connection that began small and cookie-less (the small pool) and
 * then sends a Cookie or a bigger head is told to close, so its next
 * request is routed again by the listener (to the big pool). */
START_TEST(small_pool_connection_growing_is_closed_after_the_answer)
{
	char *buf = malloc(65536), *ck = cookies(600), req[2048];
	int fd = t_connect(t_port);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(send_str(fd, "GET /healthz HTTP/1.1\r\n"
				  "Host: localhost\r\n\r\n"), 0);
	ck_assert_int_gt(read_answer(fd, buf, 65536), 0);
	ck_assert_ptr_null(strstr(buf, "Connection: close"));
	snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\n"
		 "Host: localhost\r\n%s\r\n", ck);
	ck_assert_int_eq(send_str(fd, req), 0);
	ck_assert_int_gt(read_answer(fd, buf, 65536), 0);
	ck_assert(!strncmp(buf, "HTTP/1.1 200 ", 13));
	ck_assert_ptr_nonnull(strstr(buf, "Connection: close"));
	close(fd);
	free(ck);
	free(buf);
}
END_TEST

#define SMUGGLE \
	"POST /api/rooms/lobby/messages HTTP/1.1\r\nHost: localhost\r\n" \
	"Content-Type: application/json\r\n%s\r\n" \
	"hello" "GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n"

static void
refused_framing(const char *headers, int keepalive)
{
	char req[1024], *r;

	snprintf(req, sizeof(req), "%s" SMUGGLE, keepalive ?
		 "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n" : "",
		 headers);
	r = t_raw(t_port, req, T);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(answers(r) == 1 + keepalive, "%s", r);
	json_error(keepalive ? strstr(r + 1, "HTTP/1.1 400") : r, 400,
		   "bad_request");
	free(r);
}

START_TEST(two_content_lengths_are_one_json_400)
{
	static const char two[] = "Content-Length: 5\r\nContent-Length: 41\r\n";
	static const char te[] = "Content-Length: 5\r\n"
				 "Transfer-Encoding: chunked\r\n";

	refused_framing(two, 0);
	refused_framing(two, 1);	/* a later request of a connection */
	refused_framing(te, 0);
	refused_framing(te, 1);
	ck_assert_int_eq(stored("lobby"), 0);
}
END_TEST

#define UPGRADE \
	"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n" \
	"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n" \
	"Sec-WebSocket-Version: 13\r\n"

/* After a 101 on fd, a masked ping must come back as a pong. */
static void
ping_pong(int fd)
{
	static const unsigned char ping[] = { 0x89, 0x82, 1, 2, 3, 4,
					      'h' ^ 1, 'i' ^ 2 };
	unsigned char got[16];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	ck_assert_int_eq(send(fd, ping, sizeof(ping), MSG_NOSIGNAL),
			 (ssize_t)sizeof(ping));
	ck_assert_int_gt(poll(&p, 1, T), 0);
	n = recv(fd, got, sizeof(got), 0);
	ck_assert_int_ge(n, 4);
	ck_assert_int_eq(got[0], 0x8a);
	ck_assert_int_eq(got[1], 2);
	ck_assert(!memcmp(got + 2, "hi", 2));
}

/* Upgrades fd with extra header lines; returns the 101's head. */
static char *
upgrade_on(int fd, const char *extra)
{
	size_t cap = strlen(extra) + 512;
	char *req = malloc(cap), *buf = malloc(8192);

	snprintf(req, cap, UPGRADE "%s\r\n", extra);
	ck_assert_int_eq(send_str(fd, req), 0);
	free(req);
	ck_assert_int_gt(read_answer(fd, buf, 8192), 0);
	ck_assert_msg(!strncmp(buf, "HTTP/1.1 101 ", 13), "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "Sec-WebSocket-Accept: " ACCEPT));
	return buf;
}

START_TEST(upgrade_on_a_reused_connection)
{
	char buf[8192];
	int fd = t_connect(t_port);

	ck_assert_int_ge(fd, 0);
	/* two HTTP requests first, as a pooled client or curl --next does */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(send_str(fd, "GET /healthz HTTP/1.1\r\n"
					  "Host: localhost\r\n\r\n"), 0);
		ck_assert_int_gt(read_answer(fd, buf, sizeof(buf)), 0);
		ck_assert(!strncmp(buf, "HTTP/1.1 200 ", 13));
	}
	free(upgrade_on(fd, ""));
	ping_pong(fd);
	close(fd);
}
END_TEST

START_TEST(upgrade_with_cookies_on_the_big_pool)
{
	char *ck = cookies(6000), *h;
	int fd = t_connect(t_port);

	ck_assert_int_ge(fd, 0);
	h = upgrade_on(fd, ck);
	ping_pong(fd);
	free(h);
	free(ck);
	close(fd);
}
END_TEST

START_TEST(unknown_subprotocol_answered_without_one)
{
	int fd = t_connect(t_port);
	char *h;

	ck_assert_int_ge(fd, 0);
	h = upgrade_on(fd, "Sec-WebSocket-Protocol: foo, bar\r\n");
	ck_assert_ptr_null(strcasestr(h, "Sec-WebSocket-Protocol"));
	ping_pong(fd);
	free(h);
	close(fd);
	fd = t_connect(t_port);
	h = upgrade_on(fd, "Sec-WebSocket-Protocol: foo, imlab\r\n");
	ck_assert_ptr_nonnull(strstr(h, "Sec-WebSocket-Protocol: imlab"));
	free(h);
	close(fd);
}
END_TEST

START_TEST(ws_without_upgrade_is_json_426)
{
	char *r = one_answer("GET /ws HTTP/1.1\r\nHost: localhost\r\n"
			     "Connection: close\r\n\r\n");

	json_error(r, 426, "upgrade_required");
	ck_assert_ptr_nonnull(strstr(r, "Upgrade: websocket"));
	free(r);
	r = one_answer(UPGRADE "Sec-WebSocket-Version: 8\r\n\r\n");
	free(r);
}
END_TEST

START_TEST(foreign_origin_is_json_403)
{
	char *r = one_answer(UPGRADE "Origin: http://evil.example\r\n\r\n");

	json_error(r, 403, "foreign_origin");
	ck_assert_ptr_nonnull(strstr(r, "--allow-origin"));
	free(r);
}
END_TEST

/* Sends s one byte every 100 ms; returns how many went before the
 * server closed (strlen(s) if it never did). */
static size_t
dribble(int fd, const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char c;

		if (poll(&p, 1, 100) > 0 && recv(fd, &c, 1, 0) <= 0)
			break;
		if (send(fd, s + i, 1, MSG_NOSIGNAL) != 1)
			break;
	}
	return i;
}

/* Restarts the fixture's server with 1 s deadlines for head and body. */
static void
deadlines(void)
{
	struct config cfg;

	t_config(&cfg);
	cfg.head_timeout = 1;
	cfg.body_timeout = 1;
	t_restart(&cfg);
}

START_TEST(dribbled_head_closed_by_its_deadline)
{
	char s[256];
	int fd;

	deadlines();
	memset(s, 'a', sizeof(s) - 1);
	memcpy(s, "GET / HTTP/1.1\r\nX-Slow: ", 24);
	s[sizeof(s) - 1] = '\0';	/* 25 s of dribbling at most */
	fd = t_connect(t_port);
	ck_assert_int_lt(dribble(fd, s), sizeof(s) - 1);
	close(fd);
}
END_TEST

START_TEST(dribbled_body_closed_by_its_deadline)
{
	char s[256];
	int fd;

	deadlines();
	fd = t_connect(t_port);
	ck_assert_int_eq(send_str(fd, "POST /api/rooms/slow/messages HTTP/1.1"
				  "\r\nHost: localhost\r\nContent-Type: "
				  "application/json\r\nContent-Length: 255"
				  "\r\n\r\n"), 0);
	memset(s, ' ', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	ck_assert_int_lt(dribble(fd, s), sizeof(s) - 1);
	close(fd);
}
END_TEST

START_TEST(per_address_limit_answers_json_503)
{
	struct config cfg;
	char buf[4096], *r;
	int fds[3];

	t_config(&cfg);
	cfg.max_per_address = 3;
	cfg.limit_loopback = 1;
	t_restart(&cfg);
	for (int i = 0; i < 3; i++) {
		fds[i] = t_connect(t_port);
		ck_assert_int_eq(send_str(fds[i], "GET /healthz HTTP/1.1\r\n"
					  "Host: localhost\r\n\r\n"), 0);
		ck_assert_int_gt(read_answer(fds[i], buf, sizeof(buf)), 0);
		ck_assert(!strncmp(buf, "HTTP/1.1 200 ", 13));
	}
	r = one_answer("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n");
	json_error(r, 503, "busy");
	ck_assert_ptr_nonnull(strstr(r, "Retry-After: "));
	free(r);
	close(fds[0]);
	/* the count is given back when the server sees the close */
	for (int i = 0; i < 100; i++) {
		r = t_raw(t_port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
			  "Connection: close\r\n\r\n", T);
		if (r && !strncmp(r, "HTTP/1.1 200 ", 13))
			break;
		free(r);
		r = NULL;
		usleep(50 * 1000);
	}
	ck_assert_ptr_nonnull(r);
	free(r);
	close(fds[1]);
	close(fds[2]);
}
END_TEST

/* A real imlab with few descriptors: when they run out, a new connection
 * gets a JSON 503, not silence. */
START_TEST(out_of_descriptors_answers_json_503)
{
	const char *bin = getenv("IMLAB_BIN");
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sa);
	char port[16], *r = NULL;
	int fds[200], n = 0, s, found = 0, status;
	pid_t pid;

	ck_assert_ptr_nonnull(bin);
	s = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(s, (struct sockaddr *)&sa, &slen);
	snprintf(port, sizeof(port), "%u", ntohs(sa.sin_port));
	close(s);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		struct rlimit rl = { 64, 64 };

		setrlimit(RLIMIT_NOFILE, &rl);
		execl(bin, bin, "--port", port, "--log-level", "error",
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !found; i++) {
		r = t_raw(ntohs(sa.sin_port), "GET /healthz HTTP/1.1\r\n"
			  "Host: localhost\r\nConnection: close\r\n\r\n", T);
		found = r && !strncmp(r, "HTTP/1.1 200 ", 13);
		free(r);
		if (!found)
			usleep(50 * 1000);
	}
	ck_assert_msg(found, "the server did not start");
	found = 0;
	while (n < 200 && !found) {
		char buf[4096];
		int fd = t_connect(ntohs(sa.sin_port));

		ck_assert_int_ge(fd, 0);
		fds[n++] = fd;
		ck_assert_int_eq(send_str(fd, "GET /healthz HTTP/1.1\r\n"
					  "Host: localhost\r\n\r\n"), 0);
		if (read_answer(fd, buf, sizeof(buf)) <= 0)
			continue;
		if (!strncmp(buf, "HTTP/1.1 503 ", 13)) {
			json_error(buf, 503, "no_fds");
			found = 1;
		}
	}
	ck_assert_msg(found, "no 503 after %d connections", n);
	while (n)
		close(fds[--n]);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
}
END_TEST

static Suite *
interop_suite(void)
{
	Suite *s = suite_create("interop");
	TCase *tc = tcase_create("front door");

	t_fixture(tc, NULL);
	tcase_add_test(tc, heads_up_to_16k_of_cookies_served);
	tcase_add_test(tc, big_header_without_cookies_served);
	tcase_add_test(tc, head_over_the_limit_is_one_json_431);
	tcase_add_test(tc, long_request_line_is_json_414);
	tcase_add_test(tc, other_http_version_is_json_505);
	tcase_add_test(tc, publish_with_growing_head_is_answered_or_not_stored);
	tcase_add_test(tc,
		small_pool_connection_growing_is_closed_after_the_answer);
	tcase_add_test(tc, two_content_lengths_are_one_json_400);
	tcase_add_test(tc, upgrade_on_a_reused_connection);
	tcase_add_test(tc, upgrade_with_cookies_on_the_big_pool);
	tcase_add_test(tc, unknown_subprotocol_answered_without_one);
	tcase_add_test(tc, ws_without_upgrade_is_json_426);
	tcase_add_test(tc, foreign_origin_is_json_403);
	tcase_add_test(tc, per_address_limit_answers_json_503);
	tcase_add_test(tc, out_of_descriptors_answers_json_503);
	tcase_add_test(tc, dribbled_head_closed_by_its_deadline);
	tcase_add_test(tc, dribbled_body_closed_by_its_deadline);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(interop_suite());
}
