/* SPDX-License-Identifier: MIT */
/*
 * hub: validation of names and payloads, then rooms_post(), the one road
 * into the store. Every check happens before the store is touched.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "binary.h"
#include "hub.h"
#include "jparse.h"
#include "log.h"

void
hub_init(struct hub *h, struct rooms *rs, size_t max_data)
{
	memset(h, 0, sizeof(*h));
	h->rs = rs;
	h->max_data = max_data;
	for (int i = 0; i < VIA__COUNT; i++)
		atomic_init(&h->published[i], 0);
}

/* 1 if the JSON text d[0..n) may hold a binary value: it names
 * "_binary" (or writes a \u escape, which could spell it). */
static int
may_hold_binary(const char *d, size_t n)
{
	return memmem(d, n, BINARY_KEY "\"", sizeof(BINARY_KEY)) ||
	       memmem(d, n, "\\u", 2);
}

/* binary_check() of the JSON text d[0..n), parsed only when it may hold
 * a binary value. */
static enum im_err
check_binary_text(const char *d, size_t n, size_t max, struct im_error *e)
{
	struct json_object *v = NULL;
	enum im_err err;

	if (!may_hold_binary(d, n))
		return IM_OK;
	if (jparse(d, n, &v, e))
		return e ? e->err : IM_EINVAL;
	err = binary_check(v, max, e);
	json_object_put(v);
	return err;
}

/* names_check() of a C string (NULL: absent). */
static enum im_err
check(enum name_kind k, const char *s, struct im_error *e)
{
	return names_check(k, s, s ? strlen(s) : 0, e);
}

enum im_err
hub_publish(struct hub *h, const struct hub_pub *p, struct hub_ack *ack,
	    struct im_error *e)
{
	struct msg_parts parts = { 0 };
	enum msg_target to;
	struct room *r;
	struct rooms_posted res;
	const char *data;
	char *own = NULL;
	size_t data_len;
	enum im_err err;

	if ((err = check(NAME_ROOM, p->room, e)) ||
	    (err = check(NAME_EVENT, p->event, e)) ||
	    (err = check(NAME_FROM, p->from, e)) ||
	    (p->cid && (err = check(NAME_CID, p->cid, e))) ||
	    (p->to && (err = check(NAME_TO, p->to, e))))
		return err;
	to = p->to ? (enum msg_target)names_word(NAME_TO, p->to,
						 strlen(p->to)) : MSG_TO_ROOM;
	if (to != MSG_TO_ROOM && !p->cid)
		return im_error_set(e, IM_EINVAL, "bad_target",
			"\"to\":\"%s\" needs the sender's cid", p->to);
	if (p->mid && (err = check(NAME_MID, p->mid, e)))
		return err;
	if (p->mid && !p->cid)
		return im_error_set(e, IM_EINVAL, "bad_mid",
			"a \"mid\" needs the sender's cid");
	if ((unsigned)p->via >= VIA__COUNT)
		return im_error_set(e, IM_EINVAL, "bad_via", "unknown via");
	if (p->data_json) {
		/* the text as validated, whitespace between tokens dropped */
		own = malloc(p->data_len ? p->data_len : 1);
		if (!own)
			return im_error_set(e, IM_ENOMEM, "no_memory",
					    "out of memory");
		data_len = jparse_compact(p->data_json, p->data_len, own);
		data = own;
	} else if (p->data) {
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
	if (data_len > h->max_data) {
		free(own);
		return im_error_set(e, IM_ETOOBIG, "too_large",
				    "\"data\" is %zu bytes; the limit is %zu",
				    data_len, h->max_data);
	}
	err = p->data_json ? check_binary_text(data, data_len, h->max_data, e)
			   : binary_check(p->data, h->max_data, e);
	if (err) {
		free(own);
		return err;
	}
	r = rooms_get(h->rs, p->room, 1, e);
	if (!r) {
		free(own);
		return e ? e->err : IM_EFULL;
	}
	parts.event = p->event;
	parts.from = p->from;
	parts.cid = p->cid;
	parts.via = p->via;
	parts.to = to;
	parts.to_pid = names_to_pid(p->to, p->to ? strlen(p->to) : 0);
	parts.data_json = data;
	parts.data_len = data_len;
	if (h->post) {
		char pid[MSG_PID_LEN + 1];

		rooms_pid(h->rs, p->cid, pid);
		parts.room = room_name(r);
		parts.pid = pid;
		err = h->post(h->post_ctx, &parts, p->mid, &res, e);
		free(own);
		rooms_release(h->rs, &r);
		if (err != IM_OK)
			return err;
		goto acked;
	}
	err = rooms_post_once(h->rs, r, &parts, p->mid, &res);
	free(own);
	rooms_release(h->rs, &r);
	if (err == IM_ENOTFOUND)
		return im_error_set(e, err, "unknown_recipient",
			"%s is not a member of room %s", p->to, p->room);
	if (err != IM_OK)	/* out of memory, or the history db refused */
		return store_explain(rooms_store(h->rs), err, e);
acked:
	ack->id = res.id;
	ack->ts = res.ts;
	ack->dup = res.dup;
	if (!res.dup)
		atomic_fetch_add_explicit(&h->published[p->via], 1,
					  memory_order_relaxed);
	return IM_OK;
}

enum im_err
hub_pub_decode(struct hub_pub *p, struct json_object *o, const char *text,
	       size_t text_len, unsigned fields, const char *type_code,
	       struct im_error *e)
{
	const char *via = NULL;
	size_t start;
	const char **slot[NAME__COUNT] = {
		[NAME_ROOM] = &p->room, [NAME_EVENT] = &p->event,
		[NAME_FROM] = &p->from, [NAME_CID] = &p->cid,
		[NAME_TO] = &p->to, [NAME_VIA] = &via,
		[NAME_MID] = &p->mid,
	};

