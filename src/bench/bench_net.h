/* SPDX-License-Identifier: MIT */
/*
 * bench_net: what every imlab-bench subscriber stands on, whatever its
 * protocol: one epoll loop in the loop thread, one non-blocking TCP
 * connection per subscriber, the receive path, the send queue, reconnects,
 * timeouts and a heap of due times (bench_http.h adds the HTTP/1.1
 * request and response head). What is said on a connection is its
 * protocol's: each of bench_poll.c, bench_longpoll.c, bench_sse.c,
 * bench_ws.c and bench_sio.c fills one struct bench_tp_ops (the two
 * WebSocket ones on bench_wsc's framing); a new transport is one more
 * such file, a value of enum bench_tp and its row in bench_main.c's
 * tps[].
 *
 * A readable socket gets one large recv() into a buffer the loop shares,
 * the protocol parses every complete frame, event or body in it in place,
 * and only an incomplete tail is kept per connection (a pending frame
 * over 256 KB is read into the connection's own buffer). A connection
 * that fails is closed and reconnects 200 ms later; one in the due heap
 * reconnects when it is due instead.
 */
#ifndef IMLAB_BENCH_NET_H
#define IMLAB_BENCH_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench.h"

#define BENCH_FRAME_MAX (64u << 20)	/* largest message, event, body */

enum bench_cstate {
	C_IDLE = 0,	/* not connected; retry_at says when */
	C_CONNECTING,	/* connect() in progress */
	C_HEAD,		/* request sent, reading the response head */
	C_BODY,		/* ws: frames; sse: the event stream; polls: body */
	C_WAIT,		/* poll: kept alive, the next request is due later */
	C_CLOSING,	/* the rest does not matter: reopen at once */
};

/* A growable byte buffer; empty ones hold no memory. */
struct bench_buf {
	char *p;
	size_t len, cap;
};

struct bench_net;

/* One subscriber's connection. The protocol owns priv and may read and
 * set state, serving, need and deadline; the rest is bench_net's. */
struct bench_conn {
	struct bench_net *net;
	struct bench_run *r;
	struct bench_sub *s;
	void *priv;		/* the protocol's ops->conn_size bytes */
	int fd;
	enum bench_cstate state;
	int serving;		/* a failure from now on is a reconnect */
	size_t need;		/* bytes the pending frame needs, 0: unknown */
	int64_t deadline;	/* ns: the connect or request times out; 0 */
	int64_t retry_at;	/* ns; 0: no retry pending */
	int64_t due;		/* ns, when queued */
	int queued;		/* in the due heap */
	int pollout;		/* EPOLLOUT is in the socket's events */
	struct bench_buf in;	/* received bytes not parsed yet */
	struct bench_buf out;	/* bytes not sent yet */
};

/* A transport: what its subscribers say and how they count. Hooks marked
 * optional may be NULL. A hook that returns -1 has noted why with
 * bench_net_fail() (or ended cleanly); the connection is then dropped. */
struct bench_tp_ops {
	const char *name;	/* --transport, the path, the reports */
	size_t conn_size;	/* bytes of per-connection state (priv) */
	/* A connect begins (optional). */
	void (*open)(struct bench_conn *c);
	/* TCP is up: writes the request. 0 or -1. */
	int (*connected)(struct bench_conn *c);
	/* Parses what was received, [b, b + have), at now (ns): returns the
	 * bytes consumed (the rest is handed back with more, c->need may
	 * say how many the pending frame takes) or -1. */
	ssize_t (*parse)(struct bench_conn *c, const char *b, size_t have,
			 int64_t now);
	/* The peer closed: -1, or 1 to reopen quietly at once. */
	int (*ended)(struct bench_conn *c);
	/* The send queue has been handed to the kernel (optional). */
	void (*flushed)(struct bench_conn *c);
	/* c is due (see bench_net_at) and connected: 0 or -1. Its presence
	 * makes the loop keep a due heap. */
	int (*due)(struct bench_conn *c);
	/* c was closed: frees and forgets its protocol state (optional). */
	void (*reset)(struct bench_conn *c);
};

extern const struct bench_tp_ops bench_poll_ops;
extern const struct bench_tp_ops bench_longpoll_ops;
extern const struct bench_tp_ops bench_sse_ops;
extern const struct bench_tp_ops bench_ws_ops;
extern const struct bench_tp_ops bench_sio_ops;
extern const struct bench_tp_ops bench_sio_polling_ops;

/* Sets up r's loop for the transport ops (borrowed, static) and r->net.
 * Returns 0, or -1 with the reason in r->last_error. */
int bench_net_start(struct bench_run *r, const struct bench_tp_ops *ops);

/* Starts pending connects and reconnects, sends due requests and services
 * the sockets for up to wait_ms. */
void bench_net_step(struct bench_run *r, int wait_ms);

/* Adds the TCP payload bytes received and sent by all subscriber sockets
 * so far, closed and open ones, to *in and *out. */
void bench_net_bytes(struct bench_run *r, uint64_t *in, uint64_t *out);

/* Closes every connection and frees the loop (safe after a failed
 * bench_net_start). */
void bench_net_stop(struct bench_run *r);

/* Notes why c fails ("<transport>: <text>"), to be counted as an error
 * when it is dropped. Returns -1. */
int bench_net_fail(struct bench_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Forgets a failure noted: c ends cleanly. */
void bench_net_quiet(struct bench_conn *c);

/* Returns "host:port" of the server (the Host header), borrowed. */
const char *bench_net_hostport(const struct bench_conn *c);

/* Sends n bytes at p (copied if they cannot all go now) behind what is
 * queued. 0 or -1. */
int bench_net_send(struct bench_conn *c, const void *p, size_t n);

/* Queues c to be due at due (ns): it then reconnects if closed, else
 * ops->due runs. Needs ops->due. */
void bench_net_at(struct bench_conn *c, int64_t due);

/* Returns 32 pseudo-random bits (WebSocket masks and keys: not secret). */
uint32_t bench_net_rand(struct bench_conn *c);

/* Appends n bytes at p to b; 0, or -1 past 2 x BENCH_FRAME_MAX or out of
 * memory. */
int bench_buf_add(struct bench_buf *b, const void *p, size_t n);

/* Frees b's memory and empties it. */
void bench_buf_free(struct bench_buf *b);

#endif
