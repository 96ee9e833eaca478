/* SPDX-License-Identifier: MIT */
/*
 * binary: the {"_binary":"<base64>"} form of a binary value in "data":
 * the walk that checks it and a small base64 codec (binary.h).
 */
#include "autoconf.h"

#include <stdint.h>
#include <string.h>

#include "binary.h"
#include "jparse.h"

static const char b64[] =
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
binary_b64_decode(const char *s, size_t len, unsigned char *out)
{
	long n = binary_b64_valid(s, len);
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (n < 0)
		return -1;
	for (size_t i = 0; i < len && s[i] != '='; i++) {
		acc = (acc << 6) | (uint32_t)sextet((unsigned char)s[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
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

		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
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
