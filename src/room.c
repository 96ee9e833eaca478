/* SPDX-License-Identifier: MIT */
/*
 * room: registry, reclaim, subscriber arrays and presence (the one road
 * into the store, rooms_post(), is room_post.c's, the pids room_pid.c's,
 * the mid retry window room_mid.c's, the listings room_list.c's; the
 * private structs they share are in room_private.h). Everything here runs
 * under rs->lock. A room lives while anything refers to it (a pin from
 * rooms_get(), a subscriber, a member); unused, it is reclaimed with its
 * ring at once if it never held a message, else once idle for
 * room_idle_ms (rooms_sweep()). A presence join/leave is posted while the
 * lock is held, so it is ordered with the membership change it reports.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "hmap.h"
#include "log.h"
#include "names.h"
#include "room.h"
#include "room_private.h"

struct rooms *
rooms_create(struct store *st, const struct rooms_config *cfg)
{
	struct rooms *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	pthread_mutex_init(&rs->lock, NULL);
	rs->st = st;
	rs->cfg = *cfg;
	list_init(&rs->presence_open);
	if (getrandom(rs->key, sizeof(rs->key), 0) != sizeof(rs->key)) {
		/* no kernel entropy: pids differ per run, but weakly */
		LOG_WARN("room", "getrandom failed: public ids are weak");
		rs->key[0] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL;
		rs->key[1] = (uint64_t)(uintptr_t)rs;
		rs->key[2] = (uint64_t)im_mono_ms() ^ 0x2545f4914f6cdd1dULL;
		rs->key[3] = rs->key[1] * 0xff51afd7ed558ccdULL;
	}
	return rs;
}

static void
room_free(struct room *r)
{
	size_t pos = 0;
	struct member *mb;

	while ((mb = hmap_next(&r->members, &pos)))
		free(mb);
	hmap_clear(&r->members);
	room_presence_free(r);
	free(r->subs);
	free(r->mids);
	free(r);
}

void
rooms_destroy(struct rooms **rp)
{
	struct rooms *rs = *rp;
	struct room *r;
	size_t pos = 0;

	if (!rs)
		return;
	*rp = NULL;
	while ((r = hmap_next(&rs->byname, &pos)))
		room_free(r);
	hmap_clear(&rs->byname);
	pthread_mutex_destroy(&rs->lock);
	free(rs);
}

/* Nothing refers to r: no pin, no subscriber, no member; lock held. */
static int
unused(const struct room *r)
{
	return !r->pins && !r->nsubs && !r->members.len && !r->presence;
}

/* Removes r from the registry and frees it with its ring, raising the
 * floor new rings start from to what it dropped; lock held (the store's
 * is taken inside: rooms -> store). */
static void
reclaim(struct rooms *rs, struct room *r)
{
	uint64_t last;

	hmap_del(&rs->byname, r->name);
	last = store_ring_drop(rs->st, &r->ring);
	if (last > rs->floor)
		rs->floor = last;
	LOG_DEBUG("room", "room %s reclaimed (history to %" PRIu64
		  " dropped)", r->name, last);
	room_free(r);
}

