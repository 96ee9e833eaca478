/* SPDX-License-Identifier: MIT */
/*
 * jparse: the one place untrusted JSON enters imlab.
 */
#include "autoconf.h"

#include <string.h>

#include "jparse.h"

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
	*out = obj;
	return 0;
}

const char *
jparse_str(struct json_object *obj, const char *key, int *bad)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		*bad = 1;
		return NULL;
	}
	return json_object_get_string(v);
}
