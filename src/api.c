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

#include <json-c/json.h>

#include "api.h"
#include "cursor.h"
#include "http_reply.h"
#include "hub.h"
#include "log.h"
#include "qs.h"
#include "server.h"

#define TAG "api"
#define HISTORY_DEFAULT 100	/* messages a history request returns */
#define HISTORY_MAX 1000	/* ... at most, with ?limit= */
#define LIST_MAX 10000		/* rooms / members one listing returns */

static struct json_object *
u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static enum MHD_Result
info(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	struct json_object *o = json_object_new_object();
	struct json_object *lim = json_object_new_object();
	struct json_object *tps = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(PACKAGE_NAME));
	json_object_object_add(o, "version",
			       json_object_new_string(PACKAGE_VERSION));
	for (int i = 0; i < VIA_API; i++)
		json_object_array_add(tps, json_object_new_string(
					  via_name((enum via)i)));
	json_object_object_add(o, "transports", tps);
	json_object_object_add(o, "started", json_object_new_int64(
				       srv->started_ms));
	json_object_object_add(o, "now", json_object_new_int64(im_now_ms()));
	json_object_object_add(o, "last_id", u64(store_last_id(srv->st)));
#define LIM(k, v) json_object_object_add(lim, k, json_object_new_int(v))
	LIM("history", srv->cfg.history);
	LIM("max_rooms", srv->cfg.max_rooms);
	LIM("rooms_per_sub", srv->cfg.rooms_per_sub);
	LIM("max_body", srv->cfg.max_body);
	LIM("ws_max_msg", srv->cfg.ws_max_msg);
	LIM("max_connections", srv->cfg.max_connections);
	LIM("max_longpolls", srv->cfg.max_longpolls);
	LIM("max_sse", srv->cfg.max_sse);
	LIM("longpoll_timeout", srv->cfg.longpoll_timeout);
	LIM("longpoll_timeout_max", 60);
	LIM("presence_ttl", srv->cfg.presence_ttl);
	LIM("sse_ping", srv->cfg.sse_ping);
#undef LIM
	json_object_object_add(o, "limits", lim);
	return http_reply_json(c, req, MHD_HTTP_OK, o);
}

static enum MHD_Result
stats(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	struct json_object *o = json_object_new_object();
	struct json_object *tps = json_object_new_object();

	json_object_object_add(o, "uptime_ms", json_object_new_int64(
				       im_now_ms() - srv->started_ms));
	json_object_object_add(o, "connections", json_object_new_int64(
				       atomic_load(&srv->open_conns)));
	json_object_object_add(o, "messages_stored",
			       u64(store_total(srv->st)));
	json_object_object_add(o, "last_id", u64(store_last_id(srv->st)));
	for (int i = 0; i < VIA__COUNT; i++) {
		struct stats_tp *t = &srv->stats.tp[i];
		struct json_object *to = json_object_new_object();

		json_object_object_add(to, "open", json_object_new_int64(
					       atomic_load(&t->open)));
		json_object_object_add(to, "requests",
				       u64(atomic_load(&t->requests)));
		json_object_object_add(to, "delivered",
				       u64(atomic_load(&t->delivered)));
		json_object_object_add(to, "empty",
				       u64(atomic_load(&t->empty)));
		json_object_object_add(to, "wakeups",
				       u64(atomic_load(&t->wakeups)));
		json_object_object_add(to, "deferred",
				       u64(atomic_load(&t->deferred)));
		json_object_object_add(to, "bytes_sent",
				       u64(atomic_load(&t->bytes_out)));
		json_object_object_add(to, "bytes_received",
				       u64(atomic_load(&t->bytes_in)));
		json_object_object_add(to, "published", u64(atomic_load(
					       &srv->hub.published[i])));
		json_object_object_add(tps, via_name((enum via)i), to);
	}
	json_object_object_add(o, "transports", tps);
	return http_reply_json(c, req, MHD_HTTP_OK, o);
}

