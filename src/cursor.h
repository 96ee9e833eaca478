/* SPDX-License-Identifier: MIT */
/*
 * cursor: a subscriber's place in the store, the one way every transport
 * reads it. A cursor is a set of rings, a position (the newest id
 * delivered or passed over), per ring the newest id the reader already
 * has (a WebSocket join with an older since rewinds the position, and the
 * rings joined before skip what they had), and whether the gap at the
 * position was already reported. The contract is in doc/internals/cursor.md.
 *
 * A cursor belongs to one connection and is used by one thread at a time;
 * only the store calls inside take a lock (the store's).
 */
#ifndef IMLAB_CURSOR_H
#define IMLAB_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "msg.h"
#include "store.h"

struct netem;

struct cursor {
	struct store *st;		/* borrowed */
	const char *cid;		/* borrowed; NULL or "": anonymous */
	struct store_ring **rings;	/* nrings, owned array */
	uint64_t *from;			/* per ring: newest id already had */
	size_t nrings;
	uint64_t pos;			/* newest id delivered or passed */
	uint64_t gap_pos;		/* position a gap was reported at */
	int gap_told;			/* gap_pos is valid */
	const struct netem *net;	/* emulated delay (netem.h), borrowed;
					 * NULL: none */
};

/* What one cursor_read() took. */
struct cursor_batch {
	size_t n;	/* messages in out[0..n), new references */
	int gap;	/* a gap at the old position, reported now (n is 0) */
	int more;	/* a bound stopped the read: read again */
};

/* Initialises c over st with no rings at position since; a since ahead of
 * the sequence is clamped to the newest id (once, here), so a reader with
 * a future id is woken by the next message. cid (borrowed, read at every
 * read, so it may be a buffer filled later) is whom visibility is judged
 * for. Allocates nothing. */
void cursor_init(struct cursor *c, struct store *st, const char *cid,
		 uint64_t since);

/* Frees c's arrays (c itself belongs to the caller). Safe twice. */
void cursor_free(struct cursor *c);

/* Adds ring (borrowed, owned by the store) with since, the newest id of it
 * the reader has (clamped like cursor_init). A first ring sets the
 * position to since. Otherwise a since older than the position rewinds
 * the position to it, and every ring already in c then skips up to the
 * old position; a since at or after the position makes the new ring skip
 * up to since. A first ring or a rewind reports the gap at the new
 * position anew.
 * Returns IM_OK, or IM_ENOMEM with c unchanged. Adding a ring twice is
 * the caller's error. */
enum im_err cursor_add_ring(struct cursor *c, struct store_ring *ring,
			    uint64_t since);

/* Adds n rings (borrowed) that start at the cursor's position (HTTP:
 * every room of a request shares one since). Returns IM_OK, or IM_ENOMEM
 * with c unchanged. */
enum im_err cursor_add_rings(struct cursor *c,
			     struct store_ring *const *rings, size_t n);

/* Removes ring from c (no-op if absent). */
void cursor_del_ring(struct cursor *c, const struct store_ring *ring);

/* Reads, in id order, what is after the position that c's cid may see:
 * at most max_msgs messages, and after the first only while the batch
 * costs at most max_bytes (a message costs json_len + 1: its envelope and
 * a separator; SIZE_MAX means no byte bound). Advances the position past
 * what it returns and past what it skipped. If history after the
 * position was evicted and that gap was not reported at this position,
 * returns the gap alone (n 0, more 1, position unchanged); the next read
 * returns the messages. out must hold max_msgs entries; the caller
 * unrefs out[0..n). */
struct cursor_batch cursor_read(struct cursor *c, struct msg **out,
				size_t max_msgs, size_t max_bytes);

/* With c->net set, both reads stop at the first message not yet visible
 * through it (netem_due() after now) and ask its wake-up for then
 * (netem_wake_for()).
 *
 * Returns how many messages cursor_read() would return, counting up to
 * max and taking no reference; an unreported gap counts as max. */
size_t cursor_pending(struct cursor *c, size_t max);

/* Moves the position back to pos, the newest id the caller really used
 * (e.g. an SSE reader whose buffer filled before the batch did); pos must
 * lie between the position before the last read and the one after it. */
static inline void
cursor_seek(struct cursor *c, uint64_t pos)
{
	c->pos = pos;
}

/* Returns the position: the cursor to give a client as last_id. */
static inline uint64_t
cursor_pos(const struct cursor *c)
{
	return c->pos;
}

#endif
