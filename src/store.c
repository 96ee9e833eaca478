/* SPDX-License-Identifier: MIT */
/*
 * store: id sequence and per-room rings. A ring is an array of message
 * references in id order that grows by doubling up to `history` and then
 * overwrites its oldest slot; `evicted` remembers the newest id dropped so a
 * reader whose cursor is older learns of the gap. Rings and the store
 * also keep byte budgets: over one, the oldest messages go (the ring's,
 * then the store's oldest anywhere), with the same gap. A time floor
 * (store_set_history_ms) keeps a ring's messages younger than it past
 * `history`, so a burst does not push readers that keep up within that
 * time off the end; the byte budgets still bound it. `base`, the id
 * before the run's first, makes every cursor from an earlier run a gap.
 * Reads merge the rings of a subscription by id under the one store
 * mutex, taking a reference to each message so delivery happens outside
 * the lock. The sink sees each message under the same lock, before it is
 * stored, and may refuse it; `spans` are the earlier runs' ids whose
 * messages a database gave back, so their cursors are no gap.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

struct store_ring {
	struct msg **slot;	/* cap entries; [head, head+len) in use */
	size_t cap;
	size_t head;
	size_t len;
	uint64_t evicted;	/* newest id evicted so far, 0 if none */
	size_t bytes;		/* msg->size of what it holds */
	struct store_ring *next;	/* store's list, for destroy */
	struct store_ring *prev;	/* ... and for store_ring_drop() */
};

struct store {
	pthread_mutex_t lock;
	size_t history;
	uint64_t next_id;
	uint64_t base;		/* next_id - 1 at creation: the run's;
				 * raised by store_raise_base() */
	size_t total;
	size_t bytes;		/* msg->size of every message held */
	size_t max_bytes;	/* 0: no bound */
	size_t ring_max_bytes;	/* 0: no bound */
	int64_t history_ms;	/* keep at least this much; 0: count only */
	uint64_t lead;		/* a since up to last + lead is kept */
	struct store_ring *rings;
	struct store_sink sink;	/* put NULL: none */
	struct store_span *spans;	/* earlier runs' answered ids, owned */
	size_t nspans;
};

struct store *
store_create(size_t history, uint64_t first_id)
{
	struct store *st;

	if (!history)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	pthread_mutex_init(&st->lock, NULL);
	st->history = history;
	st->max_bytes = STORE_MAX_BYTES;
	st->ring_max_bytes = STORE_RING_MAX_BYTES;
	if (!first_id)
		first_id = ((uint64_t)im_now_ms() << STORE_ID_SHIFT) + 1;
	st->next_id = first_id;
	st->base = first_id - 1;
	return st;
}

void
store_destroy(struct store **stp)
{
	struct store *st = *stp;

	if (!st)
		return;
	*stp = NULL;
	while (st->rings) {
		struct store_ring *r = st->rings;

		st->rings = r->next;
		for (size_t i = 0; i < r->len; i++)
			msg_unref(&r->slot[(r->head + i) % r->cap]);
		free(r->slot);
		free(r);
	}
	pthread_mutex_destroy(&st->lock);
	free(st->spans);
	free(st);
}

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

static inline struct msg *
ring_at(const struct store_ring *r, size_t i)
{
	return r->slot[(r->head + i) & (r->cap - 1)];
}

/* 1 if r holds history messages or more and its oldest is within the
 * time floor at now (wall ms): it grows past history instead of evicting
 * it. Lock held. */
static int
ring_keeps(const struct store *st, const struct store_ring *r, int64_t now)
{
	const struct msg *oldest;

	if (!st->history_ms || !r->len || r->len < st->history || !r->slot)
		return 0;
	oldest = r->slot[r->head & (r->cap - 1)];
	return oldest && now - oldest->ts < st->history_ms;
}

/* Makes room for one more entry (past history when keep); returns 0 or
 * -1 (out of memory). */
static int
ring_reserve(struct store *st, struct store_ring *r, int keep)
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
		ns[i] = ring_at(r, i);
	free(r->slot);
	r->slot = ns;
	r->cap = ncap;
	r->head = 0;
	return 0;
}

void
store_set_budget(struct store *st, size_t max_bytes, size_t ring_max_bytes)
{
	pthread_mutex_lock(&st->lock);
	st->max_bytes = max_bytes;
	st->ring_max_bytes = ring_max_bytes;
	pthread_mutex_unlock(&st->lock);
}

void
store_set_history_ms(struct store *st, int64_t ms)
{
	pthread_mutex_lock(&st->lock);
	st->history_ms = ms > 0 ? ms : 0;
	pthread_mutex_unlock(&st->lock);
}

