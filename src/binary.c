/* SPDX-License-Identifier: MIT */
/*
 * binary: the {"_binary":"<base64>"} form of a binary value in "data":
 * the walk that checks it, a small base64 codec, and the placeholders of
 * the transports that carry the bytes apart (binary.h).
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binary.h"
#include "jparse.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of c, or -1. */
static int
sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long
binary_b64_valid(const char *s, size_t len)
{
	size_t pad = 0;

	if (len % 4)
		return -1;
	if (len && s[len - 1] == '=')
		pad = len >= 2 && s[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (sextet((unsigned char)s[i]) < 0)
			return -1;
	return (long)(len / 4 * 3 - pad);
}

long
binary_b64_decode_bare(const char *s, size_t len, unsigned char *out)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = sextet((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
}

long
binary_b64_decode(const char *s, size_t len, unsigned char *out)
{
	long n = binary_b64_valid(s, len);

	if (n < 0)
		return -1;
	/* valid: all but the padding (len / 4 * 3 - n characters) decodes */
	return binary_b64_decode_bare(s, len - (len / 4 * 3 - (size_t)n), out);
}

size_t
binary_b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t
binary_b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	return o;
}

static enum im_err
walk(struct json_object *v, size_t max, int depth, struct im_error *e)
{
	struct json_object *b;

	if (depth > JPARSE_DEPTH)
		return im_error_set(e, IM_EINVAL, "bad_binary",
				    "\"data\" is nested too deeply");
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		for (size_t i = 0; i < n; i++) {
			enum im_err err = walk(json_object_array_get_idx(v, i),
					       max, depth + 1, e);

			if (err)
				return err;
		}
		return IM_OK;
	}
	if (!json_object_is_type(v, json_type_object))
		return IM_OK;
	if (json_object_object_get_ex(v, BINARY_KEY, &b)) {
		const char *s;
		size_t len;
		long n;

		if (json_object_object_length(v) != 1 ||
		    !json_object_is_type(b, json_type_string))
			return im_error_set(e, IM_EINVAL, "bad_binary",
				"a binary value is {\"_binary\":\"<base64>\"}"
				" alone");
		s = json_object_get_string(b);
		len = (size_t)json_object_get_string_len(b);
		n = binary_b64_valid(s, len);
		if (n < 0)
			return im_error_set(e, IM_EINVAL, "bad_binary",
				"\"_binary\" is not padded standard base64");
		if ((size_t)n > max)
			return im_error_set(e, IM_ETOOBIG, "too_large",
				"a binary value is %ld bytes; the limit is %zu",
				n, max);
		return IM_OK;
	}
	json_object_object_foreach(v, key, val) {
		enum im_err err;

		(void)key;
		err = walk(val, max, depth + 1, e);
		if (err)
			return err;
	}
	return IM_OK;
}

enum im_err
binary_check(struct json_object *v, size_t max, struct im_error *e)
{
	return v ? walk(v, max, 0, e) : IM_OK;
}

#define MARK "{\"" BINARY_KEY "\":\""	/* {"_binary":" */
#define MARK_LEN (sizeof(MARK) - 1)
#define PLACEHOLDER "_placeholder"

int
binary_find(const char *json, size_t len, struct binary_span *v, int max)
{
	size_t at = 0;
	int n = 0;

	while (at < len) {
		const char *m = memmem(json + at, len - at, MARK, MARK_LEN);
		size_t i;

		if (!m)
			break;
		if (n == max)
			return max + 1;
		v[n].start = (size_t)(m - json);
		i = v[n].start + MARK_LEN;
		v[n].b64 = i;
		v[n].escaped = 0;
		while (i < len && json[i] != '"') {
			if (json[i] == '\\') {
				v[n].escaped = 1;
				i++;
			}
			i++;
		}
		if (i + 1 >= len || json[i + 1] != '}')
			return -1;
		v[n].b64_len = i - v[n].b64;
		v[n].end = i + 2;
		at = v[n].end;
		n++;
	}
	return n;
}

unsigned char *
binary_span_decode(const char *json, const struct binary_span *v,
		   size_t pre, size_t *len)
{
	struct json_object *o = NULL, *s;
	const char *b64 = json + v->b64;
	size_t n = v->b64_len;
	unsigned char *out = NULL;
	long dec;

	if (v->escaped) {	/* e.g. "\/": let json-c read the string */
		struct json_tokener *tok = json_tokener_new();

		if (!tok)
			return NULL;
		o = json_tokener_parse_ex(tok, json + v->start,
					  (int)(v->end - v->start));
		json_tokener_free(tok);
		if (!o || !json_object_object_get_ex(o, BINARY_KEY, &s) ||
		    !json_object_is_type(s, json_type_string)) {
			json_object_put(o);
			return NULL;
		}
		b64 = json_object_get_string(s);
		n = (size_t)json_object_get_string_len(s);
	}
	dec = binary_b64_valid(b64, n);
	if (dec >= 0)
		out = malloc(pre + (size_t)dec + 1);
	if (out && binary_b64_decode(b64, n, out + pre) == dec) {
		*len = (size_t)dec;
	} else {
		free(out);
		out = NULL;
	}
	json_object_put(o);
	return out;
}

