/* SPDX-License-Identifier: MIT */
/*
 * api: publish (POST /api/rooms/{room}/messages), room listings, history,
 * server info, statistics and metrics. Everything answers JSON; errors
 * are {"error":{"code","message"}} with the matching status.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api.h"
#include "api_admin.h"
#include "api_wire.h"
#include "cursor.h"
#include "histdb.h"
#include "http_reply.h"
#include "hub.h"
#include "names.h"
#include "qs.h"
#ifdef HAVE_HIREDIS
#include "redis_node.h"
#endif
#include "server_ctx.h"

#define HISTORY_DEFAULT 100	/* messages a history request returns */
#define HISTORY_MAX 1000	/* ... at most, with ?limit= */
#define LIST_DEFAULT 100	/* rooms / members a listing page holds */
#define LIST_MAX 1000		/* ... at most, with ?limit= */

/* Short names for the json-c calls every listing makes. */
#define put(o, k, v) json_object_object_add(o, k, v)
#define str(v) json_object_new_string(v)
#define i64(v) json_object_new_int64((int64_t)(v))
#define u64(v) json_object_new_uint64(v)

/* The per-transport counters, in /api/stats order; each is a /metrics
 * series too. */
static const struct {
	const char *key;		/* /api/stats member */
	const char *name, *type, *help;	/* /metrics */
	size_t off;
} counters[] = {
#define C(k, n, t, h, f) { k, n, t, h, offsetof(struct stats_tp, f) }
	C("open", "imlab_open_connections", "gauge",
	  "Connections or streams open now, per transport", open),
	/* requests: the wire meters' figure replaces it (api_wire.c) */
	C("requests", "imlab_requests_total", "counter",
	  "HTTP requests (WebSocket: messages received), per transport",
	  requests),
	C("delivered", "imlab_messages_delivered_total", "counter",
	  "Messages written to subscribers, per transport", delivered),
	C("empty", "imlab_empty_responses_total", "counter",
	  "Poll and long-poll responses without messages", empty),
	C("wakeups", "imlab_wakeups_total", "counter",
	  "Waiting connections woken by news, per transport", wakeups),
	C("deferred", "imlab_deferred_total", "counter",
	  "Wake-ups left to the flusher while busy (--coalesce), per "
	  "transport", deferred),
	C("body_bytes_sent", "imlab_body_bytes_sent_total", "counter",
	  "Body or frame payload bytes sent, per transport", bytes_out),
	C("body_bytes_received", "imlab_body_bytes_received_total",
	  "counter", "Body or frame payload bytes received, per transport",
	  bytes_in),
#undef C
};

/* Returns counter k of transport i. */
static long long
counter(struct server *srv, size_t k, int i)
{
	const char *p = (const char *)&srv->stats.tp[i] + counters[k].off;

	return (long long)atomic_load((const atomic_llong *)(const void *)p);
}

static enum MHD_Result
info(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	struct json_object *o = json_object_new_object();
	struct json_object *lim = json_object_new_object();
	struct json_object *tps = json_object_new_array();

	put(o, "name", str(PACKAGE_NAME));
	put(o, "version", str(PACKAGE_VERSION));
	for (int i = 0; i < VIA_API; i++)
		json_object_array_add(tps, str(via_name((enum via)i)));
	put(o, "transports", tps);
	put(o, "started", i64(srv->started_ms));
	put(o, "now", i64(im_now_ms()));
	put(o, "last_id", u64(store_last_id(srv->st)));
#define LIM(k, v) put(lim, k, json_object_new_int(v))
	LIM("history", srv->cfg.history);
	LIM("history_seconds", srv->cfg.history_seconds);
	LIM("max_rooms", srv->cfg.max_rooms);
	LIM("rooms_per_sub", srv->cfg.rooms_per_sub);
	LIM("max_body", srv->cfg.max_body);
	LIM("ws_max_msg", srv->cfg.ws_max_msg);
	LIM("max_connections", srv->cfg.max_connections);
	LIM("max_longpolls", srv->cfg.max_longpolls);
	LIM("max_sse", srv->cfg.max_sse);
	LIM("max_ws", srv->cfg.max_ws);
	LIM("longpoll_timeout", srv->cfg.longpoll_timeout);
	LIM("longpoll_timeout_max", 60);
	LIM("presence_ttl", srv->cfg.presence_ttl);
	LIM("sse_ping", srv->cfg.sse_ping);
#undef LIM
	put(o, "limits", lim);
	if (srv->cfg.admin) {	/* the race shows its chaos switches */
		struct json_object *adm = json_object_new_object();

		put(adm, "enabled", json_object_new_boolean(1));
		put(adm, "restart",
		    json_object_new_boolean(srv->cfg.admin_restart));
		put(o, "admin", adm);
	}
	return http_reply_json(c, req, MHD_HTTP_OK, o);
}

