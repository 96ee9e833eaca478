/* SPDX-License-Identifier: MIT */
/*
 * bench_wsc: the RFC 6455 client side that the bench's WebSocket
 * subscribers share (imlab's /ws in bench_ws.c, Engine.IO in
 * bench_sio.c): the upgrade request, masked client frames, and the
 * server's frames parsed in place - fragments reassembled, ping answered
 * with pong, close echoed - each complete text or binary message handed
 * to the protocol's callback. What the messages say is the protocol's.
 */
#ifndef IMLAB_BENCH_WSC_H
#define IMLAB_BENCH_WSC_H

#include "bench_net.h"

/* A connection's WebSocket state; the protocol keeps it in its priv. */
struct bench_wsc {
	struct bench_buf msg;	/* fragments of the current message */
	int in_msg;		/* a fragmented message is open */
};

/* One complete message from the server: text (binary 0) or binary, n
 * bytes at p (borrowed for the call), received at now (ns). 0, or -1 to
 * drop the connection (noted with bench_net_fail). */
typedef int (*bench_wsc_msg_fn)(struct bench_conn *c, const char *p,
				size_t n, int binary, int64_t now);

/* Sends the upgrade request GET path (query as bench_http_get takes it)
 * with a fresh Sec-WebSocket-Key and sets c to C_HEAD. 0 or -1. */
int bench_wsc_upgrade(struct bench_conn *c, const char *path,
		      const char *query);

/* Writes one masked client frame of opcode op with the n bytes at p (n <
 * 65536) into dst, which has room for n + 8; returns the frame's size. */
size_t bench_wsc_frame(struct bench_conn *c, unsigned char *dst, int op,
		       const void *p, size_t n);

/* Sends one masked text frame of the n bytes at p (n < 65536). 0 or -1. */
int bench_wsc_send_text(struct bench_conn *c, const char *p, size_t n);

/* Parses the frames in [b, b + have) with w's state, handing every
 * complete message to fn: returns the bytes consumed, or -1 to drop the
 * connection (nothing noted if the server closed cleanly). */
ssize_t bench_wsc_parse(struct bench_conn *c, struct bench_wsc *w,
			const char *b, size_t have, int64_t now,
			bench_wsc_msg_fn fn);

/* Forgets an open fragmented message and frees its memory. */
void bench_wsc_reset(struct bench_wsc *w);

#endif
