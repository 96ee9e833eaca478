/* SPDX-License-Identifier: MIT */
/*
 * tdriver_ws: the behaviour suite's WebSocket driver, on the raw RFC 6455
 * client of wsclient.c. open = connect + hello + one join per room with
 * the cursor as since, returning once every room answered `joined`;
 * envelopes are cut out of msg and msgs frames byte for byte (so the
 * suite can compare them with other transports' bytes), gap frames are
 * counted, and publish is a `send` op answered by `ack`.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "msg.h"
#include "tdriver.h"
#include "wsclient.h"

#define OPEN_TIMEOUT_MS 5000
#define ACK_TIMEOUT_MS 5000

struct ws_impl {
	struct t_ws c;
	unsigned ref;		/* last ref sent */
};

#define HEAD_MSG "{\"op\":\"msg\",\"msg\":"
#define HEAD_MSGS "{\"op\":\"msgs\",\"msgs\":["
#define HEAD_GAP "{\"op\":\"gap\""

static int
starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

/* Cuts the envelopes out of a msgs frame's array, exactly as sent. */
static void
add_batch(struct tsub *s, const char *p, const char *end)
{
	struct json_tokener *tok = json_tokener_new();

	while (tok && p < end && *p == '{') {
		struct json_object *o;
		size_t used;

		json_tokener_reset(tok);
		o = json_tokener_parse_ex(tok, p, (int)(end - p));
		if (!o)
			break;
		used = json_tokener_get_parse_end(tok);
		json_object_put(o);
		tsub_add(s, p, used);
		p += used;
		if (p < end && *p == ',')
			p++;
	}
	json_tokener_free(tok);
}

/* Takes in one server frame: envelopes and gaps go to s. Returns 1 when
 * it was a delivery frame, 0 for anything else. */
static int
take(struct tsub *s, const char *m, size_t len)
{
	if (starts(m, len, HEAD_MSG) && len > sizeof(HEAD_MSG)) {
		tsub_add(s, m + sizeof(HEAD_MSG) - 1,
			 len - (sizeof(HEAD_MSG) - 1) - 1);
		return 1;
	}
	if (starts(m, len, HEAD_MSGS) && len > sizeof(HEAD_MSGS)) {
		add_batch(s, m + sizeof(HEAD_MSGS) - 1, m + len - 2);
		return 1;
	}
	if (starts(m, len, HEAD_GAP)) {
		s->gaps++;
		return 1;
	}
	return 0;
}

/* Receives until a control frame with this ref arrives (deliveries on the
 * way are kept). Returns it parsed (the caller puts it) or NULL. */
static struct json_object *
wait_ref(struct tsub *s, unsigned ref, int timeout_ms)
{
	struct ws_impl *w = s->impl;
	int64_t deadline = im_mono_ms() + timeout_ms;

	for (;;) {
		int64_t left = deadline - im_mono_ms();
		struct json_object *o, *r;
		char *m;
		size_t len;

		if (left <= 0 || t_ws_recv(&w->c, (int)left, &m, &len) != 1)
			return NULL;
		if (take(s, m, len)) {
			free(m);
			continue;
		}
		o = json_tokener_parse(m);
		free(m);
		if (o && json_object_object_get_ex(o, "ref", &r) &&
		    (unsigned)json_object_get_int64(r) == ref)
			return o;
		json_object_put(o);
	}
}

/* Sends the op in buf with ref appended and returns its reply's "op"
 * check: 0 when the reply's op is want, else -1. *reply (if not NULL)
 * receives the parsed reply. */
static int
request(struct tsub *s, const char *json, const char *want,
	struct json_object **reply)
{
	struct ws_impl *w = s->impl;
	struct json_object *o, *op;
	char buf[8192];
	unsigned ref = ++w->ref;
	int n, ok;

	/* json is an object without its closing brace */
	n = snprintf(buf, sizeof(buf), "%s,\"ref\":%u}", json, ref);
	if (n < 0 || (size_t)n >= sizeof(buf) || t_ws_send(&w->c, buf))
		return -1;
	o = wait_ref(s, ref, ACK_TIMEOUT_MS);
	ok = o && json_object_object_get_ex(o, "op", &op) &&
	     !strcmp(json_object_get_string(op), want);
	if (ok && reply)
		*reply = o;
	else
		json_object_put(o);
	return ok ? 0 : -1;
}

static int
ws_open(struct tsub *s)
{
	struct ws_impl *w = calloc(1, sizeof(*w));
	char buf[1024], rooms[sizeof(s->rooms)];
	char *save = NULL;

	if (!w)
		return -1;
	s->impl = w;
	if (t_ws_connect(&w->c, s->port, NULL, OPEN_TIMEOUT_MS) != 101)
		goto fail;
	if (s->cid[0])
		snprintf(buf, sizeof(buf),
			 "{\"op\":\"hello\",\"cid\":\"%s\",\"from\":\"%s\"",
			 s->cid, s->from[0] ? s->from : "ws-test");
	else
		snprintf(buf, sizeof(buf), "{\"op\":\"hello\",\"from\":\"%s\"",
			 s->from[0] ? s->from : "ws-test");
	if (request(s, buf, "hello", NULL))
		goto fail;
	snprintf(rooms, sizeof(rooms), "%s", s->rooms);
	for (char *r = strtok_r(rooms, ",", &save); r;
	     r = strtok_r(NULL, ",", &save)) {
		snprintf(buf, sizeof(buf),
			 "{\"op\":\"join\",\"room\":\"%s\",\"since\":%" PRIu64,
			 r, s->cursor);
		if (request(s, buf, "joined", NULL))
			goto fail;
	}
	return 0;
fail:
	t_ws_drop(&w->c);
	free(w);
	s->impl = NULL;
	return -1;
}

static size_t
ws_wait(struct tsub *s, size_t want, int timeout_ms)
{
	struct ws_impl *w = s->impl;
	int64_t deadline = im_mono_ms() + timeout_ms;

	while (w && s->n < want) {
		int64_t left = deadline - im_mono_ms();
		char *m;
		size_t len;

		if (left <= 0 || t_ws_recv(&w->c, (int)left, &m, &len) != 1)
			break;
		take(s, m, len);
		free(m);
	}
	return s->n;
}

static uint64_t
ws_publish(struct tsub *s, const char *room, const char *event,
	   const char *data, const char *to)
{
	struct json_object *reply = NULL, *id;
	char buf[8192];
	uint64_t v = 0;
	int n;

	if (!s->impl)
		return 0;
	n = snprintf(buf, sizeof(buf),
		     "{\"op\":\"send\",\"room\":\"%s\",\"event\":\"%s\","
		     "\"data\":%s%s%s%s", room, event, data ? data : "null",
		     to ? ",\"to\":\"" : "", to ? to : "", to ? "\"" : "");
	if (n < 0 || (size_t)n >= sizeof(buf))
		return 0;
	if (request(s, buf, "ack", &reply))
		return 0;
	if (json_object_object_get_ex(reply, "id", &id))
		v = json_object_get_uint64(id);
	json_object_put(reply);
	return v;
}

static void
ws_close(struct tsub *s)
{
	struct ws_impl *w = s->impl;

	if (!w)
		return;
	t_ws_close(&w->c);
	free(w);
	s->impl = NULL;
}

const struct tdriver tdrv_ws = {
	.name = "ws",
	.open = ws_open,
	.wait = ws_wait,
	.publish = ws_publish,
	.close = ws_close,
};
