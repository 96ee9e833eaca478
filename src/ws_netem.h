/* SPDX-License-Identifier: MIT */
/*
 * ws_netem: the upstream half of a /ws connection's emulated delay
 * (netem.h), and the timing of its replies. With ?delay=D&jitter=J on the
 * upgrade, each complete client message (a text or binary message after
 * reassembly) is held and run D + j after it arrived, in arrival order;
 * every control reply it makes (hello, joined, left, ack, error, pong)
 * is written no sooner than D + j after it is ready, in order (j in
 * [0, J], a hash of a per-connection sequence number; a due time is
 * never before its predecessor's, so order is kept as TCP keeps it).
 * The wake-up is one libwebsockets timer (lws_sul) per connection, on
 * the service thread, set for the earliest of the next held message and
 * the next reply not yet due. The held messages are bounded per
 * connection by WS_NETEM_MSGS and WS_NETEM_BYTES_MUL x --ws-max-msg; a
 * message over either closes the connection with 1008. Without a delay
 * nothing here runs: messages run as they arrive and replies go at once.
 * It knows nothing of the protocol: ws_proto.c runs what is due.
 */
#ifndef IMLAB_WS_NETEM_H
#define IMLAB_WS_NETEM_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "netem.h"

/* Held messages at most: the control reply queue's hard limit (CTL_MAX in
 * ws_proto.c), since each held message makes about one reply. */
#define WS_NETEM_MSGS 64
/* Held bytes at most, in --ws-max-msg: a few of the largest messages
 * (256 KiB at the defaults, what one writeable callback sends). */
#define WS_NETEM_BYTES_MUL 4

/* Runs one due message (buf borrowed). Returns 0, or -1 when the
 * connection must close (then nothing more runs and what is held goes). */
typedef int ws_netem_run_fn(void *ctx, const char *buf, size_t len,
			    int binary);
/* Called after the due messages ran: the owner looks at its replies
 * and sets the timer again (ws_netem_arm()). */
typedef void ws_netem_done_fn(void *ctx);

struct ws_held;

/* A connection's held messages and its timer; zeroed, then
 * ws_netem_init(). */
struct ws_netem {
	struct ws_held *head, *tail;	/* owned, in arrival order */
	unsigned n;			/* held messages */
	size_t bytes, max_bytes;	/* their bytes, the bound */
	uint64_t seq;			/* messages and replies timed */
	int64_t in_last, out_last;	/* latest due times given, in
					 * lws_now_usecs() microseconds */
	int64_t reply_due;		/* the owner's, as last armed */
	const struct netem *net;	/* borrowed */
	struct lws *wsi;
	ws_netem_run_fn *run;
	ws_netem_done_fn *done;
	void *ctx;
	lws_sorted_usec_list_t sul;	/* the wake-up */
};

/* Readies q for wsi behind net (borrowed, netem_on()), holding at most
 * max_bytes; run and done get ctx. */
void ws_netem_init(struct ws_netem *q, const struct netem *net,
		   struct lws *wsi, size_t max_bytes, ws_netem_run_fn *run,
		   ws_netem_done_fn *done, void *ctx);

/* Holds a copy of one complete message (buf[0..len), borrowed) to be run
 * when due. Returns 0, or -1 with *why the close reason when it would
 * put q over its bounds (the caller closes with 1008). */
int ws_netem_hold(struct ws_netem *q, const void *buf, size_t len,
		  int binary, const char **why);

/* Returns when a reply ready now may be written (lws_now_usecs(); 0, at
 * once, before ws_netem_init()). */
int64_t ws_netem_reply_due(struct ws_netem *q);

/* Sets the timer for the next held message or for reply_due (the oldest
 * queued reply's time, -1 when none), whichever comes first; a reply
 * already due is the owner's to write. */
void ws_netem_arm(struct ws_netem *q, int64_t reply_due);

/* Cancels the timer and frees what is held (the connection closes). */
void ws_netem_free(struct ws_netem *q);

#endif
