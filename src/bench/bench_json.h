/* SPDX-License-Identifier: MIT */
/*
 * bench_json: a zero-copy JSON scanner for the hot path of imlab-bench.
 * It walks objects and arrays in place and reads numbers and plain
 * strings, so a delivery costs no allocation; json-c is used for the few
 * control responses. Input is a byte range [p, end), not NUL-terminated.
 */
#ifndef IMLAB_BENCH_JSON_H
#define IMLAB_BENCH_JSON_H

#include <stddef.h>
#include <stdint.h>

/* A cursor inside an object or array. */
struct bench_json_it {
	const char *p, *end;
	int first;
};

/* Returns the first byte after the JSON value starting at p (leading
 * white space skipped), or NULL if it is malformed or runs past end. */
const char *bench_json_skip(const char *p, const char *end);

/* Starts iterating the object (open '{') or array ('[') at p. Returns 0,
 * or -1 if p holds something else. */
int bench_json_begin(struct bench_json_it *it, const char *p,
		     const char *end, char open);

/* Moves to the next member of an object: its raw key (without quotes,
 * escapes left as they are) and its value [*val, *vend). Returns 1, 0 at
 * the end, -1 on malformed input. */
int bench_json_member(struct bench_json_it *it, const char **key,
		      size_t *klen, const char **val, const char **vend);

/* Moves to the next member of an object like bench_json_member, but stops
 * at the start of its value (*val): the caller reads the value and sets
 * it->p to the byte after it before the next call. */
int bench_json_key(struct bench_json_it *it, const char **key, size_t *klen,
		   const char **val);

/* Moves to the next element of an array, stopping at its start (*val);
 * the caller sets it->p past it. 1, 0 at the end, -1 if malformed. */
int bench_json_next(struct bench_json_it *it, const char **val);

/* Reads an unsigned integer value; 0, or -1 if [p, end) is not one. */
int bench_json_u64(const char *p, const char *end, uint64_t *out);

/* Reads a signed integer value; 0 or -1. */
int bench_json_i64(const char *p, const char *end, int64_t *out);

/* Sets *s, *len to the raw content of the JSON string [p, end); 0 or -1. */
int bench_json_str(const char *p, const char *end, const char **s,
		   size_t *len);

/* Returns 1 if key/klen is the string k. */
int bench_json_key_is(const char *key, size_t klen, const char *k);

/* An imlab envelope, as far as the bench needs it. */
struct bench_env {
	uint64_t id;
	const char *room, *event;	/* raw, within the input */
	size_t room_len, event_len;
	int has_seq;		/* data held "t" and "seq" */
	int64_t t;		/* CLOCK_MONOTONIC ns of the send */
	int64_t seq;
};

/* Reads the envelope starting at p: {"id","room","event",...,"data":{...}}
 * in one pass. Returns the byte after it, or NULL if it is malformed or
 * has no id, room or event. */
const char *bench_json_env(const char *p, const char *end,
			   struct bench_env *e);

#endif
