/* SPDX-License-Identifier: MIT */
/*
 * fuzz_params: libFuzzer target for the subscription request parser,
 * tp_params_parse() (src/tp_params.h), over an in-memory store and room
 * registry made afresh for each input. An input is a query string (what
 * follows the ? of /poll, /longpoll or /sse), then optionally a newline
 * and a Last-Event-ID header value. libmicrohttpd is replaced by stubs:
 * the query is split on & and = and %XX-decoded as libmicrohttpd 0.9.75
 * does (NULs and all, the length kept), and the first value of a key is
 * what a lookup returns. Besides the sanitizers it checks the parser's
 * promises: a refusal names a code and creates no room; an acceptance
 * holds 1 to --rooms-per-sub distinct, valid rooms, exactly the names of
 * the rooms= list once each, a valid cid or none, a since that is the
 * Last-Event-ID when one is given, else since= (digits only), else 0;
 * and every room it pinned is gone once released (none held a message).
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "cursor.h"
#include "log.h"
#include "names.h"
#include "netem_http.h"
#include "room.h"
#include "server_ctx.h"
#include "store.h"
#include "tp_params.h"

#define MAX_ARGS 64
#define PER_SUB 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- libmicrohttpd, as far as tp_params and qs use it ---------------- */

struct arg {
	char *key, *value;	/* NUL-terminated copies */
	size_t key_len, value_len;
};

static struct arg args[MAX_ARGS];
static size_t nargs;
static char *leid;		/* the Last-Event-ID value, or NULL */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A NUL-terminated %XX-decoded copy of n bytes at s; *len its length. */
static char *
unescape(const char *s, size_t n, size_t *len)
{
	char *d = malloc(n + 1);
	size_t o = 0;

	if (!d)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			d[o++] = (char)(hexval(s[i + 1]) * 16 +
					hexval(s[i + 2]));
			i += 2;
		} else {
			d[o++] = s[i];
		}
	}
	d[o] = '\0';
	*len = o;
	return d;
}

static void
parse_query(const char *q, size_t n)
{
	const char *end = q + n;

	while (q < end && nargs < MAX_ARGS) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(q, '=', (size_t)(stop - q));
		struct arg *a = &args[nargs++];

		a->key = unescape(q, (size_t)((eq ? eq : stop) - q),
				  &a->key_len);
		if (eq)
			a->value = unescape(eq + 1, (size_t)(stop - eq - 1),
					    &a->value_len);
		else
			a->value = unescape("", 0, &a->value_len);
		q = amp ? amp + 1 : end;
	}
}

static void
free_query(void)
{
	for (size_t i = 0; i < nargs; i++) {
		free(args[i].key);
		free(args[i].value);
	}
	nargs = 0;
	free(leid);
	leid = NULL;
}

static const struct arg *
find(const char *key)
{
	for (size_t i = 0; i < nargs; i++)
		if (args[i].key_len == strlen(key) &&
		    !strcmp(args[i].key, key))
			return &args[i];
	return NULL;
}

const char *
MHD_lookup_connection_value(struct MHD_Connection *connection,
			    enum MHD_ValueKind kind, const char *key)
{
	const struct arg *a;

	(void)connection;
	if (kind == MHD_HEADER_KIND)
		return strcasecmp(key, "Last-Event-ID") ? NULL : leid;
	a = find(key);
	return a ? a->value : NULL;
}

enum MHD_Result
MHD_lookup_connection_value_n(struct MHD_Connection *connection,
			      enum MHD_ValueKind kind, const char *key,
			      size_t key_size, const char **value_ptr,
			      size_t *value_size_ptr)
{
	const struct arg *a = kind == MHD_GET_ARGUMENT_KIND ? find(key) : NULL;

	(void)connection;
	(void)key_size;
	if (!a)
		return MHD_NO;
	if (value_ptr)
		*value_ptr = a->value;
	if (value_size_ptr)
		*value_size_ptr = a->value_len;
	return MHD_YES;
}

/* The emulated delay (netem_http.c, which needs the server's clock
 * thread) is not what this target checks: no delay, always accepted. */
int
netem_http_parse(struct MHD_Connection *c, struct server *srv,
		 struct netem *n, struct im_error *e)
{
	(void)c;
	(void)srv;
	(void)e;
	memset(n, 0, sizeof(*n));
	return 0;
}

/* ---- the reference ---------------------------------------------------- */

/* 1 and *out when the n bytes at s are digits fitting 64 bits. */
static int
ref_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*out = v;
	return 1;
}