enum MHD_Result
api_metrics(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} m[] = {
		{ "imlab_open_connections", "gauge",
		  "Connections or streams open now, per transport",
		  offsetof(struct stats_tp, open) },
		{ "imlab_requests_total", "counter",
		  "HTTP requests (WebSocket: connections), per transport",
		  offsetof(struct stats_tp, requests) },
		{ "imlab_messages_delivered_total", "counter",
		  "Messages written to subscribers, per transport",
		  offsetof(struct stats_tp, delivered) },
		{ "imlab_empty_responses_total", "counter",
		  "Poll and long-poll responses without messages",
		  offsetof(struct stats_tp, empty) },
		{ "imlab_bytes_sent_total", "counter",
		  "Body or frame bytes sent, per transport",
		  offsetof(struct stats_tp, bytes_out) },
		{ "imlab_bytes_received_total", "counter",
		  "Body or frame bytes received, per transport",
		  offsetof(struct stats_tp, bytes_in) },
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return MHD_NO;
	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m[k].name,
			m[k].help, m[k].name, m[k].type);
		for (int i = 0; i < VIA__COUNT; i++) {
			const char *p = (const char *)&srv->stats.tp[i] +
					m[k].off;
			long long v = (long long)atomic_load(
				(const atomic_llong *)(const void *)p);

			fprintf(f, "%s{transport=\"%s\"} %lld\n", m[k].name,
				via_name((enum via)i), v);
		}
	}
	fprintf(f, "# HELP imlab_messages_published_total Messages "
		"published, per transport of the sender\n"
		"# TYPE imlab_messages_published_total counter\n");
	for (int i = 0; i < VIA__COUNT; i++)
		fprintf(f, "imlab_messages_published_total{transport=\"%s\"} "
			"%llu\n", via_name((enum via)i),
			(unsigned long long)atomic_load(&srv->hub.published[i]));
	fprintf(f, "# HELP imlab_messages_stored Messages held in room "
		"histories\n# TYPE imlab_messages_stored gauge\n"
		"imlab_messages_stored %zu\n", store_total(srv->st));
	fprintf(f, "# HELP imlab_last_id Newest message id\n"
		"# TYPE imlab_last_id gauge\nimlab_last_id %" PRIu64 "\n",
		store_last_id(srv->st));
	fclose(f);
	return http_reply(c, req, MHD_HTTP_OK,
			  "text/plain; version=0.0.4; charset=utf-8", buf, len,
			  MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result
rooms_index(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	struct room_info *ri = malloc(LIST_MAX * sizeof(*ri));
	struct json_object *a;
	size_t n;

	if (!ri)
		return MHD_NO;
	n = rooms_list(srv->rs, ri, LIST_MAX);
	if (n > LIST_MAX)
		n = LIST_MAX;
	a = json_object_new_array_ext((int)n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "room",
				       json_object_new_string(ri[i].name));
		json_object_object_add(o, "members", json_object_new_int64(
					       (int64_t)ri[i].members));
		json_object_object_add(o, "subscribers", json_object_new_int64(
					       (int64_t)ri[i].subscribers));
		json_object_object_add(o, "last_id", u64(ri[i].last_id));
		json_object_array_add(a, o);
	}
	free(ri);
	return http_reply_json(c, req, MHD_HTTP_OK, a);
}

static enum MHD_Result
room_show(struct MHD_Connection *c, struct http_req *req, struct room *r)
{
	struct server *srv = req->srv;
	struct room_member_info *mi = malloc(LIST_MAX * sizeof(*mi));
	struct json_object *o, *a;
	size_t n;

	if (!mi)
		return MHD_NO;
	n = rooms_members(srv->rs, r, mi, LIST_MAX);
	o = json_object_new_object();
	json_object_object_add(o, "room", json_object_new_string(room_name(r)));
	json_object_object_add(o, "last_id",
			       u64(store_ring_last_id(srv->st, room_ring(r))));
	json_object_object_add(o, "count", json_object_new_int64((int64_t)n));
	if (n > LIST_MAX)
		n = LIST_MAX;
	a = json_object_new_array_ext((int)n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_new_object();

		json_object_object_add(m, "pid",
				       json_object_new_string(mi[i].pid));
		json_object_object_add(m, "from",
				       json_object_new_string(mi[i].from));
		json_object_object_add(m, "transport", json_object_new_string(
					       via_name(mi[i].via)));
		json_object_array_add(a, m);
	}
	free(mi);
	json_object_object_add(o, "members", a);
	return http_reply_json(c, req, MHD_HTTP_OK, o);
}

static enum MHD_Result
history(struct MHD_Connection *c, struct http_req *req, struct room *r)
{
	struct store_ring *ring = room_ring(r);
	struct im_error e;
	struct cursor cur;
	uint64_t since = 0;
	long long limit = HISTORY_DEFAULT, last = 0;
	enum MHD_Result ret;

	if (qs_u64(c, "since", &since, &e) ||
	    qs_int(c, "limit", 1, HISTORY_MAX, &limit, &e) ||
	    qs_int(c, "last", 1, HISTORY_MAX, &last, &e))
		return http_reply_im_error(c, req, &e);
	if (last) {
		/* the newest `last` messages instead of the oldest after since */
		if (qs_str(c, "since"))
			return http_reply_error(c, req, MHD_HTTP_BAD_REQUEST,
				"bad_param", "give since or last, not both");
		since = store_ring_since_last(req->srv->st, ring,
					      (size_t)last);
		limit = last;
	}
	cursor_init(&cur, req->srv->st, NULL, since);
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

	/* any Content-Type is accepted (curl -d sends a form type): the body
	 * itself must be a JSON object */
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
	if (strncmp(url, "/api/rooms/", 11))
		return http_reply_error(c, req, MHD_HTTP_NOT_FOUND,
					"not_found", "no such endpoint: %s",
					url);
	rest = url + 11;
	slash = strchr(rest, '/');
	len = slash ? (size_t)(slash - rest) : strlen(rest);
	if (len >= sizeof(name) || !len)
		return http_reply_error(c, req, MHD_HTTP_BAD_REQUEST,
			"bad_room",
			"room names are 1-64 characters of A-Z a-z 0-9 _ . -");
	memcpy(name, rest, len);
	name[len] = '\0';
	if (slash && strcmp(slash, "/messages"))
		return http_reply_error(c, req, MHD_HTTP_NOT_FOUND,
					"not_found", "no such endpoint: %s",
					url);
	if (slash && !strcmp(method, MHD_HTTP_METHOD_POST))
		return publish(c, req, name);
	if (!http_is_get(method))
		return http_not_allowed(c, req, slash ? "GET, HEAD, POST" :
				   "GET, HEAD");
	r = rooms_get(srv->rs, name, 0, &e);
	if (!r)
		return http_reply_im_error(c, req, &e);
	return slash ? history(c, req, r) : room_show(c, req, r);
}
