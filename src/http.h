/* SPDX-License-Identifier: MIT */
/*
 * http: the top of the libmicrohttpd front end: the daemon (no listening
 * socket of its own; the listener hands it connections), the request
 * lifecycle (bodies, resume, completion) and the route table. Handlers
 * answer with http_reply.h, below it.
 */
#ifndef IMLAB_HTTP_H
#define IMLAB_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include "err.h"

struct server;
struct http;

/* Creates the daemon (with its epoll thread) for srv. Returns NULL with e
 * filled on failure. */
struct http *http_start(struct server *srv, struct im_error *e);

/* Takes ownership of a connected socket (listener hand-off). Thread-safe.
 */
void http_adopt(struct http *h, int fd, const struct sockaddr *sa,
		socklen_t salen);

/* Wakes the daemon's event loop (see http.c on libmicrohttpd 0.9.75's
 * epoll loop). Thread-safe and cheap: one eventfd write. */
void http_kick(struct http *h);

/* Stops the daemon, closing every connection; sets *hp to NULL. Every
 * suspended connection must have been resumed (the transports' stop
 * functions do it) before this is called. */
void http_stop(struct http **hp);

#endif
