/* SPDX-License-Identifier: MIT */
/*
 * http: the top of the libmicrohttpd front end: the two daemons (no
 * listening socket of their own; the listener hands them connections),
 * the request lifecycle (bodies, resume, completion: http_request.c), the
 * WebSocket upgrade hand-off (http_upgrade.c) and the route table
 * (http_route.c). Handlers answer with http_reply.h, below it.
 */
#ifndef IMLAB_HTTP_H
#define IMLAB_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

struct server;
struct http;

/* A connection whose first head is at most this long and has no Cookie
 * goes to the small-pool daemon (listener); one there that later sends a
 * bigger head or a Cookie is answered with Connection: close, so its next
 * connection is routed again. */
#define HTTP_SMALL_HEAD 1024

/* Creates the daemons (each with its epoll thread) for srv. Returns NULL with e
 * filled on failure. */
struct http *http_start(struct server *srv, struct im_error *e);

/* Takes ownership of a connected socket and of one count in
 * srv->open_conns (listener hand-off); big, an enum listener_pool: to a
 * small-pool daemon, a big-pool one (in turn) or the publishers' daemon.
 * Over --max-per-address it is answered 503 and closed. Called from the
 * listener thread only (the turn is not atomic). */
void http_adopt(struct http *h, int fd, const struct sockaddr *sa,
		socklen_t salen, int big);

/* Wakes the daemon's event loop (see http.c on libmicrohttpd 0.9.75's
 * epoll loop). Thread-safe and cheap: one eventfd write. */
void http_kick(struct http *h);

/* The ticker's: closes the keep-alive connections whose next request
 * head did not come whole in time (http_keep.h). h may be NULL. */
void http_tick(struct http *h, int64_t now);

/* Stops the daemons, closing every connection; sets *hp to NULL. Every
 * suspended connection must have been resumed (the transports' stop
 * functions do it) before this is called. */
void http_stop(struct http **hp);

#endif
