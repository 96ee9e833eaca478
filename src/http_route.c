/* SPDX-License-Identifier: MIT */
/*
 * http_route: the route table routes[] and the dispatch of a request to
 * its row (see http_route.h). Adding a transport is one row here.
 */
#include "autoconf.h"

#include <string.h>

#include "api.h"
#include "eio_poll.h"
#include "http_route.h"
#include "netem_http.h"
#include "server_ctx.h"
#include "static.h"
#include "tp.h"

static enum MHD_Result
healthz(struct MHD_Connection *c, struct http_req *req)
{
	return http_reply(c, req, MHD_HTTP_OK, "text/plain; charset=utf-8",
			  "ok\n", 3, MHD_RESPMEM_PERSISTENT);
}

/* GET /ws that is not an upgrade (those never reach a route). */
static enum MHD_Result
ws_plain(struct MHD_Connection *c, struct http_req *req)
{
	return http_reply_error_with(c, req, 426, "upgrade_required",
				     "/ws is the WebSocket endpoint: send "
				     "Upgrade: websocket and Connection: "
				     "Upgrade", MHD_HTTP_HEADER_UPGRADE,
				     "websocket");
}

static const struct http_route routes[] = {
	{ "/healthz", 0, VIA_API, "GET, HEAD", healthz },
	{ "/ws", 0, VIA_WS, NULL, ws_plain },
	{ "/metrics", 0, VIA_API, "GET, HEAD", api_metrics },
	{ "/api", 1, VIA_API, NULL, api_handle },
	{ "/poll", 0, VIA_POLL, "GET", tp_poll_handle },
	{ "/longpoll", 0, VIA_LONGPOLL, "GET", tp_longpoll_handle },
	{ "/sse", 0, VIA_SSE, "GET", tp_sse_handle },
	{ "/socket.io", 1, VIA_SIO, NULL, eio_poll_handle },
	{ "/engine.io", 1, VIA_SIO, NULL, eio_poll_handle },
	{ NULL, 0, VIA_API, "GET, HEAD", static_serve },	/* the rest */
};

const struct http_route *
http_route_of(const char *url)
{
	const struct http_route *rt;

	for (rt = routes; rt->path; rt++) {
		size_t n = strlen(rt->path);

		if (!strncmp(url, rt->path, n) &&
		    (!url[n] || (rt->prefix && url[n] == '/')))
			break;
	}
	return rt;
}

static enum MHD_Result
preflight(struct MHD_Connection *c, struct http_req *req)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Access-Control-Allow-Methods",
				"GET, POST, OPTIONS");
	MHD_add_response_header(r, "Access-Control-Allow-Headers",
				"Content-Type, Last-Event-ID");
	MHD_add_response_header(r, "Access-Control-Max-Age", "600");
	return http_queue(c, req, MHD_HTTP_NO_CONTENT, r, 0);
}

enum MHD_Result
http_route_dispatch(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;

	if (!strcmp(req->method, MHD_HTTP_METHOD_OPTIONS) &&
	    srv->cfg.allow_origin && *srv->cfg.allow_origin)
		return preflight(c, req);
	if (req->route->allow && !http_is_get(req->method))
		return http_not_allowed(c, req, req->route->allow);
	if (req->via <= VIA_SSE && netem_http_hold(c, req, http_route_dispatch))
		return MHD_YES;		/* ?delay=: netem_http.h */
	return req->route->handle(c, req);
}
