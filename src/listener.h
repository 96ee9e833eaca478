/* SPDX-License-Identifier: MIT */
/*
 * listener: owns the one listening socket. A thread accepts connections,
 * peeks at each one's first request head (without consuming it), answers
 * a bad or oversized one with one JSON error, and hands the rest to the
 * HTTP side (the small-pool or the big-pool daemon; WebSocket upgrades
 * are found there, on any request). Heads that do not arrive whole are
 * closed after a deadline; out of file descriptors a 503 is written and
 * accepting backs off; over the connection limit a 503 is written and the
 * socket closed.
 */
#ifndef IMLAB_LISTENER_H
#define IMLAB_LISTENER_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

/* Takes ownership of fd (a connected, non-blocking TCP socket); big: its
 * first head is over small_head or has a Cookie; head[0..hlen) is that
 * first head as peeked (borrowed, this call only; not consumed). */
typedef void (*listener_handoff_fn)(void *cls, int fd,
				    const struct sockaddr *sa,
				    socklen_t salen, int big,
				    const char *head, size_t hlen);

struct listener_config {
	const char *bind;		/* IPv4 address */
	int port;			/* 0: any free port */
	int head_timeout_ms;		/* deadline for the whole first head */
	int max_head;			/* bytes of a head at most: 431 */
	int small_head;			/* see listener_handoff_fn */
	int max_pending;		/* connections awaiting their head */
	long max_connections;		/* open connections at most */
	atomic_long *open_conns;	/* the server's count (borrowed) */
	listener_handoff_fn to_http;
	void *cls;
};

struct listener;

/* Binds and listens, then starts the accept thread. Returns NULL with e
 * filled (IM_ESYS: e.g. the port is taken) on failure. */
struct listener *listener_start(const struct listener_config *cfg,
				struct im_error *e);

/* Answers status (reason its phrase) with a JSON error body of code and
 * message (borrowed, no quotes or backslashes), Connection: close, and a
 * Retry-After for 503; reads what arrived first, then closes fd (takes
 * ownership). Any thread. */
void listener_refuse(int fd, int status, const char *reason,
		     const char *code, const char *message);

/* Returns the bound port (useful after port 0). */
uint16_t listener_port(const struct listener *l);

/* Stops the thread, closes the listening socket and every connection still
 * waiting for its head; sets *lp to NULL. */
void listener_stop(struct listener **lp);

#endif
