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

#define PLACEHOLDER "_placeholder"
#define MARK "{\"" BINARY_KEY "\":\""	/* {"_binary":" */
#define MARK_LEN (sizeof(MARK) - 1)
#define MSG_HEAD "{\"op\":\"msg\",\"msg\":"

struct ws_binary {
	char *text;		/* the send op as received, owned */
	char *ref;		/* its serialised ref, owned, or NULL */
	size_t text_len;
	int want, have;		/* frames announced, received */
	size_t bytes, max;	/* frame bytes so far, their limit */
	unsigned char *frame[WS_BINARY_MAX];	/* owned */
	size_t frame_len[WS_BINARY_MAX];
	unsigned used;		/* bit i: a placeholder names frame i */
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

/* {"_binary":"<base64 of frame i>"}, or NULL when out of memory. */
static struct json_object *
binary_value(const struct ws_binary *b, int i)
{
	size_t n = binary_b64_len(b->frame_len[i]);
	char *s = malloc(n + 1);
	struct json_object *o, *str;

	if (!s)
		return NULL;
	binary_b64_encode(b->frame[i], b->frame_len[i], s);
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
placeholder(const struct ws_binary *b, struct json_object *v)
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
	return i >= 0 && i < b->want ? (int)i : -2;
}

/* Replaces the placeholders under v (depth bounded by jparse's);
 * returns 0, -1 for a bad placeholder, -2 when out of memory. */
static int
replace(struct ws_binary *b, struct json_object *v, int depth)
{
	int arr = json_object_is_type(v, json_type_array);

	if (depth > JPARSE_DEPTH)
		return -1;
	if (arr) {
		size_t n = json_object_array_length(v);

		for (size_t k = 0; k < n; k++) {
			struct json_object *c = json_object_array_get_idx(v, k);
			int i = placeholder(b, c), rc;

			if (i == -2)
				return -1;
			if (i >= 0) {
				struct json_object *nv = binary_value(b, i);

				if (!nv || json_object_array_put_idx(v, k, nv))
					return json_object_put(nv), -2;
				b->used |= 1u << i;
			} else if ((rc = replace(b, c, depth + 1)))
				return rc;
		}
		return 0;
	}
	if (!json_object_is_type(v, json_type_object))
		return 0;
	json_object_object_foreach(v, key, c) {
		int i = placeholder(b, c), rc;

		if (i == -2)
			return -1;
		if (i >= 0) {
			struct json_object *nv = binary_value(b, i);

			/* replacing a key's value keeps the iteration */
			if (!nv || json_object_object_add(v, key, nv))
				return json_object_put(nv), -2;
			b->used |= 1u << i;
		} else if ((rc = replace(b, c, depth + 1)))
			return rc;
	}
	return 0;
}

char *
ws_binary_build(struct ws_binary *b, size_t *len, struct im_error *e)
{
	struct json_object *o = NULL, *data;
	const char *s;
	char *out = NULL;
	size_t n;
	int rc = 0;

	if (jparse(b->text, b->text_len, &o, e))
		return NULL;
	json_object_object_del(o, "binary");
	if (json_object_object_get_ex(o, "data", &data)) {
		int i = placeholder(b, data);

		if (i == -2) {
			rc = -1;
		} else if (i >= 0) {
			struct json_object *nv = binary_value(b, i);

			if (!nv || json_object_object_add(o, "data", nv)) {
				json_object_put(nv);
				rc = -2;
			} else {
				b->used |= 1u << i;
			}
		} else {
			rc = replace(b, data, 0);
		}
	}
	if (!rc && b->used != (1u << b->want) - 1)
		rc = -1;
	if (rc == -1) {
		im_error_set(e, IM_EINVAL, "bad_binary", "each of the %d "
			     "binary frames is named once or more by a "
			     "{\"_placeholder\":true,\"num\":i} in \"data\", "
			     "i from 0", b->want);
	} else if (!rc && (s = json_object_to_json_string_length(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
			&n)) && (out = malloc(n + 1))) {
		memcpy(out, s, n + 1);
		*len = n;
	} else {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
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

/* One binary value in an envelope: [start, end) is its object, b64 its
 * base64 text (b64_len bytes; has_esc: written with JSON escapes). */
struct bval {
	size_t start, end;
	const char *b64;
	size_t b64_len;
	int has_esc;
};

/* Finds the binary values of json[0..len): returns how many (at most
 * max; max + 1 when there are more), or -1 for one it cannot read. In
 * compact JSON the bytes {"_binary":" can only open such an object: a
 * string holds no bare quote. */
static int
find_values(const char *json, size_t len, struct bval *v, int max)
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
		v[n].b64 = json + i;
		v[n].has_esc = 0;
		while (i < len && json[i] != '"') {
			if (json[i] == '\\') {
				v[n].has_esc = 1;
				i++;
			}
			i++;
		}
		if (i + 1 >= len || json[i + 1] != '}')
			return -1;
		v[n].b64_len = (size_t)(json + i - v[n].b64);
		v[n].end = i + 2;
		at = v[n].end;
		n++;
	}
	return n;
}

/* Decodes value v into a new frame of t (index k). Returns 0 or -1. */
static int
decode_into(struct ws_btx *t, int k, const char *json, const struct bval *v)
{
	struct json_object *o = NULL, *s;
	const char *b64 = v->b64;
	size_t n = v->b64_len;
	long dec;

	if (v->has_esc) {	/* e.g. "\/": let json-c read the string */
		struct json_tokener *tok = json_tokener_new();

		if (!tok)
			return -1;
		o = json_tokener_parse_ex(tok, json + v->start,
					  (int)(v->end - v->start));
		json_tokener_free(tok);
		if (!o || !json_object_object_get_ex(o, BINARY_KEY, &s) ||
		    !json_object_is_type(s, json_type_string)) {
			json_object_put(o);
			return -1;
		}
		b64 = json_object_get_string(s);
		n = (size_t)json_object_get_string_len(s);
	}
	dec = binary_b64_valid(b64, n);
	t->frame[k] = dec < 0 ? NULL : malloc(t->pre + (size_t)dec + 1);
	if (!t->frame[k] ||
	    binary_b64_decode(b64, n, t->frame[k] + t->pre) != dec) {
		json_object_put(o);
		return -1;
	}
	t->len[k] = (size_t)dec;
	json_object_put(o);
	return 0;
}

int
ws_binary_split(const char *json, size_t len, size_t pre,
		struct ws_btx **out)
{
	struct bval v[WS_BINARY_OUT_MAX];
	struct ws_btx *t;
	int n = find_values(json, len, v, WS_BINARY_OUT_MAX);
	size_t cap, o, at = 0;
	char num[64];

