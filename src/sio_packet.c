/* SPDX-License-Identifier: MIT */
/*
 * sio_packet: the Socket.IO v5 packet codec.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>

#include "jparse.h"
#include "sio_packet.h"

#define ACK_MAX 999999999999LL	/* ack ids above are refused */

static int
bad(struct im_error *e, const char *what)
{
	im_error_set(e, IM_EINVAL, "bad_packet", "%s", what);
	return -1;
}

/* Checks that the payload's JSON type fits the packet type. */
static int
shape_ok(enum sio_type t, struct json_object *o, int present)
{
	switch (t) {
	case SIO_CONNECT:
		return !present || json_object_is_type(o, json_type_object);
	case SIO_DISCONNECT:
		return !present;
	case SIO_CONNECT_ERROR:
		return present && (json_object_is_type(o, json_type_object) ||
				   json_object_is_type(o, json_type_string));
	case SIO_EVENT:
	case SIO_BINARY_EVENT:
		return present && json_object_is_type(o, json_type_array) &&
		       json_object_array_length(o) > 0 &&
		       json_object_is_type(json_object_array_get_idx(o, 0),
					   json_type_string);
	case SIO_ACK:
	case SIO_BINARY_ACK:
		return present && json_object_is_type(o, json_type_array);
	default:
		return 0;
	}
}

int
sio_decode(const char *s, size_t len, struct sio_pkt *out,
	   struct im_error *e)
{
	size_t i = 1;
	struct json_object *o = NULL;

	if (!len || s[0] < '0' || s[0] >= '0' + SIO__COUNT)
		return bad(e, "unknown packet type");
	memset(out, 0, sizeof(*out));
	out->type = (enum sio_type)(s[0] - '0');
	out->nsp = "/";
	out->nsp_len = 1;
	out->ack = -1;
	if (out->type == SIO_BINARY_EVENT || out->type == SIO_BINARY_ACK) {
		unsigned n = 0;
		size_t d = i;

		while (i < len && s[i] >= '0' && s[i] <= '9' && i - d < 3)
			n = n * 10 + (unsigned)(s[i++] - '0');
		if (i == d || i >= len || s[i] != '-' || n == 0 ||
		    n > SIO_MAX_ATTACH)
			return bad(e, "bad attachment count");
		out->attachments = n;
		i++;
	}
	if (i < len && s[i] == '/') {
		const char *c = memchr(s + i, ',', len - i);
		size_t end = c ? (size_t)(c - s) : len;

		if (end - i > SIO_NSP_MAX)
			return bad(e, "namespace too long");
		out->nsp = s + i;
		out->nsp_len = end - i;
		i = c ? end + 1 : len;
	}
	if (i < len && s[i] >= '0' && s[i] <= '9') {
		long long a = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			a = a * 10 + (s[i++] - '0');
			if (a > ACK_MAX)
				return bad(e, "ack id too large");
		}
		out->ack = a;
	}
	if (i < len) {
		struct im_error je;

		if (jparse(s + i, len - i, &o, &je))
			return bad(e, "the payload is not valid JSON");
		out->data = s + i;
		out->len = len - i;
	}
	if (!shape_ok(out->type, o, out->data != NULL)) {
		json_object_put(o);
		return bad(e, "the payload does not fit the packet type");
	}
	json_object_put(o);
	return 0;
}

/* Returns the index just after the JSON value starting at s[i] (valid
 * JSON, so only strings and brackets need care). */
static size_t
skip_value(const char *s, size_t n, size_t i)
{
	int depth = 0;

	while (i < n) {
		char c = s[i];

		if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			i++;
		} else if (c == '[' || c == '{') {
			depth++;
			i++;
		} else if (c == ']' || c == '}') {
			if (!depth)
				return i;
			depth--;
			i++;
		} else if (c == ',' && !depth) {
			return i;
		} else {
			i++;
		}
		if (!depth && i < n && (s[i] == ',' || s[i] == ']' ||
					s[i] == '}'))
			return i;
	}
	return i;
}

static size_t
skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
			 s[i] == '\r'))
		i++;
	return i;
}

int
sio_array_next(const char *s, size_t n, size_t *pos, size_t *start,
	       size_t *elen)
{
	size_t i = *pos, end;

	if (i == 0) {
		i = skip_ws(s, n, 0);
		if (i >= n || s[i] != '[')
			return 0;
		i++;
	} else if (i < n && s[i] == ',') {
		i++;
	}
	i = skip_ws(s, n, i);
	if (i >= n || s[i] == ']')
		return 0;
	end = skip_value(s, n, i);
	*start = i;
	while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t' ||
			   s[end - 1] == '\n' || s[end - 1] == '\r'))
		end--;
	*elen = end - i;
	*pos = skip_ws(s, n, end);
	return 1;
}

size_t
sio_encode_head(char *out, size_t cap, enum sio_type type, const char *nsp,
		size_t nsp_len, unsigned attachments, long long ack)
{
	size_t o = 0;
	int n;

	out[o++] = (char)('0' + type);
	if (type == SIO_BINARY_EVENT || type == SIO_BINARY_ACK) {
		n = snprintf(out + o, cap - o, "%u-", attachments);
		o += (size_t)n;
	}
	if (nsp && !(nsp_len == 1 && nsp[0] == '/')) {
		memcpy(out + o, nsp, nsp_len);
		o += nsp_len;
		out[o++] = ',';
	}
	if (ack >= 0) {
		n = snprintf(out + o, cap - o, "%lld", ack);
		o += (size_t)n;
	}
	return o;
}
