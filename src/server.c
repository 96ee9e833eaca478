/* SPDX-License-Identifier: MIT */
/*
 * server: builds an imlab instance in dependency order (core, then the two
 * front ends, then the listener that feeds them, then the ticker) and
 * takes it down in reverse, so no thread ever sees a freed object.
 */
#include "autoconf.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "histdb.h"
#include "eio.h"
#include "eio_ws.h"
#include "http.h"
#include "http_guard.h"
#include "http_upgrade.h"
#include "listener.h"
#include "log.h"
#include "netem.h"
#include "server.h"
#ifdef HAVE_HIREDIS
#include "redis_node.h"
#endif
#include "sio.h"
#include "sio_app.h"
#include "sio_echo.h"
#include "tp_wait.h"
#include "wire.h"
#include "ws.h"

#define TAG "server"
#define TICK_MS 100
#define MAX_PENDING_HEADS 1024

const char *
server_default_www(void)
{
	static char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		size_t blen = strlen(IMLAB_BUILDDIR);

		exe[n] = '\0';
		/* running from the build tree: use the source tree's www/ */
		if (!strncmp(exe, IMLAB_BUILDDIR, blen) && exe[blen] == '/')
			return IMLAB_SRCWWW;
	}
	return IMLAB_WWWDIR;
}

static void
to_http(void *cls, int fd, const struct sockaddr *sa, socklen_t salen,
	int big, const char *head, size_t hlen)
{
	struct server *s = cls;

	wire_head(s->wire, fd, head, hlen);
	http_adopt(s->http, fd, sa, salen, big);
	http_kick(s->http);
}

static void *
ticker(void *arg)
{
	struct server *s = arg;
	int64_t last_sweep = 0;

	pthread_mutex_lock(&s->tick_lock);
	while (!s->stopping) {
		struct timespec ts;
		int64_t now;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->tick_cond, &s->tick_lock, &ts);
		if (s->stopping)
			break;
		pthread_mutex_unlock(&s->tick_lock);
		now = im_mono_ms();
		http_kick(s->http);
		http_tick(s->http, now);
		tp_wait_tick(s, now);
		rooms_presence_flush(s->rs, now, 0);
		eio_beat_tick(s->eio, now);
		if (now - last_sweep >= 1000) {
			rooms_sweep(s->rs, now);
			last_sweep = now;
		}
		pthread_mutex_lock(&s->tick_lock);
	}
	pthread_mutex_unlock(&s->tick_lock);
	return NULL;
}

/* Stops the ticker thread and waits for it. */
static void
stop_ticker(struct server *s)
{
	pthread_mutex_lock(&s->tick_lock);
	s->stopping = 1;
	pthread_cond_signal(&s->tick_cond);
	pthread_mutex_unlock(&s->tick_lock);
	pthread_join(s->ticker, NULL);
}

/* Takes down what server_start() built, in reverse order (each step does
 * nothing for a part never built; ticking: the ticker runs), and frees s.
 * The WebSocket side goes before tp_wait_shutdown(): its closes may
 * publish leaves that resume HTTP waiters; HTTP stops handing upgrades
 * to it first. */
static void
teardown(struct server *s, int ticking)
{
	listener_stop(&s->lst);
	if (ticking)
		stop_ticker(s);
	http_close_upgrades(s->http);
	eio_ws_stop(&s->eio_ws);
	ws_stop(&s->ws);
	tp_wait_shutdown(s);
	netem_clock_stop(s->clock);	/* resumes the held requests */
	http_stop(&s->http);
	netem_clock_free(&s->clock);
	eio_destroy(&s->eio);
	sio_app_free(&s->sio_app);
	sio_imlab_destroy(&s->sio_state);
	tp_wait_destroy(&s->tp);
#ifdef HAVE_HIREDIS
	redis_node_stop(&s->redis);	/* its last leaves go out first */
	s->hub.post = NULL;
#endif
	wire_free(&s->wire);
	rooms_destroy(&s->rs);
	histdb_stop(&s->hdb);
	store_destroy(&s->st);
	pthread_cond_destroy(&s->tick_cond);
	pthread_mutex_destroy(&s->tick_lock);
	free(s->www);
	free(s);
}

