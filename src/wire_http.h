/* SPDX-License-Identifier: MIT */
/*
 * wire_http: the thin hooks by which http_request.c, http_reply.c and
 * http_upgrade.c feed the wire meters (wire.h) and the request/response
 * records of /api/clients/{cid}/wire. All run on the libmicrohttpd
 * thread of the connection.
 */
#ifndef IMLAB_WIRE_HTTP_H
#define IMLAB_WIRE_HTTP_H

#include <stddef.h>

#include <microhttpd.h>

struct http_conn;
struct http_req;
struct server;

/* c started (MHD_CONNECTION_NOTIFY_STARTED): gives hc its meter. */
void wire_http_open(struct server *srv, struct MHD_Connection *c,
		    struct http_conn *hc);

/* hc's connection closes (its socket still open): charges the rest. */
void wire_http_close(struct http_conn *hc);

/* req's head is complete (the access handler's first call): counts the
 * request for its transport and cid, and keeps its head for a record. */
void wire_http_begin(struct MHD_Connection *c, struct http_req *req,
		     const char *version);

/* req ends (completed or aborted): charges its bytes. */
void wire_http_end(struct MHD_Connection *c, struct http_req *req);

/* req is a WebSocket upgrade handed to lws on fd (a dup of c's socket):
 * records its head and the 101 lws will answer (key, imlab: the
 * subprotocol is answered) and moves c's meter to fd. */
void wire_http_upgrade(struct MHD_Connection *c, struct http_req *req,
		       const char *version, const char *key, int imlab,
		       int fd);

#endif