static enum MHD_Result
stats(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	struct json_object *o = json_object_new_object();
	struct json_object *tps = json_object_new_object();

	put(o, "uptime_ms", i64(im_now_ms() - srv->started_ms));
	put(o, "connections", i64(atomic_load(&srv->open_conns)));
	put(o, "messages_stored", u64(store_total(srv->st)));
	put(o, "last_id", u64(store_last_id(srv->st)));
	for (int i = 0; i < VIA__COUNT; i++) {
		struct json_object *to = json_object_new_object();

		for (size_t k = 0; k < sizeof(counters) / sizeof(*counters);
		     k++) {
			long long v = counter(srv, k, i);

			/* open (first) is a signed gauge */
			put(to, counters[k].key, k ? u64((uint64_t)v) : i64(v));
		}
		put(to, "published", u64(atomic_load(&srv->hub.published[i])));
		put(tps, via_name((enum via)i), to);
	}
	api_wire_stats(srv, tps);
	put(o, "transports", tps);
#ifdef HAVE_HIREDIS
	if (srv->redis) {
		struct json_object *ro = json_object_new_object();
		struct redis_node_stats rst;

		redis_node_stats(srv->redis, &rst);
		put(ro, "writer_up", json_object_new_boolean(rst.writer_up));
		put(ro, "reader_up", json_object_new_boolean(rst.reader_up));
		put(ro, "applied", u64(rst.applied));
		put(ro, "reconnects", u64(rst.reconnects));
		put(ro, "losses", u64(rst.losses));
		put(o, "redis", ro);
	}
#endif
	return http_reply_json(c, req, MHD_HTTP_OK, o);
}

/* Reads the process's CPU time (user + system, s) and resident set
 * (bytes) from /proc/self; 0 or -1. */
static int
proc_self(double *cpu_s, long long *rss)
{
	unsigned long long ut, st;
	long long pages = 0;
	long tck = sysconf(_SC_CLK_TCK), psz = sysconf(_SC_PAGESIZE);
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n;
	int ok;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after "pid (comm) ": state is field 3, utime 14, stime 15 */
	p = strrchr(buf, ')');
	ok = p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			 "%*u %llu %llu", &ut, &st) == 2;
	f = fopen("/proc/self/statm", "r");
	if (f) {
		ok = ok && fscanf(f, "%*d %lld", &pages) == 1;
		fclose(f);
	}
	if (!ok || tck <= 0 || psz <= 0)
		return -1;
	*cpu_s = (double)(ut + st) / (double)tck;
	*rss = pages * psz;
	return 0;
}

/* Writes one unlabelled series with its HELP and TYPE lines. */
static void
series(FILE *f, const char *name, const char *type, const char *help,
       long long v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %lld\n", name, help, name,
		type, name, v);
}

