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
#include "room.h"
#include "store.h"

struct hub {
	struct store *st;	/* borrowed */
	struct rooms *rs;	/* borrowed */
	size_t max_data;	/* bytes of serialised "data" */
	atomic_ullong published[VIA__COUNT];
};

/* One publish, as a transport parsed it. Strings are borrowed and may be
 * NULL when absent; data is borrowed (NULL is the JSON null). */
struct hub_pub {
	const char *room;
	const char *event;
	const char *from;
	const char *cid;
	const char *to;		/* "room" (default), "others", "self" */
	enum via via;
	struct json_object *data;
};

/* What a successful publish returns to the sender. */
struct hub_ack {
	uint64_t id;
	int64_t ts;		/* ms since the Unix epoch */
};

/* Initialises h over st and rs (both borrowed). */
void hub_init(struct hub *h, struct store *st, struct rooms *rs,
	      size_t max_data);

/* Validates p and, if it is good, stores the message and wakes the room's
 * subscribers. Returns IM_OK and fills ack, or an error with e filled
 * (IM_EINVAL for bad input, IM_ETOOBIG, IM_EFULL, IM_ENOMEM); on error the
 * store is unchanged. Thread-safe. */
enum im_err hub_publish(struct hub *h, const struct hub_pub *p,
			struct hub_ack *ack, struct im_error *e);

/* Parses an HTTP publish body {"event","from","cid","data","to","via"}
 * for room and publishes it (via defaults to "api"). Same returns as
 * hub_publish(); bad JSON is IM_EINVAL "bad_json". */
enum im_err hub_publish_json(struct hub *h, const char *room,
			     const char *body, size_t len,
			     struct hub_ack *ack, struct im_error *e);

/* Name checks, per API.md. Each returns 1 when s is valid. */
int hub_event_valid(const char *s);	/* 1-32 of [A-Za-z0-9_.:-] */
int hub_cid_valid(const char *s);	/* 8-64 of [A-Za-z0-9_-] */
int hub_from_valid(const char *s);	/* 1-32 printable UTF-8 chars */

/* Parses a target name ("room", "others", "self"); NULL means "room".
 * Returns 0 and sets *out, or -1. */
int hub_target_parse(const char *s, enum msg_target *out);

#endif
