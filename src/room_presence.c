/* SPDX-License-Identifier: MIT */
/*
 * room_presence: presence that scales. A room with at most
 * presence_batch members publishes each arrival and departure as its own
 * `join` / `leave` message (room.c); a bigger one gathers them into one
 * `presence` message per presence_interval_ms instead, so connecting N
 * subscribers costs O(N) deliveries per interval rather than N^2/2. This
 * file owns that batch (struct room_presence, one per room, only while
 * one is open) and the list of rooms with an open batch, both guarded by
 * rooms.lock like everything in room_private.h. The membership itself
 * (room.c's members map, rooms_members*) stays exact at every moment.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jbuf.h"
#include "log.h"
#include "room.h"
#include "room_private.h"

/* One arrival or departure listed in a batch. */
struct presence_entry {
	char pid[MSG_PID_LEN + 1];
	char from[MSG_FROM_MAX * 4 + 1];
	enum via via;
};

struct room_presence {
	struct room *room;
	struct list node;		/* rs->presence_open */
	int64_t since;			/* monotonic ms it opened */
	size_t joined, left;		/* counted */
	size_t nj, nl;			/* listed (at most PRESENCE_LIST) */
	struct presence_entry join[ROOM_PRESENCE_LIST];
	struct presence_entry leave[ROOM_PRESENCE_LIST];
};

int
room_presence_defer(struct rooms *rs, struct room *r, const char *pid,
		    const char *from, enum via via, int join)
{
	struct room_presence *pb = r->presence;
	struct presence_entry *e = NULL;

	if (!pb) {
		if (!rs->cfg.presence_batch ||
		    r->members.len <= rs->cfg.presence_batch)
			return 0;
		pb = calloc(1, sizeof(*pb));
		if (!pb)
			return 0;	/* then one message, as a small room */
		pb->room = r;
		pb->since = im_mono_ms();
		list_add(&rs->presence_open, &pb->node);
		r->presence = pb;
	}
	if (join) {
		if (pb->nj < ROOM_PRESENCE_LIST)
			e = &pb->join[pb->nj++];
		pb->joined++;
	} else {
		if (pb->nl < ROOM_PRESENCE_LIST)
			e = &pb->leave[pb->nl++];
		pb->left++;
	}
	if (e) {
		snprintf(e->pid, sizeof(e->pid), "%s", pid);
		snprintf(e->from, sizeof(e->from), "%s", from);
		e->via = via;
	}
	return 1;
}

static void
entries(struct jbuf *b, const char *name, const struct presence_entry *e,
	size_t n)
{
	jbuf_printf(b, ",\"%s\":[", name);
	for (size_t i = 0; i < n; i++) {
		jbuf_printf(b, "%s{\"pid\":\"%s\",\"from\":", i ? "," : "",
			    e[i].pid);
		jbuf_str(b, e[i].from);
		jbuf_printf(b, ",\"transport\":\"%s\"}", via_name(e[i].via));
	}
	jbuf_raw(b, "]", 1);
}

/* Publishes r's batch as one `presence` message and closes it; lock
 * held. */
static void
flush_one(struct rooms *rs, struct room_presence *pb)
{
	/* an entry is at most ~330 bytes escaped: 2 x 16 of them fit */
	static const size_t cap = 2 * ROOM_PRESENCE_LIST * 352 + 128;
	struct room *r = pb->room;
	struct msg_parts p = { 0 };
	struct jbuf b;
	char *data = malloc(cap);

	list_unlink(&pb->node);
	r->presence = NULL;
	if (data) {
		jbuf_init(&b, data, cap);
		jbuf_printf(&b, "{\"members\":%zu,\"joined\":%zu,"
			    "\"left\":%zu", r->members.len, pb->joined,
			    pb->left);
		entries(&b, "join", pb->join, pb->nj);
		entries(&b, "leave", pb->leave, pb->nl);
		jbuf_raw(&b, "}", 1);
		p.event = "presence";
		p.from = "";
		p.via = VIA_API;
		p.to = MSG_TO_ROOM;
		p.data_json = data;
		p.data_len = b.len;
	}
	if (!data || b.over || room_post_locked(rs, r, &p, NULL) != IM_OK)
		LOG_ERROR("room", "room %s: presence of %zu joins, %zu leaves "
			  "lost: out of memory", r->name, pb->joined,
			  pb->left);
	free(data);
	free(pb);
}

void
rooms_presence_flush(struct rooms *rs, int64_t now_ms, int all)
{
	struct list *n, *next;

	pthread_mutex_lock(&rs->lock);
	for (n = rs->presence_open.next; n != &rs->presence_open; n = next) {
		struct room_presence *pb = list_entry(n, struct room_presence,
						      node);

		next = n->next;
		if (all || now_ms - pb->since >= rs->cfg.presence_interval_ms)
			flush_one(rs, pb);
	}
	pthread_mutex_unlock(&rs->lock);
}

void
room_presence_free(struct room *r)
{
	if (!r->presence)
		return;
	list_unlink(&r->presence->node);
	free(r->presence);
	r->presence = NULL;
}
