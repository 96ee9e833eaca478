/* SPDX-License-Identifier: MIT */
/*
 * tp: the three HTTP transports (short poll, long poll, SSE) as the route
 * table in http_route.c sees them: one handler each, called on the second call
 * of the access handler. What they share is below them: tp_params (the
 * request), tp_wait (the registry of waiting connections), tp_coalesce
 * (write coalescing) and http_reply (the answers).
 */
#ifndef IMLAB_TP_H
#define IMLAB_TP_H

#include <microhttpd.h>

#include "http_reply.h"

/* GET /poll: answers at once. */
enum MHD_Result tp_poll_handle(struct MHD_Connection *c,
			       struct http_req *req);

/* GET /longpoll: answers now or suspends until news or its timeout. */
enum MHD_Result tp_longpoll_handle(struct MHD_Connection *c,
				   struct http_req *req);

/* GET /sse: queues a text/event-stream whose reader suspends when idle. */
enum MHD_Result tp_sse_handle(struct MHD_Connection *c,
			      struct http_req *req);

#endif
