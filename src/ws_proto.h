/* SPDX-License-Identifier: MIT */
/*
 * ws_proto: the WebSocket protocol of imlab, as the lws callback in ws.c
 * sees it: the per-connection state (struct per_session_data__chat),
 * reassembly and parsing of client messages, the ops (hello, join, leave,
 * send, ping) and the small bounded queue of control replies (hello,
 * joined, left, ack, error, pong). Everything here runs on the lws service
 * thread; only ws.c's notify touches a connection from other threads, and
 * only its dirty-list fields. The Origin check lives in ws_origin.c.
 */
#ifndef IMLAB_WS_PROTO_H
#define IMLAB_WS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "cursor.h"
#include "netem.h"
#include "list.h"
#include "sub.h"

struct server;
struct room;
struct ws;
struct ws_ctl;
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
	unsigned nctl;			/* entries in the ctl queue */
	struct cursor cur;		/* the joined rooms' rings: same rooms
					 * as sub; cid is sub.cid */
	struct ws_ctl *ctl_head, *ctl_tail;	/* control replies, owned */
	const char *text;		/* the message being run (borrowed) */
	size_t text_len;
	char *rx;			/* reassembly of a fragmented message */
	size_t rx_len, rx_cap;
	struct wire_conn *wc;		/* its byte meter (wire.h) */
	struct netem net;		/* ?delay=&jitter= on the upgrade */
};

/* Feeds one RECEIVE callback's bytes (borrowed) into pss: reassembles
 * fragments, enforces cfg.ws_max_msg and runs every complete message.
 * Returns 0, or -1 when the connection must close (the close reason is
 * already set). */
int ws_proto_receive(struct per_session_data__chat *pss, const void *in,
		     size_t len);

/* Writes the oldest queued control reply with one lws_write(). Returns 1
 * when one was written, 0 when the queue is empty, -1 on a write error. */
int ws_proto_write_ctl(struct per_session_data__chat *pss);

/* Frees pss's queue, reassembly buffer and cursor (not the pss, which
 * belongs to lws). The caller has already left every room. */
void ws_proto_free(struct per_session_data__chat *pss);

#endif
