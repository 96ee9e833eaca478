/* SPDX-License-Identifier: MIT */
/*
 * joins: a connection's joins and leaves of rooms, for the front ends whose
 * connection keeps its rooms itself, as a struct cursor's rings beside a
 * struct sub's subscriptions: /ws (ws_proto.c) and Socket.IO (sio_app.c).
 * One reading of a join or leave request, one set of checks (the room
 * rule, already joined, --rooms-per-sub) with one set of codes and
 * messages, and one order of the cursor and subscription steps, so the
 * two transports answer the same request the same way. The thread that
 * owns the connection owns cur and s; these take the rooms lock inside.
 */
#ifndef IMLAB_JOINS_H
#define IMLAB_JOINS_H

#include <stddef.h>
#include <stdint.h>

#include "cursor.h"
#include "err.h"
#include "room.h"

struct json_object;
struct server;

/* Reads a join or leave request o (a JSON object, or NULL for none):
 * "room", required, a string, into *name (borrowed from o) and *len (its
 * real length, an embedded NUL counted); with since not NULL also
 * "since", optional, an integer >= 0 (0 when absent or null). Returns
 * IM_OK, or IM_EINVAL with e filled: bad_room, bad_since. The room rule
 * itself is checked by joins_add(). */
enum im_err joins_decode(struct json_object *o, const char **name,
			 size_t *len, uint64_t *since, struct im_error *e);

/* Joins the connection (s, cur) to the room name[0..len) from since (a
 * since older than the cursor rewinds it, cursor.h), creating the room
 * if needed; *last (if not NULL) gets the room's newest id. Refuses, with
 * e filled: a name against the room rule (bad_room), a room already
 * joined (already_joined), a join past --rooms-per-sub (room_limit), the
 * room registry's own refusals (too_many_rooms) and no_memory; nothing
 * is joined then. Returns IM_OK or the error. */
enum im_err joins_add(struct server *srv, struct sub *s, struct cursor *cur,
		      const char *name, size_t len, uint64_t since,
		      uint64_t *last, struct im_error *e);

/* Leaves the room name[0..len) the connection (s, cur) joined: the ring
 * leaves the cursor before the subscription ends (after it the room may
 * be reclaimed). Returns IM_OK, or IM_EINVAL with e filled (not_joined)
 * when it is not one of cur's rooms. */
enum im_err joins_del(struct server *srv, struct sub *s, struct cursor *cur,
		      const char *name, size_t len, struct im_error *e);

#endif
