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
	"poll", "longpoll", "sse", "ws", "sio", "api"
};

const char *
via_name(enum via v)
{
	return (unsigned)v < VIA__COUNT ? via_names[v] : "?";
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

#define WS_HEAD "{\"op\":\"msg\",\"msg\":"

/* Allocates a message with room for a ws_len-byte frame and fills its
 * header from p (room, event, cid, to_cid already length-checked): one
 * reference, no Socket.IO form yet. NULL when out of memory. */
static struct msg *
msg_alloc(const struct msg_parts *p, size_t ws_len)
{
	struct msg *m = malloc(sizeof(*m) + MSG_WS_PRE + ws_len + 1);

	if (!m)
		return NULL;
	m->size = sizeof(*m) + MSG_WS_PRE + ws_len + 1;
	atomic_init(&m->refs, 1);
	atomic_init(&m->sio, NULL);
	m->id = p->id;
	m->ts = p->ts;
	m->to = p->to;
	m->via = p->via;
	snprintf(m->room, sizeof(m->room), "%s", p->room);
	snprintf(m->event, sizeof(m->event), "%s", p->event);
	snprintf(m->cid, sizeof(m->cid), "%s", p->cid ? p->cid : "");
	snprintf(m->to_cid, sizeof(m->to_cid), "%s",
		 p->to == MSG_TO_PID ? p->to_cid : "");
	return m;
}

struct msg *
msg_create(const struct msg_parts *p)
{
	char idbuf[24], tsbuf[24];
	size_t room_len = strlen(p->room), event_len = strlen(p->event);
	size_t from_len = jbuf_str_len(p->from);
	size_t pid_len = strlen(p->pid);
	size_t json_len, ws_len, idlen;
	struct jbuf b;
	struct msg *m;

	if (room_len > MSG_ROOM_MAX || event_len > MSG_EVENT_MAX ||
	    (p->cid && strlen(p->cid) > MSG_CID_MAX))
		return NULL;
	if (p->to == MSG_TO_PID &&
	    (!p->to_pid || strlen(p->to_pid) != MSG_PID_LEN || !p->to_cid ||
	     strlen(p->to_cid) > MSG_CID_MAX))
		return NULL;
	idlen = (size_t)snprintf(idbuf, sizeof(idbuf), "%" PRIu64, p->id);
	snprintf(tsbuf, sizeof(tsbuf), "%" PRId64, p->ts);

	/* Upper bounds: {"id":N,"room":"R","event":"E","from":"F","pid":"P",
	 * "via":"V","data":D,"ts":T} is under 96 bytes of punctuation and
	 * names plus its values; room and event need no escaping (validated).
	 * The real lengths are taken from the pointers afterwards. */
	json_len = 96 + idlen + room_len + event_len + from_len + pid_len +
		   8 + p->data_len + strlen(tsbuf);
	if (p->to == MSG_TO_PID)	/* ,"to":"pid:P" */
		json_len += 12 + MSG_PID_LEN;
	ws_len = sizeof(WS_HEAD) + json_len + 1;

	m = msg_alloc(p, ws_len);
	if (!m)
		return NULL;

	m->ws = (char *)(m + 1);
	memset(m->ws, 0, MSG_WS_PRE);
	jbuf_init(&b, m->ws + MSG_WS_PRE, ws_len + 1);
	jbuf_puts(&b, WS_HEAD);
	m->json = b.p + b.len;
	jbuf_printf(&b, "{\"id\":%s,\"room\":\"%s\",\"event\":\"%s\","
		    "\"from\":", idbuf, p->room, p->event);
	jbuf_str(&b, p->from);
	jbuf_printf(&b, ",\"pid\":\"%s\"", p->pid);
	if (p->to == MSG_TO_PID)
		jbuf_printf(&b, ",\"to\":\"pid:%s\"", p->to_pid);
	jbuf_printf(&b, ",\"via\":\"%s\",\"data\":", via_name(p->via));
	jbuf_raw(&b, p->data_json, p->data_len);
	jbuf_printf(&b, ",\"ts\":%s}", tsbuf);
	m->json_len = (size_t)(b.p + b.len - m->json);
	jbuf_raw(&b, "}", 2);			/* and its NUL */
	m->ws_len = b.len - 1;
	if (b.over) {		/* the bounds above are wrong: a bug */
		free(m);
		return NULL;
	}
	return m;
}

struct msg *
msg_restore(const struct msg_parts *p, const char *env, size_t env_len)
{
	size_t room_len = strlen(p->room), event_len = strlen(p->event);
	size_t ws_len = sizeof(WS_HEAD) - 1 + env_len + 1;
	struct msg *m;

	if (room_len > MSG_ROOM_MAX || event_len > MSG_EVENT_MAX ||
	    (p->cid && strlen(p->cid) > MSG_CID_MAX) || !env_len ||
	    (p->to == MSG_TO_PID && (!p->to_cid || !*p->to_cid ||
				     strlen(p->to_cid) > MSG_CID_MAX)))
		return NULL;
	m = msg_alloc(p, ws_len);
	if (!m)
		return NULL;
	m->ws = (char *)(m + 1);
	memset(m->ws, 0, MSG_WS_PRE);
	memcpy(m->ws + MSG_WS_PRE, WS_HEAD, sizeof(WS_HEAD) - 1);
	m->json = m->ws + MSG_WS_PRE + sizeof(WS_HEAD) - 1;
	memcpy(m->ws + MSG_WS_PRE + sizeof(WS_HEAD) - 1, env, env_len);
	memcpy(m->ws + MSG_WS_PRE + ws_len - 1, "}", 2);	/* and NUL */
	m->json_len = env_len;
	m->ws_len = ws_len;
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
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) ==
	    1) {
		free(atomic_load(&m->sio));
		free(m);
	}
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
	case MSG_TO_PID:
		return cid && *cid && (!strcmp(cid, m->cid) ||
				       !strcmp(cid, m->to_cid));
	}
	return 0;
}

void
msg_json_list(struct jbuf *b, struct msg *const *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			jbuf_raw(b, ",", 1);
		jbuf_raw(b, m[i]->json, m[i]->json_len);
	}
}

char *
msg_batch_json(struct msg *const *m, size_t n, uint64_t last_id, int gap,
	       size_t *len)
{
	size_t cap = 64;
	struct jbuf b;
	char *buf;

	for (size_t i = 0; i < n; i++)
		cap += m[i]->json_len + 1;
	buf = malloc(cap);
	if (!buf)
		return NULL;
	jbuf_init(&b, buf, cap);
	jbuf_puts(&b, "{\"messages\":[");
	msg_json_list(&b, m, n);
	jbuf_printf(&b, "],\"last_id\":%" PRIu64 ",\"gap\":%s}", last_id,
		    gap ? "true" : "false");
	*len = b.len;
	return buf;
}
