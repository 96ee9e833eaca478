/* SPDX-License-Identifier: MIT */
/*
 * http: the libmicrohttpd daemons and their access handler. The daemons
 * have no listening socket (MHD_USE_NO_LISTEN_SOCKET): the listener thread
 * passes them connections with MHD_add_connection(). There are two, alike
 * but for their memory pool (libmicrohttpd 0.9.75 gives every connection
 * of a daemon the same pool, and a keep-alive request makes all of it
 * resident): the small one (--conn-memory) for connections whose first
 * head was small and had no Cookie (curl, the bench, most API clients),
 * the big one (--conn-memory-big) for the rest (browsers). Each has one
 * epoll thread; long polls and SSE streams wait suspended.
 *
 * Every connection comes here, and a request is a WebSocket upgrade when
 * it is a GET with Upgrade: websocket and Connection: upgrade, on any
 * request of a keep-alive connection: http_upgrade.c hands it to ws.c
 * (libwebsockets answers the handshake) and the access handler returns
 * MHD_NO. struct http is shared with it through http_private.h.
 *
 * Before any handler runs, a request the pool could not answer (a head
 * within 1 KiB of the pool) gets a JSON 431, so nothing is stored and left
 * unanswered; two Content-Length headers or one with Transfer-Encoding a
 * 400 (the listener checks the first request of a connection, this the
 * later ones); a body that takes longer than --body-timeout ends the
 * connection. HTTP connections per address are counted here too.
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "api.h"
#include "http.h"
#include "http_guard.h"
#include "http_private.h"
#include "http_reply.h"
#include "http_upgrade.h"
#include "listener.h"
#include "log.h"
#include "netem_http.h"
#include "server_ctx.h"
#include "static.h"
#include "tp.h"
#include "wire_http.h"

#define TAG "http"
#define POOL_SPARE 1024	/* pool bytes an answer needs after the head */

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
	if (req->via <= VIA_SSE && netem_http_hold(c, req, dispatch))
		return MHD_YES;		/* ?delay=: netem_http.h */
	return req->route->handle(c, req);
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
	if (hd == &hd->h->dm[0] && ((ci && ci->header_size > HTTP_SMALL_HEAD)
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

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url,
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
		req->route = route_of(url);
		req->via = req->route->via;
		req->url = url;
		req->method = method;
		req->t0 = im_mono_ms();
		*con_cls = req;
		wire_http_begin(c, req, version);
		if (first_checks(hd, c, req, &ret) && ret == MHD_NO)
			return ret;	/* a WebSocket now, or failed */
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
	return dispatch(c, req);
}

static void
completed_cb(void *cls, struct MHD_Connection *c, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct http_req *req = *con_cls;

	(void)cls;
	(void)toe;
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

/* Returns sa's IPv4 address in network order, or 0 when it is not
 * counted (not IPv4, or loopback without --limit-loopback). */
static uint32_t
counted_addr(const struct http *h, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	uint32_t a;

	if (!sa || sa->sa_family != AF_INET || !h->srv->cfg.max_per_address)
		return 0;
	a = sin->sin_addr.s_addr;
	if (!h->srv->cfg.limit_loopback && (ntohl(a) >> 24) == 127)
		return 0;
	return a;
}

/* Adds d (1 or -1) to a's count. Returns 0, or -1 when the count is at
 * the limit already (nothing added). */
static int
addr_add(struct http *h, uint32_t a, int d)
{
	struct addr_count **pp = &h->addrs[(a ^ (a >> 16)) % ADDR_BUCKETS];
	struct addr_count *ac;
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	while (*pp && (*pp)->addr != a)
		pp = &(*pp)->next;
	ac = *pp;
	if (d > 0) {
		if (!ac && (ac = calloc(1, sizeof(*ac)))) {
			ac->addr = a;
			*pp = ac;
		}
		if (!ac || ac->n >= h->srv->cfg.max_per_address)
			rc = -1;
		else
			ac->n++;
	} else if (ac && !--ac->n) {
		*pp = ac->next;
		free(ac);
	}
	pthread_mutex_unlock(&h->lock);
	return rc;
}

static void
connection_cb(void *cls, struct MHD_Connection *c, void **socket_context,
	      enum MHD_ConnectionNotificationCode toe)
{
	struct http_daemon *hd = cls;
	struct http *h = hd->h;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct http_conn));
		wire_http_open(h->srv, c, *socket_context);
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		uint32_t a;

		wire_http_close(*socket_context);
		free(*socket_context);
		*socket_context = NULL;
		ci = MHD_get_connection_info(c,
			MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		a = ci ? counted_addr(h, ci->client_addr) : 0;
		if (a)
			addr_add(h, a, -1);
		atomic_fetch_sub(&h->srv->open_conns, 1);
	}
}

