/* SPDX-License-Identifier: MIT */
/*
 * http: the libmicrohttpd front end: the daemon (no listening socket of its
 * own; the listener hands it connections), routing, request bodies, and
 * the helpers every HTTP handler answers with (JSON errors, CORS, counts).
 */
#ifndef IMLAB_HTTP_H
#define IMLAB_HTTP_H

#include <stddef.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "err.h"
#include "msg.h"

struct server;
struct http;
struct http_req;

/* Called when a request ends (completed or aborted), to free what a
 * handler hung on req->tp. Runs on the MHD thread. */
typedef void (*http_done_fn)(struct http_req *req);

/* Per-request state, created on the first call of the access handler. */
struct http_req {
	struct server *srv;
	int route;			/* enum route in http.c */
	enum via via;			/* which counters it feeds */
	char *body;			/* uploaded body, owned */
	size_t body_len;
	int too_big;			/* body over --max-body */
	void *tp;			/* transport state, freed by done */
	http_done_fn done;
};

/* Per-connection state (lives across keep-alive requests). */
struct http_conn {
	int64_t last_answer;	/* monotonic ms of the last long-poll answer */
};

/* Returns c's per-connection state, or NULL (out of memory at connect). */
struct http_conn *http_conn_of(struct MHD_Connection *c);

/* Creates the daemon (with its epoll thread) for srv. Returns NULL with e
 * filled on failure. */
struct http *http_start(struct server *srv, struct im_error *e);

/* Takes ownership of a connected socket (listener hand-off). Thread-safe.
 */
void http_adopt(struct http *h, int fd, const struct sockaddr *sa,
		socklen_t salen);

/* Wakes the daemon's event loop (see http.c on libmicrohttpd 0.9.75's
 * epoll loop). Thread-safe and cheap: one eventfd write. */
void http_kick(struct http *h);

/* Stops the daemon, closing every connection; sets *hp to NULL. Every
 * suspended connection must have been resumed (the transports' stop
 * functions do it) before this is called. */
void http_stop(struct http **hp);

/* Returns the daemon (for the transports). */
struct MHD_Daemon *http_daemon(struct http *h);

/* Queues a response of len bytes of body with status and content type,
 * adding CORS and no-store headers and counting bytes for req->via. mode
 * is the MHD buffer mode. Returns what MHD_queue_response() returned. */
enum MHD_Result http_reply(struct MHD_Connection *c, struct http_req *req,
			   unsigned status, const char *ctype,
			   const char *body, size_t len,
			   enum MHD_ResponseMemoryMode mode);

/* Queues {"error":{"code":code,"message":...}} with status. */
enum MHD_Result http_reply_error(struct MHD_Connection *c,
				 struct http_req *req, unsigned status,
				 const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Queues e as an error response with the status its err maps to. */
enum MHD_Result http_reply_im_error(struct MHD_Connection *c,
				    struct http_req *req,
				    const struct im_error *e);

/* Adds the CORS headers to r when --cors-origin is set. */
void http_add_cors(struct server *srv, struct MHD_Response *r);

/* Queues a prepared response r (adding CORS) and destroys our reference;
 * counts it for req->via. Returns what MHD_queue_response() returned. */
enum MHD_Result http_queue(struct MHD_Connection *c, struct http_req *req,
			   unsigned status, struct MHD_Response *r,
			   size_t body_len);

#endif