/* --history-db: gives the rooms their history back and keeps every
 * message from now on (histdb.h); NULL with e on failure. */
static struct histdb *
start_histdb(struct server *s, struct im_error *e)
{
	const struct config *c = &s->cfg;
	struct histdb_config hc = {
		.path = c->history_db, .history = (size_t)c->history,
		.keep = (size_t)(c->history_db_keep ? c->history_db_keep :
				 c->history),
		.max_age_ms = (int64_t)c->history_db_max_age * 1000,
		.queue_max = (size_t)c->history_db_queue,
		.sync = c->history_db_sync,
	};

	s->hdb = histdb_start(&hc, s->st, s->rs, e);
	return s->hdb;
}

/* --redis: joins the shared Redis before the store exists (its ids
 * continue the shared sequence). 0, or -1 with e filled. */
static int
open_redis(struct server *s, struct im_error *e)
{
	const struct config *cfg = &s->cfg;

	if (!cfg->redis || !*cfg->redis)
		return 0;
#ifdef HAVE_HIREDIS
	struct redis_node_config rc = {
		.url = cfg->redis, .prefix = cfg->redis_prefix,
		.node_ttl_ms = cfg->redis_node_ttl, .log_max = cfg->redis_log,
		.max_data = (size_t)cfg->max_body,
	};

	s->redis = redis_node_open(&rc, e);
	return s->redis ? 0 : -1;
#else
	im_error_set(e, IM_EINVAL, "bad_option", "--redis: this imlab was "
		     "built without hiredis (install libhiredis-dev, then "
		     "./configure --with-hiredis)");
	return -1;
#endif
}

/* The store's first id: the shared sequence's with --redis (0: the
 * clock rule of a node alone). */
static uint64_t
first_id(const struct server *s)
{
#ifdef HAVE_HIREDIS
	if (s->redis)
		return redis_node_base(s->redis) + 1;
#else
	(void)s;
#endif
	return 0;
}

/* The Engine.IO layer and what it serves: the protocol suites' echo
 * (--sio-conformance 1) or imlab's rooms over Socket.IO. Returns 0 or -1
 * with e filled. */
static int
start_eio(struct server *s, struct im_error *e)
{
	const struct sio_handler *h = NULL;

	s->eio = eio_create(s);
	if (s->cfg.sio_conformance) {
		h = &sio_echo_handler;
		if (s->eio)
			eio_set_app(s->eio, EIO_KIND_ENGINEIO, &sio_echo_eio);
	} else if (s->eio) {
		s->sio_state = sio_imlab_create(s);
		h = s->sio_state ? sio_imlab_handler(s->sio_state) : NULL;
		if (!h) {
			im_error_set(e, IM_ENOMEM, "no_memory",
				     "out of memory");
			return -1;
		}
	}
	if (s->eio && h)
		s->sio_app = sio_app_create(h, s->cfg.sio_connect_timeout);
	if (!s->eio || (h && !s->sio_app)) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return -1;
	}
	if (s->sio_app)
		eio_set_app(s->eio, EIO_KIND_SOCKETIO, s->sio_app);
	return 0;
}

enum im_err
server_start(const struct config *cfg, struct server **out,
	     struct im_error *e)
{
	struct server *s = calloc(1, sizeof(*s));
	struct rooms_config rc;
	struct listener_config lc;
	const char *www;
	enum log_level lvl;

