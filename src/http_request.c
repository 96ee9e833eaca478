/* SPDX-License-Identifier: MIT */
/*
 * http_request: a connection's and its requests' life on their daemon's
 * thread, libmicrohttpd's callbacks: the connection started (registered
 * with http_keep.c, which closes a keep-alive connection whose next head
 * does not come whole in time) and closed, the request line in, the
 * access handler (the first checks, the body, the resume, the dispatch to
 * http_route.c) and the request completed.
 *
 * A request is a WebSocket upgrade when it is a GET with Upgrade:
 * websocket and Connection: upgrade, on any request of a keep-alive
 * connection: http_upgrade.c hands it to ws.c (libwebsockets answers the
 * handshake) and the access handler returns MHD_NO.
 *
 * Before any handler runs, a request the pool could not answer (a head
 * within 1 KiB of the pool) gets a JSON 431, so nothing is stored and left
 * unanswered; two Content-Length headers or one with Transfer-Encoding a
 * 400 (the listener checks the first request of a connection, this the
 * later ones); any Transfer-Encoding a JSON 411 (libmicrohttpd's chunked
 * decoder would answer bad chunks with HTML); a body that takes longer
 * than --body-timeout ends the connection.
 *
 * Responses are queued on the second call of the access handler (the
 * first call only creates struct http_req): libmicrohttpd 0.9.75 sends
 * "Connection: close" for a response queued on the first call.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "http_guard.h"
#include "http_keep.h"
#include "http_private.h"
#include "http_reply.h"
#include "http_route.h"
#include "http_upgrade.h"
#include "log.h"
#include "netem_http.h"
#include "server_ctx.h"
#include "wire_http.h"

#define TAG "http"
#define POOL_SPARE 1024	/* pool bytes an answer needs after the head */

/* A connection's socket context: http_conn_of() sees its first member. */
struct conn_ctx {
	struct http_conn hc;
	struct http_keep_conn kc;
	int handed;		/* given to the WebSocket side, or failed:
				 * never armed again */
};

static struct conn_ctx *
ctx_of(struct MHD_Connection *c)
{
	return (struct conn_ctx *)http_conn_of(c);
}

/* Sets c's head deadline sec seconds from now (0: none). */
static void
arm(struct MHD_Connection *c, int sec)
{
	struct conn_ctx *cx = ctx_of(c);

	if (cx && !cx->handed)
		http_keep_arm(&cx->kc, sec ? im_mono_ms() + sec * 1000LL : 0);
}

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

struct framing {
	int cl, te;
};

static enum MHD_Result
count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
	      const char *value)
{
	struct framing *f = cls;

	(void)kind;
	(void)value;
	if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
		f->cl++;
	else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		f->te++;
	return MHD_YES;
}

/* The first call of a request: its head is parsed, nothing read of its
 * body, nothing answered. Returns MHD_YES to go on, else what to return
 * (an error answer queued, or MHD_NO after a WebSocket hand-off). */
static int
first_checks(struct http_daemon *hd, struct MHD_Connection *c,
	     struct http_req *req, enum MHD_Result *ret)
{
	const union MHD_ConnectionInfo *ci;
	struct framing f = { 0, 0 };
	const char *u = header(c, MHD_HTTP_HEADER_UPGRADE);
	const char *conn = header(c, MHD_HTTP_HEADER_CONNECTION);
	const char *cl;

	*ret = MHD_YES;
	ci = MHD_get_connection_info(c,
				     MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci && ci->header_size + POOL_SPARE > hd->pool) {
		/* the answer would not fit the pool: libmicrohttpd would
		 * close without one after the handler ran */
		*ret = http_reply_error(c, req, 431, "head_too_large",
					"the request head (%zu bytes) is too "
					"large for this connection; open a "
					"new one", ci->header_size);
		return 1;
	}
	if (!hd->big && ((ci && ci->header_size > HTTP_SMALL_HEAD)
				    || header(c, MHD_HTTP_HEADER_COOKIE)))
		req->close = 1;	/* its next head may not fit: route it anew */
	MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
	if (f.cl > 1 || f.te > 1 || (f.cl && f.te)) {
		*ret = http_reply_error(c, req, MHD_HTTP_BAD_REQUEST,
					"bad_request", "one Content-Length or "
					"one Transfer-Encoding at most, not "
					"both");
		return 1;
	}
	cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl && strtoull(cl, NULL, 10) > (unsigned long long)
	    hd->h->srv->cfg.max_body) {
		/* at once: never read a body only to refuse it */
		*ret = http_reply_error(c, req, MHD_HTTP_CONTENT_TOO_LARGE,
					"too_large", "the body is over the %d "
					"byte limit", hd->h->srv->cfg.max_body);
		return 1;
	}
	if (f.te) {
		/* libmicrohttpd's chunked decoder answers its own HTML
		 * errors; no body here needs one (RFC 9112 section 6.3) */
		*ret = http_reply_error(c, req, MHD_HTTP_LENGTH_REQUIRED,
					"length_required",
					"send the body with Content-Length; "
					"chunked request bodies are not "
					"accepted");
		return 1;
	}
	if (http_guard_check(c, req, ret))
		return 1;	/* Host, Origin, Content-Type: http_guard.h */
	if (!strcmp(req->method, MHD_HTTP_METHOD_GET) &&
	    http_has_token(u, "websocket") &&
	    http_has_token(conn, "upgrade")) {
		*ret = http_upgrade(hd->h, c, req);
		return 1;
	}
	return 0;
}

