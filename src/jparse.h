/* SPDX-License-Identifier: MIT */
/*
 * jparse: strict JSON parsing of untrusted input with json-c's tokener:
 * explicit end of input (so a bare top-level number finishes), a depth
 * limit, nothing but whitespace allowed after the value, valid UTF-8 only
 * (no overlong forms or surrogates), and numbers only as RFC 8259 writes
 * them (json-c alone accepts NaN, Infinity and "1.", and would write them
 * back into envelopes that no client could parse).
 */
#ifndef IMLAB_JPARSE_H
#define IMLAB_JPARSE_H

#include <stddef.h>

#include <json-c/json.h>

#include "err.h"

#define JPARSE_DEPTH 32

/* Parses buf[0..len) as one JSON value. Returns 0 and sets *out to a new
 * object the caller must json_object_put() (NULL for the JSON null), or -1
 * with e filled ("bad_json" and the tokener's reason). */
int jparse(const char *buf, size_t len, struct json_object **out,
	   struct im_error *e);

/* Returns the string member key of obj (borrowed), or NULL when it is
 * absent or null; sets *bad to 1 when it is present with another type.
 * The string may hold an embedded NUL: with len, *len is its real length
 * (check it: names_check() does); without, such a string is bad too. */
const char *jparse_str(struct json_object *obj, const char *key, size_t *len,
		       int *bad);

#endif
