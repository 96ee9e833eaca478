/* SPDX-License-Identifier: MIT */
/*
 * ws_alive: the keepalive of imlab's /ws connections (--ws-ping,
 * --ws-hangup) with one timer for all of them. libwebsockets 4.1.6 gives
 * each connection its own validity timer in one sorted linked list, and
 * inserting into it walks the list (lws_dll2_add_sorted): connecting
 * 10,000 clients spent a quarter of the server's CPU there (issue 14).
 * So ws.c gives lws a retry policy with no validity times, and this
 * module keeps every established connection on a plain list, stamped
 * with the time of the last frame it received; one lws timer sweeps the
 * list every WS_ALIVE_SWEEP_US. A connection silent for --ws-ping gets a
 * WebSocket ping (written from its writeable callback); one silent for
 * --ws-hangup is closed, as lws's own hangup did (no close frame). Any
 * frame received counts, a pong to the ping included (the ping carries
 * one byte: lws 4.1.6 does not report an empty pong). Service thread
 * only: no lock.
 */
#ifndef IMLAB_WS_ALIVE_H
#define IMLAB_WS_ALIVE_H

#include <stdint.h>

#include <libwebsockets.h>

#include "list.h"

#define WS_ALIVE_SWEEP_US 250000	/* how often the list is looked at */

/* The keepalive of one lws context (embedded in its owner). */
struct ws_alive {
	struct lws_context *ctx;
	struct list all;		/* of ws_alive_conn.node */
	lws_sorted_usec_list_t sul;
	lws_usec_t ping_us, hangup_us;
};

/* One connection's part (embedded in its per-session data). */
struct ws_alive_conn {
	struct list node;		/* on all while established */
	struct lws *wsi;
	lws_usec_t last;		/* lws_now_usecs() of the last frame */
	uint8_t ping_due;		/* the writeable callback pings */
	uint8_t pinged;			/* since the last frame */
};

/* Starts a's sweep on ctx: ping after ping_s seconds of silence, close
 * after hangup_s (> ping_s). Call before the service thread runs, or on
 * it. */
void ws_alive_start(struct ws_alive *a, struct lws_context *ctx, int ping_s,
		    int hangup_s);

/* Stops the sweep; the service thread must not be running (or this is
 * it). The connections stay listed until their CLOSED callbacks (which
 * lws_context_destroy() runs) call ws_alive_del(). */
void ws_alive_stop(struct ws_alive *a);

/* Lists c (established on wsi, now) on a. */
void ws_alive_add(struct ws_alive *a, struct ws_alive_conn *c,
		  struct lws *wsi);

/* c received a frame (a message's piece or a pong): it is alive. */
void ws_alive_seen(struct ws_alive_conn *c);

/* Takes c off its list (its connection closed). Safe twice. */
void ws_alive_del(struct ws_alive_conn *c);

/* From c's writeable callback: writes the ping the sweep asked for.
 * Returns 1 when one was written, 0 when none was due, -1 on a write
 * error (close). */
int ws_alive_write(struct ws_alive_conn *c);

#endif
