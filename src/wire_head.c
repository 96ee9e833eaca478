/* SPDX-License-Identifier: MIT */
/*
 * wire_head: the request and response heads of the wire records
 * (wire.h), rebuilt from what libmicrohttpd parsed and what a response
 * holds: the request line with the decoded query and the headers in the
 * order received; the status line, the Date libmicrohttpd adds, the
 * response's headers, then Content-Length or Transfer-Encoding, in
 * libmicrohttpd 0.9.75's order. Knows no struct of the HTTP layer, so
 * http_reply.c can call it without an include cycle.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wire.h"
#include "wire_head.h"

struct buf {
	char *p;
	size_t len, cap;
};

/* Appends the NUL-terminated s (cut when full). */
static void
put(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (n > b->cap - 1 - b->len)
		n = b->cap - 1 - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* Appends the Date header libmicrohttpd adds (RFC 7231 format, now). */
static void
put_date(struct buf *b)
{
	char d[64];
	time_t t = time(NULL);
	struct tm tm;

	if (gmtime_r(&t, &tm) &&
	    strftime(d, sizeof(d), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n",
		     &tm))
		put(b, d);
}

static enum MHD_Result
put_kv(void *cls, enum MHD_ValueKind kind, const char *key,
       const char *value)
{
	struct buf *b = cls;

	(void)kind;
	put(b, key);
	put(b, ": ");
	put(b, value ? value : "");
	put(b, "\r\n");
	return MHD_YES;
}

struct q {
	struct buf *b;
	int n;
};

static enum MHD_Result
put_arg(void *cls, enum MHD_ValueKind kind, const char *key,
	const char *value)
{
	struct q *q = cls;

	(void)kind;
	put(q->b, q->n++ ? "&" : "?");
	put(q->b, key);
	if (value) {
		put(q->b, "=");
		put(q->b, value);
	}
	return MHD_YES;
}

char *
wire_head_request(struct MHD_Connection *c, const char *method,
		const char *url, const char *version)
{
	struct buf b = { malloc(WIRE_HEAD_MAX + 1), 0, WIRE_HEAD_MAX + 1 };
	struct q q = { &b, 0 };
	char *shrunk;

	if (!b.p)
		return NULL;
	b.p[0] = '\0';
	put(&b, method);
	put(&b, " ");
	put(&b, url);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, put_arg, &q);
	put(&b, " ");
	put(&b, version);
	put(&b, "\r\n");
	MHD_get_connection_values(c, MHD_HEADER_KIND, put_kv, &b);
	put(&b, "\r\n");
	/* a held long poll keeps this until its answer: not 2 KiB each */
	shrunk = realloc(b.p, b.len + 1);
	if (shrunk)
		b.p = shrunk;
	return b.p;
}

void
wire_head_queued(struct wire_conn *wc, char **req_head, int exact,
		 unsigned status, struct MHD_Response *r, size_t body_len,
		 int sized)
{
	struct buf b;
	char line[128];
	const char *reason = MHD_get_reason_phrase_for(status);

	if (!*req_head || !wc)
		return;
	b = (struct buf){ malloc(WIRE_HEAD_MAX + 1), 0, WIRE_HEAD_MAX + 1 };
	if (b.p) {
		b.p[0] = '\0';
		snprintf(line, sizeof(line), "HTTP/1.1 %u %s\r\n", status,
			 reason ? reason : "");
		put(&b, line);
		put_date(&b);
		MHD_get_response_headers(r, put_kv, &b);
		if (sized) {
			snprintf(line, sizeof(line),
				 "Content-Length: %zu\r\n", body_len);
			put(&b, line);
		} else {
			put(&b, "Transfer-Encoding: chunked\r\n");
		}
		put(&b, "\r\n");
	}
	wire_record(wc, *req_head, b.p, exact);
	free(b.p);
	free(*req_head);
	*req_head = NULL;
}