enum MHD_Result
api_metrics(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return MHD_NO;
	double cpu;
	long long rss;

	for (size_t k = 0; k < sizeof(counters) / sizeof(*counters); k++) {
		if (counters[k].off == offsetof(struct stats_tp, requests))
			continue;	/* api_wire_metrics() writes it */
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", counters[k].name,
			counters[k].help, counters[k].name, counters[k].type);
		for (int i = 0; i < VIA__COUNT; i++)
			fprintf(f, "%s{transport=\"%s\"} %lld\n",
				counters[k].name, via_name((enum via)i),
				counter(srv, k, i));
	}
	api_wire_metrics(srv, f);
	fprintf(f, "# HELP imlab_messages_published_total Messages "
		"published, per transport of the sender\n"
		"# TYPE imlab_messages_published_total counter\n");
	for (int i = 0; i < VIA__COUNT; i++)
		fprintf(f, "imlab_messages_published_total{transport=\"%s\"} "
			"%llu\n", via_name((enum via)i), (unsigned long long)
			atomic_load(&srv->hub.published[i]));
	fprintf(f, "# HELP imlab_messages_stored Messages held in room "
		"histories\n# TYPE imlab_messages_stored gauge\n"
		"imlab_messages_stored %zu\n", store_total(srv->st));
	fprintf(f, "# HELP imlab_last_id Newest message id\n"
		"# TYPE imlab_last_id gauge\nimlab_last_id %" PRIu64 "\n",
		store_last_id(srv->st));
	series(f, "imlab_connections", "gauge",
	       "Connections open now, all transports",
	       atomic_load(&srv->open_conns));
	series(f, "imlab_rooms", "gauge", "Rooms the registry holds now",
	       (long long)rooms_count(srv->rs));
	series(f, "imlab_uptime_ms", "gauge", "Milliseconds since the start",
	       im_now_ms() - srv->started_ms);
	histdb_metrics(srv->hdb, f);
	fprintf(f, "# HELP imlab_build_info The version running (always 1)\n"
		"# TYPE imlab_build_info gauge\n"
		"imlab_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
#ifdef HAVE_HIREDIS
	if (srv->redis) {
		struct redis_node_stats rst;

		redis_node_stats(srv->redis, &rst);
		fprintf(f, "# HELP imlab_redis_up 1 while the node's Redis "
			"connection (writer: publishes, reader: the shared "
			"stream) is up\n# TYPE imlab_redis_up gauge\n"
			"imlab_redis_up{side=\"writer\"} %d\n"
			"imlab_redis_up{side=\"reader\"} %d\n",
			rst.writer_up, rst.reader_up);
		series(f, "imlab_redis_reconnects_total", "counter",
		       "Redis connections lost", (long long)rst.reconnects);
		series(f, "imlab_redis_losses_total", "counter",
		       "Times Redis had lost data or trimmed past this node "
		       "(a gap)", (long long)rst.losses);
	}
#endif
	if (!proc_self(&cpu, &rss)) {
		fprintf(f, "# HELP process_cpu_seconds_total User and system "
			"CPU time of the process\n"
			"# TYPE process_cpu_seconds_total counter\n"
			"process_cpu_seconds_total %.2f\n", cpu);
		series(f, "process_resident_memory_bytes", "gauge",
		       "Resident memory of the process", rss);
	}
	fclose(f);
	return http_reply(c, req, MHD_HTTP_OK,
			  "text/plain; version=0.0.4; charset=utf-8", buf, len,
			  MHD_RESPMEM_MUST_FREE);
}

/* Reads the page parameters ?limit= (1..LIST_MAX) and ?after= (a name
 * the page starts after, exclusive) of a listing; 0 or -1 with e. */
static int
page(struct MHD_Connection *c, size_t *limit, const char **after,
     struct im_error *e)
{
	long long l = LIST_DEFAULT;

	if (qs_int(c, "limit", 1, LIST_MAX, &l, e))
		return -1;
	*limit = (size_t)l;
	return qs_text(c, "after", after, e);
}

#ifdef HAVE_HIREDIS
/* --redis: the member counts of ri[0..n) across every node; 0 or -1. */
static int
redis_members(struct redis_node *rn, struct room_info *ri, size_t n,
	      struct im_error *e)
{
	const char **names = malloc(n * sizeof(*names));
	size_t *counts = malloc(n * sizeof(*counts));
	int rc = -1;

	if (!names || !counts) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
	} else {
		for (size_t i = 0; i < n; i++)
			names[i] = ri[i].name;
		rc = redis_node_member_counts(rn, names, counts, n, e);
		for (size_t i = 0; !rc && i < n; i++)
			ri[i].members = counts[i];
	}
	free(names);
	free(counts);
	return rc;
}
#endif

