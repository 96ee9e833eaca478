/* SPDX-License-Identifier: MIT */
/*
 * http_upgrade: the WebSocket upgrade hand-off. A request is an upgrade
 * when it is a GET with Upgrade: websocket and Connection: upgrade, on
 * any request of a keep-alive connection (http_request.c's first-call
 * checks decide). Here its path (/ws), version (13), key and Origin (the Host,
 * or one of --allow-origin) are checked, the handshake request rebuilt
 * (only the imlab subprotocol is passed on) and given with a duplicate of
 * the socket to ws.c, where libwebsockets answers the handshake; the
 * access handler then returns MHD_NO, and libmicrohttpd closes its
 * descriptor without writing anything (MHD_USE_TURBO: it does not shut
 * the socket down first, which would end lws's copy too).
 *
 * http_close_upgrades() closes the gate before ws_stop(): the hand-off
 * and the gate share http.lock, so no upgrade reaches a stopped
 * WebSocket side.
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eio.h"
#include "eio_poll.h"
#include "eio_ws.h"
#include "http_private.h"
#include "http_reply.h"
#include "http_upgrade.h"
#include "log.h"
#include "netem_http.h"
#include "server_ctx.h"
#include "wire_http.h"
#include "ws.h"
#include "ws_origin.h"

#define TAG "http"

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Appends "name: value\r\n" to b (size cap, *len used) if value is set.
 * Returns -1 when it does not fit. */
