/* SPDX-License-Identifier: MIT */
/*
 * test_sse_gap: an SSE gap notice that does not fit the reader's block
 * (src/tp_sse.c, doc/internals/tp_wait.md). A stream that does not read
 * falls behind a small history: the messages after its cursor are evicted
 * while a large frame is half written. The frame sizes are chosen so that
 * every frame ends 10 bytes short of a 1024-byte block (SSE_BLOCK, what
 * libmicrohttpd offers an HTTP/1.0 stream), so the gap is found with too
 * little room for its notice: the notice is owed to the next block and
 * must come whole, right after the finished frame, with the cursor's
 * position, and be followed by what the history still holds, in order.
 */
#include "autoconf.h"

#include <check.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "trun.h"
#include "testlib.h"

#define HISTORY 160		/* messages kept; also the big ones sent */
#define BLOCK 1024		/* SSE_BLOCK */
#define SHORT 10		/* bytes left in the block after a frame */
#define RETRY "retry: 2000\n\n"
#define FRAME_HEAD "id: \nevent: ev\ndata: "	/* and the id */

static struct server *srv;
static uint16_t port;

/* Publishes {"t": n times 'a'} to lobby; returns its id. */
static uint64_t
publish(size_t n)
{
	char *body = malloc(n + 64);
	struct t_resp r;
	uint64_t id;
	const char *p;
	int k;

	ck_assert_ptr_nonnull(body);
	k = snprintf(body, n + 64, "{\"event\":\"ev\",\"from\":\"g\","
		     "\"data\":{\"t\":\"");
	memset(body + k, 'a', n);
	memcpy(body + k + n, "\"}}", 4);
	ck_assert_int_eq(t_http(port, "POST", "/api/rooms/lobby/messages",
				body, NULL, &r), 0);
	ck_assert_msg(r.status == 201, "publish: %ld %s", r.status, r.body);
	p = strstr(r.body, "\"id\":");
	ck_assert_ptr_nonnull(p);
	id = strtoull(p + 5, NULL, 10);
	t_resp_free(&r);
	free(body);
	return id;
}

/* The SSE frame length of a message with n 'a's and an id as long as
 * probe's: measured on message probe (one 'a') through a short poll. */
