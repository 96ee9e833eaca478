/* SPDX-License-Identifier: MIT */
/*
 * fuzz_publish: libFuzzer target for the publish decoder,
 * hub_publish_json() (src/hub.h), over an in-memory store and room
 * registry set up as tests/unit/test_hub.c does, made afresh for each
 * input and freed after it (so every allocation an input makes is freed
 * by the time it ends, and LeakSanitizer only has to look when one was
 * not). An input is a publish body, or "ROOM\nBODY" to pick the room
 * too. Besides the sanitizers, it checks the decoder's promises: a
 * refusal leaves the store unchanged and names an error code; an accepted
 * publish gets the next id, and its stored envelope is JSON that the
 * strict parser accepts again, on one line (SSE frames it as one data:
 * line).
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "jparse.h"
#include "log.h"
#include "msg.h"
#include "names.h"
#include "room.h"
#include "store.h"

#define HISTORY 64
#define MAX_ROOMS 16
#define MAX_DATA 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *st;
static struct rooms *rs;
static struct hub h;

static void
setup(void)
{
	struct rooms_config cfg = { .max_rooms = MAX_ROOMS,
				     .presence_ttl_ms = 60000 };

	log_set_level(LOG_LVL_ERROR);	/* refusals are expected here */
	st = store_create(HISTORY, 1);
	rs = st ? rooms_create(st, &cfg) : NULL;
	if (!rs)
		abort();
	hub_init(&h, rs, MAX_DATA);
}

static void
teardown(void)
{
	rooms_destroy(&rs);
	store_destroy(&st);
}

/* The cid that may read what body published: the sender's for "to":
 * "self", else one no sender can have (a space is not allowed in a cid),
 * which sees "room" and "others" messages. */
static const char *
reader(const char *body, size_t len, char *buf, size_t cap)
{
	struct json_object *o = NULL, *to, *cid;
	struct im_error e = { 0 };

	snprintf(buf, cap, "oracle reader");
	if (jparse(body, len, &o, &e))
		abort();		/* published, so it parsed */
	if (json_object_object_get_ex(o, "to", &to) &&
	    json_object_is_type(to, json_type_string) &&
	    !strcmp(json_object_get_string(to), "self") &&
	    json_object_object_get_ex(o, "cid", &cid))
		snprintf(buf, cap, "%s", json_object_get_string(cid));
	json_object_put(o);
	return buf;
}

/* The envelope stored under id in room, read as cid: checked and
 * released. */
static void
check_stored(const char *room, uint64_t id, const char *cid)
{
	struct im_error e = { 0 };
	struct room *r = rooms_get(rs, room, 0, &e);
	struct store_ring *ring;
	struct msg *m = NULL;
	struct json_object *o = NULL;
	struct store_read_result res;

	if (!r)
		abort();		/* published into a room that is not */
	ring = room_ring(r);
	res = store_read(st, &ring, 1, id - 1, cid, &m, 1);
	if (res.n != 1 || !m || m->id != id)
		abort();		/* not stored under the id it got */
	if (memchr(m->json, '\n', m->json_len) ||
	    memchr(m->json, '\r', m->json_len) ||
	    jparse(m->json, m->json_len, &o, &e)) {
		fprintf(stderr, "bad envelope: %.*s\n", (int)m->json_len,
			m->json);
		abort();
	}
	json_object_put(o);
	msg_unref(&m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	const uint8_t *nl = memchr(data, '\n', size < 80 ? size : 80);
	char room[81] = "lobby", cid[80];
	struct hub_ack ack = { 0 };
	struct im_error e = { 0 };
	uint64_t before;
	enum im_err err;

	if (nl) {
		memcpy(room, data, (size_t)(nl - data));
		room[nl - data] = '\0';
		body = (const char *)nl + 1;
		size -= (size_t)(nl - data) + 1;
		if (!names_valid(NAME_ROOM, room, strlen(room)))
			return 0;	/* the HTTP layer refuses it first */
	}
	setup();
	before = store_last_id(st);
	err = hub_publish_json(&h, room, body, size, &ack, &e);
	if (err != IM_OK) {
		if (!e.code || store_last_id(st) != before)
			abort();	/* refused without a code, or stored */
		teardown();
		return 0;
	}
	if (ack.dup) {		/* a retried mid: nothing stored */
		if (store_last_id(st) != before || ack.id > before)
			abort();
		teardown();
		return 0;
	}
	if (ack.id != before + 1 || store_last_id(st) != ack.id)
		abort();
	check_stored(room, ack.id, reader(body, size, cid, sizeof(cid)));
	teardown();
	return 0;
}
