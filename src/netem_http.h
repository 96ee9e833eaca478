/* SPDX-License-Identifier: MIT */
/*
 * netem_http: the upstream half of the emulated delay (netem.h) for
 * HTTP: a /poll, /longpoll or /sse request (http_route.c's dispatch) or a /ws
 * upgrade (http_upgrade.c) with ?delay=MS is held (suspended) 2 x delay
 * (+ jitter) before its handler runs, and the query's delay and jitter
 * are read for the cursor.
 */
#ifndef IMLAB_NETEM_HTTP_H
#define IMLAB_NETEM_HTTP_H

#include <microhttpd.h>

#include "err.h"
#include "http_reply.h"
#include "netem.h"

struct server;

/* Reads ?delay= and ?jitter= (digits, 0..NETEM_MAX_MS) into n (the
 * server's clock, no wake-up yet). Returns 0, or -1 with e (bad_param). */
int netem_http_parse(struct MHD_Connection *c, struct server *srv,
		     struct netem *n, struct im_error *e);

/* Holds req when its query asks for a delay and it was not held yet:
 * suspends c and has then(c, req) run when the time is up. Returns 1 if
 * held (the caller returns MHD_YES), else 0 (a bad value is left to the
 * handler's 400). */
int netem_http_hold(struct MHD_Connection *c, struct http_req *req,
		    http_resume_fn then);

/* req ends: its hold, if any, is forgotten. */
void netem_http_end(struct http_req *req);

/* A waiting subscriber's wake-up: fire for struct sub *key. */
void netem_http_fire_sub(void *key);

#endif
