/* SPDX-License-Identifier: MIT */
/*
 * hub: the one publish path of every transport: validate -> store ->
 * notify. Bad input gets an error code and message and leaves the store
 * unchanged. Also counts publishes per transport.
 */
#ifndef IMLAB_HUB_H
#define IMLAB_HUB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"
#include "msg.h"
#include "names.h"
#include "room.h"

/* A publish path other than the local store (src/redis_node.c): stores
 * the validated message p (room name in p->room, pid set) in room once per
 * (cid, mid) and fills *res, or returns an error with e filled; a direct
 * message (p->to MSG_TO_PID, p->to_pid) gets its recipient's cid from
 * the path's own member data, IM_ENOTFOUND (unknown_recipient) when the
 * pid is no member of the room. */
typedef enum im_err hub_post_fn(void *ctx, const struct msg_parts *p,
				const char *mid, struct rooms_posted *res,
				struct im_error *e);

struct hub {
	struct rooms *rs;	/* borrowed */
	size_t max_data;	/* bytes of serialised "data" */
	atomic_ullong published[VIA__COUNT];
	hub_post_fn *post;	/* NULL: rooms_post_once() */
	void *post_ctx;
};

/* One publish, as a transport parsed it. Strings are borrowed and may be
 * NULL when absent. The payload is data_json[0..data_len) when data_json
 * is set: JSON text jparse() accepted, stored byte for byte but for the
 * whitespace between tokens (what hub_pub_decode() sets). Otherwise it is
 * data, a borrowed value built in C (serialised once by json-c; NULL is
 * the JSON null). */
struct hub_pub {
	const char *room;
	const char *event;
	const char *from;
	const char *cid;
	const char *to;		/* "room" (default), "others", "self" */
	const char *mid;	/* client message id (needs cid), or NULL */
	enum via via;
	struct json_object *data;
	const char *data_json;
	size_t data_len;
};

/* What a successful publish returns to the sender. */
struct hub_ack {
	uint64_t id;
	int64_t ts;		/* ms since the Unix epoch */
	int dup;		/* 1: a retry of a stored mid, not stored */
};

/* Initialises h over rs (borrowed; its store is the one published to). */
void hub_init(struct hub *h, struct rooms *rs, size_t max_data);

/* Validates p and, if it is good, stores the message and wakes the room's
 * subscribers; a retry (the same p->mid from the same p->cid in the same
 * room, within ROOM_MID_WINDOW) stores nothing and acks with the
 * original's id and ts (ack->dup 1). Returns IM_OK and fills ack, or an
 * error with e filled (IM_EINVAL for bad input, IM_ETOOBIG, IM_EFULL,
 * IM_ENOMEM); on error the store is unchanged. Thread-safe. */
enum im_err hub_publish(struct hub *h, const struct hub_pub *p,
			struct hub_ack *ack, struct im_error *e);

/* The members of a JSON publish that hub_pub_decode() reads: a string
 * member per name kind, and whether "data" must be present. */
#define HUB_FIELD(k) (1u << (k))
#define HUB_DATA_REQUIRED (1u << NAME__COUNT)
/* HTTP: room from the URL, sender in the body, data required */
#define HUB_PUB_HTTP (HUB_FIELD(NAME_EVENT) | HUB_FIELD(NAME_FROM) | \
		      HUB_FIELD(NAME_CID) | HUB_FIELD(NAME_TO) | \
		      HUB_FIELD(NAME_VIA) | HUB_FIELD(NAME_MID) | \
		      HUB_DATA_REQUIRED)
/* WebSocket send: sender from hello, data null when absent */
#define HUB_PUB_WS (HUB_FIELD(NAME_ROOM) | HUB_FIELD(NAME_EVENT) | \
		    HUB_FIELD(NAME_TO) | HUB_FIELD(NAME_MID))

/* The one JSON-to-publish decoder, for every transport that publishes
 * JSON: fills the members of p named in fields from the object o, parsed
 * by jparse() from text[0..text_len) (strings borrowed from o; absent ones
 * NULL; "via" sets p->via), and p->data_json / p->data_len: the span of
 * "data" in text (borrowed), so it is stored as the client wrote it. p's
 * other members are left as the caller set them. Returns IM_OK, or
 * IM_EINVAL with e filled: type_code ("bad_field", "bad_request") for a
 * member of another JSON type, the name's own code for a string with an
 * embedded NUL or a bad via, "bad_data" for a missing required data.
 * Names are otherwise judged by hub_publish(). */
enum im_err hub_pub_decode(struct hub_pub *p, struct json_object *o,
			   const char *text, size_t text_len,
			   unsigned fields, const char *type_code,
			   struct im_error *e);

/* Parses an HTTP publish body {"event","from","cid","data","to","via"}
 * for room with hub_pub_decode() and publishes it (via defaults to
 * "api"). Same returns as hub_publish(); bad JSON is IM_EINVAL
 * "bad_json". */
enum im_err hub_publish_json(struct hub *h, const char *room,
			     const char *body, size_t len,
			     struct hub_ack *ack, struct im_error *e);

#endif
