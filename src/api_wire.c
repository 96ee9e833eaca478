/* SPDX-License-Identifier: MIT */
/*
 * api_wire: the wire meters over the API (see api_wire.h). A cid is
 * tracked from its first request with ?cid= (or WebSocket hello) until
 * WIRE_CLIENTS newer ones push it out; an unknown one is a JSON 404.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "api_wire.h"
#include "names.h"
#include "server_ctx.h"
#include "wire.h"

enum MHD_Result
api_wire_clients(struct MHD_Connection *c, struct http_req *req)
{
	const char *rest = req->url + strlen("/api/clients/");
	const char *slash = strchr(rest, '/');
	size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
	char cid[WIRE_CID_MAX + 1];
	struct json_object *o;
	struct im_error e;
	int records = 0;

	if (slash) {
		if (strcmp(slash, "/wire"))
			return http_reply_error(c, req, MHD_HTTP_NOT_FOUND,
						"not_found", "no such endpoint:"
						" %.200s", req->url);
		records = 1;
	}
	if (!http_is_get(req->method))
		return http_not_allowed(c, req, "GET, HEAD");
	if (names_check(NAME_CID, rest, len, &e))
		return http_reply_im_error(c, req, &e);
	memcpy(cid, rest, len);
	cid[len] = '\0';
	o = wire_client_json(req->srv->wire, cid, records);
	if (!o)
		return http_reply_error(c, req, MHD_HTTP_NOT_FOUND,
					"unknown_client", "no request with "
					"cid %s is known (the last %d cids "
					"are kept)", cid, WIRE_CLIENTS);
	return http_reply_json(c, req, MHD_HTTP_OK, o);
}

void
api_wire_stats(struct server *srv, struct json_object *tps)
{
	struct wire_cnt t[VIA__COUNT];

	wire_totals(srv->wire, t);
	for (int i = 0; i < VIA__COUNT; i++) {
		struct json_object *to;

		if (!json_object_object_get_ex(tps, via_name((enum via)i),
					       &to))
			continue;
#define SET(k, v) json_object_object_add(to, k, json_object_new_uint64(v))
		SET("requests", t[i].requests);
		SET("bytes_received", t[i].up);
		SET("bytes_sent", t[i].down);
		SET("connections", t[i].conns);
#undef SET
	}
}

void
api_wire_metrics(struct server *srv, FILE *f)
{
	static const struct {
		const char *name, *help;
	} series[] = {
		{ "imlab_requests_total", "HTTP requests (WebSocket: "
		  "messages received), per transport" },
		{ "imlab_bytes_received_total", "Bytes read from the "
		  "sockets (heads, bodies, frames), per transport" },
		{ "imlab_bytes_sent_total", "Bytes written to the sockets "
		  "(heads, bodies, frames, pings, handshakes), per "
		  "transport" },
		{ "imlab_connections_opened_total", "TCP connections that "
		  "carried the transport, per transport" },
	};
	struct wire_cnt t[VIA__COUNT];

	wire_totals(srv->wire, t);
	for (size_t k = 0; k < sizeof(series) / sizeof(*series); k++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s counter\n",
			series[k].name, series[k].help, series[k].name);
		for (int i = 0; i < VIA__COUNT; i++) {
			const struct wire_cnt *x = &t[i];
			unsigned long long v = k == 0 ? x->requests :
					       k == 1 ? x->up :
					       k == 2 ? x->down : x->conns;

			fprintf(f, "%s{transport=\"%s\"} %llu\n",
				series[k].name, via_name((enum via)i), v);
		}
	}
}
