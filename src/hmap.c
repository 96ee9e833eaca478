/* SPDX-License-Identifier: MIT */
/*
 * hmap: open-addressing string map used by the room registry and by each
 * room's member table.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "hmap.h"

size_t
hmap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 29));
}

static size_t
find(const struct hmap *h, const char *key, size_t hash)
{
	size_t mask = h->cap - 1, i = hash & mask;

	while (h->slots[i].key) {
		if (h->slots[i].hash == hash && !strcmp(h->slots[i].key, key))
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

void *
hmap_get(const struct hmap *h, const char *key)
{
	size_t i;

	if (!h->cap)
		return NULL;
	i = find(h, key, hmap_hash(key));
	return h->slots[i].key ? h->slots[i].val : NULL;
}

static int
grow(struct hmap *h)
{
	size_t ncap = h->cap ? h->cap * 2 : 8;
	struct hmap_slot *ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return -1;
	for (size_t i = 0; i < h->cap; i++) {
		size_t j;

		if (!h->slots[i].key)
			continue;
		j = h->slots[i].hash & (ncap - 1);
		while (ns[j].key)
			j = (j + 1) & (ncap - 1);
		ns[j] = h->slots[i];
	}
	free(h->slots);
	h->slots = ns;
	h->cap = ncap;
	return 0;
}

int
hmap_put(struct hmap *h, const char *key, void *val)
{
	size_t hash = hmap_hash(key), i;

	if ((h->len + 1) * 4 > h->cap * 3 && grow(h))
		return -1;
	i = find(h, key, hash);
	h->slots[i].key = key;
	h->slots[i].val = val;
	h->slots[i].hash = hash;
	h->len++;
	return 0;
}

void *
hmap_del(struct hmap *h, const char *key)
{
	size_t mask, i, j;
	void *val;

	if (!h->cap)
		return NULL;
	mask = h->cap - 1;
	i = find(h, key, hmap_hash(key));
	if (!h->slots[i].key)
		return NULL;
	val = h->slots[i].val;
	/* backward-shift: pull later entries of the run into the hole */
	j = i;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!h->slots[j].key)
			break;
		home = h->slots[j].hash & mask;
		/* move j to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			h->slots[i] = h->slots[j];
			i = j;
		}
	}
	h->slots[i].key = NULL;
	h->slots[i].val = NULL;
	h->len--;
	return val;
}

void
hmap_clear(struct hmap *h)
{
	free(h->slots);
	h->slots = NULL;
	h->cap = 0;
	h->len = 0;
}

void *
hmap_next(const struct hmap *h, size_t *pos)
{
	while (*pos < h->cap) {
		size_t i = (*pos)++;

		if (h->slots[i].key)
			return h->slots[i].val;
	}
	return NULL;
}
