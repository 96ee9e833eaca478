/* SPDX-License-Identifier: MIT */
/*
 * store_private: the store's private state, shared by store.c (sequence,
 * appends, reads) and store_ring.c (the rings, eviction, budgets) and by
 * no one else: outside, struct store and struct store_ring are opaque
 * (store.h). Include it after store.h (it does not include store.h, so
 * the two form no include cycle: tools/inccycle.sh). Everything here is
 * under st->lock.
 */
#ifndef IMLAB_STORE_PRIVATE_H
#define IMLAB_STORE_PRIVATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

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

/* Entry i of r (0: its oldest). */
static inline struct msg *
store_ring_at(const struct store_ring *r, size_t i)
{
	return r->slot[(r->head + i) & (r->cap - 1)];
}

/* 1 if r holds history messages or more and its oldest is within the
 * time floor at now (wall ms): it grows past history instead of evicting
 * it. */
int store_ring_keeps(const struct store *st, const struct store_ring *r,
		     int64_t now);

/* Makes room for one more entry (past history when keep); returns 0 or
 * -1 (out of memory). */
int store_ring_reserve(struct store *st, struct store_ring *r, int keep);

/* Stores m (the ring's reference) at the end of ring, whose room
 * store_ring_reserve() made (keep: store_ring_keeps() said the time floor
 * holds the oldest), then brings the ring and the store within their byte
 * budgets; returns the message a full ring gave up (for the caller to
 * unref outside the lock) or NULL. */
struct msg *store_ring_push(struct store *st, struct store_ring *ring,
			    struct msg *m, int64_t now, int keep);

/* Index of the first message in r with id > since (binary search). */
size_t store_ring_after(const struct store_ring *r, uint64_t since);

#endif