enum MHD_Result
http_request_access(void *cls, struct MHD_Connection *c, const char *url,
	  const char *method, const char *version, const char *upload_data,
	  size_t *upload_data_size, void **con_cls)
{
	struct http_daemon *hd = cls;
	struct http *h = hd->h;
	struct http_req *req = *con_cls;

	if (!req) {
		enum MHD_Result ret;

		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		req->srv = h->srv;
		req->route = http_route_of(url);
		req->via = req->route->via;
		req->url = url;
		req->method = method;
		req->t0 = im_mono_ms();
		*con_cls = req;
		arm(c, 0);	/* the head is whole */
		wire_http_begin(c, req, version);
		if (first_checks(hd, c, req, &ret) && ret == MHD_NO) {
			struct conn_ctx *cx = ctx_of(c);

			if (cx)
				cx->handed = 1;
			return ret;	/* a WebSocket now, or failed */
		}
		STATS_ADD(&h->srv->stats, req->via, requests, 1);
		return ret;
	}
	req->url = url;
	req->method = method;
	if (req->resume)
		return req->resume(c, req);	/* resumed after a suspend */
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		size_t max = (size_t)h->srv->cfg.max_body;

		if (im_mono_ms() - req->t0 >
		    (int64_t)h->srv->cfg.body_timeout * 1000) {
			LOG_INFO(TAG, "%s %s: body not complete within "
				 "--body-timeout %d s; closing", method, url,
				 h->srv->cfg.body_timeout);
			return MHD_NO;
		}
		STATS_ADD(&h->srv->stats, req->via, bytes_in, n);
		*upload_data_size = 0;
		if (req->too_big || req->body_len + n > max) {
			req->too_big = 1;
			free(req->body);
			req->body = NULL;
			return MHD_YES;
		}
		char *nb = realloc(req->body, req->body_len + n + 1);

		if (!nb)
			return MHD_NO;
		memcpy(nb + req->body_len, upload_data, n);
		req->body = nb;
		req->body_len += n;
		req->body[req->body_len] = '\0';
		return MHD_YES;
	}
	if (req->too_big)
		return http_reply_error(c, req, MHD_HTTP_CONTENT_TOO_LARGE,
					"too_large",
					"the body is over the %d byte limit",
					h->srv->cfg.max_body);
	return http_route_dispatch(c, req);
}

void
http_request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct http_daemon *hd = cls;
	struct http_req *req = *con_cls;

	/* answered: the next request line is due within --idle-timeout */
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		arm(c, hd->h->srv->cfg.idle_timeout);
	if (!req)
		return;
	wire_http_end(c, req);
	netem_http_end(req);
	if (req->done)
		req->done(req);
	free(req->body);
	free(req);
	*con_cls = NULL;
}

void
http_request_connection(void *cls, struct MHD_Connection *c,
			void **socket_context,
			enum MHD_ConnectionNotificationCode toe)
{
	struct http_daemon *hd = cls;
	struct http *h = hd->h;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn_ctx *cx = calloc(1, sizeof(*cx));

		ci = MHD_get_connection_info(c,
			MHD_CONNECTION_INFO_CONNECTION_FD);
		if (cx && ci)
			http_keep_add(h->keep, &cx->kc, ci->connect_fd);
		*socket_context = cx;
		wire_http_open(h->srv, c, cx ? &cx->hc : NULL);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct conn_ctx *cx = *socket_context;
		uint32_t a;

		if (cx) {
			http_keep_del(h->keep, &cx->kc); /* before close */
			wire_http_close(&cx->hc);
		}
		free(cx);
		*socket_context = NULL;
		ci = MHD_get_connection_info(c,
			MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		a = ci ? http_addr_counted(h, ci->client_addr) : 0;
		if (a)
			http_addr_add(h, a, -1);
		atomic_fetch_sub(&h->srv->open_conns, 1);
	}
}

void *
http_request_uri_log(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct http_daemon *hd = cls;

	(void)uri;
	arm(c, hd->h->srv->cfg.head_timeout);
	return NULL;
}
