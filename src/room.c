/* SPDX-License-Identifier: MIT */
/*
 * room: registry, reclaim, subscriber arrays and presence (the mid
 * retry window is room_mid.c's, the listings room_list.c's; the private
 * structs they share are in room_private.h). Everything here runs
 * under rs->lock. A room lives while anything refers to it (a pin from
 * rooms_get(), a subscriber, a member); unused, it is reclaimed with its
 * ring at once if it never held a message, else once idle for
 * room_idle_ms (rooms_sweep()). Every message - a publish from the hub or
 * a presence join/leave - enters the store by one road, rooms_post():
 * appended (the store takes its own lock: the order is always rooms ->
 * store) and delivered to the room's subscribers before the lock is
 * released, so a join is ordered with its membership change and every
 * room's notifications come in id order.
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
	return !r->pins && !r->nsubs && !r->members.len;
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

static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void
sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2];
	v[2] = rotl(v[2], 32);
}

uint64_t
room_siphash(uint64_t k0, uint64_t k1, const unsigned char *s, size_t n)
{
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ULL,
			  k1 ^ 0x646f72616e646f6dULL,
			  k0 ^ 0x6c7967656e657261ULL,
			  k1 ^ 0x7465646279746573ULL };
	uint64_t m;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		m = 0;
		for (int j = 7; j >= 0; j--)
			m = (m << 8) | s[i + (size_t)j];
		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	m = (uint64_t)n << 56;
	for (size_t j = 0; i + j < n; j++)
		m |= (uint64_t)s[i + j] << (8 * j);
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void
rooms_pid(const struct rooms *rs, const char *cid, char pid[MSG_PID_LEN + 1])
{
	const unsigned char *p = (const unsigned char *)cid;
	size_t n;

	if (!cid || !*cid) {
		pid[0] = '\0';
		return;
	}
	n = strlen(cid);
	snprintf(pid, MSG_PID_LEN + 1, "%016" PRIx64 "%016" PRIx64,
		 room_siphash(rs->key[0], rs->key[1], p, n),
		 room_siphash(rs->key[2], rs->key[3], p, n));
}

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

/* Posts a join/leave for mb in r; lock held. */
static void
presence_publish(struct rooms *rs, struct room *r, const struct member *mb,
		 const char *event)
{
	char data[48];
	struct msg_parts p = { 0 };

	p.event = event;
	p.from = mb->from;
	p.cid = mb->cid;
	p.via = mb->via;
	p.to = MSG_TO_ROOM;
	p.data_json = data;
	p.data_len = (size_t)snprintf(data, sizeof(data),
				      "{\"transport\":\"%s\"}",
				      via_name(mb->via));
	if (room_post_locked(rs, r, &p, NULL) != IM_OK) {
		LOG_ERROR("room", "room %s: %s of %s lost: out of memory",
			  r->name, event, mb->pid);
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
