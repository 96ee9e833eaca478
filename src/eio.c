/* SPDX-License-Identifier: MIT */
/*
 * eio: the Engine.IO v4 session table and a session's life: open (the
 * handshake), find, the input packets (ping probe, pong, upgrade, close),
 * the held GET and the POST in flight, the WebSocket attached or probing,
 * close and the table's teardown. The queue is eio_queue.c, the heartbeat
 * eio_beat.c (see eio.h for the locks and the contract).
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "eio.h"
#include "eio_private.h"
#include "msg.h"
#include "server_ctx.h"
#include "tp_wait.h"

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
	if (pthread_create(&e->beat, NULL, eio_beat_thread, e)) {
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

static void
session_free(struct eio_session *s)
{
	while (s->qh) {
		struct eio_out *o = s->qh;

		s->qh = o->next;
		eio_queue_out_free(o);
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

void
eio_wake_locked(struct eio_session *s)
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
	eio_wake_locked(s);
	pthread_mutex_unlock(&s->e->lock);
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
	o = eio_queue_new(-1, open, n);
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
		eio_queue_out_free(o);
		session_free(s);
		return NULL;
	}
	s->in_table = 1;
	s->refs++;	/* the table's */
	eio_beat_by_locked(e, s->next_ping);
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

struct eio_session *
eio_find(struct eio *e, const char *sid)
{
	struct eio_session *s;
	int dead = 0;

	pthread_mutex_lock(&e->lock);
	s = hmap_get(&e->table, sid);
	if (s) {
		s->refs++;
		dead = eio_beat_locked(s, im_mono_ms());
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
	eio_wake_locked(s);
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

void
eio_app_pull(struct eio_session *s)
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
			s->noop_at = im_mono_ms() + EIO_PROBE_NOOP_MS;
			eio_beat_by_locked(e, s->noop_at);
			eio_wake_locked(s);
		} else {
			rc = -1;
		}
		break;
	case EIO_PONG:
		s->ping_out = 0;
		s->next_ping = im_mono_ms() + e->ping_interval;
		eio_beat_by_locked(e, s->next_ping);
		break;
	case EIO_UPGRADE:
		if (ws && s->probe) {
			s->conn = s->probe;
			s->probe = NULL;
			s->ws = 1;
			s->noop = 1;
			s->noop_at = 0;
			s->next_ping = im_mono_ms() + e->ping_interval;
			eio_beat_by_locked(e, s->next_ping);
			eio_wake_locked(s);
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
		s->noop_at = 0;
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
