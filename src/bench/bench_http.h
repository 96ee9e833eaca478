/* SPDX-License-Identifier: MIT */
/*
 * bench_http: the HTTP/1.1 that the poll, long-poll, SSE and WebSocket
 * subscribers speak on their bench_net connections: one GET request, and
 * the response head (status line and header fields) read where it lies.
 */
#ifndef IMLAB_BENCH_HTTP_H
#define IMLAB_BENCH_HTTP_H

#include "bench_net.h"

/* Sends "GET <path>[?<query>] HTTP/1.1", Host and the header lines
 * headers (each ending in CRLF). query NULL: none; else the subscription
 * query rooms=<room>&since=<cursor>&cid=<cid>&from=<from> (bench_sub_cid,
 * bench_sub_from) followed by query, or with --peer nchan id=<room>
 * followed by query. Counts no request. 0 or -1. */
int bench_http_get(struct bench_conn *c, const char *path,
		   const char *query, const char *headers);

/* Reads the response head at the start of [b, b + have): returns its
 * length (through the blank line) with the status code in *status, 0 if
 * it is not complete yet, or -1. */
ssize_t bench_http_head(struct bench_conn *c, const char *b, size_t have,
			int *status);

/* Notes "HTTP <status>: <the body's first bytes>" for a refused request
 * whose body starts at p, n bytes there. Returns -1. */
int bench_http_refused(struct bench_conn *c, int status, const char *p,
		       size_t n);

/* Returns 1 if the header block [p, end) has the field name (with its ':')
 * and its value contains val, both case-insensitive. */
int bench_http_has_header(const char *p, const char *end, const char *name,
			  const char *val);

/* Reads the decimal value of the header field name (as above) in [p, end)
 * into *out: 0, or -1 if there is none or it is not a number up to
 * BENCH_FRAME_MAX. */
int bench_http_header_size(const char *p, const char *end, const char *name,
			   size_t *out);

/* Copies the value of the header field name (as above, white space
 * around it trimmed) in [p, end) into buf, NUL-ended. 0, or -1 if it is
 * absent or does not fit in len. */
int bench_http_header_copy(const char *p, const char *end, const char *name,
			   char *buf, size_t len);

#endif
