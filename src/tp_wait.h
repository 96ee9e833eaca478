/* SPDX-License-Identifier: MIT */
/*
 * tp_wait: the opaque registry of waiting HTTP connections (held long
 * polls, SSE streams), with the coalescing gate and the flusher. Contract:
 * doc/internals/tp_wait.md.
 *
 * THE INVARIANT: suspend and resume are paired under tp.lock. The MHD
 * thread re-checks the cursor and suspends with the lock held
 * (tp_wait_suspend, tp_wait_gate); every resume (notify, ticker, flusher,
 * shutdown) happens under the same lock and only when the state says
 * suspended. So no publish is missed between check and suspend, and a
 * connection that is not suspended is never resumed. Every HTTP suspend
 * and resume is in tp_wait.c.
 */
#ifndef IMLAB_TP_WAIT_H
#define IMLAB_TP_WAIT_H

#include <stdint.h>

#include <microhttpd.h>

#include "cursor.h"
#include "err.h"
#include "list.h"
#include "sub.h"
#include "tp_params.h"

struct server;
struct tp;

enum tp_state {
	TP_RUNNING = 0,		/* MHD is processing it */
	TP_SUSPENDED,		/* waiting; only a resume wakes it */
};

/* A waiting connection, first in a transport's own state (struct lp,
 * struct sse). The transport parses p, calls tp_wait_init() and may set
 * last_write before tp_wait_add(); the rest is the registry's. */
struct tp_wait {
	struct sub sub;		/* in the rooms while subscribed */
	struct server *srv;
	struct MHD_Connection *c;
	struct tp_params p;
	struct cursor cur;	/* the reader's place, over p's rooms */
	enum tp_state state;	/* under tp.lock */
	int due;		/* deadline passed (under tp.lock) */
	int subscribed;
	int64_t deadline;	/* monotonic ms: timeout or ping */
	int64_t last_write;	/* monotonic us of the last write (long
				 * poll: the connection's last answer) */
	int64_t woke;		/* monotonic us of a resume not yet
				 * run, 0 if none (under tp.lock) */
	int flushed;		/* woken by the flusher */
	int fd;			/* the connection's socket (peeked) */
	struct list node;	/* registry list */
	struct list pend;	/* flusher's list, when pending */
};

/* Sets up w for connection c of transport via, its p parsed: its cursor
 * at p.since over p's rooms, its deadline deadline_ms from now. Returns
 * IM_OK, or IM_ENOMEM (then tp_wait_free() is still right). */
enum im_err tp_wait_init(struct tp_wait *w, struct server *srv,
			 struct MHD_Connection *c, enum via via,
			 int64_t deadline_ms);

/* Frees what w owns (its params and cursor), w itself the caller's. */
void tp_wait_free(struct tp_wait *w);

/* Creates the registry, with a flusher thread when coalesce_ms > 0.
 * Returns NULL on failure. */
struct tp *tp_wait_create(int64_t coalesce_ms);

/* Frees the registry (it must be empty). Sets *tpp to NULL. */
void tp_wait_destroy(struct tp **tpp);

/* Adds w to the registry (TP_RUNNING) and subscribes it to its rooms;
 * counts it against limit for w->sub.via. Returns IM_OK, IM_EFULL when
 * limit waiters of that transport exist or the server stops, or
 * IM_ENOMEM. w is borrowed until tp_wait_remove(). */
enum im_err tp_wait_add(struct server *srv, struct tp_wait *w,
			long limit);

/* Unsubscribes w from its rooms and removes it from the registry. w must
 * not be suspended. Safe to call twice, and on a w never added. */
void tp_wait_remove(struct server *srv, struct tp_wait *w);

/* Suspends w's connection unless there is news for its cursor, its
 * deadline passed or the server is stopping; decided under tp.lock so
 * no notify is missed. Returns 1 if suspended. Called from the access
 * handler or the content reader of w's request only. */
int tp_wait_suspend(struct server *srv, struct tp_wait *w);

/* The coalescing gate (tp_coalesce.h), before a waiter writes (an SSE
 * reader) or answers (a long poll with news): returns 1 if w should not
 * write now - the server is behind, w wrote less than a window ago and the
 * flusher has not just woken it. With suspend, w (registered) is then
 * suspended and left to the flusher (the caller returns at once: 0 from
 * a reader, MHD_YES from the access handler), and a flusher wake-up is
 * forgotten either way; without, it only asks (w need not be
 * registered). Called from w's access handler or content reader only. */
int tp_wait_gate(struct server *srv, struct tp_wait *w, int suspend);

/* After a waiter wrote or answered: remembers the time in
 * w->last_write. */
void tp_wait_wrote(struct server *srv, struct tp_wait *w);

/* Returns 1, and clears it, if w's deadline passed; then sets the next
 * deadline next_ms from now (an SSE heartbeat). */
int tp_wait_take_due(struct server *srv, struct tp_wait *w, int64_t next_ms);

/* Marks w due and resumes it if it is suspended, under tp.lock: for a
 * waiter that waits for something besides its cursor (an Engine.IO
 * session's queue, eio.c). A wake-up before w suspends is kept by the due
 * mark (tp_wait_suspend then does not suspend). Any thread; w must be
 * initialised and not freed. */
void tp_wait_wake(struct server *srv, struct tp_wait *w);

/* Returns 1 if the registry is stopping (the server shuts down). */
int tp_wait_stopping(struct server *srv);

/* Resumes waiters whose deadline passed (now_ms monotonic), setting due,
 * and, once a second, those whose peer has closed its socket (a peek
 * finds end-of-file or an error), so a gone client's long poll or stream
 * ends - and its presence with it - within about a second instead of at
 * its timeout or next heartbeat. Called by the server's ticker. */
void tp_wait_tick(struct server *srv, int64_t now_ms);

/* Marks the registry stopping, stops the flusher and resumes every
 * suspended connection, so libmicrohttpd can be stopped. */
void tp_wait_shutdown(struct server *srv);

#endif
