/* SPDX-License-Identifier: MIT */
/*
 * tp_params: a subscription request as the three HTTP transports take
 * it: ?rooms=a,b&since=N&cid=X&from=NAME (and, for SSE, Last-Event-ID),
 * and the presence refresh of a poller.
 */
#ifndef IMLAB_TP_PARAMS_H
#define IMLAB_TP_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "err.h"
#include "msg.h"
#include "netem.h"

struct cursor;
struct room;
struct server;
struct store_ring;

#define TP_BATCH_DEFAULT 500	/* messages per poll response */
#define TP_BATCH_MAX 1000	/* largest ?limit= */

/* A parsed subscription request. rooms/rings are owned arrays; each room
 * is pinned (rooms_get()) until tp_params_free(). */
struct tp_params {
	struct server *srv;		/* borrowed: whose rooms they are */
	struct room **rooms;
	struct store_ring **rings;	/* rings[i] is rooms[i]'s */
	size_t nrooms;
	uint64_t since;
	const char *cid;	/* NULL when absent; borrowed from MHD */
	const char *from;	/* "anonymous" when absent; borrowed */
	struct netem net;	/* ?delay=&jitter= (the cursor's, netem.h) */
};

/* Parses c's query (at most --rooms-per-sub, duplicates dropped; rooms
 * created on first use, only once every parameter was found good); with
 * leid, a Last-Event-ID header wins over since. Returns 0, or -1 with e
 * filled (bad_room, too_many_rooms, bad_param, bad_cid, bad_from, or
 * IM_EFULL when the registry is full) and p holding nothing: then no
 * room was created. */
int tp_params_parse(struct MHD_Connection *c, struct server *srv, int leid,
		    struct tp_params *p, struct im_error *e);

/* Releases p's rooms and frees its arrays. Safe twice. */
void tp_params_free(struct tp_params *p);

/* Sets cur (the caller's; cursor_free() it) at p's since over p's rooms,
 * for p's cid; a since ahead of the sequence is clamped there (cursor.h).
 * Returns IM_OK or IM_ENOMEM. */
enum im_err tp_params_cursor(const struct tp_params *p, struct server *srv,
			     struct cursor *cur);

/* Registers a poll of every room in p for presence (ttl-based). */
void tp_params_touch(struct server *srv, const struct tp_params *p,
		     enum via via);

#endif
