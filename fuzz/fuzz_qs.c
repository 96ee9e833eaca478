/* SPDX-License-Identifier: MIT */
/*
 * fuzz_qs: libFuzzer target for the query-string number parsers (src/qs.h)
 * as since=, limit=, timeout= and last= use them. The input is the
 * decoded value libmicrohttpd would hand over (up to its first NUL):
 * MHD_lookup_connection_value() is replaced here by a stub returning it
 * for every key. Each parser is checked against a plain reference: an
 * unsigned number is accepted exactly when it is one or more digits that
 * fit 64 bits, with their value; a bounded one exactly when it is such
 * digits within its range. No sign (+ or -), no blank, ever.
 */
#include "autoconf.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "qs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char value[4096];

const char *
MHD_lookup_connection_value(struct MHD_Connection *connection,
			    enum MHD_ValueKind kind, const char *key)
{
	(void)connection;
	(void)kind;
	(void)key;
	return value;
}

/* The reference for qs_u64: 1 and *out when s is digits fitting 64 bits. */
static int
ref_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 1;
}

/* qs_int on [min, max] against the same rule: accepted exactly when the
 * text is digits fitting 64 bits whose value lies in the range, with that
 * value; refused with bad_param otherwise (a sign, a blank, anything
 * else); absent leaves *out alone. */
static void
check_int(long long min, long long max)
{
	struct im_error e = { 0 };
	long long v = LLONG_MIN + 7;
	uint64_t ref;
	int ok, want;

	ok = qs_int(NULL, "limit", min, max, &v, &e) == 0;
	if (!value[0]) {
		if (!ok || v != LLONG_MIN + 7)
			abort();	/* absent must leave *out alone */
		return;
	}
	want = ref_u64(value, &ref) && ref <= (uint64_t)LLONG_MAX &&
	       (long long)ref >= min && (long long)ref <= max;
	if (ok != want)
		abort();
	if (ok && v != (long long)ref)
		abort();
	if (!ok && (!e.code || strcmp(e.code, "bad_param")))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct im_error e = { 0 };
	uint64_t u = 12345, want;
	int ok;

	if (size >= sizeof(value))
		size = sizeof(value) - 1;
	memcpy(value, data, size);
	value[size] = '\0';

	ok = qs_u64(NULL, "since", &u, &e) == 0;
	if (!value[0]) {
		if (!ok || u != 12345)
			abort();
	} else if (ok != ref_u64(value, &want) || (ok && u != want)) {
		abort();
	} else if (!ok && (!e.code || strcmp(e.code, "bad_param"))) {
		abort();
	}
	check_int(1, 1000);		/* limit, last */
	check_int(1, 60);		/* timeout */
	check_int(LLONG_MIN, LLONG_MAX);
	check_int(-5, 5);
	return 0;
}
