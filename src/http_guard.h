/* SPDX-License-Identifier: MIT */
/*
 * http_guard: the checks that keep other web sites out of the HTTP API
 * and the WebSocket upgrade (see http_guard.c): the Host allow-list
 * (DNS rebinding), the Origin of state-changing requests and the
 * Content-Type of request bodies (cross-site forms).
 */
#ifndef IMLAB_HTTP_GUARD_H
#define IMLAB_HTTP_GUARD_H

#include <microhttpd.h>

struct config;
struct http_req;

/* Checks the request on c (its head parsed, no body read): its Host is
 * one the server is reachable as, a state-changing request's Origin is
 * the server's own or listed in --allow-origin, and a body is declared
 * application/json. Returns 0 to go on, or 1 when the request was refused
 * with a JSON error (421 bad_host, 403 foreign_origin, 415
 * bad_content_type), *ret then what the access handler returns. MHD
 * thread; c and req borrowed. */
int http_guard_check(struct MHD_Connection *c, struct http_req *req,
		     enum MHD_Result *ret);

/* Returns 1 if the Host header value host (borrowed; NULL: none) names
 * the server under cfg (borrowed): no Host at all, localhost, 127.0.0.1,
 * [::1], the --bind address, the machine's hostname, or a name in
 * --allow-host ("*" any); with --bind 0.0.0.0 and no --allow-host, any.
 * Ports are ignored. Any thread. */
int http_guard_host_ok(const struct config *cfg, const char *host);

/* Logs, at startup, the warning that with --bind 0.0.0.0 and no
 * --allow-host every Host is accepted. cfg borrowed. */
void http_guard_warn(const struct config *cfg);

#endif
