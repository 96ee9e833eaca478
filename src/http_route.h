/* SPDX-License-Identifier: MIT */
/*
 * http_route: the HTTP front end's route table, one row per URL (path,
 * prefix match, the via counters it feeds, the methods allowed, the
 * handler), and the dispatch of a request to its row: the CORS preflight,
 * the 405 of a GET-only row, the ?delay= hold (netem_http.h). The router
 * does not know which routes suspend: a handler that does sets
 * req->resume (http_reply.h).
 */
#ifndef IMLAB_HTTP_ROUTE_H
#define IMLAB_HTTP_ROUTE_H

#include "http_reply.h"

typedef enum MHD_Result (*handler_fn)(struct MHD_Connection *c,
				      struct http_req *req);

/* One row per URL: a request goes to the first row whose path is its
 * url (or, with prefix, its url's first segments); the rest are files. */
struct http_route {
	const char *path;
	int prefix;		/* also matches path + "/..." */
	enum via via;		/* which counters the request feeds */
	const char *allow;	/* GET/HEAD only, 405 with this Allow; NULL:
				 * the handler checks the method itself */
	handler_fn handle;
};

/* The row for url (borrowed): the first whose path is url (or, with
 * prefix, url's first segments), else the static files' row. Static. */
const struct http_route *http_route_of(const char *url);

/* Answers req (whose route is set) through its row: the preflight, a 405,
 * the ?delay= hold or the row's handler. Returns what the access handler
 * returns. */
enum MHD_Result http_route_dispatch(struct MHD_Connection *c,
				    struct http_req *req);

#endif
