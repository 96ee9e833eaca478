/* SPDX-License-Identifier: MIT */
/*
 * qs: query-string parameters with checks: numbers in range, with a clear
 * "bad_param" error naming the parameter.
 */
#ifndef IMLAB_QS_H
#define IMLAB_QS_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "err.h"

/* Returns the decoded value of ?key= (borrowed from MHD), or NULL. A
 * value holding a NUL (%00) is cut there: use qs_strn() where that
 * matters. */
const char *qs_str(struct MHD_Connection *c, const char *key);

/* Returns the decoded value of ?key= (borrowed from MHD), or NULL, and
 * sets *len to its length, which is over strlen() when it holds a NUL
 * (%00), so that a name rule given the length refuses it. */
const char *qs_strn(struct MHD_Connection *c, const char *key, size_t *len);

/* qs_strn() for a parameter that is a plain string: returns it, NULL
 * when absent, and -1 with e (IM_EINVAL, "bad_param", naming key) when
 * it holds a NUL; 0 otherwise. */
int qs_text(struct MHD_Connection *c, const char *key, const char **out,
	    struct im_error *e);

/* Parses ?key= as an unsigned 64-bit number into *out: one or more ASCII
 * digits and nothing else (no sign, no blanks, no NUL), below 2^64. Leaves *out
 * alone when absent or empty. Returns 0, or -1 with e filled (IM_EINVAL,
 * "bad_param", naming key). */
int qs_u64(struct MHD_Connection *c, const char *key, uint64_t *out,
	   struct im_error *e);

/* Same rule (digits only, so never negative) for a number in [min, max];
 * a value outside it is the same error. */
int qs_int(struct MHD_Connection *c, const char *key, long long min,
	   long long max, long long *out, struct im_error *e);

#endif
