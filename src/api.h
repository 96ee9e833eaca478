/* SPDX-License-Identifier: MIT */
/*
 * api: the JSON HTTP API under /api (publish, rooms, history, info,
 * stats) and /metrics in Prometheus text format.
 */
#ifndef IMLAB_API_H
#define IMLAB_API_H

#include <microhttpd.h>

#include "http_reply.h"

/* Answers any request under /api (routing by req->url and
 * req->method). */
enum MHD_Result api_handle(struct MHD_Connection *c, struct http_req *req);

/* Answers GET /metrics. */
enum MHD_Result api_metrics(struct MHD_Connection *c, struct http_req *req);

#endif
