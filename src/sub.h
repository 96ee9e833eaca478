/* SPDX-License-Identifier: MIT */
/*
 * sub: the subscriber interface every transport fills in (nchan's
 * subscriber types). A subscriber is a cursor over the store: the room
 * layer only wakes it through notify(); it then reads what is after its own
 * cursor (cursor.h). A transport embeds struct sub in its
 * per-connection state and recovers it with container_of-style arithmetic
 * or the ctx pointer.
 */
#ifndef IMLAB_SUB_H
#define IMLAB_SUB_H

#include <stddef.h>

#include "msg.h"

struct sub;
struct room;

/* Called when m (visible to s) was stored in one of s's rooms. Runs on the
 * publishing thread with the room layer's lock held: it must only mark s
 * and wake its owner (MHD_resume_connection, lws_cancel_service), never
 * block, publish or call back into the room layer. m is borrowed. */
typedef void (*sub_notify_fn)(struct sub *s, const struct msg *m);

/* One room a subscriber is in; owned by the subscriber, linked from the
 * room's subscriber array at position idx. */
struct sub_link {
	struct sub *sub;
	struct room *room;
	size_t idx;
};

struct sub {
	sub_notify_fn notify;
	void *ctx;			/* the transport's connection */
	enum via via;
	char cid[MSG_CID_MAX + 1];
	char from[MSG_FROM_MAX * 4 + 1];
	struct sub_link *links;		/* nlinks rooms, owned */
	size_t nlinks;
};

#endif
