/* SPDX-License-Identifier: MIT */
/*
 * ws: the WebSocket front end on libwebsockets. Its context has a vhost
 * without a listening socket: the listener hands it the connections whose
 * request line is "GET /ws", and the lws service thread adopts them.
 */
#ifndef IMLAB_WS_H
#define IMLAB_WS_H

#include <stddef.h>
#include <sys/socket.h>

#include "err.h"

struct server;
struct ws;

/* Creates the lws context and starts its service thread. Returns NULL
 * with e filled on failure. */
struct ws *ws_start(struct server *srv, struct im_error *e);

/* Takes ownership of fd, a connected socket whose upgrade request
 * libmicrohttpd has read, and of one count in srv->open_conns; head[0..len)
 * (borrowed, copied) is that request rebuilt for libwebsockets, which
 * answers the handshake. Thread-safe: queues it and wakes the service
 * thread. On failure fd is closed and the count given back. */
void ws_adopt(struct ws *w, int fd, const char *head, size_t len);

/* Closes every WebSocket connection, stops the thread, destroys the
 * context; sets *wp to NULL. */
void ws_stop(struct ws **wp);

#endif
