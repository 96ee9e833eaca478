/* SPDX-License-Identifier: MIT */
/*
 * store_ring: a room's ring, an array of message references in id order
 * that grows by doubling up to `history` and then overwrites its oldest
 * slot; `evicted` remembers the newest id dropped so a reader whose
 * cursor is older learns of the gap. Rings and the store also keep byte
 * budgets: over one, the oldest messages go (the ring's, then the store's
 * oldest anywhere), with the same gap. A time floor
 * (store_set_history_ms) keeps a ring's messages younger than it past
 * `history`, so a burst does not push readers that keep up within that
 * time off the end; the byte budgets still bound it. Under the store's
 * lock.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>

#include "store.h"
#include "store_private.h"

struct store_ring *
store_ring_create_after(struct store *st, uint64_t floor)
{
	struct store_ring *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->evicted = floor;
	pthread_mutex_lock(&st->lock);
	r->next = st->rings;
	if (r->next)
		r->next->prev = r;
	st->rings = r;
	pthread_mutex_unlock(&st->lock);
	return r;
}

struct store_ring *
store_ring_create(struct store *st)
{
	return store_ring_create_after(st, 0);
}

uint64_t
store_ring_drop(struct store *st, struct store_ring **rp)
{
	struct store_ring *r = *rp;
	uint64_t last = 0;

	if (!r)
		return 0;
	*rp = NULL;
	pthread_mutex_lock(&st->lock);
	if (r->prev)
		r->prev->next = r->next;
	else
		st->rings = r->next;
	if (r->next)
		r->next->prev = r->prev;
	/* the newest id it held, or (emptied by a budget) dropped */
	last = r->len ? r->slot[(r->head + r->len - 1) % r->cap]->id :
			 r->evicted;
	st->total -= r->len;
	for (size_t i = 0; i < r->len; i++)
		st->bytes -= r->slot[(r->head + i) % r->cap]->size;
	pthread_mutex_unlock(&st->lock);
	for (size_t i = 0; i < r->len; i++)
		msg_unref(&r->slot[(r->head + i) % r->cap]);
	free(r->slot);
	free(r);
	return last;
}

int
store_ring_keeps(const struct store *st, const struct store_ring *r,
		 int64_t now)
{
	const struct msg *oldest;

	if (!st->history_ms || !r->len || r->len < st->history || !r->slot)
		return 0;
	oldest = r->slot[r->head & (r->cap - 1)];
	return oldest && now - oldest->ts < st->history_ms;
}

int
store_ring_reserve(struct store *st, struct store_ring *r, int keep)
{
	size_t ncap;
	struct msg **ns;

	if (r->len < r->cap || (r->cap >= st->history && !keep))
		return 0;
	ncap = r->cap ? r->cap * 2 : 8;
	ns = malloc(ncap * sizeof(*ns));
	if (!ns)
		return -1;
	for (size_t i = 0; i < r->len; i++)
		ns[i] = store_ring_at(r, i);
	free(r->slot);
	r->slot = ns;
	r->cap = ncap;
	r->head = 0;
	return 0;
}

/* Drops r's oldest message, remembering its id for the gap; lock held. */
static void
evict_head(struct store *st, struct store_ring *r)
{
	struct msg *old = store_ring_at(r, 0);

	r->evicted = old->id;
	r->head = (r->head + 1) & (r->cap - 1);
	r->len--;
	r->bytes -= old->size;
	st->total--;
	st->bytes -= old->size;
	msg_unref(&old);
}

/* The ring whose oldest message is the oldest held, other than keep (the
 * message just appended); NULL if none. Lock held. A scan of the rings:
 * it runs only when the store is over its budget. */
static struct store_ring *
oldest_ring(struct store *st, const struct msg *keep)
{
	struct store_ring *best = NULL;
	uint64_t best_id = UINT64_MAX;

	for (struct store_ring *r = st->rings; r; r = r->next)
		if (r->len && store_ring_at(r, 0) != keep &&
		    store_ring_at(r, 0)->id < best_id) {
			best = r;
			best_id = store_ring_at(r, 0)->id;
		}
	return best;
}

/* Brings ring and then the store back within their byte budgets by
 * evicting the oldest messages (a gap for readers behind them); the new
 * message m itself always stays. Lock held. */
static void
enforce_budget(struct store *st, struct store_ring *ring,
	       const struct msg *m)
{
	struct store_ring *r;

	while (st->ring_max_bytes && ring->bytes > st->ring_max_bytes &&
	       ring->len > 1)
		evict_head(st, ring);
	while (st->max_bytes && st->bytes > st->max_bytes &&
	       (r = oldest_ring(st, m)))
		evict_head(st, r);
}

struct msg *
store_ring_push(struct store *st, struct store_ring *ring, struct msg *m,
		int64_t now, int keep)
{
	struct msg *old = NULL;

	/* past history under the time floor, what left it goes now */
	while (st->history_ms && ring->len > st->history &&
	       !store_ring_keeps(st, ring, now))
		evict_head(st, ring);
	/* a ring is full when len reached history (cap may exceed it, as
	 * capacities are powers of two) */
	if (ring->len >= st->history && !keep) {
		old = store_ring_at(ring, 0);
		ring->evicted = old->id;
		ring->head = (ring->head + 1) & (ring->cap - 1);
		ring->len--;
		ring->bytes -= old->size;
		st->total--;
		st->bytes -= old->size;
	}
	ring->slot[(ring->head + ring->len) & (ring->cap - 1)] = m;
	ring->len++;
	ring->bytes += m->size;
	st->total++;
	st->bytes += m->size;
	enforce_budget(st, ring, m);
	return old;
}

size_t
store_ring_after(const struct store_ring *r, uint64_t since)
{
	size_t lo = 0, hi = r->len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (store_ring_at(r, mid)->id <= since)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint64_t
store_ring_since_last(struct store *st, const struct store_ring *ring,
		      size_t n)
{
	uint64_t v = 0;

	pthread_mutex_lock(&st->lock);
	if (n < ring->len)
		v = store_ring_at(ring, ring->len - n - 1)->id;
	pthread_mutex_unlock(&st->lock);
	return v;
}

size_t
store_ring_len(struct store *st, const struct store_ring *ring)
{
	size_t v;

	pthread_mutex_lock(&st->lock);
	v = ring->len;
	pthread_mutex_unlock(&st->lock);
	return v;
}

void
store_ring_lost(struct store *st, struct store_ring *ring, uint64_t upto)
{
	pthread_mutex_lock(&st->lock);
	if (upto > ring->evicted)
		ring->evicted = upto;
	pthread_mutex_unlock(&st->lock);
}
