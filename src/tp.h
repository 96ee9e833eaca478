/* SPDX-License-Identifier: MIT */
/*
 * tp: the three HTTP transports (short poll, long poll, SSE) as the HTTP
 * router sees them, and what they share: parsing a subscription request
 * (rooms, since, cid, from), the registry of waiting connections that the
 * ticker wakes (long-poll deadlines, SSE heartbeats), and shutdown.
 *
 * Waiting connections are suspended with MHD_suspend_connection() and
 * resumed by a publish (struct sub's notify), by the ticker, or by
 * shutdown. A connection's suspend and its resume are paired under the
 * registry lock, so a connection is never resumed unless it is suspended.
 */
#ifndef IMLAB_TP_H
#define IMLAB_TP_H

#include <pthread.h>
#include <stdint.h>

#include <microhttpd.h>

#include "http_reply.h"
#include "room.h"
#include "sub.h"

struct server;

#define TP_BUSY_WRITES 256	/* writes per window that mean "busy" */

/* A parsed subscription request. rooms/rings are owned arrays. */
struct tp_params {
	struct room **rooms;
	struct store_ring **rings;
	size_t nrooms;
	uint64_t since;
	const char *cid;	/* NULL when absent; borrowed from MHD */
	const char *from;	/* "anonymous" when absent; borrowed */
};

/* Parses ?rooms=a,b&since=N&cid=X&from=NAME (rooms created on first use,
 * at most --rooms-per-sub, duplicates dropped). Returns 0, or -1 with e
 * filled (bad_room, too_many_rooms, bad_param, bad_cid, bad_from, or
 * IM_EFULL when the registry is full). */
int tp_params_parse(struct MHD_Connection *c, struct server *srv,
		    struct tp_params *p, struct im_error *e);

/* Frees the arrays of p. */
void tp_params_free(struct tp_params *p);

/* Registers a poll of every room in p for presence (ttl-based). */
void tp_params_touch(struct server *srv, const struct tp_params *p,
		     enum via via);

enum tp_state {
	TP_RUNNING = 0,		/* MHD is processing it */
	TP_SUSPENDED,		/* waiting; only a resume wakes it */
};

/* A waiting connection (held long poll or SSE stream). */
struct tp_wait {
	struct sub sub;			/* in the rooms while subscribed */
	struct server *srv;
	struct MHD_Connection *c;
	struct tp_params p;
	uint64_t cursor;		/* last id delivered */
	enum tp_state state;		/* under the registry lock */
	int due;			/* deadline passed (under lock) */
	int subscribed;
	int64_t deadline;		/* monotonic ms: timeout or ping */
	int64_t last_write;		/* monotonic ms of the last write or
					 * (long poll) the connection's last
					 * answer */
	int flushed;			/* woken by the flusher */
	int fd;				/* the connection's socket (peeked) */
	struct tp_wait *prev, *next;	/* registry list */
	struct tp_wait *pnext, **pprev;	/* flusher's list, when pending */
	/* SSE only */
	struct msg *partial;		/* message being written */
	size_t partial_off;
	int started;			/* retry: line sent */
	int gap;			/* a gap notice is owed */
};

/* The registry of waiting connections; one per server. */
struct tp {
	pthread_mutex_t lock;
	struct tp_wait *head;
	int stopping;
	long held[VIA__COUNT];		/* waiting now, per transport */
	/* Coalescing: the server is "busy" when the last coalesce_ms window
	 * saw TP_BUSY_WRITES or more SSE writes and long-poll answers. While
	 * busy, an SSE stream that wrote - or a long poll whose connection
	 * answered - less than coalesce_ms ago does not write again at once:
	 * it waits, suspended, on the pending list, which the flusher thread
	 * resumes every coalesce_ms, and then writes everything that arrived
	 * meanwhile in one go. A quiet server writes at once. */
	int64_t coalesce_ms;
	int64_t win_start;		/* current window */
	long win_writes;		/* SSE writes in that window */
	int busy;			/* the previous window was busy */
	struct tp_wait *pending;
	pthread_cond_t cond;
	pthread_t flusher;
	int has_flusher;
	int quit;			/* the flusher ends */
	int64_t last_peek;		/* last check for peers gone */
};