	*out = NULL;
	if (!s)
		return im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
	s->cfg = *cfg;
	if (log_level_parse(cfg->log_level, &lvl)) {
		free(s);
		return im_error_set(e, IM_EINVAL, "bad_option",
				    "--log-level must be error, warn, info "
				    "or debug");
	}
	log_set_level(lvl);
	if (cfg->redis && *cfg->redis && cfg->history_db && *cfg->history_db) {
		free(s);
		return im_error_set(e, IM_EINVAL, "bad_option",
				    "--history-db and --redis cannot be used "
				    "together (with --redis the history is "
				    "Redis's; see doc/scaling.md)");
	}
	www = cfg->www && *cfg->www ? cfg->www : server_default_www();
	s->www = realpath(www, NULL);
	if (!s->www) {
		im_error_set(e, IM_EINVAL, "bad_www",
			     "client directory %s: %s (use --www DIR)", www,
			     strerror(errno));
		free(s);
		return IM_EINVAL;
	}
	s->started_ms = im_now_ms();
	atomic_init(&s->open_conns, 0);
	pthread_mutex_init(&s->tick_lock, NULL);
	pthread_cond_init(&s->tick_cond, NULL);
	if (open_redis(s, e))
		goto fail;
	s->st = store_create((size_t)cfg->history, first_id(s));
	if (s->st)
		store_set_budget(s->st, (size_t)cfg->max_memory << 20,
				 (size_t)cfg->room_memory << 10);
	if (s->st)
		store_set_history_ms(s->st,
				     (int64_t)cfg->history_seconds * 1000);
	rc.max_rooms = (size_t)cfg->max_rooms;
	rc.presence_ttl_ms = (int64_t)cfg->presence_ttl * 1000;
	rc.room_idle_ms = (int64_t)cfg->room_idle * 1000;
	rc.presence_batch = (size_t)cfg->presence_batch;
	rc.presence_interval_ms = cfg->presence_interval;
	s->rs = s->st ? rooms_create(s->st, &rc) : NULL;
	if (!s->rs) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		goto fail;
	}
	if (cfg->history_db && *cfg->history_db && !start_histdb(s, e))
		goto fail;
	hub_init(&s->hub, s->rs, (size_t)cfg->max_body);
#ifdef HAVE_HIREDIS
	if (s->redis && redis_node_attach(s->redis, s->st, s->rs, &s->hub, e))
		goto fail;
#endif
	s->wire = wire_create(WIRE_CLIENTS);
	s->clock = netem_clock_start();
	if (!s->wire || !s->clock) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		goto fail;
	}
	s->tp = tp_wait_create(cfg->coalesce);
	if (!s->tp) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		goto fail;
	}
	if (start_eio(s, e))
		goto fail;
	s->http = http_start(s, e);
	if (!s->http)
		goto fail;
	s->ws = ws_start(s, e);
	if (!s->ws)
		goto fail;
	s->eio_ws = eio_ws_start(s, e);
	if (!s->eio_ws)
		goto fail;
	if (pthread_create(&s->ticker, NULL, ticker, s)) {
		im_error_set(e, IM_ESYS, "thread", "cannot start a thread");
		goto fail;
	}
	lc = (struct listener_config){
		.bind = cfg->bind, .port = cfg->port,
		.head_timeout_ms = cfg->head_timeout * 1000,
		.max_head = cfg->max_head, .small_head = HTTP_SMALL_HEAD,
		.max_pending = MAX_PENDING_HEADS,
		.max_connections = cfg->max_connections,
		.open_conns = &s->open_conns,
		.to_http = to_http, .cls = s,
	};
	s->lst = listener_start(&lc, e);
	if (!s->lst) {
		teardown(s, 1);
		return e ? e->err : IM_ESYS;
	}
	LOG_INFO(TAG, "listening on http://%s:%u/ (client: %s)", cfg->bind,
		 listener_port(s->lst), s->www);
	http_guard_warn(cfg);
	*out = s;
	return IM_OK;
fail:
	teardown(s, 0);
	return e ? e->err : IM_ESYS;
}

uint16_t
server_port(const struct server *s)
{
	return listener_port(s->lst);
}

void
server_stop(struct server **sp)
{
	struct server *s = *sp;

	if (!s)
		return;
	*sp = NULL;
	teardown(s, 1);
	LOG_INFO(TAG, "stopped");
}
