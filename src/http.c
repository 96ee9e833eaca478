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
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "api.h"
#include "http.h"
#include "http_reply.h"
#include "log.h"
#include "server.h"
#include "static.h"
#include "tp.h"

#define TAG "http"

struct http {
	struct server *srv;
	struct MHD_Daemon *d;
	int kickfd;	/* eventfd in the daemon's epoll set: http_kick */
};

typedef enum MHD_Result (*handler_fn)(struct MHD_Connection *c,
				      struct http_req *req);

/* One row per URL: a request goes to the first row whose path is its
 * url (or, with prefix, its url's first segments); the rest are files. */
struct http_route {
	const char *path;
	int prefix;		/* also matches path + "/..." */
	enum via via;		/* which counters the request feeds */
	const char *allow;	/* GET/HEAD only, 405 with this Allow; NULL:
				 * the handler checks the method itself */
	handler_fn handle;
};

static enum MHD_Result
healthz(struct MHD_Connection *c, struct http_req *req)
{
	return http_reply(c, req, MHD_HTTP_OK, "text/plain; charset=utf-8",
			  "ok\n", 3, MHD_RESPMEM_PERSISTENT);
}

static const struct http_route routes[] = {
	{ "/healthz", 0, VIA_API, "GET, HEAD", healthz },
	{ "/metrics", 0, VIA_API, "GET, HEAD", api_metrics },
	{ "/api", 1, VIA_API, NULL, api_handle },
	{ "/poll", 0, VIA_POLL, "GET", tp_poll_handle },
	{ "/longpoll", 0, VIA_LONGPOLL, "GET", tp_longpoll_handle },
	{ "/sse", 0, VIA_SSE, "GET", tp_sse_handle },
	{ NULL, 0, VIA_API, "GET, HEAD", static_serve },	/* the rest */
};

static const struct http_route *
route_of(const char *url)
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

static enum MHD_Result
dispatch(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;

	if (!strcmp(req->method, MHD_HTTP_METHOD_OPTIONS) &&
	    srv->cfg.allow_origin && *srv->cfg.allow_origin)
		return preflight(c, req);
	if (req->route->allow && !http_is_get(req->method))
		return http_not_allowed(c, req, req->route->allow);
	return req->route->handle(c, req);
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
		req->route = route_of(url);
		req->via = req->route->via;
		*con_cls = req;
		STATS_ADD(&h->srv->stats, req->via, requests, 1);
		return MHD_YES;
	}
	req->url = url;
	req->method = method;
	if (req->resume)
		return req->resume(c, req);	/* resumed after a suspend */
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
	return dispatch(c, req);
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
