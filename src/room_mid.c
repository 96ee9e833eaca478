/* SPDX-License-Identifier: MIT */
/*
 * room_mid: the mid retry window of rooms_post_once(). A room remembers
 * the last ROOM_MID_WINDOW (cid, mid) pairs it stored, each by a 128-bit
 * keyed hash (room_pid_siphash() under the rooms' keys, in a domain apart
 * from the pids'), with the id and time it was stored under; a retry of
 * one of them is answered with that id instead of being stored again. The
 * window is allocated on a room's first mid and freed with the room
 * (room.c); everything here runs under rs->lock.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "room.h"
#include "room_private.h"

/* The keyed hash of "mid", NUL, cid, NUL, mid: a domain apart from the
 * pids' (a cid holds no NUL). */
static void
mid_hash(const struct rooms *rs, const char *cid, const char *mid,
	 uint64_t h[2])
{
	unsigned char buf[4 + MSG_CID_MAX + 1 + MSG_MID_MAX];
	size_t c = strlen(cid), m = strlen(mid), n;

	if (c > MSG_CID_MAX)
		c = MSG_CID_MAX;
	if (m > MSG_MID_MAX)
		m = MSG_MID_MAX;
	memcpy(buf, "mid", 4);
	memcpy(buf + 4, cid, c);
	buf[4 + c] = '\0';
	memcpy(buf + 5 + c, mid, m);
	n = 5 + c + m;
	h[0] = room_pid_siphash(rs->key[0], rs->key[1], buf, n);
	h[1] = room_pid_siphash(rs->key[2], rs->key[3], buf, n);
}

enum im_err
rooms_post_once(struct rooms *rs, struct room *r, const struct msg_parts *p,
		const char *mid, struct rooms_posted *res)
{
	struct msg *m = NULL;
	uint64_t h[2] = { 0, 0 };
	enum im_err err = IM_OK;

	*res = (struct rooms_posted){ 0, 0, 0 };
	if (mid && p->cid)
		mid_hash(rs, p->cid, mid, h);
	pthread_mutex_lock(&rs->lock);
	if (mid && p->cid) {
		for (size_t i = 0; i < r->nmids; i++)
			if (r->mids[i].h[0] == h[0] &&
			    r->mids[i].h[1] == h[1]) {
				res->id = r->mids[i].id;
				res->ts = r->mids[i].ts;
				res->dup = 1;
				goto out;
			}
		if (!r->mids) {
			r->mids = calloc(ROOM_MID_WINDOW, sizeof(*r->mids));
			if (!r->mids) {
				err = IM_ENOMEM;
				goto out;
			}
		}
	}
	err = room_post_locked(rs, r, p, &m);
	if (err != IM_OK)
		goto out;
	res->id = m->id;
	res->ts = m->ts;
	if (mid && p->cid) {
		/* the oldest pair gives way */
		struct mid_seen *s = &r->mids[r->mid_next];

		s->h[0] = h[0];
		s->h[1] = h[1];
		s->id = m->id;
		s->ts = m->ts;
		r->mid_next = (r->mid_next + 1) % ROOM_MID_WINDOW;
		if (r->nmids < ROOM_MID_WINDOW)
			r->nmids++;
	}
out:
	pthread_mutex_unlock(&rs->lock);
	msg_unref(&m);
	return err;
}
