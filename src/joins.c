/* SPDX-License-Identifier: MIT */
/*
 * joins: a connection's joins and leaves of rooms (joins.h), shared by
 * ws_proto.c and sio_app.c.
 */
#include "autoconf.h"

#include <string.h>

#include <json-c/json.h>

#include "jparse.h"
#include "joins.h"
#include "names.h"
#include "server_ctx.h"

enum im_err
joins_decode(struct json_object *o, const char **name, size_t *len,
	     uint64_t *since, struct im_error *e)
{
	struct json_object *v;
	int bad = 0;

	*name = o ? jparse_str(o, "room", len, &bad) : NULL;
	if (bad || !*name)
		return names_check(NAME_ROOM, NULL, 0, e);
	if (!since)
		return IM_OK;
	*since = 0;
	if (!json_object_object_get_ex(o, "since", &v) || !v)
		return IM_OK;
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return im_error_set(e, IM_EINVAL, "bad_since", "\"since\" is "
				    "a message id (an integer >= 0)");
	*since = json_object_get_uint64(v);
	return IM_OK;
}

/* Returns the room among cur's rings named name (a valid room name), or
 * NULL; the subscription keeps it, so it is not pinned. */
static struct room *
find(struct server *srv, const struct cursor *cur, const char *name)
{
	struct room *r = rooms_get(srv->rs, name, 0, NULL);
	struct room *pin = r;
	size_t i;

	for (i = 0; r && i < cur->nrings; i++)
		if (cur->rings[i] == room_ring(r))
			break;
	/* joined, the subscription keeps r; otherwise it is not ours */
	rooms_release(srv->rs, &pin);
	return r && i < cur->nrings ? r : NULL;
}

enum im_err
joins_add(struct server *srv, struct sub *s, struct cursor *cur,
	  const char *name, size_t len, uint64_t since, uint64_t *last,
	  struct im_error *e)
{
	struct room *r;

	if (names_check(NAME_ROOM, name, len, e))
		return e->err;
	if (find(srv, cur, name))
		return im_error_set(e, IM_EINVAL, "already_joined",
				    "already in room %s", name);
	if (cur->nrings >= (size_t)srv->cfg.rooms_per_sub)
		return im_error_set(e, IM_EINVAL, "room_limit",
				    "a connection joins %d rooms at most",
				    srv->cfg.rooms_per_sub);
	r = rooms_get(srv->rs, name, 1, e);
	if (!r)
		return e->err;
	if (last)
		*last = store_ring_last_id(srv->st, room_ring(r));
	if (cursor_add_ring(cur, room_ring(r), since) != IM_OK) {
		rooms_release(srv->rs, &r);
		return im_error_set(e, IM_ENOMEM, "no_memory",
				    "out of memory");
	}
	if (rooms_subscribe(srv->rs, s, &r, 1) != IM_OK) {
		cursor_del_ring(cur, room_ring(r));
		rooms_release(srv->rs, &r);
		return im_error_set(e, IM_ENOMEM, "no_memory",
				    "out of memory");
	}
	rooms_release(srv->rs, &r);	/* the subscription keeps it now */
	return IM_OK;
}

enum im_err
joins_del(struct server *srv, struct sub *s, struct cursor *cur,
	  const char *name, size_t len, struct im_error *e)
{
	struct room *r = strlen(name) == len ? find(srv, cur, name) : NULL;

	if (!r)
		return im_error_set(e, IM_EINVAL, "not_joined",
				    "not in that room");
	/* the ring first: unsubscribed, r may be reclaimed */
	cursor_del_ring(cur, room_ring(r));
	rooms_unsubscribe(srv->rs, s, r);
	return IM_OK;
}
