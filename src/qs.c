/* SPDX-License-Identifier: MIT */
/*
 * qs: query-string helpers over MHD_lookup_connection_value(). Every
 * number in a query string follows one rule: one or more ASCII digits and
 * nothing else (no sign, no blanks, no "0x"), with no overflow. A value
 * holding a NUL (%00) is never cut short there: the numbers and
 * qs_text() refuse it, qs_strn() gives its whole length to a name rule.
 */
#include "autoconf.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "qs.h"

const char *
qs_str(struct MHD_Connection *c, const char *key)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

const char *
qs_strn(struct MHD_Connection *c, const char *key, size_t *len)
{
	const char *v = NULL;

	*len = 0;
	if (MHD_lookup_connection_value_n(c, MHD_GET_ARGUMENT_KIND, key,
					  strlen(key), &v, len) != MHD_YES)
		return NULL;
	if (v && *len < strlen(v))
		*len = strlen(v);	/* never shorter than the string */
	return v;
}

int
qs_text(struct MHD_Connection *c, const char *key, const char **out,
	struct im_error *e)
{
	size_t len;

	*out = qs_strn(c, key, &len);
	if (*out && strlen(*out) != len) {
		*out = NULL;
		im_error_set(e, IM_EINVAL, "bad_param",
			     "%s must not hold a NUL (%%00)", key);
		return -1;
	}
	return 0;
}

/* Reads len bytes at s, digits only, into *out. Returns 0, or -1 for
 * anything else (a sign, a blank, a NUL, another character, more than
 * 64 bits). */
static int
digits(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	for (const char *end = s + len; s < end; s++) {
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
	size_t len;
	const char *s = qs_strn(c, key, &len);
	uint64_t v;

	if (!s || !len)
		return 0;
	if (digits(s, len, &v)) {
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
	size_t len;
	const char *s = qs_strn(c, key, &len);
	uint64_t v;

	if (!s || !len)
		return 0;
	/* digits only, so a negative min is never reached */
	if (digits(s, len, &v) || v > (uint64_t)LLONG_MAX ||
	    (long long)v < min || (long long)v > max) {
		im_error_set(e, IM_EINVAL, "bad_param",
			     "%s must be a whole number from %lld to %lld "
			     "(digits only)", key, min < 0 ? 0 : min, max);
		return -1;
	}
	*out = (long long)v;
	return 0;
}