size_t
binary_placeholders(const char *json, size_t len,
		    const struct binary_span *v, int n, char *out)
{
	size_t o = 0, at = 0;

	for (int i = 0; i < n; i++) {
		memcpy(out + o, json + at, v[i].start - at);
		o += v[i].start - at;
		o += (size_t)snprintf(out + o, BINARY_PLACEHOLDER_MAX,
				      "{\"" PLACEHOLDER "\":true,\"num\":%d}",
				      i);
		at = v[i].end;
	}
	memcpy(out + o, json + at, len - at);
	return o + len - at;
}

/* {"_binary":"<base64 of frame i>"}, or NULL when out of memory. */
static struct json_object *
value_of(const struct binary_frames *f, int i)
{
	size_t n = binary_b64_len(f->len[i]);
	char *s = malloc(n + 1);
	struct json_object *o, *str;

	if (!s)
		return NULL;
	binary_b64_encode(f->p[i], f->len[i], s);
	str = json_object_new_string_len(s, (int)n);
	free(s);
	o = str ? json_object_new_object() : NULL;
	if (!o || json_object_object_add(o, BINARY_KEY, str)) {
		json_object_put(o);
		json_object_put(str);
		return NULL;
	}
	return o;
}

/* The frame a placeholder object v names: its num, -1 when v is not a
 * placeholder, -2 when it is a bad one. */
static int
placeholder(const struct binary_frames *f, struct json_object *v)
{
	struct json_object *p, *num;
	int64_t i;

	if (!json_object_is_type(v, json_type_object) ||
	    !json_object_object_get_ex(v, PLACEHOLDER, &p))
		return -1;
	if (!json_object_is_type(p, json_type_boolean) ||
	    !json_object_get_boolean(p) ||
	    json_object_object_length(v) != 2 ||
	    !json_object_object_get_ex(v, "num", &num) ||
	    !json_object_is_type(num, json_type_int))
		return -2;
	i = json_object_get_int64(num);
	return i >= 0 && i < f->n ? (int)i : -2;
}

/* The value to put in place of c: a new {"_binary"} (*nv), or NULL when c
 * is no placeholder; returns 0, -1 (bad placeholder), -2 (memory). */
static int
swap(struct binary_frames *f, struct json_object *c, struct json_object **nv)
{
	int i = placeholder(f, c);

	*nv = NULL;
	if (i == -1)
		return 0;
	if (i == -2)
		return -1;
	if (!(*nv = value_of(f, i)))
		return -2;
	f->used |= (uint64_t)1 << i;
	return 0;
}

static int
fill(struct binary_frames *f, struct json_object *v, int depth)
{
	struct json_object *nv;
	int rc;

	if (depth > JPARSE_DEPTH)
		return -1;
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		for (size_t k = 0; k < n; k++) {
			struct json_object *c = json_object_array_get_idx(v, k);

			if ((rc = swap(f, c, &nv)))
				return rc;
			if (nv && json_object_array_put_idx(v, k, nv))
				return json_object_put(nv), -2;
			if (!nv && (rc = fill(f, c, depth + 1)))
				return rc;
		}
		return 0;
	}
	if (!json_object_is_type(v, json_type_object))
		return 0;
	json_object_object_foreach(v, key, c) {
		if ((rc = swap(f, c, &nv)))
			return rc;
		/* replacing a key's value keeps the iteration going */
		if (nv && json_object_object_add(v, key, nv))
			return json_object_put(nv), -2;
		if (!nv && (rc = fill(f, c, depth + 1)))
			return rc;
	}
	return 0;
}

enum im_err
binary_fill(struct json_object *v, struct binary_frames *f,
	    struct im_error *e)
{
	int rc = fill(f, v, 0);

	if (rc == -1)
		return im_error_set(e, IM_EINVAL, "bad_binary",
			"a placeholder is {\"_placeholder\":true,\"num\":i}, i "
			"one of the %d binary attachments from 0", f->n);
	if (rc)
		return im_error_set(e, IM_ENOMEM, "no_memory",
				    "out of memory");
	return IM_OK;
}
