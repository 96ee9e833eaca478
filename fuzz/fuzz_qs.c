/* SPDX-License-Identifier: MIT */
/*
 * fuzz_qs: libFuzzer target for the query-string number parsers (src/qs.h)
 * as since=, limit=, timeout= and last= use them, and qs_text(). The
 * input is the decoded value libmicrohttpd would hand over, NULs (%00)
 * and all: MHD_lookup_connection_value() and its _n form are replaced
 * here by stubs returning it for every key. Each parser is checked
 * against a plain reference: an unsigned number is accepted exactly when
 * it is one or more digits that fit 64 bits, with their value; a bounded
 * one exactly when it is such digits within its range. No sign (+ or -),
 * no blank, no NUL, ever; qs_text() refuses exactly the values holding a
 * NUL.
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
static size_t value_len;

const char *
MHD_lookup_connection_value(struct MHD_Connection *connection,
			    enum MHD_ValueKind kind, const char *key)
{
	(void)connection;
	(void)kind;
	(void)key;
	return value;
}

enum MHD_Result
MHD_lookup_connection_value_n(struct MHD_Connection *connection,
			      enum MHD_ValueKind kind, const char *key,
			      size_t key_size, const char **value_ptr,
			      size_t *value_size_ptr)
{
	(void)connection;
	(void)kind;
	(void)key;
	(void)key_size;
	if (value_ptr)
		*value_ptr = value;
	if (value_size_ptr)
		*value_size_ptr = value_len;
	return MHD_YES;
}

/* The reference for qs_u64: 1 and *out when the value is digits fitting
 * 64 bits (a NUL is not a digit). */
static int
ref_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!value_len)
		return 0;
	for (const char *end = s + value_len; s < end; s++) {
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
	if (!value_len) {
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
	const char *text = NULL;
	int ok;

	if (size >= sizeof(value))
		size = sizeof(value) - 1;
	memcpy(value, data, size);
	value[size] = '\0';
	value_len = size;

	ok = qs_text(NULL, "after", &text, &e) == 0;
	if (ok != (strlen(value) == value_len) || (ok && text != value) ||
	    (!ok && (text || strcmp(e.code, "bad_param"))))
		abort();	/* a NUL refused, anything else as it is */
	ok = qs_u64(NULL, "since", &u, &e) == 0;
	if (!value_len) {
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
