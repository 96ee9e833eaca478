/* SPDX-License-Identifier: MIT */
/*
 * tdriver_http: the test client for the three HTTP transports. Short and
 * long polls are plain requests with libcurl (via testlib); the SSE client
 * speaks HTTP/1.0 over a raw socket so the stream arrives unchunked and
 * can be parsed event by event. Envelopes are kept as the exact bytes the
 * server sent: poll bodies are split at the top level of "messages".
 */
#include "autoconf.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tdriver.h"
#include "testlib.h"

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Splits {"messages":[E,...],"last_id":N,"gap":B} into s's envelopes. */
static int
take_batch(struct tsub *s, const char *body)
{
	static const char head[] = "{\"messages\":[";
	const char *p;
	struct json_object *o, *v;

	if (strncmp(body, head, sizeof(head) - 1))
		return -1;
	p = body + sizeof(head) - 1;
	while (*p == '{') {
		const char *start = p;
		int depth = 0, in_str = 0;

		for (; *p; p++) {
			if (in_str) {
				if (*p == '\\' && p[1])
					p++;
				else if (*p == '"')
					in_str = 0;
			} else if (*p == '"') {
				in_str = 1;
			} else if (*p == '{' || *p == '[') {
				depth++;
			} else if (*p == '}' || *p == ']') {
				if (--depth == 0) {
					p++;
					break;
				}
			}
		}
		if (tsub_add(s, start, (size_t)(p - start)))
			return -1;
		if (*p == ',')
			p++;
	}
	o = json_tokener_parse(body);
	if (!o)
		return -1;
	if (json_object_object_get_ex(o, "last_id", &v) &&
	    json_object_get_uint64(v) > s->cursor)
		s->cursor = json_object_get_uint64(v);
	if (json_object_object_get_ex(o, "gap", &v) &&
	    json_object_get_boolean(v))
		s->gaps++;
	json_object_put(o);
	return 0;
}

static int
poll_once(struct tsub *s, const char *path, int timeout_s)
{
	char url[1024];
	struct t_resp r;
	int rc;

	if (timeout_s)
		snprintf(url, sizeof(url), "/%s?rooms=%s&since=%llu&cid=%s"
			 "&from=%s&timeout=%d", path, s->rooms,
			 (unsigned long long)s->cursor, s->cid, s->from,
			 timeout_s);
	else
		snprintf(url, sizeof(url), "/%s?rooms=%s&since=%llu&cid=%s"
			 "&from=%s", path, s->rooms,
			 (unsigned long long)s->cursor, s->cid, s->from);
	if (t_http(s->port, "GET", url, NULL, NULL, &r) || r.status != 200) {
		t_resp_free(&r);
		return -1;
	}
	rc = take_batch(s, r.body);
	t_resp_free(&r);
	return rc;
}

static int
poll_open(struct tsub *s)
{
	return poll_once(s, "poll", 0);
}

static size_t
poll_wait(struct tsub *s, size_t want, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	while (s->n < want && now_ms() < end) {
		size_t before = s->n;

		if (poll_once(s, "poll", 0))
			break;
		if (s->n == before)
			usleep(20 * 1000);
	}
	return s->n;
}

static size_t
longpoll_wait(struct tsub *s, size_t want, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	while (s->n < want && now_ms() < end)
		if (poll_once(s, "longpoll", 1))
			break;
	return s->n;
}

static uint64_t
http_publish(struct tsub *s, const char *room, const char *event,
	     const char *data, const char *to)
{
	char path[256], body[8192];
	struct t_resp r;
	struct json_object *o, *id;
	uint64_t v = 0;

	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	snprintf(body, sizeof(body), "{\"event\":\"%s\",\"from\":\"%s\","
		 "\"cid\":\"%s\",\"via\":\"%s\",\"to\":\"%s\",\"data\":%s}",
		 event, s->from, s->cid, s->drv->name, to ? to : "room", data);
	if (t_http(s->port, "POST", path, body, NULL, &r) == 0 &&
	    r.status == 201 && (o = json_tokener_parse(r.body))) {
		if (json_object_object_get_ex(o, "id", &id))
			v = json_object_get_uint64(id);
		json_object_put(o);
	}
	t_resp_free(&r);
	return v;
}

static void
nothing_to_close(struct tsub *s)
{
	(void)s;
}