static int
put_header(char *b, size_t cap, size_t *len, const char *name,
	   const char *value)
{
	int n;

	if (!value)
		return 0;
	n = snprintf(b + *len, cap - *len, "%s: %s\r\n", name, value);
	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

static enum MHD_Result
upgrade_again(struct MHD_Connection *c, struct http_req *req)
{
	return http_upgrade(req->srv->http, c, req);
}

enum MHD_Result
http_upgrade(struct http *h, struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = h->srv;
	const char *origin = header(c, "Origin"), *host = header(c, "Host");
	const char *ver = header(c, "Sec-WebSocket-Version");
	const char *key = header(c, "Sec-WebSocket-Key");
	const char *proto = header(c, "Sec-WebSocket-Protocol");
	const union MHD_ConnectionInfo *ci;
	int kind = eio_path_kind(req->url);
	const char *sid = MHD_lookup_connection_value(c,
		MHD_GET_ARGUMENT_KIND, "sid");
	enum eio_error code;
	char head[1024];
	struct netem net;
	struct im_error e;
	size_t len = 0;
	int fd, err;

	if (kind >= 0 && eio_served(srv->eio, (enum eio_kind)kind)) {
		/* Engine.IO's WebSocket transport (eio_ws.c) */
		if (eio_poll_check(c, 1, &code))
			return eio_poll_error(c, req, code);
		if (sid && (strlen(sid) != EIO_SID_LEN ||
			    strspn(sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
				   "klmnopqrstuvwxyz0123456789-_") !=
			    EIO_SID_LEN))
			return eio_poll_error(c, req, EIO_ERR_SID);
		if (sid && eio_poll_probe_check(srv, sid, kind, &code))
			return eio_poll_error(c, req, code);
	} else if (strcmp(req->url, "/ws")) {
		return http_reply_error(c, req, MHD_HTTP_NOT_FOUND,
					"not_found", "WebSocket upgrades go "
					"to /ws");
	} else {
		kind = -1;
	}
	if (!ver || strcmp(ver, "13"))
		return http_reply_error_with(c, req, 426, "bad_version",
				  "only WebSocket version 13 is served",
				  "Sec-WebSocket-Version", "13");
	if (!key || !*key)
		return http_reply_error(c, req, MHD_HTTP_BAD_REQUEST,
					"bad_request", "an upgrade needs "
					"Sec-WebSocket-Key");
	if (!ws_origin_match(origin, host, srv->cfg.allow_origin)) {
		/* the names a user needs behind a proxy or a port-forward */
		LOG_WARN(TAG, "upgrade refused: Origin %.100s is not the Host "
			 "%.100s and not in --allow-origin (%.100s); add it "
			 "with --allow-origin %.100s", origin,
			 host ? host : "(none)",
			 *srv->cfg.allow_origin ? srv->cfg.allow_origin :
			 "empty", origin);
		return http_reply_error(c, req, MHD_HTTP_FORBIDDEN,
					"foreign_origin", "Origin %.100s does "
					"not match Host %.100s; the server "
					"allows others with --allow-origin",
					origin, host ? host : "(none)");
	}
	if (netem_http_parse(c, srv, &net, &e))
		return http_reply_im_error(c, req, &e);
	if (netem_http_hold(c, req, upgrade_again))
		return MHD_YES;	/* ?delay=: the handshake after 2 x delay */
	if (proto && !http_has_token(proto, "imlab"))
		LOG_INFO(TAG, "upgrade offers subprotocols \"%.100s\", not "
			 "imlab: answering without one", proto);
	if (kind >= 0)
		len = (size_t)snprintf(head, sizeof(head), "GET %s?sid=%s "
				       "HTTP/1.1\r\nUpgrade: websocket\r\n"
				       "Connection: Upgrade\r\n",
				       kind ? "/engine.io/" : "/socket.io/",
				       sid ? sid : "");
	else if (netem_on(&net))	/* for ws.c (netem.h) */
		len = (size_t)snprintf(head, sizeof(head), "GET /ws?delay=%d"
				       "&jitter=%d HTTP/1.1\r\nUpgrade: "
				       "websocket\r\nConnection: Upgrade\r\n",
				       net.delay_ms, net.jitter_ms);
	else
		len = (size_t)snprintf(head, sizeof(head), "GET /ws HTTP/1.1"
				       "\r\nUpgrade: websocket\r\n"
				       "Connection: Upgrade\r\n");
	if (put_header(head, sizeof(head), &len, "Host", host) ||
	    put_header(head, sizeof(head), &len, "Origin", origin) ||
	    put_header(head, sizeof(head), &len, "Sec-WebSocket-Key", key) ||
	    put_header(head, sizeof(head), &len, "Sec-WebSocket-Version",
		       ver) ||
	    put_header(head, sizeof(head), &len, "Sec-WebSocket-Protocol",
		       kind < 0 && proto && http_has_token(proto, "imlab") ?
		       "imlab" : NULL) ||
	    len + 3 > sizeof(head))
		return http_reply_error(c, req, 431, "head_too_large",
					"the upgrade's headers are too long");
	memcpy(head + len, "\r\n", 3);
	len += 2;
	/* --max-ws: the established ones (those being adopted slip by) */
	if (atomic_load(&srv->stats.tp[VIA_WS].open) >=
	    (long long)srv->cfg.max_ws)
		return http_reply_busy(c, req, srv->cfg.max_ws,
				       "WebSocket connections are open");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	fd = ci ? fcntl(ci->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (fd < 0) {
		err = errno;
		return http_reply_error(c, req, MHD_HTTP_SERVICE_UNAVAILABLE,
					"no_fds", "cannot take the "
					"connection: %s", strerror(err));
	}
	pthread_mutex_lock(&h->lock);
	if (h->no_upgrades || !srv->ws || (kind >= 0 && !srv->eio_ws)) {
		pthread_mutex_unlock(&h->lock);
		close(fd);
		return http_reply_error(c, req, MHD_HTTP_SERVICE_UNAVAILABLE,
					"stopping", "the server is stopping");
	}
	/* one count for lws (its WSI_DESTROY gives it back); libmicrohttpd
	 * gives back its own when it closes its descriptor */
	atomic_fetch_add(&srv->open_conns, 1);
	if (kind >= 0) {
		eio_ws_adopt(srv->eio_ws, fd, head, len);
	} else {
		wire_http_upgrade(c, req, MHD_HTTP_VERSION_1_1, key,
				  proto && http_has_token(proto, "imlab"), fd);
		ws_adopt(srv->ws, fd, head, len);
	}
	pthread_mutex_unlock(&h->lock);
	return MHD_NO;
}

void
http_close_upgrades(struct http *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->no_upgrades = 1;
	pthread_mutex_unlock(&h->lock);
}
