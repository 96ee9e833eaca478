/* SPDX-License-Identifier: MIT */
/*
 * eio_poll: Engine.IO's long-polling transport and handshake on
 * libmicrohttpd (the route row of /socket.io/ and /engine.io/), and the
 * query checks the WebSocket upgrade shares.
 */
#ifndef IMLAB_EIO_POLL_H
#define IMLAB_EIO_POLL_H

#include <microhttpd.h>

#include "eio.h"
#include "http_reply.h"

/* The route's handler: handshake, GET (held), POST. */
enum MHD_Result eio_poll_handle(struct MHD_Connection *c,
				struct http_req *req);

/* Checks c's EIO (4) and transport (websocket with ws, else polling)
 * query parameters. Returns 0, or -1 with *code the protocol's error. */
int eio_poll_check(struct MHD_Connection *c, int ws, enum eio_error *code);

/* Checks that the session sid (borrowed) of kind exists, before a
 * WebSocket with that sid is handed over. Returns 0, or -1 with *code
 * Session ID unknown. */
int eio_poll_probe_check(struct server *srv, const char *sid, int kind,
			 enum eio_error *code);

/* Answers the protocol's error code: 400 (403 for Forbidden) with
 * {"code":N,"message":"..."}. */
enum MHD_Result eio_poll_error(struct MHD_Connection *c,
			       struct http_req *req, enum eio_error code);

#endif