const struct tdriver tdrv_poll = {
	"poll", poll_open, poll_wait, http_publish, nothing_to_close
};

static int
longpoll_open(struct tsub *s)
{
	return poll_once(s, "longpoll", 1);
}

const struct tdriver tdrv_longpoll = {
	"longpoll", longpoll_open, longpoll_wait, http_publish, nothing_to_close
};

/* --- SSE over a raw HTTP/1.0 socket ----------------------------------- */

struct sse_impl {
	int fd;
	char *buf;
	size_t len, cap;
	int headers_done;
	int started;		/* retry: seen */
};

/* Parses complete events in the buffer. */
static void
sse_parse(struct tsub *s, struct sse_impl *x)
{
	char *p = x->buf, *end;

	if (!x->headers_done) {
		end = strstr(p, "\r\n\r\n");
		if (!end)
			return;
		x->headers_done = 1;
		p = end + 4;
	}
	while ((end = strstr(p, "\n\n"))) {
		char event[64] = "message", *line = p;
		const char *data = NULL;
		size_t dlen = 0;

		*end = '\0';
		while (line && *line) {
			char *nl = strchr(line, '\n');

			if (nl)
				*nl = '\0';
			if (!strncmp(line, "retry:", 6))
				x->started = 1;
			else if (!strncmp(line, "event: ", 7))
				snprintf(event, sizeof(event), "%s", line + 7);
			else if (!strncmp(line, "data: ", 6)) {
				data = line + 6;
				dlen = strlen(data);
			}
			line = nl ? nl + 1 : NULL;
		}
		if (!strcmp(event, "gap"))
			s->gaps++;
		else if (data)
			tsub_add(s, data, dlen);
		p = end + 2;
	}
	x->len -= (size_t)(p - x->buf);
	memmove(x->buf, p, x->len + 1);
}

/* Reads what arrives within timeout_ms; returns -1 when the stream ended */
static int
sse_read(struct tsub *s, int timeout_ms)
{
	struct sse_impl *x = s->impl;
	struct pollfd pfd = { .fd = x->fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	if (x->cap - x->len < 65536) {
		char *nb = realloc(x->buf, x->cap * 2 + 65536);

		if (!nb)
			return -1;
		x->buf = nb;
		x->cap = x->cap * 2 + 65536;
	}
	n = recv(x->fd, x->buf + x->len, x->cap - x->len - 1, 0);
	if (n <= 0)
		return -1;
	x->len += (size_t)n;
	x->buf[x->len] = '\0';
	sse_parse(s, x);
	return 0;
}

static int
sse_open_hdr(struct tsub *s, const char *extra_header)
{
	struct sse_impl *x = calloc(1, sizeof(*x));
	char req[1024];
	int64_t end = now_ms() + 5000;

	if (!x)
		return -1;
	x->fd = t_connect(s->port);
	if (x->fd < 0) {
		free(x);
		return -1;
	}
	s->impl = x;
	snprintf(req, sizeof(req), "GET /sse?rooms=%s&since=%llu&cid=%s"
		 "&from=%s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s%s\r\n", s->rooms,
		 (unsigned long long)s->cursor, s->cid, s->from,
		 extra_header ? extra_header : "", extra_header ? "\r\n" : "");
	if (send(x->fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		return -1;
	while (!x->started && now_ms() < end)
		if (sse_read(s, 100))
			return -1;
	return x->started ? 0 : -1;
}

static int
sse_open(struct tsub *s)
{
	return sse_open_hdr(s, NULL);
}

int tdrv_sse_open_with(struct tsub *s, const char *header);

/* Opens an SSE subscription sending one extra header line (tests). */
int
tdrv_sse_open_with(struct tsub *s, const char *header)
{
	return sse_open_hdr(s, header);
}

static size_t
sse_wait(struct tsub *s, size_t want, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	while (s->n < want) {
		int64_t left = end - now_ms();

		if (left <= 0 || sse_read(s, (int)left))
			break;
	}
	return s->n;
}

static void
sse_close(struct tsub *s)
{
	struct sse_impl *x = s->impl;

	if (!x)
		return;
	close(x->fd);
	free(x->buf);
	free(x);
	s->impl = NULL;
}

const struct tdriver tdrv_sse = {
	"sse", sse_open, sse_wait, http_publish, sse_close
};
