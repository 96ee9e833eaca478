/* SPDX-License-Identifier: MIT */
/*
 * cursor: a reader's position over a set of rings, read through the
 * store's one merge (store_read_from, store_count_after). It owns the
 * rules every transport shares: the clamp of a future since, the
 * join-with-older-since rewind, byte-bounded batches, and a gap reported
 * once per position.
 */
#include "autoconf.h"

#include <stdlib.h>

#include "cursor.h"
#include "netem.h"

#define NETEM_PEEK 16	/* messages a delayed pending count looks at */

/* A since ahead of the sequence means "from now on". */
static uint64_t
clamp(struct store *st, uint64_t since)
{
	uint64_t last = store_last_id(st);

	return since > last ? last : since;
}

void
cursor_init(struct cursor *c, struct store *st, const char *cid,
	    uint64_t since)
{
	*c = (struct cursor){ .st = st, .cid = cid };
	c->pos = clamp(st, since);
}

void
cursor_free(struct cursor *c)
{
	free(c->rings);
	free(c->from);
	c->rings = NULL;
	c->from = NULL;
	c->nrings = 0;
}

/* Makes room for n more rings. Returns 0, or -1 with c unchanged (an
 * array may have grown: still consistent). */
static int
reserve(struct cursor *c, size_t n)
{
	struct store_ring **nr;
	uint64_t *nf;

	if (!n)
		return 0;
	nr = realloc(c->rings, (c->nrings + n) * sizeof(*nr));
	if (!nr)
		return -1;
	c->rings = nr;
	nf = realloc(c->from, (c->nrings + n) * sizeof(*nf));
	if (!nf)
		return -1;
	c->from = nf;
	return 0;
}

enum im_err
cursor_add_ring(struct cursor *c, struct store_ring *ring, uint64_t since)
{
	if (reserve(c, 1))
		return IM_ENOMEM;
	since = clamp(c->st, since);
	if (!c->nrings || since < c->pos) {
		/* rewind: the rings already in c skip what they had */
		for (size_t i = 0; i < c->nrings; i++)
			if (c->from[i] < c->pos)
				c->from[i] = c->pos;
		c->pos = since;
		c->gap_told = 0;
	}
	c->rings[c->nrings] = ring;
	c->from[c->nrings++] = since;
	return IM_OK;
}

enum im_err
cursor_add_rings(struct cursor *c, struct store_ring *const *rings, size_t n)
{
	if (reserve(c, n))
		return IM_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c->rings[c->nrings] = rings[i];
		c->from[c->nrings++] = c->pos;
	}
	return IM_OK;
}

void
cursor_del_ring(struct cursor *c, const struct store_ring *ring)
{
	for (size_t i = 0; i < c->nrings; i++)
		if (c->rings[i] == ring) {
			c->nrings--;
			c->rings[i] = c->rings[c->nrings];
			c->from[i] = c->from[c->nrings];
			return;
		}
}

/* Returns 1 if a gap at the position is still to be reported. */
static int
untold(const struct cursor *c, int gap)
{
	return gap && !(c->gap_told && c->gap_pos == c->pos);
}

struct cursor_batch
cursor_read(struct cursor *c, struct msg **out, size_t max_msgs,
	    size_t max_bytes)
{
	struct cursor_batch b = { 0, 0, 0 };
	struct store_read_result r;
	size_t bytes = 0;

	if (!c->nrings || !max_msgs || netem_stalled(im_now_ms()))
		return b;	/* stalled: the admin's, netem.h */
	r = store_read_from(c->st, c->rings, c->from, c->nrings, c->pos,
			    c->cid, out, max_msgs);
	if (untold(c, r.gap)) {
		for (size_t i = 0; i < r.n; i++)
			msg_unref(&out[i]);
		c->gap_told = 1;
		c->gap_pos = c->pos;
		b.gap = b.more = 1;
		return b;
	}
	for (b.n = 0; b.n < r.n; b.n++) {
		size_t cost = out[b.n]->json_len + 1;

		if (b.n && bytes + cost > max_bytes)
			break;
		bytes += cost;
	}
	if (netem_on(c->net)) {
		/* the emulated link: only the prefix visible now */
		int64_t now = im_now_ms();
		size_t k;

		for (k = 0; k < b.n && netem_due(c->net, out[k]) <= now; k++)
			;
		if (k < b.n) {
			netem_wake_for(c->net, out[k]);
			c->pos = k ? out[k - 1]->id : c->pos;
			for (size_t i = k; i < r.n; i++)
				msg_unref(&out[i]);
			b.n = k;
			return b;
		}
	}
	if (b.n < r.n) {
		/* the rest waits for the next read */
		c->pos = out[b.n - 1]->id;
		for (size_t i = b.n; i < r.n; i++)
			msg_unref(&out[i]);
		b.more = 1;
	} else {
		c->pos = r.last_id;
		b.more = r.n == max_msgs;
	}
	return b;
}

size_t
cursor_pending(struct cursor *c, size_t max)
{
	size_t n;
	int gap = 0;

	if (!c->nrings || !max || netem_stalled(im_now_ms()))
		return 0;
	n = store_count_after(c->st, c->rings, c->from, c->nrings, c->pos,
			      c->cid, max, &gap);
	if (untold(c, gap))
		return max;
	if (n && netem_on(c->net)) {
		/* count what is visible: read (no gap is due) and go back */
		struct msg *out[NETEM_PEEK];
		uint64_t pos = c->pos;
		struct cursor_batch b;

		b = cursor_read(c, out, n < NETEM_PEEK ? n : NETEM_PEEK,
				SIZE_MAX);
		for (size_t i = 0; i < b.n; i++)
			msg_unref(&out[i]);
		c->pos = pos;
		n = b.n;
	}
	return n;
}
