/* SPDX-License-Identifier: MIT */
/*
 * wire: what crossed the wire, exactly. Every TCP connection the server
 * serves has a meter (struct wire_conn) that reads the kernel's own count
 * of the bytes the server read from and wrote to the socket (TCP_INFO's
 * tcpi_bytes_received and tcpi_bytes_acked, corrected by SIOCINQ and
 * SIOCOUTQ and for FINs), so headers, bodies, frames, pings and
 * handshakes are all in it. The bytes are charged to the transport and
 * the client id (cid) of the request the connection is carrying, at each
 * request's end, at the close, and read live for open connections. Per
 * transport totals feed /api/stats and /metrics; per cid totals and the
 * last WIRE_RECORDS request/response heads feed /api/clients/{cid}. At
 * most max_clients cids are tracked; a new one evicts the least recently
 * used. Thread-safe (one lock); no MHD or lws here (wire_http.c and ws.c
 * hold the hooks).
 */
#ifndef IMLAB_WIRE_H
#define IMLAB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

#define WIRE_RECORDS 8		/* heads kept per cid */
#define WIRE_HEAD_MAX 2048	/* bytes of one head kept (truncated) */
#define WIRE_CID_MAX 64
#define WIRE_CLIENTS 1024	/* cids tracked at most (LRU) */

struct json_object;
struct wire;
struct wire_conn;

/* One transport's counters (per cid or in total). */
struct wire_cnt {
	uint64_t requests;	/* HTTP requests; WebSocket: frames received */
	uint64_t up;		/* bytes the server read */
	uint64_t down;		/* bytes the server wrote */
	uint64_t conns;		/* TCP connections that carried it */
};

/* Returns a new meter registry tracking at most max_clients cids, or
 * NULL when out of memory. */
struct wire *wire_create(size_t max_clients);

/* Frees w and every connection meter still registered; NULLs *wp. */
void wire_free(struct wire **wp);

/* The listener read fd's first head (raw, len bytes, copied up to
 * WIRE_HEAD_MAX): kept until fd's connection opens (wire_conn_open). */
void wire_head(struct wire *w, int fd, const char *raw, size_t len);

/* Starts metering the connection on fd (open now); takes its first head
 * from wire_head() or its meter from wire_conn_handoff(). Returns the
 * meter (NULL when out of memory: that connection is not counted). */
struct wire_conn *wire_conn_open(struct wire *w, int fd);

/* The connection ends: charges what its socket counted since the last
 * request (a FIN does not count), before the fd is closed. NULLs *wcp. */
void wire_conn_close(struct wire_conn **wcp);

/* Moves the meter to newfd (a dup, given to libwebsockets), charging
 * what was counted so far; wire_conn_open(w, newfd) takes it back. The
 * old owner must forget wc. */
void wire_conn_handoff(struct wire_conn *wc, int newfd);

/* A request of transport via begins on wc, for cid (NUL-terminated,
 * NULL or "" for none; checked by the caller). Counts the request and,
 * on the first of via on this connection, the connection. */
void wire_req_begin(struct wire_conn *wc, enum via via, const char *cid);

/* The request ends: what was counted since is charged to it. */
void wire_req_end(struct wire_conn *wc);

/* A WebSocket frame was received on wc: one request. */
void wire_frame_in(struct wire_conn *wc);

/* wc's cid is now cid (a WebSocket hello): what it counted and had not
 * charged yet goes to cid if wc had none. */
void wire_set_cid(struct wire_conn *wc, const char *cid);

/* Takes wc's first head as the listener read it, if it is still there:
 * returns it (malloc'd, NUL-terminated, the caller frees) or NULL. */
char *wire_take_head(struct wire_conn *wc);

/* Records one request/response pair of wc (both copied, up to
 * WIRE_HEAD_MAX; resp may be NULL). exact: req is the bytes as read.
 * Kept for wc's cid (or, with none yet, until wire_set_cid). */
void wire_record(struct wire_conn *wc, const char *req, const char *resp,
		 int exact);

/* Cuts cid's open connections (of transport via; via < 0: all):
 * shutdown() both ways, so their owners see the end and close them.
 * Returns how many. */
size_t wire_cut(struct wire *w, const char *cid, int via);

/* Fills tot[VIA__COUNT] with every transport's totals, open connections'
 * bytes so far included. */
void wire_totals(struct wire *w, struct wire_cnt tot[VIA__COUNT]);

/* Returns cid's {"cid","transports":{...}} (with records, its
 * {"records":[...]} instead), or NULL if cid is not tracked. */
struct json_object *wire_client_json(struct wire *w, const char *cid,
				     int records);

#endif