static size_t
frame_len(uint64_t probe, size_t n)
{
	char path[96], key[32];
	struct t_resp r;
	const char *e, *ts, *end;
	size_t len;

	snprintf(path, sizeof(path), "/poll?rooms=lobby&since=%" PRIu64,
		 probe - 1);
	ck_assert_int_eq(t_http(port, "GET", path, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	snprintf(key, sizeof(key), "{\"id\":%" PRIu64 ",", probe);
	e = strstr(r.body, key);
	ck_assert_ptr_nonnull(e);
	ts = strstr(e, "\"ts\":");
	ck_assert_ptr_nonnull(ts);
	end = strchr(ts, '}');
	ck_assert_ptr_nonnull(end);
	len = strlen(FRAME_HEAD) + strlen(key) - 7 + (size_t)(end + 1 - e) +
	      2 + n - 1;
	t_resp_free(&r);
	return len;
}

/* Reads fd into *buf until it holds the whole SSE frame that starts with
 * `until`, or the peer closes, or 20 s pass idle. Returns the bytes read. */
static size_t
read_until(int fd, char **buf, size_t *cap, size_t len, const char *until)
{
	for (int idle = 0; idle < 200;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		const char *f;
		ssize_t k;

		if (len + 65536 + 1 > *cap) {
			*cap = 2 * *cap + 65536;
			*buf = realloc(*buf, *cap);
			ck_assert_ptr_nonnull(*buf);
		}
		if (poll(&p, 1, 100) <= 0) {
			idle++;
			continue;
		}
		k = recv(fd, *buf + len, 65536, 0);
		if (k <= 0)
			break;
		len += (size_t)k;
		(*buf)[len] = '\0';
		f = strstr(*buf, until);
		if (f && strstr(f, "\n\n"))
			break;
	}
	return len;
}

/* Connects to 127.0.0.1:port with a small receive buffer (set before
 * connect, so the window stays small); returns the fd or -1. */
static int
slow_connect(uint16_t p)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(p) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int rcv = 4096;

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

START_TEST(an_owed_gap_notice_comes_whole_next_block)
{
	struct config cfg;
	size_t f0, big, first, cap = 0, len;
	uint64_t probe, last = 0, since, want;
	char req[128], until[32], *buf = NULL, *body, *gap, *p;
	int fd;

	t_config(&cfg);
	cfg.history = HISTORY;
	cfg.coalesce = 0;		/* every write at once */
	cfg.sse_ping = 3600;
	cfg.sse_retry = 2000;
	srv = t_server_start(&cfg);
	port = server_port(srv);

	probe = publish(1);
	f0 = frame_len(probe, 1);
	/* every frame a whole number of blocks; the first one so that the
	 * stream's frames all end SHORT bytes before a block's end */
	big = 50 * BLOCK - f0 + 1;
	first = (size_t)(3 * BLOCK - SHORT) - strlen(RETRY) - f0 + 1;
	ck_assert_uint_eq((strlen(RETRY) + f0 - 1 + first) % BLOCK,
			  BLOCK - SHORT);
	ck_assert_uint_eq((f0 - 1 + big) % BLOCK, 0);
	since = probe;
	ck_assert_uint_eq(publish(first), since + 1);
	for (int i = 1; i < HISTORY; i++)
		publish(big);

	/* a stream that reads slowly: the kernel buffers (a send buffer
	 * grows to tcp_wmem's 4 MB at most) fill up long before the ~8 MB
	 * of frames are written */
	fd = slow_connect(port);
	ck_assert_int_ge(fd, 0);
	snprintf(req, sizeof(req), "GET /sse?rooms=lobby&named=1&since=%" PRIu64
		 " HTTP/1.0\r\nHost: localhost\r\n\r\n", since);
	ck_assert_int_gt(send(fd, req, strlen(req), MSG_NOSIGNAL), 0);
	snprintf(until, sizeof(until), "id: %" PRIu64 "\n", since + 1);
	len = read_until(fd, &buf, &cap, 0, until);
	ck_assert_ptr_nonnull(strstr(buf, until));
	/* the history moves on past the stream's cursor */
	for (int i = 0; i < HISTORY; i++)
		last = publish(1);
	/* every id as long as probe's (they start high) */
	ck_assert_int_eq(snprintf(req, sizeof(req), "%" PRIu64, probe),
			 snprintf(until, sizeof(until), "%" PRIu64, last));
	snprintf(until, sizeof(until), "id: %" PRIu64 "\n", last);
	len = read_until(fd, &buf, &cap, len, until);
	close(fd);
	server_stop(&srv);

	body = strstr(buf, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	body += 4;
	ck_assert_msg(!strncmp(body, RETRY, strlen(RETRY)), "%.40s", body);
	gap = strstr(body, "event: gap\n");
	ck_assert_ptr_nonnull(gap);
	/* right after a frame that ended SHORT bytes before a block's end
	 * (so it was owed to the next block), and whole */
	ck_assert_uint_eq((size_t)(gap - body) % BLOCK, BLOCK - SHORT);
	ck_assert(gap[-1] == '\n' && gap[-2] == '\n');
	/* the frame before it is the cursor's position */
	for (p = gap - 2; p > body && strncmp(p, "\n\nid: ", 6); p--)
		;
	want = strtoull(p + 6, NULL, 10);
	ck_assert_uint_gt(want, since);
	snprintf(req, sizeof(req), "event: gap\ndata: {\"since\":%" PRIu64
		 "}\n\n", want);
	ck_assert_msg(!strncmp(gap, req, strlen(req)), "%.60s", gap);
	/* then what the history holds, in order, up to the last one (the
	 * history may overtake the stream again: another notice, whole) */
	p = gap + strlen(req);
	ck_assert(!strncmp(p, "id: ", 4));
	ck_assert_uint_gt(strtoull(p + 4, NULL, 10),
			  strtoull(gap + 26, NULL, 10) + 1);
	for (want = 0; *p; p = strstr(p, "\n\n") + 2) {
		uint64_t id;

		if (!strncmp(p, "event: gap\ndata: {\"since\":", 26))
			continue;
		ck_assert_msg(!strncmp(p, "id: ", 4), "%.30s", p);
		id = strtoull(p + 4, NULL, 10);
		ck_assert_uint_gt(id, want);
		want = id;
		ck_assert_ptr_nonnull(strstr(p, "\n\n"));
	}
	ck_assert_uint_eq(want, last);
	(void)len;
	free(buf);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("sse_gap");
	TCase *tc = tcase_create("sse_gap");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, an_owed_gap_notice_comes_whole_next_block);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
