/* SPDX-License-Identifier: MIT */
/*
 * http_keep: the whole-head deadline of the later requests of a
 * keep-alive connection. libmicrohttpd 0.9.75 times a connection out only
 * per byte (--idle-timeout of silence) and offers no way to end one from
 * outside, so a client dribbling a later head holds its connection for
 * good. Here every HTTP connection is registered with its descriptor and
 * a due time: after an answer the next request line must come within
 * --idle-timeout, after the request line the rest of the head within
 * --head-timeout (the listener's deadline for a first head); the ticker
 * shuts the socket of an overdue one down, and libmicrohttpd, reading the
 * end of the stream, closes it (no answer, as for a first head).
 */
#ifndef IMLAB_HTTP_KEEP_H
#define IMLAB_HTTP_KEEP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "list.h"

struct http_keep;

/* One connection's entry; lives in its libmicrohttpd socket context. */
struct http_keep_conn {
	struct list node;	/* under the registry's lock */
	int fd;
	atomic_llong due;	/* monotonic ms; 0: no deadline */
};

/* Creates an empty registry. Returns NULL when out of memory. */
struct http_keep *http_keep_create(void);

/* Frees k (every entry must be gone) and sets *kp to NULL. */
void http_keep_destroy(struct http_keep **kp);

/* Registers kc (the caller's, zeroed) for the connection on fd, with no
 * deadline. Any libmicrohttpd thread. */
void http_keep_add(struct http_keep *k, struct http_keep_conn *kc, int fd);

/* Unregisters kc; after it returns the ticker never touches kc's fd, so
 * it must be called before the descriptor is closed (libmicrohttpd's
 * NOTIFY_CLOSED comes first). Safe on an entry never added. */
void http_keep_del(struct http_keep *k, struct http_keep_conn *kc);

/* Sets kc's deadline to due (monotonic ms; 0: none). Lock-free. */
void http_keep_arm(struct http_keep_conn *kc, int64_t due);

/* Shuts down (SHUT_RDWR) the socket of every registered connection whose
 * deadline passed before now, at most once a second; returns how many.
 * The ticker's. */
size_t http_keep_tick(struct http_keep *k, int64_t now);

#endif
