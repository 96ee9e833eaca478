/* SPDX-License-Identifier: MIT */
/*
 * listener: owns the one listening socket. A thread accepts connections,
 * peeks at each one's request line (without consuming it) and hands
 * "GET /ws" to the WebSocket side and everything else to the HTTP side.
 * Heads that never arrive are closed after a deadline; when the process is
 * out of file descriptors accepting backs off; over the connection limit a
 * 503 is written and the socket closed.
 */
#ifndef IMLAB_LISTENER_H
#define IMLAB_LISTENER_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

/* Takes ownership of fd (a connected, non-blocking TCP socket). */
typedef void (*listener_handoff_fn)(void *cls, int fd,
				    const struct sockaddr *sa,
				    socklen_t salen);

struct listener_config {
	const char *bind;		/* IPv4 address */
	int port;			/* 0: any free port */
	int head_timeout_ms;		/* deadline for the request line */
	int max_pending;		/* connections awaiting their head */
	long max_connections;		/* open connections at most */
	atomic_long *open_conns;	/* the server's count (borrowed) */
	listener_handoff_fn to_http;
	listener_handoff_fn to_ws;
	void *cls;
};

struct listener;

/* Binds and listens, then starts the accept thread. Returns NULL with e
 * filled (IM_ESYS: e.g. the port is taken) on failure. */
struct listener *listener_start(const struct listener_config *cfg,
				struct im_error *e);

/* Returns the bound port (useful after port 0). */
uint16_t listener_port(const struct listener *l);

/* Stops the thread, closes the listening socket and every connection still
 * waiting for its head; sets *lp to NULL. */
void listener_stop(struct listener **lp);

#endif