	*out = NULL;
	if (n <= 0 || n > WS_BINARY_OUT_MAX)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->pre = pre;
	t->n = n + 1;
	for (int i = 0; i < n; i++)
		if (decode_into(t, i + 1, json, &v[i])) {
			ws_btx_free(&t);
			return 0;	/* unreadable: send it as it is */
		}
	/* the text frame: placeholders are at most 48 bytes each */
	cap = sizeof(MSG_HEAD) + len + (size_t)n * 48 + 32;
	t->frame[0] = malloc(pre + cap);
	if (!t->frame[0]) {
		ws_btx_free(&t);
		return -1;
	}
	o = pre;
	memcpy(t->frame[0] + o, MSG_HEAD, sizeof(MSG_HEAD) - 1);
	o += sizeof(MSG_HEAD) - 1;
	for (int i = 0; i < n; i++) {
		int k = snprintf(num, sizeof(num),
				 "{\"" PLACEHOLDER "\":true,\"num\":%d}", i);

		memcpy(t->frame[0] + o, json + at, v[i].start - at);
		o += v[i].start - at;
		memcpy(t->frame[0] + o, num, (size_t)k);
		o += (size_t)k;
		at = v[i].end;
	}
	memcpy(t->frame[0] + o, json + at, len - at);
	o += len - at;
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
