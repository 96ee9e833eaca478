/* SPDX-License-Identifier: MIT */
/*
 * eio: the Engine.IO v4 session table, queues, heartbeats, upgrade and
 * close (see eio.h for the locks and the contract).
 */
#include "autoconf.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "eio.h"
#include "hmap.h"
#include "log.h"
#include "msg.h"
#include "server_ctx.h"
#include "tp_wait.h"

#define TAG "eio"
#define QUEUE_PACKETS 512	/* queued packets of one session, at most */

struct eio {
	struct server *srv;
	pthread_mutex_t lock;		/* eio.lock */
	struct hmap table;		/* sid -> session */
	const struct eio_app *app[EIO_KIND__COUNT];
	int64_t ping_interval, ping_timeout;	/* ms */
	long max_payload;
	size_t queue_bytes;		/* a session's queue bound */
	pthread_t beat;			/* the heartbeat thread */
	pthread_cond_t cond;		/* wakes it (CLOCK_MONOTONIC) */
	int64_t wake_at;		/* its next deadline (eio.lock) */
	int stop, has_beat;		/* under eio.lock */
};

static void *beat_thread(void *arg);

struct eio_session {
	struct eio *e;
	enum eio_kind kind;
	char sid[EIO_SID_LEN + 1];
	int refs;			/* under eio.lock */
	int closed, by_client;		/* under eio.lock */
	int in_table;
	int ws;				/* the transport is the WebSocket */
	void *probe;			/* a WebSocket probing an upgrade */
	int noop;			/* the held GET owes a "6" */
	int probe_owed;			/* the probe owes a "3probe" */
	int posting;
	struct tp_wait *held;		/* the held GET */
	void *conn;			/* the WebSocket */
	int64_t next_ping, ping_sent;	/* monotonic ms */
	int ping_out;			/* a ping waits for its pong */
	struct eio_out *qh, **qt;	/* the queue */
	size_t qn, qbytes;
	pthread_mutex_t alock;		/* the app lock */
	void *ctx;			/* the app's, until closed */
	int app_closed;			/* under alock */
};

static const char *const messages[] = {
	"Transport unknown", "Session ID unknown", "Bad handshake method",
	"Bad request", "Forbidden", "Unsupported protocol version",
};

const char *
eio_error_message(enum eio_error code)
{
	return (unsigned)code < sizeof(messages) / sizeof(messages[0]) ?
	       messages[code] : "Bad request";
}

int
eio_path_kind(const char *url)
{
	if (!strcmp(url, "/socket.io/") || !strcmp(url, "/socket.io"))
		return EIO_KIND_SOCKETIO;
	if (!strcmp(url, "/engine.io/") || !strcmp(url, "/engine.io"))
		return EIO_KIND_ENGINEIO;
	return -1;
}

struct eio *
eio_create(struct server *srv)
{
	struct eio *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->srv = srv;
	pthread_mutex_init(&e->lock, NULL);
	e->ping_interval = srv->cfg.sio_ping_interval;
	e->ping_timeout = srv->cfg.sio_ping_timeout;
	e->max_payload = srv->cfg.sio_max_payload;
	if (e->max_payload > srv->cfg.max_body)
		e->max_payload = srv->cfg.max_body;
	e->queue_bytes = (size_t)e->max_payload * 4 + 65536;
	e->wake_at = INT64_MAX;
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&e->beat, NULL, beat_thread, e)) {
		pthread_cond_destroy(&e->cond);
		pthread_mutex_destroy(&e->lock);
		free(e);
		return NULL;
	}
	e->has_beat = 1;
	return e;
}

void
eio_set_app(struct eio *e, enum eio_kind kind, const struct eio_app *app)
{
	e->app[kind] = app;
}

int
eio_served(const struct eio *e, enum eio_kind kind)
{
	return e && (unsigned)kind < EIO_KIND__COUNT && e->app[kind];
}

long
eio_max_payload(const struct eio *e)
{
	return e->max_payload;
}

