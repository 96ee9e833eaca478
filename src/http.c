/* SPDX-License-Identifier: MIT */
/*
 * http: the libmicrohttpd daemon and its access handler. The daemon has no
 * listening socket (MHD_USE_NO_LISTEN_SOCKET): the listener thread passes
 * it connections with MHD_add_connection(). One epoll thread serves every
 * HTTP connection; long polls and SSE streams wait suspended.
 *
 * Responses are queued on the second call of the access handler (the
 * first call only creates struct http_req): libmicrohttpd 0.9.75 sends
 * "Connection: close" for a response queued on the first call.
 *
 * libmicrohttpd 0.9.75's epoll loop calls epoll_wait() again, with its
 * full timeout, whenever one call returned a full batch of 128 events; the
 * connections it already took (including ones handed over with
 * MHD_add_connection) then wait until some later event, which can be
 * seconds away. An eventfd of ours sits in its epoll set (with a NULL
 * pointer, which the loop ignores) and http_kick() writes it: the ticker
 * does so every tick, the listener after each hand-off, which bounds such
 * a stall to one tick.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "api.h"
#include "http.h"
#include "log.h"
#include "server.h"
#include "static.h"
#include "tp.h"

#define TAG "http"

struct http {
	struct server *srv;
	struct MHD_Daemon *d;
	int kickfd;	/* eventfd in the daemon's epoll set, see http_kick */
};

enum route {
	R_STATIC,
	R_HEALTHZ,
	R_METRICS,
	R_API,
	R_POLL,
	R_LONGPOLL,
	R_SSE,
};

struct MHD_Daemon *
http_daemon(struct http *h)
{
	return h->d;
}

void
http_add_cors(struct server *srv, struct MHD_Response *r)
{
	if (!srv->cfg.cors_origin || !*srv->cfg.cors_origin)
		return;
	MHD_add_response_header(r, "Access-Control-Allow-Origin",
				srv->cfg.cors_origin);
	MHD_add_response_header(r, "Vary", "Origin");
	MHD_add_response_header(r, "Access-Control-Expose-Headers",
				"Retry-After");
}

enum MHD_Result
http_queue(struct MHD_Connection *c, struct http_req *req, unsigned status,
	   struct MHD_Response *r, size_t body_len)
{
	enum MHD_Result ret;

	http_add_cors(req->srv, r);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	STATS_ADD(&req->srv->stats, req->via, bytes_out, body_len);
	return ret;
}

enum MHD_Result
http_reply(struct MHD_Connection *c, struct http_req *req, unsigned status,
	   const char *ctype, const char *body, size_t len,
	   enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
					    mode);
	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free((void *)(uintptr_t)body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	return http_queue(c, req, status, r, len);
}

enum MHD_Result
http_reply_error(struct MHD_Connection *c, struct http_req *req,
		 unsigned status, const char *code, const char *fmt, ...)
{
	struct json_object *o, *err;
	char msg[256];
	const char *s;
	size_t len;
	enum MHD_Result ret;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_object_new_object();
	err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", err);
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE,
					      &len);
	ret = http_reply(c, req, status, "application/json", s, len,
			 MHD_RESPMEM_MUST_COPY);
	json_object_put(o);
	return ret;
}

enum MHD_Result
http_reply_im_error(struct MHD_Connection *c, struct http_req *req,
		    const struct im_error *e)
{
	return http_reply_error(c, req, im_err_http_status(e->err),
				e->code ? e->code : "error", "%s",
				e->message);
}

static enum route
route_of(const char *url, enum via *via)
{
	*via = VIA_API;
	if (!strcmp(url, "/healthz"))
		return R_HEALTHZ;
	if (!strcmp(url, "/metrics"))
		return R_METRICS;
	if (!strncmp(url, "/api/", 5) || !strcmp(url, "/api"))
		return R_API;
	if (!strcmp(url, "/poll")) {
		*via = VIA_POLL;
		return R_POLL;
	}
	if (!strcmp(url, "/longpoll")) {
		*via = VIA_LONGPOLL;
		return R_LONGPOLL;
	}
	if (!strcmp(url, "/sse")) {
		*via = VIA_SSE;
		return R_SSE;
	}
	return R_STATIC;
}

