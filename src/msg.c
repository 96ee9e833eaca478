/* SPDX-License-Identifier: MIT */
/*
 * msg: builds the envelope and its wire forms in one allocation, and keeps
 * the reference count. A message is immutable once msg_create() returns, so
 * readers on any thread may use its buffers without a lock while they hold a
 * reference.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg.h"

static const char *const via_names[VIA__COUNT] = {
	"poll", "longpoll", "sse", "ws", "api"
};

const char *
via_name(enum via v)
{
	return (unsigned)v < VIA__COUNT ? via_names[v] : "?";
}

int
via_parse(const char *s, enum via *out)
{
	for (int i = 0; i < VIA__COUNT; i++)
		if (!strcmp(s, via_names[i])) {
			*out = (enum via)i;
			return 0;
		}
	return -1;
}

int64_t
im_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
im_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Length of s as a JSON string body (without quotes). */
static size_t
json_str_len(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			n += 2;
		else if (*p < 0x20)
			n += 6;
		else
			n++;
	}
	return n;
}

static char *
json_str_put(char *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	*o++ = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = (char)*p;
		} else if (*p < 0x20) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[*p >> 4];
			o[5] = hex[*p & 15];
			o += 6;
		} else {
			*o++ = (char)*p;
		}
	}
	*o++ = '"';
	return o;
}

#define WS_HEAD "{\"op\":\"msg\",\"msg\":"

struct msg *
msg_create(const struct msg_parts *p)
{
	char idbuf[24], tsbuf[24];
	size_t room_len = strlen(p->room), event_len = strlen(p->event);
	size_t from_len = json_str_len(p->from);
	size_t pid_len = strlen(p->pid);
	size_t json_len, ws_len, sse_len, idlen;
	struct msg *m;
	char *o;

	if (room_len > MSG_ROOM_MAX || event_len > MSG_EVENT_MAX ||
	    (p->cid && strlen(p->cid) > MSG_CID_MAX))
		return NULL;
	idlen = (size_t)snprintf(idbuf, sizeof(idbuf), "%" PRIu64, p->id);
	snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, p->ts);

	/* Upper bounds: {"id":N,"room":"R","event":"E","from":"F","pid":"P",
	 * "via":"V","data":D,"ts":T} is under 96 bytes of punctuation and
	 * names plus its values; room and event need no escaping (validated).
	 * The real lengths are taken from the pointers afterwards. */
	json_len = 96 + idlen + room_len + event_len + from_len + pid_len +
		   8 + p->data_len + strlen(tsbuf);
	ws_len = sizeof(WS_HEAD) + json_len + 1;
	sse_len = 32 + idlen + event_len + json_len;

	m = malloc(sizeof(*m) + MSG_WS_PRE + ws_len + 1 + sse_len + 1);
	if (!m)
		return NULL;
	atomic_init(&m->refs, 1);
	m->id = p->id;
	m->ts = p->ts;
	m->to = p->to;
	m->via = p->via;
	memcpy(m->room, p->room, room_len + 1);
	memcpy(m->event, p->event, event_len + 1);
	snprintf(m->cid, sizeof(m->cid), "%s", p->cid ? p->cid : "");

	m->ws = (char *)(m + 1);
	o = m->ws + MSG_WS_PRE;
	memset(m->ws, 0, MSG_WS_PRE);
	memcpy(o, WS_HEAD, sizeof(WS_HEAD) - 1);
	o += sizeof(WS_HEAD) - 1;
	m->json = o;
	o += sprintf(o, "{\"id\":%s,\"room\":\"%s\",\"event\":\"%s\",\"from\":",
		     idbuf, p->room, p->event);
	o = json_str_put(o, p->from);
	o += sprintf(o, ",\"pid\":\"%s\",\"via\":\"%s\",\"data\":", p->pid,
		     via_name(p->via));
	memcpy(o, p->data_json, p->data_len);
	o += p->data_len;
	o += sprintf(o, ",\"ts\":%s}", tsbuf);
	m->json_len = (size_t)(o - m->json);
	*o++ = '}';
	*o++ = '\0';
	m->ws_len = (size_t)(o - 1 - (m->ws + MSG_WS_PRE));

	m->sse = o;
	o += sprintf(o, "id: %s\nevent: %s\ndata: ", idbuf, p->event);
	memcpy(o, m->json, m->json_len);
	o += m->json_len;
	memcpy(o, "\n\n", 3);
	o += 2;
	m->sse_len = (size_t)(o - m->sse);
	return m;
}

struct msg *
msg_ref(struct msg *m)
{
	atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

void
msg_unref(struct msg **mp)
{
	struct msg *m = *mp;

	if (!m)
		return;
	*mp = NULL;
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		free(m);
}

int
msg_visible(const struct msg *m, const char *cid)
{
	switch (m->to) {
	case MSG_TO_ROOM:
		return 1;
	case MSG_TO_OTHERS:
		return !cid || !*cid || strcmp(cid, m->cid) != 0;
	case MSG_TO_SELF:
		return cid && *cid && !strcmp(cid, m->cid);
	}
	return 0;
}

char *
msg_batch_json(struct msg *const *m, size_t n, uint64_t last_id, int gap,
	       size_t *len)
{
	size_t cap = 64;
	char *buf, *o;

	for (size_t i = 0; i < n; i++)
		cap += m[i]->json_len + 1;
	buf = malloc(cap);
	if (!buf)
		return NULL;
	o = buf;
	memcpy(o, "{\"messages\":[", 13);
	o += 13;
	for (size_t i = 0; i < n; i++) {
		if (i)
			*o++ = ',';
		memcpy(o, m[i]->json, m[i]->json_len);
		o += m[i]->json_len;
	}
	o += sprintf(o, "],\"last_id\":%" PRIu64 ",\"gap\":%s}", last_id,
		     gap ? "true" : "false");
	*len = (size_t)(o - buf);
	return buf;
}
