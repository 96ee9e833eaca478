/* SPDX-License-Identifier: MIT */
/*
 * jparse: strict JSON parsing of untrusted input with json-c's tokener:
 * explicit end of input (so a bare top-level number finishes), a depth
 * limit, nothing but whitespace allowed after the value, valid UTF-8 only
 * (no overlong forms or surrogates), no raw control character inside a
 * string (json-c takes a raw tab or CR), and numbers only as RFC 8259 writes
 * them (json-c alone accepts NaN, Infinity and "1.", and would write them
 * back into envelopes that no client could parse). It also finds a
 * member's value in the text as written, so a publish's "data" is
 * delivered byte for byte rather than re-serialised (json-c would turn
 * 123456789012345678901234567890 into 18446744073709551615).
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

/* Finds the member key of the JSON object text s[0..n), which jparse()
 * accepted: returns 1 and sets *start and *len to the span of its value
 * exactly as written (the last one when key repeats, as json-c keeps),
 * or 0 when s has no such member. Escaped key spellings match. */
int jparse_member_span(const char *s, size_t n, const char *key,
		       size_t *start, size_t *len);

/* Copies the JSON text s[0..n) (accepted by jparse()) into out (n bytes
 * at least) without the whitespace between tokens, every token byte for
 * byte; returns the length written. Strings hold no raw newline, so the
 * result is one line (an SSE data: line needs that). */
size_t jparse_compact(const char *s, size_t n, char *out);

#endif
