/* SPDX-License-Identifier: MIT */
/*
 * qs: query-string helpers over MHD_lookup_connection_value(). Every
 * number in a query string follows one rule: one or more ASCII digits and
 * nothing else (no sign, no blanks, no "0x"), with no overflow.
 */
#include "autoconf.h"

#include <limits.h>
#include <stdint.h>

#include "qs.h"

const char *
qs_str(struct MHD_Connection *c, const char *key)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

/* Reads s, digits only, into *out. Returns 0, or -1 for anything else
 * (a sign, a blank, another character, more than 64 bits). */
static int
digits(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	for (; *s; s++) {
		unsigned d = (unsigned)(unsigned char)*s - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
qs_u64(struct MHD_Connection *c, const char *key, uint64_t *out,
       struct im_error *e)
{
	const char *s = qs_str(c, key);
	uint64_t v;

	if (!s || !*s)
		return 0;
	if (digits(s, &v)) {
		im_error_set(e, IM_EINVAL, "bad_param",
			     "%s must be an unsigned whole number (digits "
			     "only, below 2^64)", key);
		return -1;
	}
	*out = v;
	return 0;
}

int
qs_int(struct MHD_Connection *c, const char *key, long long min,
       long long max, long long *out, struct im_error *e)
{
	const char *s = qs_str(c, key);
	uint64_t v;

	if (!s || !*s)
		return 0;
	/* digits only, so a negative min is never reached */
	if (digits(s, &v) || v > (uint64_t)LLONG_MAX ||
	    (long long)v < min || (long long)v > max) {
		im_error_set(e, IM_EINVAL, "bad_param",
			     "%s must be a whole number from %lld to %lld "
			     "(digits only)", key, min < 0 ? 0 : min, max);
		return -1;
	}
	*out = (long long)v;
	return 0;
}
