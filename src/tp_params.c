/* SPDX-License-Identifier: MIT */
/*
 * tp_params: parsing a subscription request. The order of the checks is
 * the order of the error a client sees first: since, cid, from, rooms,
 * then Last-Event-ID. Names obey names.c's one table of rules. Every
 * check comes before the first room is touched, so a refused request
 * creates no room; the rooms got are pinned until tp_params_free().
 */
#include "autoconf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "names.h"
#include "qs.h"
#include "server_ctx.h"
#include "netem_http.h"
#include "tp_params.h"

/* Steps *it over a comma list: returns the next entry and sets *len to
 * its length, or returns NULL at the end. */
static const char *
next_name(const char **it, size_t *len)
{
	const char *p = *it, *end;

	if (!*p)
		return NULL;
	end = strchr(p, ',');
	*len = end ? (size_t)(end - p) : strlen(p);
	*it = p + *len + (end != NULL);
	return p;
}

/* Checks the room named by len bytes at s and counts it in *n unless it
 * is named earlier in the list (rooms is the whole list); 0 or -1 with e.
 * Nothing is created: every name is judged before any room is touched. */
static int
check_room(const char *rooms, const char *s, size_t len, size_t max,
	   size_t *n, struct im_error *e)
{
	const char *it = rooms, *t;
	size_t tl;

	if (names_check(NAME_ROOM, s, len, e))
		return -1;
	while ((t = next_name(&it, &tl)) && t < s)
		if (tl == len && !memcmp(t, s, len))
			return 0;	/* a duplicate */
	if (*n == max) {
		im_error_set(e, IM_EINVAL, "too_many_rooms",
			     "at most %zu rooms per subscription", max);
		return -1;
	}
	(*n)++;
	return 0;
}

/* Gets (creating) the room named by len bytes at s into p unless it is
 * there already; 0 or -1 with e (the registry is full). */
static int
add_room(struct server *srv, struct tp_params *p, const char *s, size_t len,
	 struct im_error *e)
{
	char name[MSG_ROOM_MAX + 1];
	struct room *r;

	memcpy(name, s, len);
	name[len] = '\0';
	r = rooms_get(srv->rs, name, 1, e);
	if (!r)
		return -1;
	for (size_t i = 0; i < p->nrooms; i++)
		if (p->rooms[i] == r) {
			rooms_release(srv->rs, &r);
			return 0;
		}
	p->rooms[p->nrooms] = r;
	p->rings[p->nrooms++] = room_ring(r);
	return 0;
}

/* Reads the Last-Event-ID header into p->since, if there is one. */
static int
last_event_id(struct MHD_Connection *c, struct tp_params *p,
	      struct im_error *e)
{
	const char *leid = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       "Last-Event-ID");
	char *end;

	if (!leid || !*leid)
		return 0;
	errno = 0;
	p->since = strtoull(leid, &end, 10);
	if (errno || *end || *leid < '0' || *leid > '9') {
		im_error_set(e, IM_EINVAL, "bad_param",
			     "Last-Event-ID must be a message id");
		return -1;
	}
	return 0;
}

int
tp_params_parse(struct MHD_Connection *c, struct server *srv, int leid,
		struct tp_params *p, struct im_error *e)
{
	const char *rooms = qs_str(c, "rooms");
	size_t max = (size_t)srv->cfg.rooms_per_sub, n = 0, len;
	const char *it, *s;

	memset(p, 0, sizeof(*p));
	if (qs_u64(c, "since", &p->since, e))
		return -1;
	p->cid = qs_str(c, "cid");
	if (p->cid && !*p->cid)
		p->cid = NULL;
	if (p->cid && names_check(NAME_CID, p->cid, strlen(p->cid), e))
		return -1;
	if (netem_http_parse(c, srv, &p->net, e))
		return -1;
	p->from = qs_str(c, "from");
	if (!p->from || !*p->from)
		p->from = "anonymous";
	else if (names_check(NAME_FROM, p->from, strlen(p->from), e))
		return -1;
	if (!rooms || !*rooms) {
		im_error_set(e, IM_EINVAL, "bad_room",
			     "rooms is required: rooms=lobby or rooms=a,b");
		return -1;
	}
	/* judge every name and the count before touching any room */
	for (it = rooms; (s = next_name(&it, &len));)
		if (check_room(rooms, s, len, max, &n, e))
			return -1;
	if (leid && last_event_id(c, p, e))
		return -1;
	p->srv = srv;
	p->rooms = calloc(n, sizeof(*p->rooms));
	p->rings = calloc(n, sizeof(*p->rings));
	if (!p->rooms || !p->rings) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		goto fail;
	}
	for (it = rooms; (s = next_name(&it, &len));)
		if (add_room(srv, p, s, len, e))
			goto fail;
	return 0;
fail:
	tp_params_free(p);	/* releases what was got: nothing new stays */
	return -1;
}

void
tp_params_free(struct tp_params *p)
{
	for (size_t i = 0; i < p->nrooms; i++)
		rooms_release(p->srv->rs, &p->rooms[i]);
	free(p->rooms);
	free(p->rings);
	p->rooms = NULL;
	p->rings = NULL;
	p->nrooms = 0;
}

enum im_err
tp_params_cursor(const struct tp_params *p, struct server *srv,
		 struct cursor *cur)
{
	cursor_init(cur, srv->st, p->cid, p->since);
	cur->net = netem_on(&p->net) ? &p->net : NULL;
	return cursor_add_rings(cur, p->rings, p->nrooms);
}

void
tp_params_touch(struct server *srv, const struct tp_params *p, enum via via)
{
	if (!p->cid)
		return;
	for (size_t i = 0; i < p->nrooms; i++)
		rooms_touch(srv->rs, p->rooms[i], p->cid, p->from, via);
}
