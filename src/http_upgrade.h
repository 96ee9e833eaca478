/* SPDX-License-Identifier: MIT */
/*
 * http_upgrade: the hand-off of a WebSocket upgrade from libmicrohttpd to
 * ws.c (see http_upgrade.c).
 */
#ifndef IMLAB_HTTP_UPGRADE_H
#define IMLAB_HTTP_UPGRADE_H

#include <microhttpd.h>

struct http;
struct http_req;

/* Hands the upgrade request req on c (both borrowed; the access handler's
 * first call found Upgrade: websocket and Connection: upgrade on a GET) to
 * the WebSocket side: checks the path, the version, the key and the
 * Origin, rebuilds the handshake request and gives it with a duplicate of
 * the socket to ws_adopt(). Returns MHD_NO after a hand-off
 * (libmicrohttpd closes its descriptor, lws keeps the duplicate) or what
 * queueing an error answer returned. Thread-safe (under h->lock). */
enum MHD_Result http_upgrade(struct http *h, struct MHD_Connection *c,
			     struct http_req *req);

/* From now on a WebSocket upgrade is answered 503 instead of being handed
 * to ws.c: called before ws_stop(), so no hand-off reaches a stopped
 * WebSocket side. h may be NULL (nothing done). Thread-safe. */
void http_close_upgrades(struct http *h);

#endif
