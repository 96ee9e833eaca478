/* SPDX-License-Identifier: MIT */
/*
 * ws_proto: the WebSocket protocol of imlab, as the lws callback in ws.c
 * sees it: the per-connection state (struct per_session_data__chat),
 * parsing of client messages, the ops (hello, join, leave, send, ping)
 * and the small bounded queue of control replies (hello, joined, left,
 * ack, error, pong). Reassembly, and holding messages behind an emulated
 * delay, are ws_rx.c's. Everything here runs on the lws service
 * thread; only ws.c's notify touches a connection from other threads, and
 * only its dirty-list fields. The Origin check lives in ws_origin.c.
 */
#ifndef IMLAB_WS_PROTO_H
#define IMLAB_WS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "cursor.h"
#include "err.h"
#include "netem.h"
#include "list.h"
#include "sub.h"
#include "ws_alive.h"
#include "ws_netem.h"

struct server;
struct room;
struct ws;
struct ws_ctl;
struct ws_binary;
struct ws_btx;
struct wire_conn;

struct per_session_data__chat {
	struct sub sub;			/* rooms and presence; ctx = this */
	struct lws *wsi;
	struct ws *w;
	struct server *srv;
	struct list dnode;		/* ws.c's dirty list (its dlock) */
	/* service thread only from here on */
	uint8_t established;		/* ESTABLISHED seen, CLOSED not yet */
	uint8_t want_read;		/* the store may hold news for us */
	uint8_t hello;			/* hello accepted */
	uint8_t rx_paused;		/* rx flow stopped: ctl queue full */
	uint8_t rx_open;		/* a fragmented message has begun */
	uint8_t rx_binary;		/* the message being reassembled */
	uint8_t binary_out;		/* hello asked for binary frames */
	uint8_t closing;		/* a held message closed it: the
					 * writeable callback ends it */
	unsigned nctl;			/* entries in the ctl queue */
	struct cursor cur;		/* the joined rooms' rings: same rooms
					 * as sub; cid is sub.cid */
	struct ws_ctl *ctl_head, *ctl_tail;	/* control replies, owned */
	const char *text;		/* the message being run (borrowed) */
	size_t text_len;
	struct ws_binary *bin;		/* a send awaiting its binary frames
					 * (ws_binary.h), owned, or NULL */
	struct ws_btx *btx;		/* a message's frames being sent to a
					 * binary_out client, owned, or NULL */
	char *rx;			/* reassembly of a fragmented message */
	size_t rx_len, rx_cap;
	struct wire_conn *wc;		/* its byte meter (wire.h) */
	struct netem net;		/* ?delay=&jitter= on the upgrade */
	struct ws_netem nem;		/* its held messages (ws_netem.h) */
	struct ws_alive_conn alive;	/* its keepalive (ws_alive.h) */
};

/* Runs one complete client message (buf[0..len), borrowed, valid UTF-8
 * if text) as its op. Returns 0, or -1 when the connection must close
 * (the close reason is already set). ws_rx.c calls it. */
int ws_proto_run(struct per_session_data__chat *pss, const char *buf,
		 size_t len, int binary);

/* Sets the close frame lws will send on wsi: err's close code (err.c
 * maps them all) and the reason why. */
void ws_proto_close(struct lws *wsi, enum im_err err, const char *why);

/* Writes the oldest queued control reply with one lws_write(), if it is
 * due (ws_netem.h). Returns 1 when one was written, 0 when the queue is
 * empty or its head not due yet, -1 on a write error. */
int ws_proto_write_ctl(struct per_session_data__chat *pss);

/* Returns when the oldest queued control reply may be written
 * (lws_now_usecs(), 0: at once), or -1 when the queue is empty. */
int64_t ws_proto_ctl_due(const struct per_session_data__chat *pss);

/* Returns 1 if a queued control reply may be written now. */
int ws_proto_ctl_ready(const struct per_session_data__chat *pss);

/* Frees pss's queue, pending binary frames and cursor (not the pss,
 * which belongs to lws; ws_rx_free() frees the rest). The caller has
 * already left every room. */
void ws_proto_free(struct per_session_data__chat *pss);

#endif
