/* SPDX-License-Identifier: MIT */
/*
 * room_private: the room layer's private state, shared by the files that
 * implement room.h (room.c: registry, reclaim, subscribers, presence;
 * room_post.c: the road into the store; room_pid.c: the pids;
 * room_mid.c: the mid retry window; room_list.c: the listings) and by no
 * one else: everything outside sees struct room and struct rooms as
 * opaque. Every field is guarded by rooms.lock. Include it after room.h
 * (it does not include room.h itself, so that room and room_private form
 * no include cycle: tools/inccycle.sh).
 */
#ifndef IMLAB_ROOM_PRIVATE_H
#define IMLAB_ROOM_PRIVATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "hmap.h"
#include "list.h"
#include "msg.h"

struct member {
	char cid[MSG_CID_MAX + 1];	/* the key */
	char pid[MSG_PID_LEN + 1];
	char from[MSG_FROM_MAX * 4 + 1];
	enum via via;		/* transport of the latest arrival */
	unsigned nsubs;		/* subscriptions held in this room */
	int64_t poll_until;	/* monotonic ms a poll keeps it present */
};

struct room {
	char name[MSG_ROOM_MAX + 1];	/* the registry key */
	struct store_ring *ring;
	struct sub_link **subs;	/* nsubs entries, unordered */
	size_t nsubs;
	size_t cap;
	struct hmap members;	/* cid -> struct member */
	struct mid_seen *mids;	/* ROOM_MID_WINDOW entries, or NULL */
	size_t nmids, mid_next;
	struct room_presence *presence;	/* an open batch, or NULL */
	unsigned pins;		/* rooms_get() not yet rooms_release()d */
	int64_t used;		/* monotonic ms of the last use */
};

/* A (cid, mid) pair a room has stored, by its 128-bit keyed hash. */
struct mid_seen {
	uint64_t h[2];
	uint64_t id;
	int64_t ts;
};

struct rooms {
	pthread_mutex_t lock;
	struct store *st;
	struct rooms_config cfg;
	struct hmap byname;	/* name -> struct room */
	uint64_t key[4];	/* pid keys: two SipHash-2-4 keys */
	uint64_t floor;		/* newest id a reclaimed room dropped */
	struct list presence_open;	/* rooms with an open batch */
	rooms_presence_fn *presence;	/* NULL: joins/leaves stored here */
	void *presence_ctx;
};

/* SipHash-2-4 of s[0..n) under the key (k0, k1): a keyed PRF, so a
 * client that asks for the pids of chosen cids learns nothing of others.
 * s is borrowed; used for the pids (room_pid.c) and the mid window
 * (room_mid.c). */
uint64_t room_pid_siphash(uint64_t k0, uint64_t k1,
			  const unsigned char *s, size_t n);

/* rooms_post() with rs->lock held: the one road into the store. Appends
 * in (borrowed) to r's ring with r's name and the cid's pid and delivers
 * it to r's subscribers (a direct message to the member with p->to_pid
 * only: IM_ENOTFOUND when r has none). Returns IM_OK and, if out is not
 * NULL, sets *out to a reference the caller owns (msg_unref()); else the
 * store's error. */
enum im_err room_post_locked(struct rooms *rs, struct room *r,
			     const struct msg_parts *in, struct msg **out);

/* Arrivals and departures a presence batch lists (it counts them all). */
#define ROOM_PRESENCE_LIST 16

/* room_presence.c, lock held: when r has more than presence_batch
 * members (counting the one arriving or leaving) or a batch is already
 * open, adds the join (join 1) or leave of (pid, from, via) to r's batch,
 * opening it, and returns 1: the caller publishes nothing. Returns 0 when
 * the caller should publish the single join/leave itself (a small room,
 * batching off, or no memory for a batch). Strings are copied. */
int room_presence_defer(struct rooms *rs, struct room *r, const char *pid,
			const char *from, enum via via, int join);

/* Drops r's open batch unpublished (r is being freed); lock held. */
void room_presence_free(struct room *r);

#endif
