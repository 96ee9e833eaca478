/* SPDX-License-Identifier: MIT */
/*
 * bench_json: the scanner. Depth is bounded by BENCH_JSON_DEPTH; strings
 * are skipped escape-aware but never decoded.
 */
#include "autoconf.h"

#include <string.h>

#include "bench_json.h"

#define BENCH_JSON_DEPTH 64

static const char *
ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
			   *p == '\r'))
		p++;
	return p;
}

/* p at the opening quote; returns after the closing one. */
static const char *
skip_str(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		const char *q = memchr(p, '"', (size_t)(end - p));
		const char *b;

		if (!q)
			return NULL;
		/* the quote is escaped if an odd run of backslashes ends
		 * just before it */
		b = q;
		while (b > p && b[-1] == '\\')
			b--;
		if (!((q - b) & 1))
			return q + 1;
		p = q;
	}
	return NULL;
}

/* Bytes that end a number, true, false or null. */
static const uint8_t scalar_end[256] = {
	[','] = 1, [']'] = 1, ['}'] = 1, [' '] = 1, ['\t'] = 1, ['\r'] = 1,
	['\n'] = 1, ['\0'] = 1,
};

static const char *
skip_depth(const char *p, const char *end, int depth)
{
	char close;

	p = ws(p, end);
	if (p >= end || depth > BENCH_JSON_DEPTH)
		return NULL;
	switch (*p) {
	case '"':
		return skip_str(p, end);
	case '{':
	case '[':
		close = *p == '{' ? '}' : ']';
		p = ws(p + 1, end);
		if (p < end && *p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = ws(p, end);
				if (p >= end || *p != '"')
					return NULL;
				p = ws(skip_str(p, end), end);
				if (!p || p >= end || *p != ':')
					return NULL;
				p++;
			}
			p = skip_depth(p, end, depth + 1);
			if (!p)
				return NULL;
			p = ws(p, end);
			if (p >= end)
				return NULL;
			if (*p == close)
				return p + 1;
			if (*p != ',')
				return NULL;
			p++;
		}
	default:
		/* number, true, false, null */
		if (!(*p == '-' || (*p >= '0' && *p <= '9') || *p == 't' ||
		      *p == 'f' || *p == 'n'))
			return NULL;
		while (p < end && !scalar_end[(unsigned char)*p])
			p++;
		return p;
	}
}

const char *
bench_json_skip(const char *p, const char *end)
{
	return skip_depth(p, end, 0);
}

int
bench_json_begin(struct bench_json_it *it, const char *p, const char *end,
		 char open)
{
	p = ws(p, end);
	if (p >= end || *p != open)
		return -1;
	it->p = p + 1;
	it->end = end;
	it->first = 1;
	return 0;
}

/* Moves past the separator before the next item: 1 more, 0 end, -1. */
static int
next_item(struct bench_json_it *it, char close)
{
	const char *p = ws(it->p, it->end);

	if (p >= it->end)
		return -1;
	if (*p == close) {
		it->p = p + 1;
		return 0;
	}
	if (!it->first) {
		if (*p != ',')
			return -1;
		p = ws(p + 1, it->end);
	}
	it->first = 0;
	it->p = p;
	return 1;
}

int
bench_json_member(struct bench_json_it *it, const char **key, size_t *klen,
		  const char **val, const char **vend)
{
	int n = bench_json_key(it, key, klen, val);
	const char *p;

	if (n <= 0)
		return n;
	p = bench_json_skip(*val, it->end);
	if (!p)
		return -1;
	*vend = it->p = p;
	return 1;
}

int
bench_json_key(struct bench_json_it *it, const char **key, size_t *klen,
	       const char **val)
{
	const char *p, *k;
	int n = next_item(it, '}');

	if (n <= 0)
		return n;
	p = it->p;
	if (*p != '"')
		return -1;
	k = p + 1;
	p = skip_str(p, it->end);
	if (!p)
		return -1;
	*key = k;
	*klen = (size_t)(p - 1 - k);
	p = ws(p, it->end);
	if (p >= it->end || *p != ':')
		return -1;
	*val = it->p = ws(p + 1, it->end);
	return 1;
}

int
bench_json_next(struct bench_json_it *it, const char **val)
{
	int n = next_item(it, ']');

	if (n > 0)
		*val = it->p;
	return n;
}

int
bench_json_u64(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	p = ws(p, end);
	if (p >= end || *p < '0' || *p > '9')
		return -1;
	/* 19 digits cannot overflow: check only from the 20th on (a
	 * division per digit was a hot spot) */
	for (; p < end && *p >= '0' && *p <= '9'; p++, n++) {
		if (n >= 19 &&
		    v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

int
bench_json_i64(const char *p, const char *end, int64_t *out)
{
	uint64_t v;
	int neg = 0;

	p = ws(p, end);
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	if (bench_json_u64(p, end, &v) || v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

int
bench_json_str(const char *p, const char *end, const char **s, size_t *len)
{
	const char *q;

	p = ws(p, end);
	if (p >= end || *p != '"')
		return -1;
	q = skip_str(p, end);
	if (!q)
		return -1;
	*s = p + 1;
	*len = (size_t)(q - 1 - (p + 1));
	return 0;
}

int
bench_json_key_is(const char *key, size_t klen, const char *k)
{
	return klen == strlen(k) && !memcmp(key, k, klen);
}

/* Reads data {"t","seq",...}; returns the byte after it, or NULL. */
static const char *
read_data(const char *p, const char *end, struct bench_env *e)
{
	struct bench_json_it it;
	const char *key, *val, *vend;
	size_t klen;
	int has_t = 0, has_seq = 0, n;

	if (bench_json_begin(&it, p, end, '{'))
		return bench_json_skip(p, end);
	while ((n = bench_json_member(&it, &key, &klen, &val, &vend)) > 0) {
		if (bench_json_key_is(key, klen, "t"))
			has_t = !bench_json_i64(val, vend, &e->t);
		else if (bench_json_key_is(key, klen, "seq"))
			has_seq = !bench_json_i64(val, vend, &e->seq);
	}
	e->has_seq = has_t && has_seq;
	return n < 0 ? NULL : it.p;
}

const char *
bench_json_env(const char *p, const char *end, struct bench_env *e)
{
	struct bench_json_it it;
	const char *key, *val, *vend;
	size_t klen;
	int has_id = 0, n;

	memset(e, 0, sizeof(*e));
	if (bench_json_begin(&it, p, end, '{'))
		return NULL;
	while ((n = bench_json_key(&it, &key, &klen, &val)) > 0) {
		if (bench_json_key_is(key, klen, "data")) {
			vend = read_data(val, end, e);
		} else {
			vend = bench_json_skip(val, end);
			if (!vend)
				return NULL;
			if (bench_json_key_is(key, klen, "id"))
				has_id = !bench_json_u64(val, vend, &e->id);
			else if (bench_json_key_is(key, klen, "room"))
				bench_json_str(val, vend, &e->room,
					       &e->room_len);
			else if (bench_json_key_is(key, klen, "event"))
				bench_json_str(val, vend, &e->event,
					       &e->event_len);
		}
		if (!vend)
			return NULL;
		it.p = vend;
	}
	if (n < 0 || !has_id || !e->room || !e->event)
		return NULL;
	return it.p;
}