/* Drops r's oldest message, remembering its id for the gap; lock held. */
static void
evict_head(struct store *st, struct store_ring *r)
{
	struct msg *old = ring_at(r, 0);

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
		if (r->len && ring_at(r, 0) != keep &&
		    ring_at(r, 0)->id < best_id) {
			best = r;
			best_id = ring_at(r, 0)->id;
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

/* Stores m (the ring's reference) at the end of ring, whose room
 * ring_reserve() made (keep: ring_keeps() said the time floor holds the
 * oldest); returns the message a full ring gave up (for the caller to
 * unref outside the lock) or NULL. Lock held. */
static struct msg *
push(struct store *st, struct store_ring *ring, struct msg *m, int64_t now,
     int keep)
{
	struct msg *old = NULL;

	/* past history under the time floor, what left it goes now */
	while (st->history_ms && ring->len > st->history &&
	       !ring_keeps(st, ring, now))
		evict_head(st, ring);
	/* a ring is full when len reached history (cap may exceed it, as
	 * capacities are powers of two) */
	if (ring->len >= st->history && !keep) {
		old = ring_at(ring, 0);
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

/* Builds the message of parts (id and ts set), hands it to the sink when
 * there is one (its refusal is returned, nothing stored) and appends it
 * to ring; lock held. *old: what a full ring gave up, for the caller to
 * unref outside the lock. */
static enum im_err
append_locked(struct store *st, struct store_ring *ring,
	      const struct msg_parts *parts, struct msg **out,
	      struct msg **old)
{
	int64_t now = im_now_ms();
	int keep = ring_keeps(st, ring, now);
	struct msg *m;

	if (ring_reserve(st, ring, keep))
		return IM_ENOMEM;
	m = msg_create(parts);
	if (!m)
		return IM_ENOMEM;
	if (st->sink.put) {
		enum im_err err = st->sink.put(st->sink.ctx, m);

		if (err != IM_OK) {
			msg_unref(&m);
			return err;
		}
	}
	if (parts->id >= st->next_id)
		st->next_id = parts->id + 1;
	*old = push(st, ring, m, now, keep);
	if (out)
		*out = msg_ref(m);
	return IM_OK;
}

enum im_err
store_append(struct store *st, struct store_ring *ring,
	     const struct msg_parts *p, struct msg **out)
{
	struct msg_parts parts = *p;
	struct msg *old = NULL;
	enum im_err err;

	pthread_mutex_lock(&st->lock);
	parts.id = st->next_id;
	parts.ts = im_now_ms();
	err = append_locked(st, ring, &parts, out, &old);
	pthread_mutex_unlock(&st->lock);
	msg_unref(&old);
	return err;
}

enum im_err
store_append_at(struct store *st, struct store_ring *ring,
		const struct msg_parts *p, struct msg **out)
{
	struct msg *old = NULL;
	enum im_err err = IM_EINVAL;

	pthread_mutex_lock(&st->lock);
	if (p->id > st->base &&
	    (!ring->len || p->id > ring_at(ring, ring->len - 1)->id))
		err = append_locked(st, ring, p, out, &old);
	pthread_mutex_unlock(&st->lock);
	msg_unref(&old);
	return err;
}

void
store_set_lead(struct store *st, uint64_t lead)
{
	pthread_mutex_lock(&st->lock);
	st->lead = lead;
	pthread_mutex_unlock(&st->lock);
}

uint64_t
store_clamp(struct store *st, uint64_t since)
{
	uint64_t last;

	pthread_mutex_lock(&st->lock);
	last = st->next_id - 1;
	if (since > last + st->lead)
		since = last;
	pthread_mutex_unlock(&st->lock);
	return since;
}

void
store_raise_base(struct store *st, uint64_t base)
{
	pthread_mutex_lock(&st->lock);
	if (base > st->base)
		st->base = base;
	if (base >= st->next_id)
		st->next_id = base + 1;
	pthread_mutex_unlock(&st->lock);
}

/* Index of the first message in r with id > since (binary search). */
static size_t
ring_after(const struct store_ring *r, uint64_t since)
{
	size_t lo = 0, hi = r->len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ring_at(r, mid)->id <= since)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* 1 if an earlier run's cursor since is answered (store_resume()); lock
 * held. The spans are few (one per earlier run kept by the database). */
static int
known(const struct store *st, uint64_t since)
{
	for (size_t i = 0; i < st->nspans; i++)
		if (since >= st->spans[i].lo && since <= st->spans[i].hi)
			return 1;
	return 0;
}

#define READ_MAX_RINGS 64

/* The one merge behind every read: walks the rings after since (and
 * ring i after from[i]) in id order, under the lock, taking a reference
 * to each visible message into out, or only counting them (out NULL). */
struct store_read_result
store_read_from(struct store *st, struct store_ring *const *rings,
		const uint64_t *from, size_t nrooms, uint64_t since,
		const char *cid, struct msg **out, size_t max)
{
	struct store_read_result res = { 0, since, 0 };
	const struct store_ring *rs[READ_MAX_RINGS];
	size_t pos[READ_MAX_RINGS];
	size_t nr = 0;
	uint64_t last;

	pthread_mutex_lock(&st->lock);
	last = st->next_id - 1;
	if (since > last + st->lead)
		since = last;
	res.last_id = since;
	for (size_t i = 0; i < nrooms && nr < READ_MAX_RINGS; i++) {
		uint64_t after = since;
		size_t j;

		for (j = 0; j < nr; j++)
			if (rs[j] == rings[i])
				break;
		if (j < nr || !rings[i])
			continue;
		rs[nr] = rings[i];
		if (since && (rings[i]->evicted > since ||
			      (since < st->base && !known(st, since))))
			res.gap = 1;
		if (from && from[i] > after)
			after = from[i];
		pos[nr] = ring_after(rings[i], after);
		nr++;
	}
	for (;;) {
		size_t best = nr;
		uint64_t best_id = UINT64_MAX;
		struct msg *m;

		for (size_t j = 0; j < nr; j++) {
			if (pos[j] < rs[j]->len &&
			    ring_at(rs[j], pos[j])->id < best_id) {
				best = j;
				best_id = ring_at(rs[j], pos[j])->id;
			}
		}
		if (best == nr) {
			/* everything up to the newest id has been seen (or a
			 * since within the lead, ahead of it) */
			res.last_id = last > since ? last : since;
			break;
		}
		m = ring_at(rs[best], pos[best]);
		if (msg_visible(m, cid)) {
			if (res.n == max)
				break;
			if (out)
				out[res.n] = msg_ref(m);
			res.n++;
		}
		pos[best]++;
		res.last_id = m->id;
	}
	pthread_mutex_unlock(&st->lock);
	return res;
}

uint64_t
store_base_id(struct store *st)
{
	uint64_t v;

	pthread_mutex_lock(&st->lock);
	v = st->base;
	pthread_mutex_unlock(&st->lock);
	return v;
}

uint64_t
store_last_id(struct store *st)
{
	uint64_t v;

	pthread_mutex_lock(&st->lock);
	v = st->next_id - 1;
	pthread_mutex_unlock(&st->lock);
	return v;
}

uint64_t
store_ring_since_last(struct store *st, const struct store_ring *ring,
		      size_t n)
{
	uint64_t v = 0;

	pthread_mutex_lock(&st->lock);
	if (n < ring->len)
		v = ring_at(ring, ring->len - n - 1)->id;
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

size_t
store_bytes(struct store *st)
{
	size_t v;

	pthread_mutex_lock(&st->lock);
	v = st->bytes;
	pthread_mutex_unlock(&st->lock);
	return v;
}

size_t
store_total(struct store *st)
{
	size_t v;

	pthread_mutex_lock(&st->lock);
	v = st->total;
	pthread_mutex_unlock(&st->lock);
	return v;
}

void
store_set_sink(struct store *st, const struct store_sink *sink)
{
	pthread_mutex_lock(&st->lock);
	if (sink)
		st->sink = *sink;
	else
		memset(&st->sink, 0, sizeof(st->sink));
	pthread_mutex_unlock(&st->lock);
}

enum im_err
store_explain(struct store *st, enum im_err err, struct im_error *e)
{
	struct store_sink sink;

	pthread_mutex_lock(&st->lock);
	sink = st->sink;
	pthread_mutex_unlock(&st->lock);
	if (err != IM_ENOMEM && sink.explain) {
		sink.explain(sink.ctx, err, e);
		return err;
	}
	return im_error_set(e, err, "no_memory", "out of memory");
}

enum im_err
store_resume(struct store *st, const struct store_span *spans, size_t n)
{
	struct store_span *copy = NULL;
	uint64_t next = st->next_id;

	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return IM_ENOMEM;
		memcpy(copy, spans, n * sizeof(*copy));
	}
	for (size_t i = 0; i < n; i++)
		if (spans[i].hi >= next)
			next = spans[i].hi + 1;
	pthread_mutex_lock(&st->lock);
	free(st->spans);
	st->spans = copy;
	st->nspans = n;
	st->next_id = next;
	st->base = next - 1;
	pthread_mutex_unlock(&st->lock);
	return IM_OK;
}

void
store_restore(struct store *st, struct store_ring *ring, struct msg *m)
{
	struct msg *old = NULL;

	pthread_mutex_lock(&st->lock);
	/* history read back is bounded by count: no time floor here */
	if (ring_reserve(st, ring, 0)) {
		pthread_mutex_unlock(&st->lock);
		msg_unref(&m);
		return;
	}
	if (m->id >= st->next_id)
		st->next_id = m->id + 1;
	old = push(st, ring, m, im_now_ms(), 0);
	pthread_mutex_unlock(&st->lock);
	msg_unref(&old);
}

void
store_ring_lost(struct store *st, struct store_ring *ring, uint64_t upto)
{
	pthread_mutex_lock(&st->lock);
	if (upto > ring->evicted)
		ring->evicted = upto;
	pthread_mutex_unlock(&st->lock);
}
