/* SPDX-License-Identifier: MIT */
/*
 * qs: query-string helpers over MHD_lookup_connection_value().
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>

#include "qs.h"

const char *
qs_str(struct MHD_Connection *c, const char *key)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

int
qs_u64(struct MHD_Connection *c, const char *key, uint64_t *out,
       struct im_error *e)
{
	const char *s = qs_str(c, key);
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || *s < '0' || *s > '9') {
		im_error_set(e, IM_EINVAL, "bad_param",
			     "%s must be an unsigned whole number", key);
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
	long long v;
	char *end;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max) {
		im_error_set(e, IM_EINVAL, "bad_param",
			     "%s must be a whole number from %lld to %lld",
			     key, min, max);
		return -1;
	}
	*out = v;
	return 0;
}
