/* SPDX-License-Identifier: MIT */
/*
 * bench_http: the HTTP/1.1 of the bench's subscribers (see bench_http.h):
 * a GET request written in one piece (imlab's query, or nchan's ?id=) and
 * a response head read in place.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bench_http.h"

#define HEAD_MAX 8192		/* response head */

int
bench_http_get(struct bench_conn *c, const char *path, const char *query,
	       const char *headers)
{
	struct bench_run *r = c->r;
	char req[1024], q[384] = "", room[96], cid[80], from[32];
	int n;

	if (query && r->o->peer == BENCH_PEER_NCHAN) {
		bench_room_name(r, c->s->room, room, sizeof(room));
		snprintf(q, sizeof(q), "?id=%s%s", room, query);
	} else if (query) {
		bench_room_name(r, c->s->room, room, sizeof(room));
		bench_sub_cid(r, c->s, cid, sizeof(cid));
		bench_sub_from(r, c->s, from, sizeof(from));
		snprintf(q, sizeof(q), "?rooms=%s&since=%llu&cid=%s&from=%s"
			 "%s", room, (unsigned long long)c->s->cursor, cid,
			 from, query);
	}
	n = snprintf(req, sizeof(req), "GET %s%s HTTP/1.1\r\nHost: %s\r\n"
		     "%s\r\n", path, q, bench_net_hostport(c), headers);
	if (n < 0 || (size_t)n >= sizeof(req))
		return bench_net_fail(c, "request too long");
	return bench_net_send(c, req, (size_t)n);
}

/* Finds the field name (with its ':', case-insensitive) in the header
 * block [p, end): its value's line [*v, *e), or -1. */
static int
header(const char *p, const char *end, const char *name, const char **v,
       const char **e)
{
	size_t nl = strlen(name);

	while (p < end) {
		const char *le = memchr(p, '\n', (size_t)(end - p));

		if (!le)
			le = end;
		if ((size_t)(le - p) >= nl && !strncasecmp(p, name, nl)) {
			*v = p + nl;
			*e = le;
			return 0;
		}
		p = le + 1;
	}
	return -1;
}

int
bench_http_has_header(const char *p, const char *end, const char *name,
		      const char *val)
{
	size_t vl = strlen(val);
	const char *v, *e;

	/* every field of that name counts */
	for (; !header(p, end, name, &v, &e); p = e + 1)
		for (; v + vl <= e; v++)
			if (!strncasecmp(v, val, vl))
				return 1;
	return 0;
}

int
bench_http_header_size(const char *p, const char *end, const char *name,
		       size_t *out)
{
	const char *q, *e;
	size_t v = 0;

	if (header(p, end, name, &q, &e))
		return -1;
	while (q < e && (*q == ' ' || *q == '\t'))
		q++;
	if (q == e || *q < '0' || *q > '9')
		return -1;
	for (; q < e && *q >= '0' && *q <= '9'; q++) {
		v = v * 10 + (size_t)(*q - '0');
		if (v > BENCH_FRAME_MAX)
			return -1;
	}
	*out = v;
	return 0;
}

int
bench_http_header_copy(const char *p, const char *end, const char *name,
		       char *buf, size_t len)
{
	const char *v, *e;

	if (header(p, end, name, &v, &e))
		return -1;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if ((size_t)(e - v) >= len)
		return -1;
	memcpy(buf, v, (size_t)(e - v));
	buf[e - v] = '\0';
	return 0;
}

ssize_t
bench_http_head(struct bench_conn *c, const char *b, size_t have,
		int *status)
{
	const char *end = memmem(b, have, "\r\n\r\n", 4);

	if (!end)
		return have > HEAD_MAX ?
		       bench_net_fail(c, "response head too large") : 0;
	if (have < 12 || memcmp(b, "HTTP/1.", 7))
		return bench_net_fail(c, "not an HTTP response");
	*status = 0;
	for (int i = 9; i < 12; i++) {
		if (b[i] < '0' || b[i] > '9')
			return bench_net_fail(c, "bad status line");
		*status = *status * 10 + b[i] - '0';
	}
	return end + 4 - b;
}

int
bench_http_refused(struct bench_conn *c, int status, const char *p,
		   size_t n)
{
	return bench_net_fail(c, "HTTP %d: %.*s", status,
			      (int)(n < 160 ? n : 160), p);
}