const char *
eio_sid(const struct eio_session *s)
{
	return s->sid;
}

enum eio_kind
eio_session_kind(const struct eio_session *s)
{
	return s->kind;
}

struct server *
eio_server(const struct eio_session *s)
{
	return s->e->srv;
}

void
eio_out_free(struct eio_out *o)
{
	if (!o)
		return;
	msg_unref(&o->m);
	free(o);
}

static void
session_free(struct eio_session *s)
{
	while (s->qh) {
		struct eio_out *o = s->qh;

		s->qh = o->next;
		eio_out_free(o);
	}
	pthread_mutex_destroy(&s->alock);
	free(s);
}

void
eio_unref(struct eio_session **sp)
{
	struct eio_session *s = *sp;
	int last;

	if (!s)
		return;
	*sp = NULL;
	pthread_mutex_lock(&s->e->lock);
	last = !--s->refs;
	pthread_mutex_unlock(&s->e->lock);
	if (last)
		session_free(s);
}

/* A random, URL-safe session id. */
static void
make_sid(char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				  "opqrstuvwxyz0123456789-_";
	unsigned char r[EIO_SID_LEN];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)rand(); /* NOLINT: fallback */
	for (size_t i = 0; i < EIO_SID_LEN; i++)
		out[i] = abc[r[i] & 63];
	out[EIO_SID_LEN] = '\0';
}