static struct MHD_Daemon *
start_daemon(struct http_daemon *hd, struct server *srv)
{
	return MHD_start_daemon(
		MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL_INTERNAL_THREAD |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG |
		MHD_USE_TURBO,
		0, NULL, NULL, access_cb, hd,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)srv->cfg.max_connections,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, hd->pool,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)srv->cfg.idle_timeout,
		MHD_OPTION_NOTIFY_COMPLETED, completed_cb, hd,
		MHD_OPTION_NOTIFY_CONNECTION, connection_cb, hd,
		MHD_OPTION_END);
}

/* Adds the kick eventfd to d's epoll set. Returns 0 or -1. */
static int
add_kick(struct http *h, struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
				  .data.ptr = NULL };

	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0)
		return -1;
	return epoll_ctl(info->epoll_fd, EPOLL_CTL_ADD, h->kickfd, &ev);
}

static void
stop_daemons(struct http *h)
{
	for (int i = 0; i < 2; i++)
		if (h->dm[i].d)
			MHD_stop_daemon(h->dm[i].d);
}

struct http *
http_start(struct server *srv, struct im_error *e)
{
	struct http *h = calloc(1, sizeof(*h));

	if (!h) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	h->srv = srv;
	pthread_mutex_init(&h->lock, NULL);
	h->dm[0].pool = (size_t)srv->cfg.conn_memory;
	h->dm[1].pool = (size_t)srv->cfg.conn_memory_big;
	for (int i = 0; i < 2; i++) {
		h->dm[i].h = h;
		h->dm[i].d = start_daemon(&h->dm[i], srv);
		if (!h->dm[i].d) {
			stop_daemons(h);
			pthread_mutex_destroy(&h->lock);
			free(h);
			im_error_set(e, IM_ESYS, "mhd",
				     "libmicrohttpd did not start");
			return NULL;
		}
	}
	h->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->kickfd >= 0 &&
	    (add_kick(h, h->dm[0].d) || add_kick(h, h->dm[1].d)))
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
	   socklen_t salen, int big)
{
	uint32_t a = counted_addr(h, sa);

	if (a && addr_add(h, a, 1)) {
		char ip[INET_ADDRSTRLEN];

		atomic_fetch_sub(&h->srv->open_conns, 1);
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  ip, sizeof(ip));
		LOG_INFO(TAG, "%s holds --max-per-address %d connections: "
			 "503", ip, h->srv->cfg.max_per_address);
		listener_refuse(fd, 503, "Service Unavailable", "busy",
				"too many connections from your address, "
				"retry later");
		return;
	}
	/* MHD closes fd itself when it cannot take it */
	if (MHD_add_connection(h->dm[big ? 1 : 0].d, fd, sa, salen) !=
	    MHD_YES) {
		if (a)
			addr_add(h, a, -1);
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
	stop_daemons(h);
	if (h->kickfd >= 0)
		close(h->kickfd);
	for (int i = 0; i < ADDR_BUCKETS; i++)
		while (h->addrs[i]) {
			struct addr_count *ac = h->addrs[i];

			h->addrs[i] = ac->next;
			free(ac);
		}
	pthread_mutex_destroy(&h->lock);
	free(h);
}
