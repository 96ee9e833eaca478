/* SPDX-License-Identifier: MIT */
/*
 * room_post: the one road into the store, rooms_post(): a message
 * appended to its room's ring (the store takes its own lock: rooms ->
 * store) and delivered to the room's subscribers, or to the one member a
 * direct message names, before rs->lock is released; rooms_post_at() for
 * the --redis stream's messages, whose id is given.
 */
#include "autoconf.h"

#include <pthread.h>
#include <string.h>

#include "hmap.h"
#include "room.h"
#include "room_private.h"

/* Delivers m to r's subscribers; lock held. */
static void
notify_locked(struct room *r, const struct msg *m)
{
	for (size_t i = 0; i < r->nsubs; i++) {
		struct sub *s = r->subs[i]->sub;

		if (msg_visible(m, s->cid))
			s->notify(s, m);
	}
}

/* Returns the member of r whose public id is pid, or NULL; lock held. */
static const struct member *
member_by_pid(const struct room *r, const char *pid)
{
	size_t pos = 0;
	const struct member *mb;

	while ((mb = hmap_next(&r->members, &pos)))
		if (!memcmp(mb->pid, pid, MSG_PID_LEN))
			return mb;
	return NULL;
}

enum im_err
room_post_locked(struct rooms *rs, struct room *r, const struct msg_parts *in,
		 struct msg **out)
{
	char pid[MSG_PID_LEN + 1];
	struct msg_parts p = *in;
	struct msg *m = NULL;
	enum im_err err;

	if (p.to == MSG_TO_PID) {
		const struct member *to = p.to_pid ?
			member_by_pid(r, p.to_pid) : NULL;

		if (!to)
			return IM_ENOTFOUND;
		p.to_cid = to->cid;
	}
	rooms_pid(rs, p.cid, pid);
	p.room = r->name;
	p.pid = pid;
	err = store_append(rs->st, r->ring, &p, &m);
	if (err != IM_OK)
		return err;
	r->used = im_mono_ms();
	notify_locked(r, m);
	if (out)
		*out = m;
	else
		msg_unref(&m);
	return IM_OK;
}

enum im_err
rooms_post(struct rooms *rs, struct room *r, const struct msg_parts *p,
	   struct msg **out)
{
	enum im_err err;

	pthread_mutex_lock(&rs->lock);
	err = room_post_locked(rs, r, p, out);
	pthread_mutex_unlock(&rs->lock);
	return err;
}

enum im_err
rooms_post_at(struct rooms *rs, const struct msg_parts *p)
{
	struct im_error e = { 0 };
	struct room *r = rooms_get(rs, p->room, 1, &e);
	struct msg_parts q = *p;
	struct msg *m = NULL;
	enum im_err err;

	if (!r)
		return e.err ? e.err : IM_ENOMEM;
	pthread_mutex_lock(&rs->lock);
	q.room = r->name;
	err = store_append_at(rs->st, r->ring, &q, &m);
	if (err == IM_OK) {
		r->used = im_mono_ms();
		notify_locked(r, m);
	}
	pthread_mutex_unlock(&rs->lock);
	msg_unref(&m);
	rooms_release(rs, &r);
	return err;
}
