/* SPDX-License-Identifier: MIT */
/*
 * hub: validation of names and payloads, then rooms_post(), the one road
 * into the store. Every check happens before the store is touched.
 */
#include "autoconf.h"

#include <string.h>

#include "hub.h"
#include "jparse.h"
#include "log.h"

void
hub_init(struct hub *h, struct store *st, struct rooms *rs, size_t max_data)
{
	memset(h, 0, sizeof(*h));
	h->st = st;
	h->rs = rs;
	h->max_data = max_data;
	for (int i = 0; i < VIA__COUNT; i++)
		atomic_init(&h->published[i], 0);
}

static int
name_ok(const char *s, size_t min, size_t max, const char *extra)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++) {
		char c = s[n];

		if (n >= max)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr(extra, c)))
			return 0;
	}
	return n >= min;
}

int
hub_event_valid(const char *s)
{
	return name_ok(s, 1, MSG_EVENT_MAX, "_.:-");
}

int
hub_cid_valid(const char *s)
{
	return name_ok(s, 8, MSG_CID_MAX, "_-");
}

int
hub_from_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;

	if (!s)
		return 0;
	while (*p) {
		uint32_t cp;
		int len;

		if (*p < 0x80) {
			cp = *p;
			len = 1;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			len = 2;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			len = 3;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p & 0x07;
			len = 4;
		} else {
			return 0;
		}
		for (int i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates, beyond Unicode */
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		/* control characters (C0, DEL, C1) are not printable */
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return 0;
		if (++chars > MSG_FROM_MAX)
			return 0;
		p += len;
	}
	return chars > 0;
}

int
hub_target_parse(const char *s, enum msg_target *out)
{
	if (!s || !strcmp(s, "room"))
		*out = MSG_TO_ROOM;
	else if (!strcmp(s, "others"))
		*out = MSG_TO_OTHERS;
	else if (!strcmp(s, "self"))
		*out = MSG_TO_SELF;
	else
		return -1;
	return 0;
}

enum im_err
hub_publish(struct hub *h, const struct hub_pub *p, struct hub_ack *ack,
	    struct im_error *e)
{
	struct msg_parts parts = { 0 };
	enum msg_target to;
	struct room *r;
	struct msg *m = NULL;
	const char *data;
	size_t data_len;
	enum im_err err;

	if (!p->room || !room_name_valid(p->room))
		return im_error_set(e, IM_EINVAL, "bad_room",
			"room names are 1-64 characters of A-Z a-z 0-9 _ . -");
	if (!p->event)
		return im_error_set(e, IM_EINVAL, "bad_event",
				    "\"event\" is required");
	if (!hub_event_valid(p->event))
		return im_error_set(e, IM_EINVAL, "bad_event",
			"event names are 1-32 characters of A-Z a-z 0-9 _ . : -");
	if (!p->from)
		return im_error_set(e, IM_EINVAL, "bad_from",
				    "\"from\" is required");
	if (!hub_from_valid(p->from))
		return im_error_set(e, IM_EINVAL, "bad_from",
			"\"from\" is 1-32 printable UTF-8 characters");
	if (p->cid && !hub_cid_valid(p->cid))
		return im_error_set(e, IM_EINVAL, "bad_cid",
			"cid is 8-64 characters of A-Z a-z 0-9 _ -");
	if (hub_target_parse(p->to, &to))
		return im_error_set(e, IM_EINVAL, "bad_target",
			"\"to\" is one of \"room\", \"others\", \"self\"");
	if (to != MSG_TO_ROOM && !p->cid)
		return im_error_set(e, IM_EINVAL, "bad_target",
			"\"to\":\"%s\" needs the sender's cid", p->to);
	if ((unsigned)p->via >= VIA__COUNT)
		return im_error_set(e, IM_EINVAL, "bad_via", "unknown via");
	if (p->data) {
		data = json_object_to_json_string_length(p->data,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
			&data_len);
		if (!data)
			return im_error_set(e, IM_ENOMEM, "no_memory",
					    "out of memory");
	} else {
		data = "null";
		data_len = 4;
	}
	if (data_len > h->max_data)
		return im_error_set(e, IM_ETOOBIG, "too_large",
				    "\"data\" is %zu bytes; the limit is %zu",
				    data_len, h->max_data);
	r = rooms_get(h->rs, p->room, 1, e);
	if (!r)
		return e ? e->err : IM_EFULL;
	parts.event = p->event;
	parts.from = p->from;
	parts.cid = p->cid;
	parts.via = p->via;
	parts.to = to;
	parts.data_json = data;
	parts.data_len = data_len;
	err = rooms_post(h->rs, r, &parts, &m);
	if (err != IM_OK)
		return im_error_set(e, err, "no_memory", "out of memory");
	ack->id = m->id;
	ack->ts = m->ts;
	atomic_fetch_add_explicit(&h->published[p->via], 1,
				  memory_order_relaxed);
	msg_unref(&m);
	return IM_OK;
}

/* Returns the string member key, checking type and embedded NULs. */
static enum im_err
member_str(struct json_object *o, const char *key, const char **out,
	   struct im_error *e)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return IM_OK;
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) !=
	    (size_t)json_object_get_string_len(v))
		return im_error_set(e, IM_EINVAL, "bad_field",
				    "\"%s\" must be a string", key);
	*out = json_object_get_string(v);
	return IM_OK;
}

enum im_err
hub_publish_json(struct hub *h, const char *room, const char *body,
		 size_t len, struct hub_ack *ack, struct im_error *e)
{
	struct json_object *o = NULL, *data = NULL;
	struct hub_pub p = { 0 };
	const char *via = NULL;
	enum im_err err;

	if (jparse(body, len, &o, e))
		return e ? e->err : IM_EINVAL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return im_error_set(e, IM_EINVAL, "bad_json",
				    "the body must be a JSON object");
	}
	p.room = room;
	if ((err = member_str(o, "event", &p.event, e)) ||
	    (err = member_str(o, "from", &p.from, e)) ||
	    (err = member_str(o, "cid", &p.cid, e)) ||
	    (err = member_str(o, "to", &p.to, e)) ||
	    (err = member_str(o, "via", &via, e)))
		goto out;
	p.via = VIA_API;
	if (via && via_parse(via, &p.via)) {
		err = im_error_set(e, IM_EINVAL, "bad_via",
			"\"via\" is one of poll, longpoll, sse, ws, api");
		goto out;
	}
	if (!json_object_object_get_ex(o, "data", &data)) {
		err = im_error_set(e, IM_EINVAL, "bad_data",
				   "\"data\" is required (any JSON value)");
		goto out;
	}
	p.data = data;
	err = hub_publish(h, &p, ack, e);
out:
	json_object_put(o);
	return err;
}
