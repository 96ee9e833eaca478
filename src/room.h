/* SPDX-License-Identifier: MIT */
/*
 * room: the registry of rooms, their subscribers and their presence.
 * A room is created on first use (publish or subscribe), keeps its store
 * ring, and lives until rooms_destroy(). Presence: a cid is a member of a
 * room while it holds a subscription there (SSE, WebSocket, a held long
 * poll) or polled it within presence_ttl; arrival and departure are
 * published into the room as ordinary `join` / `leave` messages, in order
 * with the chat. One mutex guards the registry, the subscriber arrays and
 * the members; notify callbacks run under it.
 */
#ifndef IMLAB_ROOM_H
#define IMLAB_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "msg.h"
#include "store.h"
#include "sub.h"

struct rooms;
struct room;

struct rooms_config {
	size_t max_rooms;		/* registry limit */
	int64_t presence_ttl_ms;	/* how long a poller stays present */
};

/* Creates an empty registry over st (borrowed; must outlive it).
 * Returns NULL on allocation failure. */
struct rooms *rooms_create(struct store *st, const struct rooms_config *cfg);

/* Frees every room and member. Subscribers must all have been removed.
 * Sets *rp to NULL. */
void rooms_destroy(struct rooms **rp);

/* Returns the room called name, creating it when create is set. Returns
 * NULL and fills e when name is invalid (IM_EINVAL), the room does not
 * exist (IM_ENOTFOUND) or the registry is full (IM_EFULL). The pointer is
 * valid until rooms_destroy(). */
struct room *rooms_get(struct rooms *rs, const char *name, int create,
		       struct im_error *e);

/* Returns the room's name (borrowed, lives with the room). */
const char *room_name(const struct room *r);

/* Returns the room's store ring (borrowed). */
struct store_ring *room_ring(const struct room *r);

/* Subscribes s to the n rooms in rooms[], which must be distinct and not
 * yet subscribed by s; s->cid, s->from, s->via and s->notify must be set.
 * Each room where s->cid was not a member publishes a `join`. Returns IM_OK
 * or IM_ENOMEM (then s is unchanged). */
enum im_err rooms_subscribe(struct rooms *rs, struct sub *s,
			    struct room *const *rooms, size_t n);

/* Removes s from room r (no-op if not subscribed); publishes `leave` when
 * s->cid has no other reason to stay. */
void rooms_unsubscribe(struct rooms *rs, struct sub *s, struct room *r);

/* Removes s from all its rooms and frees its links. After it returns, s's
 * notify is never called again. */
void rooms_unsubscribe_all(struct rooms *rs, struct sub *s);

/* Records that cid (display name from) polled room r over via now: it is a
 * member for presence_ttl from now, joining if it was not. cid may be NULL
 * or "" (anonymous: no presence). */
void rooms_touch(struct rooms *rs, struct room *r, const char *cid,
		 const char *from, enum via via);

/* The one road into the store: appends the message p describes to r's
 * ring and wakes every subscriber of r that may see it, both under the
 * rooms lock. p is borrowed; its room and pid are ignored (r's name, and
 * the pid derived from p->cid). Returns IM_OK and, if out is not NULL, a
 * new reference in *out (the caller unrefs it), or IM_ENOMEM with nothing
 * stored. Must not be called from a notify. */
enum im_err rooms_post(struct rooms *rs, struct room *r,
		       const struct msg_parts *p, struct msg **out);

/* How many recent (cid, mid) pairs a room remembers for rooms_post_once. */
#define ROOM_MID_WINDOW 256

/* What rooms_post_once() did. */
struct rooms_posted {
	uint64_t id;	/* the message's id: new, or the original's */
	int64_t ts;	/* and its publish time */
	int dup;	/* 1: a retry; nothing was stored */
};

/* rooms_post() made idempotent by a client message id: when mid (NULL:
 * none) is set and p->cid posted the same mid in r among the room's last
 * ROOM_MID_WINDOW publishes that carried one, stores nothing and returns
 * the original's id and ts with dup 1; otherwise posts p and remembers
 * (cid, mid). The check and the post are one step under the rooms lock,
 * so two retries racing on two threads store once. A mid needs p->cid.
 * Returns IM_OK with *res filled, or IM_ENOMEM with nothing stored. */
enum im_err rooms_post_once(struct rooms *rs, struct room *r,
			    const struct msg_parts *p, const char *mid,
			    struct rooms_posted *res);

/* Ends the presence of pollers whose ttl passed before now_ms (monotonic),
 * publishing their `leave`. Returns how many left. */
size_t rooms_sweep(struct rooms *rs, int64_t now_ms);

/* Derives the public id of cid into pid (MSG_PID_LEN hex digits + NUL):
 * a keyed hash, so the private cid cannot be read back. "" for no cid. */
void rooms_pid(const struct rooms *rs, const char *cid,
	       char pid[MSG_PID_LEN + 1]);

/* One member of a room, as listed by rooms_members(). */
struct room_member_info {
	char pid[MSG_PID_LEN + 1];
	char from[MSG_FROM_MAX * 4 + 1];
	enum via via;
};

/* Copies up to max members of r into out; returns the member count (which
 * may exceed max). */
size_t rooms_members(struct rooms *rs, struct room *r,
		     struct room_member_info *out, size_t max);

/* Summary of one room for listings. */
struct room_info {
	char name[MSG_ROOM_MAX + 1];
	size_t members;
	size_t subscribers;
	uint64_t last_id;
};

/* Copies up to max rooms into out (in no particular order); returns the
 * number of rooms (which may exceed max). */
size_t rooms_list(struct rooms *rs, struct room_info *out, size_t max);

#endif