/* How many distinct names the rooms= value lists; -1 if any is bad (an
 * empty one too, but for a single trailing comma, which ends the list). */
static int
ref_rooms(const struct arg *a)
{
	const char *s = a->value, *end = s + a->value_len;
	int n = 0;

	while (s < end) {
		const char *c = memchr(s, ',', (size_t)(end - s));
		size_t len = (size_t)((c ? c : end) - s);
		int dup = 0;

		if (!names_valid(NAME_ROOM, s, len))
			return -1;
		for (const char *t = a->value; t < s;) {
			const char *tc = memchr(t, ',', (size_t)(s - t));
			size_t tl = (size_t)((tc ? tc : s) - t);

			if (tl == len && !memcmp(t, s, len))
				dup = 1;
			t = tc ? tc + 1 : s;
		}
		n += !dup;
		if (!c)
			break;
		s = c + 1;
	}
	return n;
}

/* Asserts p's rooms are exactly the rooms= names, valid and distinct. */
static void
check_rooms(const struct tp_params *p, const struct arg *a)
{
	int want = ref_rooms(a);

	if (want < 1 || want > PER_SUB || (int)p->nrooms != want)
		abort();
	for (size_t i = 0; i < p->nrooms; i++) {
		const char *name = room_name(p->rooms[i]);
		size_t len = strlen(name);
		int listed = 0;

		if (!names_valid(NAME_ROOM, name, len) ||
		    p->rings[i] != room_ring(p->rooms[i]))
			abort();
		for (size_t j = 0; j < i; j++)
			if (p->rooms[j] == p->rooms[i])
				abort();	/* twice */
		for (const char *s = a->value; s; ) {
			const char *c = strchr(s, ',');
			size_t l = c ? (size_t)(c - s) : strlen(s);

			if (l == len && !memcmp(s, name, len))
				listed = 1;
			s = c ? c + 1 : NULL;
		}
		if (!listed)
			abort();	/* a room nobody asked for */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nl = memchr(in, '\n', size);
	struct rooms_config rc = { .max_rooms = 64,
				   .presence_ttl_ms = 60000,
				   .room_idle_ms = 60000 };
	struct server srv;
	struct tp_params p;
	struct im_error e = { 0 };
	const struct arg *a;
	uint64_t want_since = 0;
	struct cursor cur;
	int rc_parse;

	log_set_level(LOG_LVL_ERROR);
	parse_query(in, nl ? (size_t)(nl - in) : size);
	if (nl) {
		size_t n = size - (size_t)(nl - in) - 1;

		leid = malloc(n + 1);
		if (!leid)
			abort();
		memcpy(leid, nl + 1, n);
		leid[n] = '\0';		/* a header value ends at a NUL */
	}
	memset(&srv, 0, sizeof(srv));
	srv.cfg.rooms_per_sub = PER_SUB;
	srv.st = store_create(16, 1);
	srv.rs = srv.st ? rooms_create(srv.st, &rc) : NULL;
	if (!srv.rs)
		abort();

	rc_parse = tp_params_parse(NULL, &srv, 1, &p, &e);
	if (rc_parse) {
		if (!e.code || p.nrooms || rooms_count(srv.rs))
			abort();	/* no code, or a room left behind */
	} else {
		a = find("rooms");
		if (!a)
			abort();
		check_rooms(&p, a);
		if (rooms_count(srv.rs) != p.nrooms)
			abort();
		if (leid && *leid) {
			if (!ref_u64(leid, strlen(leid), &want_since))
				abort();	/* junk Last-Event-ID passed */
		} else if ((a = find("since")) && a->value_len &&
			   !ref_u64(a->value, a->value_len, &want_since)) {
			abort();		/* junk since passed */
		}
		if (p.since != want_since)
			abort();
		if (p.cid && !names_valid(NAME_CID, p.cid, strlen(p.cid)))
			abort();
		if (p.cid && (a = find("cid")) && a->value_len != strlen(p.cid))
			abort();		/* a cid cut at a NUL */
		if (tp_params_cursor(&p, &srv, &cur) != IM_OK)
			abort();
		cursor_free(&cur);
	}
	tp_params_free(&p);
	tp_params_free(&p);	/* safe twice */
	if (rooms_count(srv.rs))
		abort();		/* a pin was never released */
	rooms_destroy(&srv.rs);
	store_destroy(&srv.st);
	free_query();
	return 0;
}