static enum MHD_Result
method_not_allowed(struct MHD_Connection *c, struct http_req *req,
		   const char *allow)
{
	struct MHD_Response *r;
	char body[160];
	int n = snprintf(body, sizeof(body),
			 "{\"error\":{\"code\":\"bad_method\",\"message\":"
			 "\"method not allowed; use %s\"}}", allow);

	r = MHD_create_response_from_buffer((size_t)n, body,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	return http_queue(c, req, MHD_HTTP_METHOD_NOT_ALLOWED, r, (size_t)n);
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

static int
is_get(const char *method)
{
	return !strcmp(method, MHD_HTTP_METHOD_GET) ||
	       !strcmp(method, MHD_HTTP_METHOD_HEAD);
}

static enum MHD_Result
dispatch(struct MHD_Connection *c, struct http_req *req, const char *url,
	 const char *method)
{
	struct server *srv = req->srv;

	if (!strcmp(method, MHD_HTTP_METHOD_OPTIONS) &&
	    srv->cfg.cors_origin && *srv->cfg.cors_origin)
		return preflight(c, req);
	switch ((enum route)req->route) {
	case R_HEALTHZ:
		if (!is_get(method))
			return method_not_allowed(c, req, "GET, HEAD");
		return http_reply(c, req, MHD_HTTP_OK,
				  "text/plain; charset=utf-8", "ok\n", 3,
				  MHD_RESPMEM_PERSISTENT);
	case R_METRICS:
		if (!is_get(method))
			return method_not_allowed(c, req, "GET, HEAD");
		return api_metrics(c, req);
	case R_API:
		return api_handle(c, req, url, method);
	case R_POLL:
	case R_LONGPOLL:
	case R_SSE:
		if (!is_get(method))
			return method_not_allowed(c, req, "GET");
		if (req->route == R_POLL)
			return tp_poll_handle(c, req);
		if (req->route == R_LONGPOLL)
			return tp_longpoll_handle(c, req);
		return tp_sse_handle(c, req);
	case R_STATIC:
		if (!is_get(method))
			return method_not_allowed(c, req, "GET, HEAD");
		return static_serve(c, req, url);
	}
	return MHD_NO;
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url,
	  const char *method, const char *version, const char *upload_data,
	  size_t *upload_data_size, void **con_cls)
{
	struct http *h = cls;
	struct http_req *req = *con_cls;

	(void)version;
	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		req->srv = h->srv;
		req->route = route_of(url, &req->via);
		*con_cls = req;
		STATS_ADD(&h->srv->stats, req->via, requests, 1);
		return MHD_YES;
	}
	if (req->tp && (req->route == R_LONGPOLL || req->route == R_SSE))
		return tp_resumed(c, req);	/* resumed after a suspend */
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		size_t max = (size_t)h->srv->cfg.max_body;

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
	return dispatch(c, req, url, method);
}

static void
completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct http_req *req = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!req)
		return;
	if (req->done)
		req->done(req);
	free(req->body);
	free(req);
	*con_cls = NULL;
}

static void
connection_cb(void *cls, struct MHD_Connection *c, void **socket_context,
	      enum MHD_ConnectionNotificationCode toe)
{
	struct http *h = cls;

	(void)c;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct http_conn));
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		free(*socket_context);
		*socket_context = NULL;
		atomic_fetch_sub(&h->srv->open_conns, 1);
	}
}

struct http_conn *
http_conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

struct http *
http_start(struct server *srv, struct im_error *e)
{
	struct http *h = calloc(1, sizeof(*h));
	const union MHD_DaemonInfo *info;

	if (!h) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	h->srv = srv;
	h->d = MHD_start_daemon(
		MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL_INTERNAL_THREAD |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG,
		0, NULL, NULL, access_cb, h,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)srv->cfg.max_connections,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)srv->cfg.conn_memory,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)srv->cfg.idle_timeout,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, h,
		MHD_OPTION_NOTIFY_CONNECTION, connection_cb, h,
		MHD_OPTION_END);
	if (!h->d) {
		free(h);
		im_error_set(e, IM_ESYS, "mhd", "libmicrohttpd did not start");
		return NULL;
	}
	h->kickfd = -1;
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (info && info->epoll_fd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
					  .data.ptr = NULL };

		h->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (h->kickfd >= 0 &&
		    epoll_ctl(info->epoll_fd, EPOLL_CTL_ADD, h->kickfd, &ev)) {
			close(h->kickfd);
			h->kickfd = -1;
		}
	}
	if (h->kickfd < 0)
		LOG_WARN(TAG, "no kick eventfd: new connections may wait for "
			 "the next event after a busy loop");
	return h;
}

void
http_kick(struct http *h)
{
	uint64_t one = 1;

	if (h && h->kickfd >= 0 && write(h->kickfd, &one, sizeof(one)) < 0) {
		/* the counter is full: the event is pending anyway */
	}
}

void
http_adopt(struct http *h, int fd, const struct sockaddr *sa,
	   socklen_t salen)
{
	/* MHD closes fd itself when it cannot take it */
	if (MHD_add_connection(h->d, fd, sa, salen) != MHD_YES) {
		atomic_fetch_sub(&h->srv->open_conns, 1);
		LOG_WARN(TAG, "connection refused by libmicrohttpd: %s",
			 strerror(errno));
	}
}

void
http_stop(struct http **hp)
{
	struct http *h = *hp;

	if (!h)
		return;
	*hp = NULL;
	MHD_stop_daemon(h->d);
	if (h->kickfd >= 0)
		close(h->kickfd);
	free(h);
}