	for (int k = 0; k < NAME__COUNT; k++) {
		const char *s;
		size_t len;
		int bad = 0;

		if (!(fields & HUB_FIELD(k)))
			continue;
		s = jparse_str(o, names_key(k), &len, &bad);
		if (bad)
			return im_error_set(e, IM_EINVAL, type_code,
					    "\"%s\" must be a string",
					    names_key(k));
		if (s && strlen(s) != len)	/* an embedded NUL */
			return names_check(k, s, len, e);
		*slot[k] = s;
	}
	if (via) {
		int v = names_word(NAME_VIA, via, strlen(via));

		if (v < 0)
			return check(NAME_VIA, via, e);
		p->via = (enum via)v;
	}
	p->data = NULL;
	p->data_json = NULL;
	p->data_len = 0;
	if (!json_object_object_get_ex(o, "data", NULL)) {
		if (fields & HUB_DATA_REQUIRED)
			return im_error_set(e, IM_EINVAL, "bad_data",
				"\"data\" is required (any JSON value)");
		return IM_OK;
	}
	if (!jparse_member_span(text, text_len, "data", &start, &p->data_len))
		return im_error_set(e, IM_EINVAL, "bad_data",
				    "\"data\" not found in the text");
	p->data_json = text + start;
	return IM_OK;
}

enum im_err
hub_publish_json(struct hub *h, const char *room, const char *body,
		 size_t len, struct hub_ack *ack, struct im_error *e)
{
	struct json_object *o = NULL;
	struct hub_pub p = { .room = room, .via = VIA_API };
	enum im_err err;

	if (jparse(body, len, &o, e))
		return e ? e->err : IM_EINVAL;
	if (!json_object_is_type(o, json_type_object))
		err = im_error_set(e, IM_EINVAL, "bad_json",
				   "the body must be a JSON object");
	else if (!(err = hub_pub_decode(&p, o, body, len, HUB_PUB_HTTP,
					"bad_field", e)))
		err = hub_publish(h, &p, ack, e);
	json_object_put(o);
	return err;
}
