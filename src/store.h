/* SPDX-License-Identifier: MIT */
/*
 * store: the server-wide message id sequence and one bounded ring of
 * message references per room. Every transport reads through one query,
 * store_read(): "messages after id N in rooms R that cid C may see", which
 * also reports a gap when history the reader needed was evicted. Ids are
 * seeded from the clock so they never go backwards across restarts.
 * All functions are thread-safe (one mutex).
 */
#ifndef IMLAB_STORE_H
#define IMLAB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "msg.h"

struct store;
struct store_ring;

/* Creates a store whose rings keep the last `history` messages each.
 * first_id == 0 seeds the sequence from the clock (unix seconds << 20);
 * any other value makes first_id the next id handed out (tests).
 * Returns NULL on allocation failure. */
struct store *store_create(size_t history, uint64_t first_id);

/* Frees every ring and drops every message reference; sets *stp to NULL.
 * No other call may run concurrently or afterwards. */
void store_destroy(struct store **stp);

/* Creates an empty ring owned by the store (freed by store_destroy).
 * Returns NULL on allocation failure. */
struct store_ring *store_ring_create(struct store *st);

/* store_ring_create() for a ring whose history up to id floor is known
 * to be lost (a room recreated after its ring was dropped): a reader
 * whose cursor is older than floor is told of a gap. */
struct store_ring *store_ring_create_after(struct store *st, uint64_t floor);

/* Frees ring *rp and drops its messages' references; sets *rp to NULL.
 * Nothing may use the ring afterwards (no cursor may hold it). Returns
 * the newest id it held (0 if it was empty). */
uint64_t store_ring_drop(struct store *st, struct store_ring **rp);

/* Appends a message to ring: assigns the next id and the publish time
 * (p->id and p->ts are ignored), serialises it, and evicts the oldest
 * message when the ring is full. On success returns IM_OK and, if out is
 * not NULL, a new reference in *out (the caller unrefs it). */
enum im_err store_append(struct store *st, struct store_ring *ring,
			 const struct msg_parts *p, struct msg **out);

/* The result of a read: n messages in out[0..n), each a new reference the
 * caller must msg_unref(); last_id is the cursor for the next read; gap is
 * 1 when a message after `since` in one of the rings was evicted. */
struct store_read_result {
	size_t n;
	uint64_t last_id;
	int gap;
};

/* Reads, in id order, up to max messages with id > since from the nrooms
 * rings that cid (NULL or "": anonymous) may see, ring i skipping what the
 * reader already has: ids up to from[i] (from may be NULL: none).
 * Duplicate rings are read once (null entries are skipped). since == 0
 * means "from the oldest kept" and never reports a gap (gaps are judged
 * against since alone); a since ahead of the sequence is treated as the
 * newest id. out NULL only counts, taking no reference. */
struct store_read_result store_read_from(struct store *st,
					 struct store_ring *const *rings,
					 const uint64_t *from, size_t nrooms,
					 uint64_t since, const char *cid,
					 struct msg **out, size_t max);

/* store_read_from() with no per-ring skips. */
static inline struct store_read_result
store_read(struct store *st, struct store_ring *const *rings, size_t nrooms,
	   uint64_t since, const char *cid, struct msg **out, size_t max)
{
	return store_read_from(st, rings, NULL, nrooms, since, cid, out, max);
}

/* Counts, up to max, what store_read_from() would return, taking no
 * reference; sets *gap to the gap it would report. */
static inline size_t
store_count_after(struct store *st, struct store_ring *const *rings,
		  const uint64_t *from, size_t nrooms, uint64_t since,
		  const char *cid, size_t max, int *gap)
{
	struct store_read_result r = store_read_from(st, rings, from, nrooms,
						     since, cid, NULL, max);

	*gap = r.gap;
	return r.n;
}

/* Returns the newest id handed out so far (0 if none yet, in which case
 * it is one less than the next id). */
uint64_t store_last_id(struct store *st);

/* Returns the cursor from which a read of ring returns its newest n
 * messages: the id just before them, or 0 when it holds n or fewer. */
uint64_t store_ring_since_last(struct store *st,
			       const struct store_ring *ring, size_t n);

/* Returns the newest id stored in ring (0 if it is empty). */
static inline uint64_t
store_ring_last_id(struct store *st, const struct store_ring *ring)
{
	return store_ring_since_last(st, ring, 0);
}

/* Returns how many messages ring holds now. */
size_t store_ring_len(struct store *st, const struct store_ring *ring);

/* Returns the number of messages held across all rings. */
size_t store_total(struct store *st);

#endif
