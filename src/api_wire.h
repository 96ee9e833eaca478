/* SPDX-License-Identifier: MIT */
/*
 * api_wire: the parts of the API that read the wire meters (wire.h):
 * GET /api/clients/{cid} and /api/clients/{cid}/wire, and the wire
 * figures /api/stats and /metrics add per transport.
 */
#ifndef IMLAB_API_WIRE_H
#define IMLAB_API_WIRE_H

#include <stdio.h>

#include <microhttpd.h>

#include "http_reply.h"

struct json_object;

/* Answers a request under /api/clients/ (req->url). */
enum MHD_Result api_wire_clients(struct MHD_Connection *c,
				 struct http_req *req);

/* Adds "requests", "bytes_received", "bytes_sent", "connections" (the
 * wire's: every byte, headers and frames included) to tps, the
 * /api/stats "transports" object whose members are named by via_name(). */
void api_wire_stats(struct server *srv, struct json_object *tps);

/* Writes the wire series to f: imlab_requests_total,
 * imlab_bytes_received_total, imlab_bytes_sent_total and
 * imlab_connections_opened_total, each per transport. */
void api_wire_metrics(struct server *srv, FILE *f);

#endif
