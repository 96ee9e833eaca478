/* SPDX-License-Identifier: MIT */
/*
 * api: the JSON HTTP API under /api (publish, rooms, history, info,
 * stats) and /metrics in Prometheus text format.
 */
#ifndef IMLAB_API_H
#define IMLAB_API_H

#include <microhttpd.h>

#include "http.h"

/* Answers any request under /api (routing by url and method). */
enum MHD_Result api_handle(struct MHD_Connection *c, struct http_req *req,
			   const char *url, const char *method);

/* Answers GET /metrics. */
enum MHD_Result api_metrics(struct MHD_Connection *c, struct http_req *req);

#endif
