/* SPDX-License-Identifier: MIT */
/*
 * room_wake: rooms_wake_all(), a notify with no message for every
 * subscriber of every room: what the end of an admin stall (api_admin.c)
 * uses to have every reader look at its cursor again.
 */
#include "autoconf.h"

#include <pthread.h>

#include "room.h"
#include "room_private.h"
#include "sub.h"

void
rooms_wake_all(struct rooms *rs)
{
	struct room *r;
	size_t pos = 0;

	pthread_mutex_lock(&rs->lock);
	while ((r = hmap_next(&rs->byname, &pos)))
		for (size_t i = 0; i < r->nsubs; i++) {
			struct sub *s = r->subs[i]->sub;

			s->notify(s, NULL);
		}
	pthread_mutex_unlock(&rs->lock);
}
