/* SPDX-License-Identifier: MIT */
/*
 * api_admin: the chaos switches (see api_admin.h).
 *   POST /api/admin/cut {"cid":C,"transport":T}: shuts down C's open
 *     connections of transport T (absent: all); their owners see the end
 *     and close them (wire_cut()).
 *   POST /api/admin/stall {"seconds":N} (1..ADMIN_STALL_MAX): for N s
 *     every cursor reads nothing and /poll, /longpoll and /sse requests
 *     are held (netem_stall()); then every reader is woken.
 *   POST /api/admin/restart: 202, then (after ADMIN_RESTART_MS, so the
 *     answer goes out) SIGHUP to the process: main.c stops the server
 *     and re-executes it with the same arguments (--admin-restart).
 */
#include "autoconf.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <json-c/json.h>

#include "api_admin.h"
#include "names.h"
#include "netem.h"
#include "room.h"
#include "server_ctx.h"
#include "wire.h"

#define ADMIN_STALL_MAX 10	/* s */
#define ADMIN_RESTART_MS 200

/* Returns 1 if c's peer is a loopback address. */
static int
loopback(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)
			      ->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
			&((const struct sockaddr_in6 *)(const void *)sa)
			->sin6_addr);
	return 0;
}

static void
wake_all(void *key)
{
	struct server *srv = key;

	rooms_wake_all(srv->rs);
}

static void
restart_now(void *key)
{
	(void)key;
	kill(getpid(), SIGHUP);
}

static enum MHD_Result
cut(struct MHD_Connection *c, struct http_req *req, struct json_object *o)
{
	struct json_object *jc = NULL, *jt = NULL, *r;
	const char *cid, *tp;
	struct im_error e;
	int via = -1;

	json_object_object_get_ex(o, "cid", &jc);
	json_object_object_get_ex(o, "transport", &jt);
	if (!json_object_is_type(jc, json_type_string) ||
	    (jt && !json_object_is_type(jt, json_type_string)))
		return http_reply_error(c, req, MHD_HTTP_BAD_REQUEST,
					"bad_request", "cut needs \"cid\" (a "
					"string) and may name a \"transport\"");
	cid = json_object_get_string(jc);
	if (names_check(NAME_CID, cid, strlen(cid), &e))
		return http_reply_im_error(c, req, &e);
	if (jt) {
		tp = json_object_get_string(jt);
		for (int i = 0; i < VIA_API; i++)
			if (!strcmp(tp, via_name((enum via)i)))
				via = i;
		if (via < 0)
			return http_reply_error(c, req, MHD_HTTP_BAD_REQUEST,
						"bad_request", "transport is "
						"poll, longpoll, sse or ws");
	}
	r = json_object_new_object();
	json_object_object_add(r, "cut", json_object_new_uint64(
		wire_cut(req->srv->wire, cid, via)));
	return http_reply_json(c, req, MHD_HTTP_OK, r);
}

static enum MHD_Result
stall(struct MHD_Connection *c, struct http_req *req, struct json_object *o)
{
	struct json_object *js = NULL, *r;
	int64_t n, until;

	json_object_object_get_ex(o, "seconds", &js);
	n = json_object_is_type(js, json_type_int) ?
	    json_object_get_int64(js) : 0;
	if (n < 1 || n > ADMIN_STALL_MAX)
		return http_reply_error(c, req, MHD_HTTP_BAD_REQUEST,
					"bad_request", "stall needs "
					"\"seconds\", a whole number from 1 "
					"to %d", ADMIN_STALL_MAX);
	until = im_now_ms() + n * 1000;
	netem_stall(until);
	netem_at(req->srv->clock, until, wake_all, req->srv);
	r = json_object_new_object();
	json_object_object_add(r, "seconds", json_object_new_int64(n));
	json_object_object_add(r, "until", json_object_new_int64(until));
	return http_reply_json(c, req, MHD_HTTP_OK, r);
}

enum MHD_Result
api_admin(struct MHD_Connection *c, struct http_req *req)
{
	const char *act = req->url + strlen("/api/admin/");
	struct server *srv = req->srv;
	struct json_object *o, *r;
	enum MHD_Result ret;

	if (!srv->cfg.admin)
		return http_reply_error(c, req, MHD_HTTP_FORBIDDEN,
					"admin_disabled", "the admin switches "
					"are off: start the server with "
					"--admin 1");
	if (!srv->cfg.admin_remote && !loopback(c))
		return http_reply_error(c, req, MHD_HTTP_FORBIDDEN,
					"admin_remote", "the admin switches "
					"answer loopback clients only "
					"(--admin-remote 1 allows others)");
	if (strcmp(act, "cut") && strcmp(act, "stall") &&
	    strcmp(act, "restart"))
		return http_reply_error(c, req, MHD_HTTP_NOT_FOUND,
					"not_found", "no such switch: %.100s",
					act);
	if (strcmp(req->method, MHD_HTTP_METHOD_POST))
		return http_not_allowed(c, req, "POST");
	if (!strcmp(act, "restart")) {
		if (!srv->cfg.admin_restart)
			return http_reply_error(c, req, MHD_HTTP_FORBIDDEN,
						"admin_disabled", "restart is "
						"off: start the server with "
						"--admin-restart 1");
		netem_at(srv->clock, im_now_ms() + ADMIN_RESTART_MS,
			 restart_now, srv);
		r = json_object_new_object();
		json_object_object_add(r, "restarting",
				       json_object_new_boolean(1));
		return http_reply_json(c, req, MHD_HTTP_ACCEPTED, r);
	}
	o = req->body ? json_tokener_parse(req->body) : NULL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return http_reply_error(c, req, MHD_HTTP_BAD_REQUEST,
					"bad_request", "the body must be a "
					"JSON object");
	}
	ret = !strcmp(act, "cut") ? cut(c, req, o) : stall(c, req, o);
	json_object_put(o);
	return ret;
}
