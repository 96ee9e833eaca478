/* SPDX-License-Identifier: MIT */
/*
 * eio_ws: Engine.IO's WebSocket transport, on a libwebsockets context of
 * its own (ws_loop.h), fed by the same upgrade hand-off as /ws
 * (http_upgrade.c). A connection without sid opens a session; one with
 * the sid of a polling session probes its upgrade.
 */
#ifndef IMLAB_EIO_WS_H
#define IMLAB_EIO_WS_H

#include <stddef.h>

#include "err.h"

struct eio_ws;
struct server;

/* Creates the context and starts its thread. Returns NULL with e filled
 * on failure. */
struct eio_ws *eio_ws_start(struct server *srv, struct im_error *e);

/* Takes ownership of fd (an upgrade libmicrohttpd read) and one count of
 * srv->open_conns; head[0..len) is the rebuilt request (borrowed,
 * copied). Thread-safe. On failure fd is closed and the count given
 * back. */
void eio_ws_adopt(struct eio_ws *w, int fd, const char *head, size_t len);

/* Closes every connection, stops the thread; sets *wp to NULL. */
void eio_ws_stop(struct eio_ws **wp);

#endif
