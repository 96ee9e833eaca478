/* SPDX-License-Identifier: MIT */
/*
 * ws_loop: a libwebsockets context and its service thread, run the same
 * way for /ws (ws.c) and Engine.IO's WebSocket (eio_ws.c): no listening
 * socket, no IPv6, an all-zero retry policy (no lws validity timers, see
 * ws_alive.h), the "default" vhost, lws_service() (or a libuv loop) until
 * ws_loop_stop(). libwebsockets is single-threaded, so other threads only
 * queue and call lws_cancel_service(): an HTTP thread queues a socket
 * libmicrohttpd upgraded (ws_loop_adopt; the queue has its own lock,
 * taken by nothing else), a publishing thread puts a connection on the
 * dirty list (ws_loop_wake, under dlock); the owner's protocol 0 drains
 * both from LWS_CALLBACK_EVENT_WAIT_CANCELLED (ws_loop_drain).
 */
#ifndef IMLAB_WS_LOOP_H
#define IMLAB_WS_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include <libwebsockets.h>

#include "err.h"
#include "list.h"

/* Service thread, under dlock: node is off the dirty list; the owner asks
 * its connection's writeable callback. */
typedef void ws_loop_woken_fn(struct list *node);

struct ws_loop_item;
struct ws_loop_uv;

/* Embedded in its owner (struct ws, struct eio_ws). */
struct ws_loop {
	struct lws_context *ctx;
	struct lws_vhost *vh;		/* "default" */
	void *user;			/* ctx's, and adopted wsis' opaque */
	atomic_long *conns;		/* one count per queued socket */
	ws_loop_woken_fn *woken;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t qlock;		/* guards q, len, cap */
	struct ws_loop_item *q;		/* sockets to adopt */
	size_t len, cap;
	pthread_mutex_t dlock;		/* guards dirty, dead */
	struct list dirty;		/* of the owner's per-session nodes */
	int dead;			/* context going away: no wake-ups */
	struct ws_loop_uv *uv;		/* the libuv loop, owned, or NULL */
};

/* Makes l (empty) and its context for protocols (static), user (the
 * owner), conns (the server's open_conns) and woken, borrowed for l's
 * life, and finds its vhost; with libuv on a libuv loop (epoll) if lws
 * has the plugin, else (logged) on lws's poll(). Returns 0, or -1 with e
 * filled; either way ws_loop_destroy() frees l. */
int ws_loop_create(struct ws_loop *l, const struct lws_protocols *protocols,
		   void *user, atomic_long *conns, ws_loop_woken_fn *woken,
		   int libuv, struct im_error *e);

/* Starts the service thread. Returns 0, or -1 with e filled. */
int ws_loop_run(struct ws_loop *l, struct im_error *e);

/* Any thread: takes fd and one count of conns; queues fd (TCP_NODELAY
 * set: frames are small and must leave at once, without Nagle waiting for
 * an ACK) with a copy of head[0..len) (borrowed, the rebuilt upgrade
 * request) and wakes the service thread. Out of memory, fd is closed and
 * the count given back. */
void ws_loop_adopt(struct ws_loop *l, int fd, const char *head, size_t len);

/* Any thread: puts node (in the owner's per-session data) on the dirty
 * list unless it is on it, waking the service thread if the list was
 * empty (one wake-up serves them all) and ws_loop_destroy() has not
 * begun. */
void ws_loop_wake(struct ws_loop *l, struct list *node);

/* Takes node off the dirty list, if it is on it. */
void ws_loop_undirty(struct ws_loop *l, struct list *node);

/* Service thread, from LWS_CALLBACK_EVENT_WAIT_CANCELLED: hands every
 * queued socket to the vhost (lws answers the handshake as if it had read
 * the head) with user as its opaque user data, then empties the dirty
 * list (woken for each node). Returns how many sockets lws refused (it
 * closed them; their counts are given back) for the owner to log. */
size_t ws_loop_drain(struct ws_loop *l);

/* Not on the service thread: stops it and waits for it. */
void ws_loop_stop(struct ws_loop *l);

/* The service thread stopped (or never ran): stops the wake-ups (under
 * dlock: publishing threads may still wake), destroys the context (its
 * CLOSED callbacks run on this thread), closes what is still queued. */
void ws_loop_destroy(struct ws_loop *l);

#endif
