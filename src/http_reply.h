/* SPDX-License-Identifier: MIT */
/*
 * http_reply: the bottom of the HTTP front end. The request and connection
 * records every handler receives, and the ways a handler answers: a body,
 * JSON, a {"error":...} object, a message batch, 405 and 503 busy, with
 * CORS and the per-transport byte counts added on the way out. Knows
 * nothing of routes or of the daemon (http.c, above it).
 */
#ifndef IMLAB_HTTP_REPLY_H
#define IMLAB_HTTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "err.h"
#include "msg.h"

struct cursor;
struct json_object;
struct server;
struct http_req;
struct http_route;
struct wire_conn;

/* Called when a request ends (completed or aborted), to free what a
 * handler hung on req->tp. Runs on the MHD thread. */
typedef void (*http_done_fn)(struct http_req *req);

/* Called instead of the route's handler when the access handler runs
 * again after a handler suspended the connection (a long poll). */
typedef enum MHD_Result (*http_resume_fn)(struct MHD_Connection *c,
					  struct http_req *req);

/* Per-request state, created on the first call of the access handler. */
struct http_req {
	struct server *srv;
	const struct http_route *route;	/* http_route.c's table row */
	const char *url, *method;	/* borrowed from MHD, this call */
	enum via via;			/* which counters it feeds */
	char *body;			/* uploaded body, owned */
	size_t body_len;
	int too_big;			/* body over --max-body */
	int64_t t0;			/* monotonic ms, head complete */
	int close;			/* answer with Connection: close */
	void *tp;			/* transport state, freed by done */
	http_done_fn done;
	http_resume_fn resume;		/* set while it may be resumed */
	char *wire_head;		/* request head for wire_http, owned */
	int net_held;			/* held for an emulated delay */
	http_resume_fn net_then;	/* what runs after the hold */
	struct MHD_Connection *net_c;	/* the held connection */
	int wire_exact;			/* wire_head is the bytes read */
};

/* Per-connection state (lives across keep-alive requests). */
struct http_conn {
	int64_t last_answer;	/* monotonic us, the last long-poll answer */
	struct wire_conn *wc;	/* its byte meter (wire.h), or NULL */
};

/* Returns c's per-connection state, or NULL (out of memory at connect). */
struct http_conn *http_conn_of(struct MHD_Connection *c);

/* Returns 1 if method is GET or HEAD. */
int http_is_get(const char *method);

/* Returns 1 if the comma-separated header value v (borrowed, may be
 * NULL) has token (case-insensitive), else 0. */
int http_has_token(const char *v, const char *token);

/* Adds the CORS headers to r (the answer on c) when --allow-origin is
 * set: Vary: Origin, and when c's Origin is listed (origin.h) that origin
 * in Access-Control-Allow-Origin. */
void http_add_cors(struct MHD_Connection *c, struct server *srv,
		   struct MHD_Response *r);

/* Queues a prepared response r (adding CORS, and Connection: close when
 * req->close) and destroys our reference;
 * counts body_len bytes for req->via. Returns what MHD_queue_response()
 * returned. */
enum MHD_Result http_queue(struct MHD_Connection *c, struct http_req *req,
			   unsigned status, struct MHD_Response *r,
			   size_t body_len);

/* Queues a response of len bytes of body with status and content type,
 * adding CORS and no-store headers (and Retry-After to a 503). mode is
 * the MHD buffer mode; with MHD_RESPMEM_MUST_FREE body is freed even on
 * failure. Returns what MHD_queue_response() returned. */
enum MHD_Result http_reply(struct MHD_Connection *c, struct http_req *req,
			   unsigned status, const char *ctype,
			   const char *body, size_t len,
			   enum MHD_ResponseMemoryMode mode);

/* Queues o as compact JSON with status; takes ownership of o. */
enum MHD_Result http_reply_json(struct MHD_Connection *c,
				struct http_req *req, unsigned status,
				struct json_object *o);

/* Queues {"error":{"code":code,"message":...}} with status. */
enum MHD_Result http_reply_error(struct MHD_Connection *c,
				 struct http_req *req, unsigned status,
				 const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Queues {"error":{"code":code,"message":message}} with status and one
 * extra header name: value (none if name is NULL); all borrowed, copied.
 * code and message are written as they are: no JSON escaping. */
enum MHD_Result http_reply_error_with(struct MHD_Connection *c,
				      struct http_req *req, unsigned status,
				      const char *code, const char *message,
				      const char *name, const char *value);

/* Queues e as an error response with the status its err maps to. */
enum MHD_Result http_reply_im_error(struct MHD_Connection *c,
				    struct http_req *req,
				    const struct im_error *e);

/* Queues 503 busy: "N WHAT: the limit; retry later". */
enum MHD_Result http_reply_busy(struct MHD_Connection *c,
				struct http_req *req, int n, const char *what);

/* Queues 405 bad_method with an Allow header listing allow. */
enum MHD_Result http_not_allowed(struct MHD_Connection *c,
				 struct http_req *req, const char *allow);

/* Answers {"messages","last_id","gap"} with up to limit messages read
 * through cur (borrowed; it advances), "last_id" its new position;
 * counts them for req->via. Used by the polls and by history. */
enum MHD_Result http_reply_batch(struct MHD_Connection *c,
				 struct http_req *req, struct cursor *cur,
				 size_t limit);

#endif
