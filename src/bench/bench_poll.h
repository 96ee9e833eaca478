/* SPDX-License-Identifier: MIT */
/*
 * bench_poll: the HTTP polling client that short poll (bench_poll.c) and
 * long poll (bench_longpoll.c) share. One keep-alive connection per
 * subscriber, as a browser tab would have, asking GET /<path>?rooms=...
 * &since=<the last id seen>; the answer must carry a Content-Length
 * (imlab's do) and its body {"messages":[E,...],"last_id":N,"gap":B} is
 * read whole and scanned in one pass. A request that fails (a non-200
 * answer, a reset, a timeout: 10 s to connect, the transport's own for
 * a request) reconnects 200 ms later, counted as a reconnect once the
 * subscriber is registered. A kept-alive connection the server closes
 * between requests (or before answering the first byte of a request sent
 * on it, the keep-alive race) is reopened at once, quietly, as a browser
 * would. Each request counts one.
 *
 * With --peer nchan the answer is nchan's long poll instead: 200 with one
 * message as its body (the bench's envelope, as published), or 304/408
 * when the wait timed out; its Last-Modified and Etag are kept and sent
 * back as If-Modified-Since and If-None-Match on the next request, which
 * is how nchan resumes after the last message seen.
 */
#ifndef IMLAB_BENCH_POLL_H
#define IMLAB_BENCH_POLL_H

#include "bench_http.h"

/* Per-connection state: the transport's conn_size. */
struct bench_poll {
	size_t body_len;	/* Content-Length of the answer being read */
	int close_after;	/* the answer said Connection: close */
	int reused;		/* an answer came on this connection */
	int polled;		/* the subscriber had an answer before */
	int status;		/* of the answer being read */
	char last_mod[64];	/* nchan: Last-Modified of the last answer */
	char etag[64];		/* nchan: its Etag */
};

/* Called once an answer was read whole and counted (c registered, no
 * request open): asks again, now or later. 0 or -1. */
typedef int (*bench_poll_answered_fn)(struct bench_conn *c, int64_t now);

/* ops->open: a connect begins, with its deadline. */
void bench_poll_open(struct bench_conn *c);

/* Sends the next request on the open connection c, from the subscriber's
 * cursor: GET path with the subscription query and query after it (nchan:
 * with the resume headers of the last answer); the answer is due within
 * tmo_ns. 0 or -1. */
int bench_poll_send(struct bench_conn *c, const char *path,
		    const char *query, int64_t tmo_ns);

/* ops->parse for a polling transport: answers in [b, b + have), each
 * followed by answered(c, now). Bytes consumed, or -1. */
ssize_t bench_poll_parse(struct bench_conn *c, const char *b, size_t have,
			 int64_t now, bench_poll_answered_fn answered);

/* ops->ended: 1 (reopen) between requests, else -1. */
int bench_poll_ended(struct bench_conn *c);

/* ops->reset: forgets the answer being read. */
void bench_poll_reset(struct bench_conn *c);

#endif