/* Creates the registry, with a flusher thread when coalesce_ms > 0.
 * Returns NULL on failure. */
struct tp *tp_create(int64_t coalesce_ms);

/* Frees the registry (it must be empty). Sets *tpp to NULL. */
void tp_destroy(struct tp **tpp);

/* Adds w to the registry (TP_RUNNING) and subscribes it to its rooms
 * with the given notify; counts it against limit for via. Returns IM_OK,
 * IM_EFULL when limit waiters of that transport exist, or IM_ENOMEM. */
enum im_err tp_wait_add(struct server *srv, struct tp_wait *w,
			long limit);

/* Unsubscribes w from its rooms and removes it from the registry. w must
 * not be suspended. Safe to call twice. */
void tp_wait_remove(struct server *srv, struct tp_wait *w);

/* Suspends w's connection unless has_news(w) says there is something to
 * send, the deadline passed or the server is stopping; decided under the
 * registry lock so no notify is missed. Returns 1 if suspended. Must be
 * called from the access handler or the content reader of w's request. */
int tp_wait_suspend(struct server *srv, struct tp_wait *w,
		    int (*has_news)(struct tp_wait *w));

/* Before a waiter writes (an SSE reader) or answers (a long poll with
 * news): while the server is busy, a waiter that wrote less than a
 * coalescing window ago is suspended and left to the flusher instead
 * (returns 1: the caller returns at once - 0 from a reader, MHD_YES from
 * the access handler). Returns 0 when it may write now, and forgets a
 * flusher wake-up. w must be registered (tp_wait_add). Called from w's
 * access handler or content reader only. */
int tp_gate(struct server *srv, struct tp_wait *w);

/* Returns 1 if tp_gate() would defer w now (w need not be registered). */
int tp_would_defer(struct server *srv, struct tp_wait *w);

/* After a waiter wrote or answered: counts it for the busy measure and
 * remembers the time. */
void tp_wrote(struct server *srv, struct tp_wait *w);

/* Returns 1 if the registry is stopping (the server shuts down). */
int tp_stopping(struct server *srv);

/* Resumes waiters whose deadline passed (now_ms monotonic), setting due,
 * and, once a second, those whose peer has closed its socket (a peek
 * finds end-of-file or an error), so a gone client's long poll or stream
 * ends - and its presence with it - within about a second instead of at
 * its timeout or next heartbeat. Called by the server's ticker. */
void tp_tick(struct server *srv, int64_t now_ms);

/* Marks the registry stopping, stops the flusher and resumes every
 * suspended connection, so libmicrohttpd can be stopped. */
void tp_shutdown(struct server *srv);

#define TP_FULL_BATCH 16	/* a long poll with this much news answers */

/* Returns how many messages visible to w wait after its cursor, counting
 * up to max (at most TP_FULL_BATCH); a gap counts as max. */
size_t tp_news_count(struct tp_wait *w, size_t max);

/* Returns 1 if anything visible to w exists after its cursor (or a gap). */
int tp_has_news(struct tp_wait *w);

#define TP_BATCH_DEFAULT 500	/* messages per poll response */
#define TP_BATCH_MAX 1000	/* largest ?limit= */

/* GET /poll, /longpoll, /sse: the second call of the access handler. */
enum MHD_Result tp_poll_handle(struct MHD_Connection *c,
			       struct http_req *req);
enum MHD_Result tp_longpoll_handle(struct MHD_Connection *c,
				   struct http_req *req);
enum MHD_Result tp_sse_handle(struct MHD_Connection *c,
			      struct http_req *req);

#endif