static enum MHD_Result
rooms_index(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	struct room_info *ri;
	struct json_object *a;
	struct im_error e;
	const char *after;
	size_t n, limit;

	if (page(c, &limit, &after, &e))
		return http_reply_im_error(c, req, &e);
	ri = malloc(limit * sizeof(*ri));
	if (!ri)
		return MHD_NO;
	n = rooms_list_page(srv->rs, after, ri, limit);
#ifdef HAVE_HIREDIS
	if (srv->redis && n && redis_members(srv->redis, ri, n, &e)) {
		free(ri);
		return http_reply_im_error(c, req, &e);
	}
#endif
	a = json_object_new_array_ext((int)n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		put(o, "room", str(ri[i].name));
		put(o, "members", i64(ri[i].members));
		put(o, "subscribers", i64(ri[i].subscribers));
		put(o, "last_id", u64(ri[i].last_id));
		json_object_array_add(a, o);
	}
	free(ri);
	return http_reply_json(c, req, MHD_HTTP_OK, a);
}

/* GET /api/rooms/{room}: r may be NULL (a room nobody uses: empty). */
static enum MHD_Result
room_show(struct MHD_Connection *c, struct http_req *req, struct room *r,
	  const char *name)
{
	struct server *srv = req->srv;
	struct room_member_info *mi;
	struct json_object *o, *a;
	struct im_error e;
	const char *after;
	size_t n = 0, total = 0, limit;

	if (page(c, &limit, &after, &e))
		return http_reply_im_error(c, req, &e);
	mi = malloc(limit * sizeof(*mi));
	if (!mi)
		return MHD_NO;
#ifdef HAVE_HIREDIS
	if (srv->redis) {
		/* every node's members, from the shared Redis */
		long t = redis_node_members(srv->redis, name, after, mi,
					    limit, &n, &e);

		if (t < 0) {
			free(mi);
			return http_reply_im_error(c, req, &e);
		}
		total = (size_t)t;
	} else
#endif
	if (r)
		total = rooms_members_page(srv->rs, r, after, mi, limit,
					   &n);
	o = json_object_new_object();
	put(o, "room", str(name));
	put(o, "last_id", u64(r ? store_ring_last_id(srv->st, room_ring(r)) :
			      0));
	/* the member count; "count" is its older name, kept */
	put(o, "member_count", i64(total));
	put(o, "count", i64(total));
	a = json_object_new_array_ext((int)n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_new_object();

		put(m, "pid", str(mi[i].pid));
		put(m, "from", str(mi[i].from));
		put(m, "transport", str(via_name(mi[i].via)));
		json_object_array_add(a, m);
	}
	free(mi);
	put(o, "members", a);
	return http_reply_json(c, req, MHD_HTTP_OK, o);
}

/* GET /api/rooms/{room}/messages: r may be NULL (a room nobody uses:
 * nothing to read; a cursor older than a reclaimed room's history is
 * told of the gap). Anonymous, or with ?cid= as that client (its direct
 * and to-self messages too; no presence). */
static enum MHD_Result
history(struct MHD_Connection *c, struct http_req *req, struct room *r)
{
	struct store_ring *ring = r ? room_ring(r) : NULL;
	const char *cid = qs_str(c, "cid");
	struct im_error e;
	struct cursor cur;
	uint64_t since = 0;
	long long limit = HISTORY_DEFAULT, last = 0;
	enum MHD_Result ret;
	char *body;
	size_t len;

	if (cid && !*cid)
		cid = NULL;
	if (qs_u64(c, "since", &since, &e) ||
	    qs_int(c, "limit", 1, HISTORY_MAX, &limit, &e) ||
	    qs_int(c, "last", 1, HISTORY_MAX, &last, &e) ||
	    (cid && names_check(NAME_CID, cid, strlen(cid), &e)))
		return http_reply_im_error(c, req, &e);
	if (last) {
		/* the newest `last` messages, not the oldest after since */
		if (qs_str(c, "since"))
			return http_reply_error(c, req, MHD_HTTP_BAD_REQUEST,
				"bad_param", "give since or last, not both");
		since = ring ? store_ring_since_last(req->srv->st, ring,
						     (size_t)last) : 0;
		limit = last;
	}
	if (!ring) {
		cursor_init(&cur, req->srv->st, NULL, since);
		body = msg_batch_json(NULL, 0, cursor_pos(&cur), since &&
				      since < rooms_floor(req->srv->rs), &len);
		return body ? http_reply(c, req, MHD_HTTP_OK,
					 "application/json", body, len,
					 MHD_RESPMEM_MUST_FREE) : MHD_NO;
	}
	cursor_init(&cur, req->srv->st, cid, since);
	ret = cursor_add_rings(&cur, &ring, 1) ? MHD_NO :
	      http_reply_batch(c, req, &cur, (size_t)limit);
	cursor_free(&cur);
	return ret;
}

