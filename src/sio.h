/* SPDX-License-Identifier: MIT */
/*
 * sio: Socket.IO v5 over an Engine.IO session (the eio_app of
 * /socket.io/): namespaces (CONNECT with its auth payload, CONNECT_ERROR
 * "Invalid namespace", DISCONNECT), events and acks both ways, binary
 * packets reassembled from their attachments (at most SIO_MAX_ATTACH,
 * within maxPayload), and the connect timeout. What the events mean is a
 * handler's: imlab's rooms (sio_app.c) or the conformance echo
 * (sio_echo.c).
 */
#ifndef IMLAB_SIO_H
#define IMLAB_SIO_H

#include <stddef.h>
#include <stdint.h>

#include "eio.h"
#include "sio_packet.h"

struct sio_conn;

#define SIO_NSP_COUNT 8		/* namespaces a handler may serve */

/* One binary attachment, borrowed for the call. */
struct sio_bin {
	const char *data;
	size_t len;
};

/* What a handler does with a connection. Every call is made under the
 * session's app lock (eio.h); h is what open returned. */
struct sio_handler {
	void *cls;
	/* Returns the index (0 .. SIO_NSP_COUNT-1) of the namespace
	 * nsp[0..len), or -1 when it is not served. */
	int (*nsp)(void *cls, const char *nsp, size_t len);
	/* A connection (Engine.IO session) opened: the handler's state, or
	 * NULL (out of memory). */
	void *(*open)(void *cls, struct sio_conn *c);
	/* CONNECT to namespace n with auth[0..alen) (JSON object text) or
	 * NULL. Returns 0 to accept (the CONNECT answer {"sid":...} is sent
	 * with the members the handler wrote to extra, cap bytes, e.g.
	 * ,"pid":"..."; then connected is called), or -1 with *err the
	 * message of the CONNECT_ERROR (JSON-escaped; it must live until
	 * the next call into h). */
	int (*connect)(void *h, int n, const char *auth, size_t alen,
		       char *extra, size_t cap, const char **err);
	/* After the CONNECT answer was queued. May be NULL. */
	void (*connected)(void *h, int n, const char *auth, size_t alen);
	/* An EVENT or BINARY_EVENT (p->data: the arguments' array), or with
	 * is_ack an ACK or BINARY_ACK, in namespace n, with its n_att
	 * attachments. Returns 0, or -1 to close the connection. */
	int (*event)(void *h, int n, const struct sio_pkt *p,
		     const struct sio_bin *att, unsigned n_att, int is_ack);
	/* DISCONNECT from namespace n (the client's). May be NULL. */
	void (*disconnect)(void *h, int n);
	/* The transport may write: queue more (sio_send). May be NULL. */
	void (*pull)(void *h);
	/* The connection closed: free h. */
	void (*close)(void *h);
};

/* Creates the Engine.IO app of handler (borrowed, static) for the server
 * with connect_timeout_ms. Returns NULL when out of memory. */
struct eio_app *sio_app_create(const struct sio_handler *handler,
			       int64_t connect_timeout_ms);

/* Frees what sio_app_create() returned (sessions closed already). */
void sio_app_free(struct eio_app **ap);

/* Queues the Socket.IO packet pkt[0..len) (text, the type digit first),
 * then n_att binary attachments. Returns 0 or -1 (the queue is full). */
int sio_send(struct sio_conn *c, const char *pkt, size_t len,
	     const struct sio_bin *att, unsigned n_att);

/* Returns c's Engine.IO session (borrowed). */
struct eio_session *sio_session(struct sio_conn *c);

/* Returns 1 if c is connected to namespace n. */
int sio_connected(const struct sio_conn *c, int n);

#endif
