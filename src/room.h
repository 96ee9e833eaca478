/* SPDX-License-Identifier: MIT */
/*
 * room: the registry of rooms, their subscribers and their presence.
 * A room is created on first use (publish or subscribe) and keeps its
 * store ring while anything refers to it: a pin (rooms_get() until
 * rooms_release()), a subscriber or a member. An unused room is reclaimed,
 * with its history: at its release if it never held a message, otherwise
 * by rooms_sweep() once idle for room_idle_ms; a room created again under
 * that name starts a ring whose older history counts as lost (a gap).
 * Presence: a cid is a member of a room while it holds a subscription
 * there (SSE, WebSocket, a held long poll) or polled it within
 * presence_ttl; arrival and departure are published into the room as
 * ordinary `join` / `leave` messages, in order with the chat - in a room
 * of more than presence_batch members, as one `presence` message per
 * presence_interval_ms that counts them and lists the first few
 * (room_presence.c), so presence costs O(N), not O(N^2). One mutex guards
 * the registry, the subscriber arrays and the members; notify callbacks
 * run under it.
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
	int64_t room_idle_ms;		/* an unused room lives this long;
					 * 0: one with history lives on */
	size_t presence_batch;		/* above this many members, presence
					 * is batched; 0: never */
	int64_t presence_interval_ms;	/* one batch per room per this */
};

/* Creates an empty registry over st (borrowed; must outlive it).
 * Returns NULL on allocation failure. */
struct rooms *rooms_create(struct store *st, const struct rooms_config *cfg);

/* Frees every room and member. Subscribers must all have been removed.
 * Sets *rp to NULL. */
void rooms_destroy(struct rooms **rp);

/* Returns the room called name, pinned, creating it when create is set.
 * Returns NULL and fills e when name is invalid (IM_EINVAL), the room
 * does not exist (IM_ENOTFOUND) or the registry is full (IM_EFULL). The
 * pointer (and its ring) stays valid until the caller's rooms_release(),
 * and after it for as long as the caller holds a subscription there. A
 * pin never released keeps the room for good (safe, never reclaimed). */
struct room *rooms_get(struct rooms *rs, const char *name, int create,
		       struct im_error *e);

/* Drops the pin rooms_get() gave on *rp and sets *rp to NULL (NULL: a
 * no-op). An unused room that never held a message is freed here; one
 * with history is left to rooms_sweep(). */
void rooms_release(struct rooms *rs, struct room **rp);

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
 * the pid derived from p->cid), and so is its to_cid: a direct message
 * (p->to MSG_TO_PID) goes to the member of r whose public id is
 * p->to_pid, looked up under the same lock. Returns IM_OK and, if out is
 * not NULL, a new reference in *out (the caller unrefs it), or IM_ENOMEM,
 * or IM_ENOTFOUND when no member of r has p->to_pid, with nothing
 * stored. Must not be called from a notify. */
enum im_err rooms_post(struct rooms *rs, struct room *r,
		       const struct msg_parts *p, struct msg **out);

/* rooms_post() of a message that already has its id, time and pid (one
 * read from a shared sequence, src/redis_node.c): p->room names the room
 * (created if need be; an invalid name or a full registry is an error),
 * and p->id, p->ts and p->pid are kept (store_append_at()). Returns IM_OK,
 * IM_EINVAL when the id is not above the room's newest (a replay: nothing
 * stored), or another error with nothing stored. Must not be called from
 * a notify. */
enum im_err rooms_post_at(struct rooms *rs, const struct msg_parts *p);

/* A presence hook: called (rs->lock held, so it must not block or call
 * back into rooms) instead of storing a join or leave locally when set;
 * event is "join" or "leave", the strings are borrowed for the call. */
typedef void rooms_presence_fn(void *ctx, const char *room, const char *cid,
			       const char *pid, const char *from,
			       enum via via, const char *event);

/* Sends every later join and leave to fn(ctx, ...) instead of the local
 * store (NULL: back to the store). Call before other threads use rs. */
void rooms_set_presence_hook(struct rooms *rs, rooms_presence_fn *fn,
			     void *ctx);

/* Calls the presence hook with "join" for every member of every room
 * (a no-op without a hook): a node tells a Redis that lost or dropped
 * its members who they are again. Thread-safe (takes rs->lock). */
void rooms_presence_replay(struct rooms *rs);

/* Replaces the pid keys (the 32 bytes of key, borrowed), so that every
 * node sharing them derives the same pid from a cid. Call before other
 * threads use rs. */
void rooms_pid_set_key(struct rooms *rs, const unsigned char key[32]);

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
 * Returns IM_OK with *res filled, or IM_ENOMEM (or, for a direct message,
 * IM_ENOTFOUND: see rooms_post()) with nothing stored. */
enum im_err rooms_post_once(struct rooms *rs, struct room *r,
			    const struct msg_parts *p, const char *mid,
			    struct rooms_posted *res);

/* Ends the presence of pollers whose ttl passed before now_ms (monotonic),
 * publishing their `leave`, and reclaims every room unused and idle for
 * room_idle_ms. Returns how many members left. */
size_t rooms_sweep(struct rooms *rs, int64_t now_ms);

/* Publishes every open presence batch that is presence_interval_ms old
 * at now_ms (monotonic), or every one when all is set, as one `presence`
 * message each. Called by the server's ticker. */
void rooms_presence_flush(struct rooms *rs, int64_t now_ms, int all);

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

/* Copies up to max members of r into out (in no particular order);
 * returns the member count (which may exceed max). */
size_t rooms_members(struct rooms *rs, struct room *r,
		     struct room_member_info *out, size_t max);

/* Copies into out[0..*n) the first (at most max) members of r in pid
 * order whose pid sorts after `after` (NULL or "": from the first): one
 * page of a listing. Returns the member count of r. */
size_t rooms_members_page(struct rooms *rs, struct room *r,
			  const char *after, struct room_member_info *out,
			  size_t max, size_t *n);

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

/* Copies into out the first (at most max) rooms in name order whose name
 * sorts after `after` (NULL or "": from the first): one page of a
 * listing, O(rooms log max) under the lock. Returns how many it copied. */
size_t rooms_list_page(struct rooms *rs, const char *after,
		       struct room_info *out, size_t max);

/* Returns the newest id a reclaimed room dropped (0 if none): a cursor
 * older than it may have missed history of a room that is gone. */
uint64_t rooms_floor(struct rooms *rs);

/* Returns the store rs was created over (borrowed). */
struct store *rooms_store(const struct rooms *rs);

/* Returns how many rooms the registry holds. */
size_t rooms_count(struct rooms *rs);

/* Calls every subscriber's notify with no message (room_wake.c): each
 * reader looks at its cursor again. Not from a notify. */
void rooms_wake_all(struct rooms *rs);

#endif
