/* SPDX-License-Identifier: MIT */
/*
 * hmap: a small string-keyed hash map (open addressing, linear probing,
 * backward-shift deletion). Keys are borrowed: each key must live inside the
 * value it maps to, as long as the entry exists. Not thread-safe; callers
 * hold their own lock.
 */
#ifndef IMLAB_HMAP_H
#define IMLAB_HMAP_H

#include <stddef.h>

struct hmap_slot {
	const char *key;	/* borrowed, NULL = empty */
	void *val;
	size_t hash;
};

struct hmap {
	struct hmap_slot *slots;
	size_t cap;		/* power of two, or 0 before first insert */
	size_t len;
};

/* Returns a hash of the NUL-terminated string s (FNV-1a). */
size_t hmap_hash(const char *s);

/* Returns the value under key, or NULL. */
void *hmap_get(const struct hmap *h, const char *key);

/* Inserts key -> val (key must not be present). Returns 0, or -1 when out
 * of memory (the map is unchanged). */
int hmap_put(struct hmap *h, const char *key, void *val);

/* Removes key; returns its value, or NULL if it was not there. */
void *hmap_del(struct hmap *h, const char *key);

/* Frees the slots (not the values) and empties the map. */
void hmap_clear(struct hmap *h);

/* Iterates: pass *pos = 0 first; returns the next value or NULL at end. */
void *hmap_next(const struct hmap *h, size_t *pos);

#endif