static enum MHD_Result
publish(struct MHD_Connection *c, struct http_req *req, const char *room)
{
	struct server *srv = req->srv;
	struct hub_ack ack;
	struct im_error e;
	char body[64];
	int n;

	/* http_guard.c has refused bodies not declared application/json;
	 * the body itself must be a JSON object */
	if (!req->body_len)
		return http_reply_error(c, req, MHD_HTTP_BAD_REQUEST,
					"bad_json", "the body is empty");
	if (hub_publish_json(&srv->hub, room, req->body, req->body_len, &ack,
			     &e) != IM_OK)
		return http_reply_im_error(c, req, &e);
	n = snprintf(body, sizeof(body), "{\"id\":%" PRIu64 ",\"ts\":%" PRId64
		     "}", ack.id, ack.ts);
	return http_reply(c, req, MHD_HTTP_CREATED, "application/json", body,
			  (size_t)n, MHD_RESPMEM_MUST_COPY);
}

enum MHD_Result
api_handle(struct MHD_Connection *c, struct http_req *req)
{
	const char *url = req->url, *method = req->method;
	struct server *srv = req->srv;
	char name[MSG_ROOM_MAX + 2];
	const char *rest, *slash;
	enum MHD_Result ret;
	struct im_error e;
	struct room *r;
	size_t len;

	if (!strcmp(url, "/api/info"))
		return http_is_get(method) ? info(c, req) :
		       http_not_allowed(c, req, "GET, HEAD");
	if (!strcmp(url, "/api/stats"))
		return http_is_get(method) ? stats(c, req) :
		       http_not_allowed(c, req, "GET, HEAD");
	if (!strcmp(url, "/api/rooms") || !strcmp(url, "/api/rooms/"))
		return http_is_get(method) ? rooms_index(c, req) :
		       http_not_allowed(c, req, "GET, HEAD");
	if (!strncmp(url, "/api/admin/", 11))
		return api_admin(c, req);
	if (!strncmp(url, "/api/clients/", 13))
		return api_wire_clients(c, req);
	if (strncmp(url, "/api/rooms/", 11))
		goto not_found;
	rest = url + 11;
	slash = strchr(rest, '/');
	len = slash ? (size_t)(slash - rest) : strlen(rest);
	if (len >= sizeof(name) || !len) {
		names_check(NAME_ROOM, rest, len, &e);	/* fails: its words */
		return http_reply_im_error(c, req, &e);
	}
	memcpy(name, rest, len);
	name[len] = '\0';
	if (slash && strcmp(slash, "/messages"))
		goto not_found;
	if (slash && !strcmp(method, MHD_HTTP_METHOD_POST))
		return publish(c, req, name);
	if (!http_is_get(method))
		return http_not_allowed(c, req, slash ? "GET, HEAD, POST" :
				   "GET, HEAD");
	/* a room nobody uses reads as empty, and is not created */
	r = rooms_get(srv->rs, name, 0, &e);
	if (!r && e.err != IM_ENOTFOUND)
		return http_reply_im_error(c, req, &e);
	ret = slash ? history(c, req, r) : room_show(c, req, r, name);
	rooms_release(srv->rs, &r);
	return ret;
not_found:
	return http_reply_error(c, req, MHD_HTTP_NOT_FOUND, "not_found",
				"no such endpoint: %s", url);
}
