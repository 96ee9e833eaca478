/* SPDX-License-Identifier: MIT */
/*
 * qs: query-string parameters with checks: numbers in range, with a clear
 * "bad_param" error naming the parameter.
 */
#ifndef IMLAB_QS_H
#define IMLAB_QS_H

#include <stdint.h>

#include <microhttpd.h>

#include "err.h"

/* Returns the decoded value of ?key= (borrowed from MHD), or NULL. */
const char *qs_str(struct MHD_Connection *c, const char *key);

/* Parses ?key= as an unsigned 64-bit number into *out: one or more ASCII
 * digits and nothing else (no sign, no blanks), below 2^64. Leaves *out
 * alone when absent or empty. Returns 0, or -1 with e filled (IM_EINVAL,
 * "bad_param", naming key). */
int qs_u64(struct MHD_Connection *c, const char *key, uint64_t *out,
	   struct im_error *e);

/* Same rule (digits only, so never negative) for a number in [min, max];
 * a value outside it is the same error. */
int qs_int(struct MHD_Connection *c, const char *key, long long min,
	   long long max, long long *out, struct im_error *e);

#endif