struct room *
rooms_get(struct rooms *rs, const char *name, int create, struct im_error *e)
{
	struct room *r;

	if (names_check(NAME_ROOM, name, strlen(name), e))
		return NULL;
	pthread_mutex_lock(&rs->lock);
	r = hmap_get(&rs->byname, name);
	if (r || !create) {
		if (r) {
			r->pins++;
			r->used = im_mono_ms();
		}
		pthread_mutex_unlock(&rs->lock);
		if (!r)
			im_error_set(e, IM_ENOTFOUND, "no_room",
				     "room %s does not exist", name);
		return r;
	}
	if (rs->byname.len >= rs->cfg.max_rooms) {
		pthread_mutex_unlock(&rs->lock);
		LOG_WARN("room", "room %s refused: %zu rooms is the limit",
			 name, rs->cfg.max_rooms);
		im_error_set(e, IM_EFULL, "too_many_rooms",
			     "the server holds its limit of %zu rooms",
			     rs->cfg.max_rooms);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r) {
		memcpy(r->name, name, strlen(name) + 1);
		r->ring = store_ring_create_after(rs->st, rs->floor);
	}
	if (!r || !r->ring || hmap_put(&rs->byname, r->name, r)) {
		pthread_mutex_unlock(&rs->lock);
		if (r)
			store_ring_drop(rs->st, &r->ring);
		free(r);
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	r->pins = 1;
	r->used = im_mono_ms();
	pthread_mutex_unlock(&rs->lock);
	return r;
}

void
rooms_release(struct rooms *rs, struct room **rp)
{
	struct room *r = *rp;

	if (!r)
		return;
	*rp = NULL;
	pthread_mutex_lock(&rs->lock);
	if (r->pins)
		r->pins--;
	r->used = im_mono_ms();
	/* a room that never held a message loses nothing: at once */
	if (unused(r) && !store_ring_len(rs->st, r->ring))
		reclaim(rs, r);
	pthread_mutex_unlock(&rs->lock);
}

const char *
room_name(const struct room *r)
{
	return r->name;
}

struct store_ring *
room_ring(const struct room *r)
{
	return r->ring;
}

void
rooms_set_presence_hook(struct rooms *rs, rooms_presence_fn *fn, void *ctx)
{
	rs->presence = fn;
	rs->presence_ctx = ctx;
}

void
rooms_presence_replay(struct rooms *rs)
{
	size_t pos = 0;
	struct room *r;

	pthread_mutex_lock(&rs->lock);
	while (rs->presence && (r = hmap_next(&rs->byname, &pos))) {
		size_t mpos = 0;
		struct member *mb;

		while ((mb = hmap_next(&r->members, &mpos)))
			rs->presence(rs->presence_ctx, r->name, mb->cid,
				     mb->pid, mb->from, mb->via, "join");
	}
	pthread_mutex_unlock(&rs->lock);
}

/* Posts a join/leave for mb in r; lock held. */
static void
presence_publish(struct rooms *rs, struct room *r, const struct member *mb,
		 const char *event)
{
	char data[48];
	struct msg_parts p = { 0 };
	enum im_err err;

	if (rs->presence) {
		rs->presence(rs->presence_ctx, r->name, mb->cid, mb->pid,
			     mb->from, mb->via, event);
		return;
	}

	if (room_presence_defer(rs, r, mb->pid, mb->from, mb->via,
				event[0] == 'j'))
		return;

	p.event = event;
	p.from = mb->from;
	p.cid = mb->cid;
	p.via = mb->via;
	p.to = MSG_TO_ROOM;
	p.data_json = data;
	p.data_len = (size_t)snprintf(data, sizeof(data),
				      "{\"transport\":\"%s\"}",
				      via_name(mb->via));
	err = room_post_locked(rs, r, &p, NULL);
	if (err != IM_OK) {
		LOG_ERROR("room", "room %s: %s of %s lost: %s", r->name, event,
			  mb->pid, err == IM_ENOMEM ? "out of memory" :
			  "the history database refused it");
		return;
	}
	LOG_DEBUG("room", "room %s: %s %s (%s) via %s", r->name, event,
		  mb->pid, mb->from, via_name(mb->via));
}

/* Finds or creates the member cid of r; lock held. Sets *fresh when it was
 * created. Returns NULL when out of memory. */
static struct member *
member_get(struct rooms *rs, struct room *r, const char *cid,
	   const char *from, enum via via, int *fresh)
{
	struct member *mb = hmap_get(&r->members, cid);

	*fresh = 0;
	if (mb) {
		if (!mb->nsubs && via != mb->via)
			mb->via = via;
		return mb;
	}
	mb = calloc(1, sizeof(*mb));
	if (!mb)
		return NULL;
	snprintf(mb->cid, sizeof(mb->cid), "%s", cid);
	snprintf(mb->from, sizeof(mb->from), "%s", from ? from : "");
	rooms_pid(rs, cid, mb->pid);
	mb->via = via;
	if (hmap_put(&r->members, mb->cid, mb)) {
		free(mb);
		return NULL;
	}
	*fresh = 1;
	return mb;
}

/* Removes mb if nothing keeps it present; lock held. */
static int
member_check(struct rooms *rs, struct room *r, struct member *mb,
	     int64_t now)
{
	if (mb->nsubs || mb->poll_until > now)
		return 0;
	presence_publish(rs, r, mb, "leave");
	hmap_del(&r->members, mb->cid);
	free(mb);
	return 1;
}

enum im_err
rooms_subscribe(struct rooms *rs, struct sub *s, struct room *const *rooms,
		size_t n)
{
	struct sub_link *nl;
	size_t base = s->nlinks;

	if (!n)
		return IM_OK;
	pthread_mutex_lock(&rs->lock);
	nl = realloc(s->links, (base + n) * sizeof(*nl));
	if (!nl && base + n) {
		pthread_mutex_unlock(&rs->lock);
		return IM_ENOMEM;
	}
	/* the links may have moved: re-point the rooms at them */
	s->links = nl;
	for (size_t i = 0; i < base; i++)
		nl[i].room->subs[nl[i].idx] = &nl[i];
	/* room arrays next, so failure leaves everything unchanged */
	for (size_t i = 0; i < n; i++) {
		struct room *r = rooms[i];

		if (r->nsubs == r->cap) {
			size_t ncap = r->cap ? r->cap * 2 : 4;
			struct sub_link **ns = realloc(r->subs,
						       ncap * sizeof(*ns));

			if (!ns) {
				pthread_mutex_unlock(&rs->lock);
				return IM_ENOMEM;
			}
			r->subs = ns;
			r->cap = ncap;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct room *r = rooms[i];
		struct sub_link *l = &nl[base + i];

		l->sub = s;
		l->room = r;
		l->idx = r->nsubs;
		r->subs[r->nsubs++] = l;
	}
	s->nlinks = base + n;
	if (s->cid[0]) {
		for (size_t i = 0; i < n; i++) {
			int fresh;
			struct member *mb = member_get(rs, rooms[i], s->cid,
						       s->from, s->via, &fresh);

			if (!mb)
				continue;	/* presence is best effort */
			mb->nsubs++;
			mb->via = s->via;
			if (fresh)
				presence_publish(rs, rooms[i], mb, "join");
		}
	}
	pthread_mutex_unlock(&rs->lock);
	return IM_OK;
}

/* Unlinks link i of s; lock held. */
static void
unlink_at(struct rooms *rs, struct sub *s, size_t i, int64_t now)
{
	struct sub_link *l = &s->links[i];
	struct room *r = l->room;
	struct member *mb;

	/* swap-remove from the room's array */
	r->used = now;
	r->subs[l->idx] = r->subs[--r->nsubs];
	r->subs[l->idx]->idx = l->idx;
	if (s->cid[0] && (mb = hmap_get(&r->members, s->cid))) {
		if (mb->nsubs)
			mb->nsubs--;
		member_check(rs, r, mb, now);
	}
	/* swap-remove from the sub's links, re-pointing the moved one */
	if (i != s->nlinks - 1) {
		s->links[i] = s->links[s->nlinks - 1];
		s->links[i].room->subs[s->links[i].idx] = &s->links[i];
	}
	s->nlinks--;
}

void
rooms_unsubscribe(struct rooms *rs, struct sub *s, struct room *r)
{
	pthread_mutex_lock(&rs->lock);
	for (size_t i = 0; i < s->nlinks; i++)
		if (s->links[i].room == r) {
			unlink_at(rs, s, i, im_mono_ms());
			break;
		}
	pthread_mutex_unlock(&rs->lock);
}

void
rooms_unsubscribe_all(struct rooms *rs, struct sub *s)
{
	int64_t now = im_mono_ms();

	pthread_mutex_lock(&rs->lock);
	while (s->nlinks)
		unlink_at(rs, s, s->nlinks - 1, now);
	pthread_mutex_unlock(&rs->lock);
	free(s->links);
	s->links = NULL;
}

void
rooms_touch(struct rooms *rs, struct room *r, const char *cid,
	    const char *from, enum via via)
{
	struct member *mb;
	int fresh;

	if (!cid || !*cid)
		return;
	pthread_mutex_lock(&rs->lock);
	mb = member_get(rs, r, cid, from, via, &fresh);
	if (mb) {
		mb->poll_until = im_mono_ms() + rs->cfg.presence_ttl_ms;
		if (fresh)
			presence_publish(rs, r, mb, "join");
	}
	pthread_mutex_unlock(&rs->lock);
}

size_t
rooms_sweep(struct rooms *rs, int64_t now_ms)
{
	size_t left = 0, pos = 0;
	struct room *r;

	pthread_mutex_lock(&rs->lock);
	while ((r = hmap_next(&rs->byname, &pos))) {
		size_t mpos = 0;
		struct member *mb;

		/* a deletion may shift a later entry into the slot just
		 * visited, so that slot is visited again */
		while ((mb = hmap_next(&r->members, &mpos))) {
			if (!mb->nsubs && mb->poll_until <= now_ms &&
			    member_check(rs, r, mb, now_ms)) {
				left++;
				mpos--;
			}
		}
		if (rs->cfg.room_idle_ms > 0 && unused(r) &&
		    now_ms - r->used >= rs->cfg.room_idle_ms) {
			reclaim(rs, r);
			pos--;
		}
	}
	pthread_mutex_unlock(&rs->lock);
	return left;
}


struct store *
rooms_store(const struct rooms *rs)
{
	return rs->st;
}

uint64_t
rooms_floor(struct rooms *rs)
{
	uint64_t v;

	pthread_mutex_lock(&rs->lock);
	v = rs->floor;
	pthread_mutex_unlock(&rs->lock);
	return v;
}

size_t
rooms_count(struct rooms *rs)
{
	size_t v;

	pthread_mutex_lock(&rs->lock);
	v = rs->byname.len;
	pthread_mutex_unlock(&rs->lock);
	return v;
}
