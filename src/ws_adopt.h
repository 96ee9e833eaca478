/* SPDX-License-Identifier: MIT */
/*
 * ws_adopt: the hand-off of upgraded sockets from libmicrohttpd's threads
 * to a libwebsockets service thread, shared by /ws (ws.c) and Engine.IO's
 * WebSocket (eio_ws.c). libwebsockets is single-threaded, so an HTTP
 * thread only queues the socket with a copy of its rebuilt upgrade head
 * (ws_adopt_push) and wakes the service thread with lws_cancel_service();
 * the service thread adopts what is queued (ws_adopt_drain) from its
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED. The queue has its own lock, taken by
 * nothing else.
 */
#ifndef IMLAB_WS_ADOPT_H
#define IMLAB_WS_ADOPT_H

#include <pthread.h>
#include <stddef.h>

#include <libwebsockets.h>

struct ws_adopt_item;

struct ws_adopt {
	pthread_mutex_t lock;
	struct ws_adopt_item *q;
	size_t len, cap;
};

/* Makes a an empty queue. */
void ws_adopt_init(struct ws_adopt *a);

/* Any thread: queues fd (TCP_NODELAY set: frames are small and must
 * leave at once, without Nagle waiting for an ACK) with a copy of its
 * head (len bytes). Returns 0, or -1 when out of memory: then fd is
 * closed and the caller uncounts the connection. The caller then wakes
 * the service thread. */
int ws_adopt_push(struct ws_adopt *a, int fd, const char *head, size_t len);

/* Service thread: hands every queued socket to vh (libwebsockets answers
 * the handshake as if it had read the head itself) with opaque as its
 * opaque user data. Returns how many libwebsockets refused (it closed
 * those sockets: the caller uncounts them). */
size_t ws_adopt_drain(struct ws_adopt *a, struct lws_vhost *vh,
		      void *opaque);

/* Closes every socket still queued and frees the queue (the service
 * thread has stopped). */
void ws_adopt_free(struct ws_adopt *a);

#endif
