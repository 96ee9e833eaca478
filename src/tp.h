/* SPDX-License-Identifier: MIT */
/*
 * tp: the three HTTP transports (short poll, long poll, SSE) as the HTTP
 * router sees them, plus their timers and shutdown.
 */
#ifndef IMLAB_TP_H
#define IMLAB_TP_H

#include <stdint.h>

#include <microhttpd.h>

#include "http.h"

struct server;

/* GET /poll, /longpoll, /sse: the second call of the access handler. */
enum MHD_Result tp_poll_handle(struct MHD_Connection *c,
			       struct http_req *req);
enum MHD_Result tp_longpoll_handle(struct MHD_Connection *c,
				   struct http_req *req);
enum MHD_Result tp_sse_handle(struct MHD_Connection *c,
			      struct http_req *req);

/* The access handler was called again for a request that has transport
 * state (after a resume). */
enum MHD_Result tp_resumed(struct MHD_Connection *c, struct http_req *req);

#endif
