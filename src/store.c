/* SPDX-License-Identifier: MIT */
/*
 * store: the id sequence, appends and reads over the per-room rings (the
 * rings themselves, their eviction and byte budgets, are store_ring.c's;
 * the two share struct store through store_private.h). `base`, the id
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
#include "store_private.h"

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
	int keep = store_ring_keeps(st, ring, now);
	struct msg *m;

	if (store_ring_reserve(st, ring, keep))
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
	*old = store_ring_push(st, ring, m, now, keep);
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
	    (!ring->len || p->id > store_ring_at(ring, ring->len - 1)->id))
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
		pos[nr] = store_ring_after(rings[i], after);
		nr++;
	}
	for (;;) {
		size_t best = nr;
		uint64_t best_id = UINT64_MAX;
		struct msg *m;

		for (size_t j = 0; j < nr; j++) {
			if (pos[j] < rs[j]->len &&
			    store_ring_at(rs[j], pos[j])->id < best_id) {
				best = j;
				best_id = store_ring_at(rs[j], pos[j])->id;
			}
		}
		if (best == nr) {
			/* everything up to the newest id has been seen (or a
			 * since within the lead, ahead of it) */
			res.last_id = last > since ? last : since;
			break;
		}
		m = store_ring_at(rs[best], pos[best]);
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
	if (store_ring_reserve(st, ring, 0)) {
		pthread_mutex_unlock(&st->lock);
		msg_unref(&m);
		return;
	}
	if (m->id >= st->next_id)
		st->next_id = m->id + 1;
	old = store_ring_push(st, ring, m, im_now_ms(), 0);
	pthread_mutex_unlock(&st->lock);
	msg_unref(&old);
}

