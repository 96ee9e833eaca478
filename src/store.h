/* SPDX-License-Identifier: MIT */
/*
 * store: the server-wide message id sequence and one bounded ring of
 * message references per room. Every transport reads through one query,
 * store_read(): "messages after id N in rooms R that cid C may see", which
 * also reports a gap when history the reader needed was evicted or lived
 * in an earlier run. Ids are seeded from a millisecond clock so that they
 * never repeat across restarts (doc/protocol.md, "Ids and restarts").
 * A sink (histdb) may be told of every append, and earlier runs'
 * messages given back (store_resume(), store_restore()).
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

/* Ids of a run start after (unix ms << STORE_ID_SHIFT): 2048 ids per
 * millisecond of uptime before a later run could meet them, and below
 * 2^53 (exact in JavaScript) until the year 2109. */
#define STORE_ID_SHIFT 11

/* The byte budgets a new store starts with (the defaults of --max-memory
 * and --room-memory): what every message held costs (msg->size), over the
 * store and per ring. */
#define STORE_MAX_BYTES ((size_t)256 << 20)
#define STORE_RING_MAX_BYTES ((size_t)16 << 20)

/* Creates a store whose rings keep the last `history` messages each.
 * first_id == 0 seeds the sequence from the clock: the first id is
 * (unix ms << STORE_ID_SHIFT) + 1; any other value makes first_id the next
 * id handed out (tests). The id before the first is the run's base: a
 * read with 0 < since < base reports a gap (the reader's cursor is from
 * an earlier run, whose messages are gone).
 * Returns NULL on allocation failure. */
struct store *store_create(size_t history, uint64_t first_id);

/* Where every appended message is also sent (histdb: the database).
 * put runs with the store lock held, in id order, once the message is
 * built and before it is stored: it must not block, takes references
 * itself (m is borrowed), and a non-IM_OK return refuses the append (no
 * id is used, nothing is stored). explain fills e for such a refusal. */
struct store_sink {
	enum im_err (*put)(void *ctx, struct msg *m);
	void (*explain)(void *ctx, enum im_err err, struct im_error *e);
	void *ctx;
};

/* Sets (sink not NULL) or removes (NULL) the sink; sink is copied.
 * Thread-safe. */
void store_set_sink(struct store *st, const struct store_sink *sink);

/* Fills e for err, an error store_append() returned: the sink's reason
 * when it refused, else "no_memory". Returns err. */
enum im_err store_explain(struct store *st, enum im_err err,
			  struct im_error *e);

/* An id range an earlier run handed out and whose messages this store
 * was given back (store_restore()): cursors from lo to hi are answered,
 * not reported as a gap. */
struct store_span {
	uint64_t lo, hi;
};

/* Continues the history of earlier runs: cursors in the n spans (copied;
 * sorted by lo) are not gaps for being older than the run, and the next
 * id is after both the clock's base and every span's hi (never reused,
 * never backwards). The run's base moves to just before that next id.
 * Call before any other thread uses the store. Returns IM_OK or
 * IM_ENOMEM (then nothing changed). */
enum im_err store_resume(struct store *st, const struct store_span *spans,
			 size_t n);

/* Appends m (takes ownership; its id must be above everything ring holds
 * and not above store_last_id() afterwards, which it raises if needed) to
 * ring as it was, without the sink: a message given back from a database.
 * History and byte limits apply as in store_append(). */
void store_restore(struct store *st, struct store_ring *ring,
		   struct msg *m);

/* Marks ring's history up to id upto as lost (a reader whose cursor is
 * older is told of a gap); never lowers the mark. */
void store_ring_lost(struct store *st, struct store_ring *ring,
		     uint64_t upto);

/* Sets the byte budgets (0: none): after each append, while a ring holds
 * more than ring_max_bytes its oldest message is evicted, then while the
 * store holds more than max_bytes the oldest message of any ring is;
 * readers behind an evicted message get a gap, as with --history. The
 * message just appended always stays. Thread-safe. */
void store_set_budget(struct store *st, size_t max_bytes,
		      size_t ring_max_bytes);

/* Sets the time floor of the history (0: none, the default): a ring that
 * holds `history` messages or more keeps growing instead of evicting its
 * oldest while that one is younger than ms (by its ts), and evicts down
 * to `history` once they are older; the byte budgets
 * (store_set_budget()) still apply first. Thread-safe. */
void store_set_history_ms(struct store *st, int64_t ms);

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

/* store_append() of a message whose id and time were given elsewhere (a
 * shared sequence: src/redis_node.c): p->id and p->ts are kept. The id
 * must be above the run's base and above the newest id in ring, else
 * nothing is stored and IM_EINVAL is returned (a replay is not stored
 * twice). The sequence moves up to p->id if it was behind. Otherwise the
 * same as store_append(). */
enum im_err store_append_at(struct store *st, struct store_ring *ring,
			    const struct msg_parts *p, struct msg **out);

/* Raises the run's base to base (never lowers it), and the sequence with
 * it: from now on a read from a cursor in (0, base) reports a gap (the
 * shared history those cursors point into was lost). Thread-safe. */
void store_raise_base(struct store *st, uint64_t base);

/* A store fed by a shared sequence lags the other nodes: a cursor up to
 * lead ids ahead of its newest is a position another node reached, kept
 * as it is (messages after it come as they are applied) instead of being
 * treated as the newest id. 0 (the default) for a store alone. */
void store_set_lead(struct store *st, uint64_t lead);

/* The since a read will use: since itself, or the newest id when since
 * is more than the lead ahead of it (a cursor from the future). */
uint64_t store_clamp(struct store *st, uint64_t since);

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
 * against since alone: a ring evicted an id after it, or it is below the
 * run's base, store_base_id()); a since ahead of the sequence (beyond the
 * lead, store_set_lead()) is treated as the newest id. out NULL only
 * counts, taking no reference. */
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

/* Returns the run's base: the id just before its first (what
 * store_last_id() returns before the first publish). Cursors in
 * (0, base) are from an earlier run. Thread-safe. */
uint64_t store_base_id(struct store *st);

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

/* Returns the bytes (msg->size) of every message held. */
size_t store_bytes(struct store *st);

/* Returns the number of messages held across all rings. */
size_t store_total(struct store *st);

#endif
