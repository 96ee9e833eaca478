/* SPDX-License-Identifier: MIT */
/*
 * room_list: the room layer's listings - every room (rooms_list()) or
 * every member of a room (rooms_members()), and their paged forms
 * (rooms_list_page(), rooms_members_page()), which pick the entries after
 * a key (a room's name, a member's pid) in key order with one pass over
 * the registry and a bounded max-heap. Each copies what it lists out under
 * rs->lock, so nothing listed refers back to the registry.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "room.h"
#include "room_private.h"

/* The key a listing pages by: a room's name, a member's pid. */
typedef const char *key_fn(const void *v);

static const char *
room_key(const void *v)
{
	return ((const struct room *)v)->name;
}

static const char *
member_key(const void *v)
{
	return ((const struct member *)v)->pid;
}

/* Moves heap entry i down to its place in the max-heap h[0..n). */
static void
sift(const void **h, size_t n, size_t i, key_fn *key)
{
	for (;;) {
		size_t l = 2 * i + 1, big = i;
		const void *t;

		if (l < n && strcmp(key(h[l]), key(h[big])) > 0)
			big = l;
		if (l + 1 < n && strcmp(key(h[l + 1]), key(h[big])) > 0)
			big = l + 1;
		if (big == i)
			return;
		t = h[i];
		h[i] = h[big];
		h[big] = t;
		i = big;
	}
}

/* Puts in out[0..ret), in key order, the (at most max) entries of hm with
 * the smallest keys after `after` (NULL or "": from the first): one pass
 * with a bounded max-heap, O(len log max); lock held. */
static size_t
pick(const struct hmap *hm, const char *after, key_fn *key,
     const void **out, size_t max)
{
	size_t pos = 0, n = 0;
	const void *v;

	if (!max)
		return 0;
	while ((v = hmap_next(hm, &pos))) {
		if (after && *after && strcmp(key(v), after) <= 0)
			continue;
		if (n < max) {
			/* sift up */
			size_t i = n++;

			out[i] = v;
			while (i && strcmp(key(out[(i - 1) / 2]),
					   key(out[i])) < 0) {
				const void *t = out[i];

				out[i] = out[(i - 1) / 2];
				out[(i - 1) / 2] = t;
				i = (i - 1) / 2;
			}
		} else if (strcmp(key(v), key(out[0])) < 0) {
			out[0] = v;
			sift(out, n, 0, key);
		}
	}
	/* heap sort in place: ascending */
	for (size_t k = n; k > 1; k--) {
		const void *t = out[0];

		out[0] = out[k - 1];
		out[k - 1] = t;
		sift(out, k - 1, 0, key);
	}
	return n;
}

size_t
rooms_members(struct rooms *rs, struct room *r, struct room_member_info *out,
	      size_t max)
{
	size_t pos = 0, n = 0;
	struct member *mb;

	pthread_mutex_lock(&rs->lock);
	while ((mb = hmap_next(&r->members, &pos))) {
		if (n < max) {
			memcpy(out[n].pid, mb->pid, sizeof(out[n].pid));
			memcpy(out[n].from, mb->from, sizeof(out[n].from));
			out[n].via = mb->via;
		}
		n++;
	}
	pthread_mutex_unlock(&rs->lock);
	return n;
}

size_t
rooms_list(struct rooms *rs, struct room_info *out, size_t max)
{
	size_t pos = 0, n = 0;
	struct room *r;

	pthread_mutex_lock(&rs->lock);
	while ((r = hmap_next(&rs->byname, &pos))) {
		if (n < max) {
			memcpy(out[n].name, r->name, sizeof(out[n].name));
			out[n].members = r->members.len;
			out[n].subscribers = r->nsubs;
			out[n].last_id = store_ring_last_id(rs->st, r->ring);
		}
		n++;
	}
	pthread_mutex_unlock(&rs->lock);
	return n;
}

size_t
rooms_members_page(struct rooms *rs, struct room *r, const char *after,
	      struct room_member_info *out, size_t max, size_t *n)
{
	const void **pk = malloc((max ? max : 1) * sizeof(*pk));
	size_t total;

	*n = 0;
	if (!pk)
		return 0;
	pthread_mutex_lock(&rs->lock);
	total = r->members.len;
	*n = pick(&r->members, after, member_key, pk, max);
	for (size_t i = 0; i < *n; i++) {
		const struct member *mb = pk[i];

		memcpy(out[i].pid, mb->pid, sizeof(out[i].pid));
		memcpy(out[i].from, mb->from, sizeof(out[i].from));
		out[i].via = mb->via;
	}
	pthread_mutex_unlock(&rs->lock);
	free(pk);
	return total;
}

size_t
rooms_list_page(struct rooms *rs, const char *after, struct room_info *out,
		size_t max)
{
	const void **pk = malloc((max ? max : 1) * sizeof(*pk));
	size_t n;

	if (!pk)
		return 0;
	pthread_mutex_lock(&rs->lock);
	n = pick(&rs->byname, after, room_key, pk, max);
	for (size_t i = 0; i < n; i++) {
		const struct room *r = pk[i];

		memcpy(out[i].name, r->name, sizeof(out[i].name));
		out[i].members = r->members.len;
		out[i].subscribers = r->nsubs;
		out[i].last_id = store_ring_last_id(rs->st, r->ring);
	}
	pthread_mutex_unlock(&rs->lock);
	free(pk);
	return n;
}