size_t
eio_open_packet(const struct eio_session *s, int ws, char *out, size_t cap)
{
	int n = snprintf(out, cap, "0{\"sid\":\"%s\",\"upgrades\":[%s],"
			 "\"pingInterval\":%lld,\"pingTimeout\":%lld,"
			 "\"maxPayload\":%ld}", s->sid,
			 ws ? "" : "\"websocket\"",
			 (long long)s->e->ping_interval,
			 (long long)s->e->ping_timeout, s->e->max_payload);

	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Makes the heartbeat thread wake by t (monotonic ms); eio.lock held. */
static void
beat_by_locked(struct eio *e, int64_t t)
{
	if (t < e->wake_at) {
		e->wake_at = t;
		pthread_cond_signal(&e->cond);
	}
}

/* Wakes the transport; eio.lock held. */
static void
wake_locked(struct eio_session *s)
{
	if (s->held)
		tp_wait_wake(s->e->srv, s->held);
	if (s->conn)
		eio_ws_wake(s->conn);
	if (s->probe)
		eio_ws_wake(s->probe);
}

void
eio_wake(struct eio_session *s)
{
	pthread_mutex_lock(&s->e->lock);
	wake_locked(s);
	pthread_mutex_unlock(&s->e->lock);
}

/* Appends o; eio.lock held. Returns -1 over the bound (o freed). */
static int
enqueue_locked(struct eio_session *s, struct eio_out *o)
{
	if (s->closed || s->qn >= QUEUE_PACKETS ||
	    s->qbytes + o->len > s->e->queue_bytes) {
		eio_out_free(o);
		return -1;
	}
	o->next = NULL;
	*s->qt = o;
	s->qt = &o->next;
	s->qn++;
	s->qbytes += o->len;
	wake_locked(s);
	return 0;
}

/* A new queue entry: type digit (or -1 for a binary message) and data. */
static struct eio_out *
out_new(int type, const char *data, size_t len)
{
	size_t n = len + (type >= 0);
	struct eio_out *o = malloc(sizeof(*o) + MSG_WS_PRE + n + 1);
	char *p;

	if (!o)
		return NULL;
	memset(o, 0, sizeof(*o));
	p = o->buf + MSG_WS_PRE;
	if (type >= 0)
		*p = (char)('0' + type);
	if (len)
		memcpy(p + (type >= 0), data, len);
	p[n] = '\0';
	o->p = p;
	o->len = n;
	o->binary = type < 0;
	return o;
}

/* Queues a control packet; eio.lock held. */
static int
control_locked(struct eio_session *s, enum eio_type t, const char *data)
{
	struct eio_out *o = out_new((int)t, data, data ? strlen(data) : 0);

	if (!o)
		return -1;
	return enqueue_locked(s, o);
}

struct eio_session *
eio_open(struct eio *e, enum eio_kind kind, int ws)
{
	struct eio_session *s;
	const struct eio_app *app = eio_served(e, kind) ? e->app[kind] : NULL;
	char open[256];
	struct eio_out *o;
	size_t n;

	if (!app)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->e = e;
	s->kind = kind;
	s->ws = ws;
	s->qt = &s->qh;
	s->refs = 1;
	pthread_mutex_init(&s->alock, NULL);
	s->next_ping = im_mono_ms() + e->ping_interval;
	make_sid(s->sid);
	n = eio_open_packet(s, ws, open, sizeof(open));
	o = out_new(-1, open, n);
	if (!o) {
		session_free(s);
		return NULL;
	}
	o->binary = 0;
	s->ctx = app->open(app->cls, s);
	pthread_mutex_lock(&e->lock);
	if (!s->ctx || hmap_get(&e->table, s->sid) ||
	    hmap_put(&e->table, s->sid, s)) {
		pthread_mutex_unlock(&e->lock);
		if (s->ctx)
			app->close(s->ctx);
		eio_out_free(o);
		session_free(s);
		return NULL;
	}
	s->in_table = 1;
	s->refs++;	/* the table's */
	beat_by_locked(e, s->next_ping);
	/* the open packet goes first */
	o->next = s->qh;
	s->qh = o;
	if (s->qt == &s->qh)
		s->qt = &o->next;
	s->qn++;
	s->qbytes += o->len;
	pthread_mutex_unlock(&e->lock);
	STATS_ADD(&e->srv->stats, VIA_SIO, open, 1);
	return s;
}

/* The heartbeat, eio.lock held: queues a ping when due; returns -1 when
 * the last ping went unanswered for pingTimeout. */
static int
beat_locked(struct eio_session *s, int64_t now)
{
	if (s->closed)
		return -1;
	if (s->ping_out)
		return now >= s->ping_sent + s->e->ping_timeout ? -1 : 0;
	if (now >= s->next_ping && !s->probe) {
		/* the nominal time: a late check gives the client no more */
		s->ping_sent = s->next_ping;
		s->ping_out = 1;
		if (control_locked(s, EIO_PING, NULL))
			return -1;
	}
	return 0;
}

struct eio_session *
eio_find(struct eio *e, const char *sid)
{
	struct eio_session *s;
	int dead = 0;

	pthread_mutex_lock(&e->lock);
	s = hmap_get(&e->table, sid);
	if (s) {
		s->refs++;
		dead = beat_locked(s, im_mono_ms());
	}
	pthread_mutex_unlock(&e->lock);
	if (dead) {
		eio_close(s, 0);
		eio_unref(&s);
	}
	return s;
}

int
eio_closed(struct eio_session *s)
{
	int c;

	pthread_mutex_lock(&s->e->lock);
	c = s->closed;
	pthread_mutex_unlock(&s->e->lock);
	return c;
}

void
eio_close(struct eio_session *s, int by_client)
{
	struct eio *e = s->e;
	const struct eio_app *app = e->app[s->kind];
	int was, table;

	pthread_mutex_lock(&e->lock);
	was = s->closed;
	s->closed = 1;
	if (!was)
		s->by_client = by_client;
	table = s->in_table;
	if (table) {
		hmap_del(&e->table, s->sid);
		s->in_table = 0;
	}
	wake_locked(s);
	pthread_mutex_unlock(&e->lock);
	if (was)
		return;
	pthread_mutex_lock(&s->alock);
	if (!s->app_closed && s->ctx) {
		s->app_closed = 1;
		app->close(s->ctx);
		s->ctx = NULL;
	}
	pthread_mutex_unlock(&s->alock);
	STATS_ADD(&e->srv->stats, VIA_SIO, open, -1);
	if (table)
		eio_unref(&s);	/* the table's */
}

int
eio_send(struct eio_session *s, const char *data, size_t len, int binary)
{
	struct eio_out *o = out_new(binary ? -1 : EIO_MESSAGE, data, len);
	int rc;

	if (!o)
		return -1;
	pthread_mutex_lock(&s->e->lock);
	rc = enqueue_locked(s, o);
	pthread_mutex_unlock(&s->e->lock);
	return rc;
}

int
eio_send_shared(struct eio_session *s, struct msg *m, const char *text,
		size_t len, int binary)
{
	struct eio_out *o = calloc(1, sizeof(*o));
	int rc;

	if (!o)
		return -1;
	o->m = msg_ref(m);
	o->p = text;
	o->len = len;
	o->binary = binary;
	pthread_mutex_lock(&s->e->lock);
	rc = enqueue_locked(s, o);
	pthread_mutex_unlock(&s->e->lock);
	return rc;
}

/* Calls the app's message or pull under the app lock. */
static int
app_message(struct eio_session *s, const char *data, size_t len, int bin)
{
	const struct eio_app *app = s->e->app[s->kind];
	int rc = 0;

	pthread_mutex_lock(&s->alock);
	if (!s->app_closed && s->ctx)
		rc = app->message(s->ctx, data, len, bin);
	pthread_mutex_unlock(&s->alock);
	return rc;
}

static void
app_pull(struct eio_session *s)
{
	const struct eio_app *app = s->e->app[s->kind];

	if (!app->pull)
		return;
	pthread_mutex_lock(&s->alock);
	if (!s->app_closed && s->ctx)
		app->pull(s->ctx);
	pthread_mutex_unlock(&s->alock);
}

int
eio_input(struct eio_session *s, const struct eio_pkt *p, int ws)
{
	struct eio *e = s->e;
	int rc = 0;

	if (p->binary || p->type == EIO_MESSAGE) {
		pthread_mutex_lock(&e->lock);
		/* a probing WebSocket sends no message before its upgrade */
		rc = s->closed || (ws && !s->ws) ? -1 : 0;
		pthread_mutex_unlock(&e->lock);
		if (!rc && app_message(s, p->data, p->len, p->binary))
			rc = -1;
		if (rc)
			eio_close(s, 0);
		return rc;
	}
	pthread_mutex_lock(&e->lock);
	switch (p->type) {
	case EIO_PING:
		/* only a probe: the server pings in v4 */
		if (ws && s->probe && p->len == 5 &&
		    !memcmp(p->data, "probe", 5)) {
			/* past the queue: it belongs to the polling side */
			s->probe_owed = 1;
			s->noop = 1;	/* the held GET ends with "6" */
			wake_locked(s);
		} else {
			rc = -1;
		}
		break;
	case EIO_PONG:
		s->ping_out = 0;
		s->next_ping = im_mono_ms() + e->ping_interval;
		beat_by_locked(e, s->next_ping);
		break;
	case EIO_UPGRADE:
		if (ws && s->probe) {
			s->conn = s->probe;
			s->probe = NULL;
			s->ws = 1;
			s->noop = 1;
			s->next_ping = im_mono_ms() + e->ping_interval;
			beat_by_locked(e, s->next_ping);
			wake_locked(s);
		} else {
			rc = -1;
		}
		break;
	case EIO_CLOSE:
		pthread_mutex_unlock(&e->lock);
		eio_close(s, 1);
		return -1;
	case EIO_NOOP:
		break;
	default:
		rc = -1;
		break;
	}
	pthread_mutex_unlock(&e->lock);
	if (rc)
		eio_close(s, 0);
	return rc;
}

/* Takes up to max_bytes of queue (one packet at least, or exactly one
 * with one); eio.lock held. */
static struct eio_out *
take_locked(struct eio_session *s, size_t max_bytes, int one)
{
	struct eio_out *head = s->qh, **pp = &s->qh;
	size_t bytes = 0;

	while (*pp) {
		size_t n = (*pp)->binary ? eio_b64_len((*pp)->len) + 1 :
			   (*pp)->len;

		if (pp != &s->qh && (one || bytes + n + 1 > max_bytes))
			break;
		bytes += n + 1;
		s->qn--;
		s->qbytes -= (*pp)->len;
		pp = &(*pp)->next;
	}
	s->qh = *pp;
	*pp = NULL;
	if (!s->qh)
		s->qt = &s->qh;
	return s->qh == head ? NULL : head;
}

enum eio_take
eio_take(struct eio_session *s, int ws, size_t max_bytes,
	 struct eio_out **out)
{
	struct eio *e = s->e;
	enum eio_take t = EIO_TAKE_NONE;
	int dead;

	*out = NULL;
	for (int pass = 0; pass < 2; pass++) {
		pthread_mutex_lock(&e->lock);
		dead = beat_locked(s, im_mono_ms());
		if (s->closed || dead) {
			t = !ws && s->by_client && s->closed ?
			    EIO_TAKE_NOOP : EIO_TAKE_CLOSE;
		} else if (!ws && (s->noop || s->ws)) {
			s->noop = 0;
			t = EIO_TAKE_NOOP;
		} else if (ws && s->probe && !s->ws) {
			/* probing: only the "3probe" goes on the WebSocket */
			if (s->probe_owed) {
				*out = out_new(EIO_PONG, "probe", 5);
				s->probe_owed = 0;
				t = *out ? EIO_TAKE_PACKETS : EIO_TAKE_CLOSE;
			}
			pthread_mutex_unlock(&e->lock);
			return t;	/* nothing of the queue, no pull */
		} else if (s->qh) {
			*out = take_locked(s, max_bytes, ws && !max_bytes);
			t = EIO_TAKE_PACKETS;
		}
		pthread_mutex_unlock(&e->lock);
		if (dead)
			eio_close(s, 0);	/* idempotent */
		if (t != EIO_TAKE_NONE || pass)
			break;
		app_pull(s);
	}
	return t;
}

int
eio_hold(struct eio_session *s, struct tp_wait *w)
{
	int rc = 0;

	pthread_mutex_lock(&s->e->lock);
	if (s->closed || s->ws)
		rc = -2;
	else if (s->held)
		rc = -1;
	else
		s->held = w;
	pthread_mutex_unlock(&s->e->lock);
	return rc;
}

void
eio_unhold(struct eio_session *s, struct tp_wait *w)
{
	pthread_mutex_lock(&s->e->lock);
	if (s->held == w)
		s->held = NULL;
	pthread_mutex_unlock(&s->e->lock);
}

int
eio_post_begin(struct eio_session *s)
{
	int rc = 0, overlap = 0;

	pthread_mutex_lock(&s->e->lock);
	if (s->closed || s->ws)
		rc = -1;
	else if (s->posting)
		rc = overlap = -1;
	else
		s->posting = 1;
	pthread_mutex_unlock(&s->e->lock);
	if (overlap)
		eio_close(s, 0);
	return rc;
}

void
eio_post_end(struct eio_session *s)
{
	pthread_mutex_lock(&s->e->lock);
	s->posting = 0;
	pthread_mutex_unlock(&s->e->lock);
}

int
eio_attach_ws(struct eio_session *s, void *conn)
{
	int rc = 0;

	pthread_mutex_lock(&s->e->lock);
	if (s->closed || s->probe || (s->conn && s->conn != conn))
		rc = -1;
	else if (s->ws)
		s->conn = conn;		/* a new WebSocket session */
	else
		s->probe = conn;
	pthread_mutex_unlock(&s->e->lock);
	return rc;
}

void
eio_detach_ws(struct eio_session *s, void *conn)
{
	int close = 0;

	pthread_mutex_lock(&s->e->lock);
	if (s->probe == conn) {
		s->probe = NULL;
		s->noop = 0;
		s->probe_owed = 0;
	}
	if (s->conn == conn) {
		s->conn = NULL;
		close = 1;
	}
	pthread_mutex_unlock(&s->e->lock);
	if (close)
		eio_close(s, 0);
}

/* The next heartbeat deadline of s; eio.lock held. */
static int64_t
deadline_locked(const struct eio_session *s)
{
	return s->ping_out ? s->ping_sent + s->e->ping_timeout :
	       s->next_ping;
}

/* Runs every session's heartbeat at now; with all, fills *all (new
 * references, *na of them) with the live sessions. Returns the next
 * deadline (at most a second away). */
static int64_t
beat_all(struct eio *e, int64_t now, struct eio_session ***all, size_t *na)
{
	struct eio_session **dead = NULL, *s;
	size_t nd = 0, pos = 0, cap;
	int64_t next = now + 1000;

	if (all)
		*all = NULL;
	pthread_mutex_lock(&e->lock);
	cap = e->table.len;
	if (cap) {
		dead = calloc(cap, sizeof(*dead));
		if (all)
			*all = calloc(cap, sizeof(**all));
	}
	while (dead && (!all || *all) && (s = hmap_next(&e->table, &pos))) {
		if (beat_locked(s, now)) {
			s->refs++;
			dead[nd++] = s;
			continue;
		}
		if (deadline_locked(s) < next)
			next = deadline_locked(s);
		if (all) {
			s->refs++;
			(*all)[(*na)++] = s;
		}
	}
	pthread_mutex_unlock(&e->lock);
	for (size_t i = 0; i < nd; i++) {
		eio_close(dead[i], 0);
		eio_unref(&dead[i]);
	}
	free(dead);
	return next > now ? next : now + 1;
}

/* The heartbeat thread: pings and ping timeouts at their deadline, so a
 * 300 ms pingInterval is kept to the millisecond, not to a tick. */
static void *
beat_thread(void *arg)
{
	struct eio *e = arg;

	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		int64_t now = im_mono_ms();
		struct timespec ts;

		if (now >= e->wake_at) {
			e->wake_at = INT64_MAX;
			pthread_mutex_unlock(&e->lock);
			now = beat_all(e, now, NULL, NULL);
			pthread_mutex_lock(&e->lock);
			if (now < e->wake_at)
				e->wake_at = now;
			continue;
		}
		ts.tv_sec = (time_t)(e->wake_at / 1000);
		ts.tv_nsec = (long)(e->wake_at % 1000) * 1000000L;
		pthread_cond_timedwait(&e->cond, &e->lock, &ts);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

void
eio_tick(struct eio *e, int64_t now)
{
	struct eio_session **all = NULL;
	size_t na = 0;

	if (!e)
		return;
	beat_all(e, now, &all, &na);
	for (size_t i = 0; i < na; i++) {
		const struct eio_app *app = e->app[all[i]->kind];
		int rc = 0;

		if (app->tick) {
			pthread_mutex_lock(&all[i]->alock);
			if (!all[i]->app_closed && all[i]->ctx)
				rc = app->tick(all[i]->ctx, now);
			pthread_mutex_unlock(&all[i]->alock);
		}
		if (rc)
			eio_close(all[i], 0);
		eio_unref(&all[i]);
	}
	free(all);
}

void
eio_destroy(struct eio **ep)
{
	struct eio *e = *ep;
	struct eio_session *s;
	size_t pos = 0;

	if (!e)
		return;
	*ep = NULL;
	pthread_mutex_lock(&e->lock);
	e->stop = 1;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
	if (e->has_beat)
		pthread_join(e->beat, NULL);
	for (;;) {
		pthread_mutex_lock(&e->lock);
		pos = 0;
		s = hmap_next(&e->table, &pos);
		if (s)
			s->refs++;
		pthread_mutex_unlock(&e->lock);
		if (!s)
			break;
		eio_close(s, 0);
		eio_unref(&s);
	}
	hmap_clear(&e->table);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
