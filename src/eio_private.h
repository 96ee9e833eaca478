/* SPDX-License-Identifier: MIT */
/*
 * eio_private: the Engine.IO session layer's private state, shared by the
 * files that implement eio.h (eio.c: the table and a session's life;
 * eio_queue.c: the outgoing queue; eio_beat.c: the heartbeat) and by no
 * one else. Include it after eio.h (it does not include eio.h, so that
 * the two form no include cycle: tools/inccycle.sh).
 */
#ifndef IMLAB_EIO_PRIVATE_H
#define IMLAB_EIO_PRIVATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "hmap.h"

#define QUEUE_PACKETS 512	/* queued packets of one session, at most */
#define EIO_PROBE_NOOP_MS 100 /* a probed upgrade's "6" to the held GET */

struct eio {
	struct server *srv;
	pthread_mutex_t lock;		/* eio.lock */
	struct hmap table;		/* sid -> session */
	const struct eio_app *app[EIO_KIND__COUNT];
	int64_t ping_interval, ping_timeout;	/* ms */
	long max_payload;
	size_t queue_bytes;		/* a session's queue bound */
	pthread_t beat;			/* the heartbeat thread */
	pthread_cond_t cond;		/* wakes it (CLOCK_MONOTONIC) */
	int64_t wake_at;		/* its next deadline (eio.lock) */
	int stop, has_beat;		/* under eio.lock */
};

struct eio_session {
	struct eio *e;
	enum eio_kind kind;
	char sid[EIO_SID_LEN + 1];
	int refs;			/* under eio.lock */
	int closed, by_client;		/* under eio.lock */
	int in_table;
	int ws;				/* the transport is the WebSocket */
	void *probe;			/* a WebSocket probing an upgrade */
	int noop;			/* the held GET owes a "6" */
	int probe_owed;			/* the probe owes a "3probe" */
	/* while a probed upgrade waits for the client's "5": when the held
	 * GET next owes a "6" (monotonic ms; 0: not probing). The first "6"
	 * may reach the client before its "3probe" does; it polls again, and
	 * without another "6" that GET would hold the upgrade up until the
	 * next ping (engine.io's own server: a noop every 100 ms too) */
	int64_t noop_at;
	int posting;
	struct tp_wait *held;		/* the held GET */
	void *conn;			/* the WebSocket */
	int64_t next_ping, ping_sent;	/* monotonic ms */
	int ping_out;			/* a ping waits for its pong */
	struct eio_out *qh, **qt;	/* the queue */
	size_t qn, qbytes;
	pthread_mutex_t alock;		/* the app lock */
	void *ctx;			/* the app's, until closed */
	int app_closed;			/* under alock */
};

/* Wakes the session's transport (held GET, WebSocket, probe); eio.lock
 * held. */
void eio_wake_locked(struct eio_session *s);

/* Calls the app's pull under the app lock (no eio.lock held). */
void eio_app_pull(struct eio_session *s);

/* A new queue entry: type digit (or -1 for a binary message) and data
 * (borrowed, copied). Returns NULL when out of memory. */
struct eio_out *eio_queue_new(int type, const char *data, size_t len);

/* Queues a control packet; eio.lock held. Returns 0, or -1 over the
 * bound or out of memory. */
int eio_queue_control_locked(struct eio_session *s, enum eio_type t,
			     const char *data);

/* Makes the heartbeat thread wake by t (monotonic ms); eio.lock held. */
void eio_beat_by_locked(struct eio *e, int64_t t);

/* The heartbeat, eio.lock held: queues a ping when due; returns -1 when
 * the last ping went unanswered for pingTimeout. */
int eio_beat_locked(struct eio_session *s, int64_t now);

/* The heartbeat thread (arg: the struct eio): pings and ping timeouts at
 * their deadline, so a 300 ms pingInterval is kept to the millisecond,
 * not to a tick. */
void *eio_beat_thread(void *arg);

#endif
