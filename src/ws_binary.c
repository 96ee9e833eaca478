/* SPDX-License-Identifier: MIT */
/*
 * ws_binary: a /ws send announced with "binary":N, its N frames, and the
 * rebuilt op with the frames as {"_binary":"<base64>"} (ws_binary.h).
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binary.h"
#include "jparse.h"
#include "ws_binary.h"

#define MSG_HEAD "{\"op\":\"msg\",\"msg\":"

struct ws_binary {
	char *text;		/* the send op as received, owned */
	char *ref;		/* its serialised ref, owned, or NULL */
	size_t text_len;
	int want, have;		/* frames announced, received */
	size_t bytes, max;	/* frame bytes so far, their limit */
	unsigned char *frame[WS_BINARY_MAX];	/* owned */
	size_t frame_len[WS_BINARY_MAX];
};

int
ws_binary_count(struct json_object *o, struct im_error *e)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, "binary", &v))
		return 0;
	n = json_object_is_type(v, json_type_int) ?
	    json_object_get_int64(v) : -1;
	if (n < 1 || n > WS_BINARY_MAX) {
		im_error_set(e, IM_EINVAL, "bad_binary",
			     "\"binary\" is how many binary frames follow, "
			     "1-%d", WS_BINARY_MAX);
		return -1;
	}
	return (int)n;
}

struct ws_binary *
ws_binary_start(const char *text, size_t len, const char *ref, int n,
		size_t max)
{
	struct ws_binary *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->text = malloc(len + 1);
	b->ref = ref ? strdup(ref) : NULL;
	if (!b->text || (ref && !b->ref)) {
		free(b->text);
		free(b->ref);
		free(b);
		return NULL;
	}
	memcpy(b->text, text, len);
	b->text[len] = '\0';
	b->text_len = len;
	b->want = n;
	b->max = max;
	return b;
}

const char *
ws_binary_ref(const struct ws_binary *b)
{
	return b->ref;
}

int
ws_binary_add(struct ws_binary *b, const void *buf, size_t len,
	      struct im_error *e)
{
	unsigned char *f;

	if (b->have >= b->want)		/* the caller's bug; refuse */
		return im_error_set(e, IM_EINVAL, "bad_binary",
				    "no binary frame was announced"), -1;
	if (len > b->max - b->bytes) {
		im_error_set(e, IM_ETOOBIG, "too_large",
			     "the binary frames of one send are over %zu "
			     "bytes", b->max);
		return -1;
	}
	f = malloc(len ? len : 1);
	if (!f) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return -1;
	}
	memcpy(f, buf, len);
	b->frame[b->have] = f;
	b->frame_len[b->have] = len;
	b->have++;
	b->bytes += len;
	return b->have == b->want;
}

char *
ws_binary_build(struct ws_binary *b, size_t *len, struct im_error *e)
{
	struct binary_frames f = { .n = b->want,
		.p = (const unsigned char *const *)b->frame,
		.len = b->frame_len, .used = 0 };
	struct json_object *o = NULL, *data, *wrap = NULL;
	enum im_err err = IM_OK;
	const char *s;
	char *out = NULL;
	size_t n;

	if (jparse(b->text, b->text_len, &o, e))
		return NULL;
	json_object_object_del(o, "binary");
	if (json_object_object_get_ex(o, "data", &data)) {
		/* in an array, so that a lone placeholder can be replaced */
		wrap = json_object_new_array();
		if (!wrap || json_object_array_add(wrap, json_object_get(data)))
			err = im_error_set(e, IM_ENOMEM, "no_memory",
					   "out of memory");
		else
			err = binary_fill(wrap, &f, e);
		if (!err && json_object_object_add(o, "data", json_object_get(
				json_object_array_get_idx(wrap, 0))))
			err = im_error_set(e, IM_ENOMEM, "no_memory",
					   "out of memory");
		json_object_put(wrap);
	}
	if (!err && f.used != ((uint64_t)1 << b->want) - 1)
		err = im_error_set(e, IM_EINVAL, "bad_binary", "each of the %d "
			"binary frames is named by a "
			"{\"_placeholder\":true,\"num\":i} in \"data\", i "
			"from 0", b->want);
	if (!err) {
		s = json_object_to_json_string_length(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
			&n);
		out = s ? malloc(n + 1) : NULL;
		if (out) {
			memcpy(out, s, n + 1);
			*len = n;
		} else {
			im_error_set(e, IM_ENOMEM, "no_memory",
				     "out of memory");
		}
	}
	json_object_put(o);
	return out;
}

void
ws_binary_free(struct ws_binary **bp)
{
	struct ws_binary *b = *bp;

	if (!b)
		return;
	*bp = NULL;
	for (int i = 0; i < b->have; i++)
		free(b->frame[i]);
	free(b->text);
	free(b->ref);
	free(b);
}

struct ws_btx {
	int n, next;		/* frames, the next to take */
	unsigned char *frame[WS_BINARY_OUT_MAX + 1];	/* owned; [0] text */
	size_t len[WS_BINARY_OUT_MAX + 1];
	size_t pre;
};

int
ws_binary_split(const char *json, size_t len, size_t pre,
		struct ws_btx **out)
{
	struct binary_span v[WS_BINARY_OUT_MAX];
	struct ws_btx *t;
	int n = binary_find(json, len, v, WS_BINARY_OUT_MAX);
	size_t cap, o;

	*out = NULL;
	if (n <= 0 || n > WS_BINARY_OUT_MAX)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->pre = pre;
	t->n = n + 1;
	for (int i = 0; i < n; i++)
		if (!(t->frame[i + 1] = binary_span_decode(json, &v[i], pre,
							   &t->len[i + 1]))) {
			ws_btx_free(&t);
			return 0;	/* unreadable: send it as it is */
		}
	cap = sizeof(MSG_HEAD) + len + (size_t)n * BINARY_PLACEHOLDER_MAX + 32;
	t->frame[0] = malloc(pre + cap);
	if (!t->frame[0]) {
		ws_btx_free(&t);
		return -1;
	}
	o = pre;
	memcpy(t->frame[0] + o, MSG_HEAD, sizeof(MSG_HEAD) - 1);
	o += sizeof(MSG_HEAD) - 1;
	o += binary_placeholders(json, len, v, n, (char *)t->frame[0] + o);
	o += (size_t)snprintf((char *)t->frame[0] + o, cap - (o - pre),
			      ",\"binary\":%d}", n);
	t->len[0] = o - pre;
	*out = t;
	return 1;
}

int
ws_binary_next(struct ws_btx *t, unsigned char **buf, size_t *len,
	       int *binary)
{
	if (t->next >= t->n)
		return -1;
	*buf = t->frame[t->next] + t->pre;
	*len = t->len[t->next];
	*binary = t->next > 0;
	t->next++;
	return 0;
}

void
ws_btx_free(struct ws_btx **tp)
{
	struct ws_btx *t = *tp;

	if (!t)
		return;
	*tp = NULL;
	for (int i = 0; i < t->n; i++)
		free(t->frame[i]);
	free(t);
}
