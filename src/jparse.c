/* SPDX-License-Identifier: MIT */
/*
 * jparse: the one place untrusted JSON enters imlab.
 */
#include "autoconf.h"

#include <stdint.h>
#include <string.h>

#include <json-c/json_visit.h>

#include "jparse.h"
#include "utf8.h"

/* Returns 1 if s is a number as RFC 8259 writes it. json-c also takes
 * NaN, Infinity and "1." and writes them back as they came, which would
 * put invalid JSON into every envelope that carries them. */
static int
number_ok(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return 0;
	if (*s == '.') {
		if (!(*++s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		if (*++s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* Returns 1 if no string in the JSON text s[0..n) holds a raw control
 * character (RFC 8259 7: U+0000-U+001F must be escaped). json-c takes a
 * raw tab or CR inside a string; kept byte for byte, a CR would end an
 * SSE data: line and the envelope would not be JSON. */
static int
strings_clean(const char *s, size_t n)
{
	int in = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!in) {
			in = c == '"';
		} else if (c == '\\') {
			i++;
		} else if (c == '"') {
			in = 0;
		} else if (c < 0x20) {
			return 0;
		}
	}
	return 1;
}

static int
check_number(struct json_object *o, int flags, struct json_object *parent,
	     const char *key, size_t *index, void *arg)
{
	(void)flags;
	(void)parent;
	(void)key;
	(void)index;
	(void)arg;
	if (json_object_is_type(o, json_type_double) &&
	    !number_ok(json_object_to_json_string_ext(o,
						      JSON_C_TO_STRING_PLAIN)))
		return JSON_C_VISIT_RETURN_ERROR;
	return JSON_C_VISIT_RETURN_CONTINUE;
}

int
jparse(const char *buf, size_t len, struct json_object **out,
       struct im_error *e)
{
	struct json_tokener *tok = json_tokener_new_ex(JPARSE_DEPTH);
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	*out = NULL;
	if (!tok) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return -1;
	}
	if (len > (size_t)INT32_MAX - 1) {
		json_tokener_free(tok);
		im_error_set(e, IM_ETOOBIG, "too_large", "input too large");
		return -1;
	}
	/* JSON text must be UTF-8, and so must the WebSocket text frames
	 * that carry it; json-c does not check */
	if (!utf8_valid(buf, len)) {
		json_tokener_free(tok);
		im_error_set(e, IM_EINVAL, "bad_json",
			     "invalid JSON: not UTF-8");
		return -1;
	}
	if (!strings_clean(buf, len)) {
		json_tokener_free(tok);
		im_error_set(e, IM_EINVAL, "bad_json",
			     "invalid JSON: a control character in a string "
			     "must be escaped");
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		/* tell the tokener the input ended (finishes bare numbers) */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	} else {
		end = json_tokener_get_parse_end(tok);
	}
	if (jerr != json_tokener_success) {
		im_error_set(e, IM_EINVAL, "bad_json", "invalid JSON: %s",
			     len ? json_tokener_error_desc(jerr) :
			     "empty input");
		json_tokener_free(tok);
		return -1;
	}
	json_tokener_free(tok);
	for (; end < len; end++) {
		char c = buf[end];

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			json_object_put(obj);
			im_error_set(e, IM_EINVAL, "bad_json",
				     "invalid JSON: data after the value");
			return -1;
		}
	}
	if (obj && json_c_visit(obj, 0, check_number, NULL) < 0) {
		json_object_put(obj);
		im_error_set(e, IM_EINVAL, "bad_json",
			     "invalid JSON: NaN, Infinity or a malformed "
			     "number");
		return -1;
	}
	*out = obj;
	return 0;
}

const char *
jparse_str(struct json_object *obj, const char *key, size_t *len, int *bad)
{
	struct json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		*bad = 1;
		return NULL;
	}
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (len) {
		*len = n;
	} else if (strlen(s) != n) {
		*bad = 1;	/* an embedded NUL would cut it short */
		return NULL;
	}
	return s;
}

/* The text scanners below walk JSON that jparse() already accepted, so
 * they only find where things end; they never judge. */

static size_t
skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
			 s[i] == '\n'))
		i++;
	return i;
}

/* s[i] is '"': returns the index just after the closing quote. */
static size_t
skip_str(const char *s, size_t i, size_t n)
{
	for (i++; i < n && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i < n ? i + 1 : n;
}

/* Returns the index just after the value that starts at s[i]. */
static size_t
skip_value(const char *s, size_t i, size_t n)
{
	size_t depth = 0;

	do {
		if (i >= n)
			return n;
		if (s[i] == '"') {
			i = skip_str(s, i, n);
			continue;
		}
		if (s[i] == '{' || s[i] == '[') {
			depth++;
		} else if (s[i] == '}' || s[i] == ']') {
			depth--;
		} else if (!depth) {
			/* a bare scalar: up to a delimiter */
			while (i < n && !strchr(",}] \t\r\n", s[i]))
				i++;
			return i;
		}
		i++;
	} while (depth);
	return i;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 1 if the JSON string s[a..b) (quotes excluded) spells key, escapes
 * decoded (an ASCII key only matches ASCII escapes). */
static int
key_is(const char *s, size_t a, size_t b, const char *key)
{
	size_t k = 0;

	while (a < b) {
		int c = (unsigned char)s[a++];

		if (c == '\\' && a < b) {
			c = (unsigned char)s[a++];
			if (c == 'u' && a + 4 <= b) {
				int v = 0;

				for (int j = 0; j < 4; j++) {
					int h = hexval(s[a++]);

					if (h < 0)
						return 0;
					v = v * 16 + h;
				}
				c = v;
			} else if (c != '"' && c != '\\' && c != '/') {
				return 0;	/* \b \f \n \r \t */
			}
		}
		if (!key[k] || c != (unsigned char)key[k])
			return 0;
		k++;
	}
	return !key[k];
}

int
jparse_member_span(const char *s, size_t n, const char *key,
		   size_t *start, size_t *len)
{
	size_t i = skip_ws(s, 0, n);
	int found = 0;

	if (i >= n || s[i] != '{')
		return 0;
	for (i = skip_ws(s, i + 1, n); i < n && s[i] == '"';) {
		size_t ka = i + 1, kb = skip_str(s, i, n) - 1, v, e;

		i = skip_ws(s, kb + 1, n);	/* at ':' */
		v = skip_ws(s, i + 1, n);
		e = skip_value(s, v, n);
		if (key_is(s, ka, kb, key)) {
			/* json-c keeps the last of duplicate members */
			*start = v;
			*len = e - v;
			found = 1;
		}
		i = skip_ws(s, e, n);
		if (i < n && s[i] == ',')
			i = skip_ws(s, i + 1, n);
	}
	return found;
}

size_t
jparse_compact(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		if (s[i] == '"') {
			size_t e = skip_str(s, i, n);

			memcpy(out + o, s + i, e - i);
			o += e - i;
			i = e;
		} else if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
			   s[i] == '\n') {
			i++;
		} else {
			out[o++] = s[i++];
		}
	}
	return o;
}
