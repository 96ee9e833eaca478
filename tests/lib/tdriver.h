/* SPDX-License-Identifier: MIT */
/*
 * tdriver: one client interface over the four transports, so the pub/sub
 * behaviour suite is written once and run against each (nchan runs its
 * suite per subscriber type). A driver subscribes to rooms from a cursor,
 * collects envelopes (and gap notices) as the transport delivers them,
 * publishes through its own transport, and closes.
 */
#ifndef IMLAB_TDRIVER_H
#define IMLAB_TDRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

#define TENV_MAX 4096		/* envelopes one subscriber keeps */

/* One envelope as received: the raw JSON bytes plus parsed fields. */
struct tenv {
	uint64_t id;
	char room[65];
	char event[33];
	char from[129];
	char pid[MSG_PID_LEN + 1];
	char via[9];
	char *json;		/* the exact envelope bytes, owned */
};

struct tsub {
	const struct tdriver *drv;
	uint16_t port;
	char cid[65];
	char from[64];
	char rooms[512];	/* comma-separated */
	uint64_t cursor;	/* last id seen (from last_id / ids) */
	int gaps;		/* gap notices received */
	struct tenv env[TENV_MAX];
	size_t n;		/* envelopes collected so far */
	void *impl;		/* the driver's own state */
};

struct tdriver {
	const char *name;	/* "poll", "longpoll", "sse", "ws" */
	/* Opens a subscription to rooms (comma-separated) after since.
	 * Returns 0 once the server has registered it (so a publish made
	 * after it returns is delivered), -1 on failure. */
	int (*open)(struct tsub *s);
	/* Waits up to timeout_ms until s->n >= want, collecting envelopes
	 * and gaps. Returns s->n. */
	size_t (*wait)(struct tsub *s, size_t want, int timeout_ms);
	/* Publishes on this transport as s (its cid/from); to may be NULL.
	 * data is a JSON value. Returns the id, or 0 on failure. */
	uint64_t (*publish)(struct tsub *s, const char *room,
			    const char *event, const char *data,
			    const char *to);
	/* Ends the subscription and frees impl (not the envelopes). */
	void (*close)(struct tsub *s);
};

extern const struct tdriver tdrv_poll, tdrv_longpoll, tdrv_sse, tdrv_ws;

/* Initialises s for drv (cid, from, rooms, since) without opening. */
void tsub_init(struct tsub *s, const struct tdriver *drv, uint16_t port,
	       const char *cid, const char *from, const char *rooms,
	       uint64_t since);

/* Frees the collected envelopes. */
void tsub_free(struct tsub *s);

/* Parses one envelope's JSON (len bytes) and appends it to s; returns 0 or
 * -1 when it is not an envelope or s is full. Updates s->cursor. */
int tsub_add(struct tsub *s, const char *json, size_t len);

/* Counts envelopes in s with the given event (NULL: all) and room
 * (NULL: all). */
size_t tsub_count(const struct tsub *s, const char *event, const char *room);

#endif
