/* SPDX-License-Identifier: MIT */
/*
 * ws: the WebSocket front end on libwebsockets. Its context has a vhost
 * without a listening socket: the listener hands it the connections whose
 * request line is "GET /ws", and the lws service thread adopts them.
 */
#ifndef IMLAB_WS_H
#define IMLAB_WS_H

#include <sys/socket.h>

#include "err.h"

struct server;
struct ws;

/* Creates the lws context and starts its service thread. Returns NULL
 * with e filled on failure. */
struct ws *ws_start(struct server *srv, struct im_error *e);

/* Takes ownership of a connected socket whose first bytes are
 * "GET /ws". Thread-safe: queues fd and wakes the service thread. */
void ws_adopt(struct ws *w, int fd, const struct sockaddr *sa,
	      socklen_t salen);

/* Closes every WebSocket connection, stops the thread, destroys the
 * context; sets *wp to NULL. */
void ws_stop(struct ws **wp);

#endif
