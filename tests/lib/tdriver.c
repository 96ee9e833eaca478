/* SPDX-License-Identifier: MIT */
/*
 * tdriver: the transport-independent half of the test client: envelope
 * parsing and bookkeeping shared by every driver.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "tdriver.h"

void
tsub_init(struct tsub *s, const struct tdriver *drv, uint16_t port,
	  const char *cid, const char *from, const char *rooms,
	  uint64_t since)
{
	memset(s, 0, sizeof(*s));
	s->drv = drv;
	s->port = port;
	snprintf(s->cid, sizeof(s->cid), "%s", cid ? cid : "");
	snprintf(s->from, sizeof(s->from), "%s", from ? from : "");
	snprintf(s->rooms, sizeof(s->rooms), "%s", rooms ? rooms : "");
	s->cursor = since;
}

void
tsub_free(struct tsub *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->env[i].json);
	s->n = 0;
}

static void
copy_str(struct json_object *o, const char *key, char *dst, size_t dlen)
{
	struct json_object *v;

	dst[0] = '\0';
	if (json_object_object_get_ex(o, key, &v) && v)
		snprintf(dst, dlen, "%s", json_object_get_string(v));
}

int
tsub_add(struct tsub *s, const char *json, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o, *id;
	struct tenv *e;

	if (s->n >= TENV_MAX || !tok)
		return -1;
	o = json_tokener_parse_ex(tok, json, (int)len);
	json_tokener_free(tok);
	if (!o || !json_object_object_get_ex(o, "id", &id)) {
		json_object_put(o);
		return -1;
	}
	e = &s->env[s->n];
	e->id = json_object_get_uint64(id);
	copy_str(o, "room", e->room, sizeof(e->room));
	copy_str(o, "event", e->event, sizeof(e->event));
	copy_str(o, "from", e->from, sizeof(e->from));
	copy_str(o, "pid", e->pid, sizeof(e->pid));
	copy_str(o, "via", e->via, sizeof(e->via));
	json_object_put(o);
	e->json = malloc(len + 1);
	if (!e->json)
		return -1;
	memcpy(e->json, json, len);
	e->json[len] = '\0';
	s->n++;
	if (e->id > s->cursor)
		s->cursor = e->id;
	return 0;
}

size_t
tsub_count(const struct tsub *s, const char *event, const char *room)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if ((!event || !strcmp(s->env[i].event, event)) &&
		    (!room || !strcmp(s->env[i].room, room)))
			n++;
	return n;
}
