/* SPDX-License-Identifier: MIT */
/*
 * bench: what the imlab-bench modules share. One run measures one
 * transport: it connects every subscriber, waits until each is registered,
 * publishes the messages from a publisher thread (libcurl) and counts
 * every delivery in the subscribers' loop (one thread: bench_net's epoll
 * loop under the transport's own client, bench_poll.c, bench_longpoll.c,
 * bench_sse.c or bench_ws.c).
 *
 * Threads: the loop thread owns struct bench_sub and every counter below
 * "loop thread"; the publisher thread writes only the atomics and acked[].
 */
#ifndef IMLAB_BENCH_H
#define IMLAB_BENCH_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bench_hist.h"

struct bench_net;

enum bench_tp {
	BENCH_POLL = 0,
	BENCH_LONGPOLL,
	BENCH_SSE,
	BENCH_WS,
	BENCH_SIO,		/* Socket.IO: Engine.IO v4 over WebSocket */
	BENCH_SIO_POLLING,	/* the same, started on polling, upgraded */
	BENCH__COUNT
};

/* The transports --transport all runs: imlab's own four (not sio). */
#define BENCH_TPS_ALL ((1u << BENCH_POLL) | (1u << BENCH_LONGPOLL) | \
		       (1u << BENCH_SSE) | (1u << BENCH_WS))

#define BENCH_EVENT "bench"	/* event name of the published messages */

enum bench_out { BENCH_OUT_TABLE = 0, BENCH_OUT_JSON, BENCH_OUT_TSV };

/* The server spoken to (--peer): imlab, nginx with the nchan module
 * laid out as src/bench/nchan-peer.sh configures it, or Node's Socket.IO
 * running src/bench/sio-peer.mjs (imlab's protocol over Socket.IO, the
 * part the bench uses). */
enum bench_peer { BENCH_PEER_IMLAB = 0, BENCH_PEER_NCHAN,
		  BENCH_PEER_SOCKETIO };

/* The command line (bench_opts.h). */
struct bench_opts {
	char url[256];		/* http://host:port, no trailing slash */
	char pub_url[256];	/* where to publish ("": url) */
	char host[128];
	int port;
	unsigned tps;		/* bit per enum bench_tp */
	int subs;
	int rate;		/* messages/s; 0: back to back */
	int msgs;
	int size;		/* bytes of the published "data" value */
	int rooms;
	int interval_ms;	/* short-poll interval */
	int server_pid;		/* 0: none */
	int format;		/* enum bench_out */
	int distinct_cids;	/* every subscriber its own cid and from */
	int peer;		/* enum bench_peer */
	int rate_milli;		/* messages per 1000 s (--rate x 1000, or a
				 * --sweep rate); 0: back to back */
	int sweep;		/* --sweep: the cost-versus-rate table */
	char sweep_rates[128];	/* --sweep-rates, comma list of msg/s */
};

/* One subscriber, whatever its transport. */
struct bench_sub {
	int room;		/* index into the run's rooms */
	int registered;		/* the server holds its subscription */
	int32_t max_seq;	/* highest seq seen, -1 before any */
	uint64_t cursor;	/* id to resume after (since=) */
};

/* One run: one transport, from connect to the last delivery. */
struct bench_run {
	const struct bench_opts *o;
	enum bench_tp tp;
	char room_prefix[64];	/* room k is "<prefix><k>" */
	size_t room_prefix_len;
	char cid[48];		/* of the run; a subscriber's: bench_sub_cid */
	uint64_t since0;	/* server's last_id before connecting */
	struct bench_sub *subs;
	int *room_subs;		/* subscribers per room */
	uint8_t *seen;		/* subs x msgs bits: (sub, seq) delivered */
	size_t seen_stride;	/* bytes per subscriber in seen */
	volatile sig_atomic_t *interrupted;
	struct bench_net *net;	/* the subscribers' loop (bench_net.h) */

	/* set by the loop thread */
	int started;		/* subscribers whose first connect began */
	int registered;
	int publishing;		/* the publish phase has begun */
	int stopping;		/* tearing down: no reconnects */
	int64_t t_connect0, t_connected, t_pub0, t_last_rx;	/* ns */
	int64_t t_last_registered;	/* ns, the last bench_registered() */
	int64_t t_last_other;	/* ns, the last join/leave or foreign msg */
	uint64_t received;	/* deliveries of bench messages, dups too */
	uint64_t unique;
	uint64_t duplicated;
	uint64_t out_of_order;
	uint64_t other_msgs;	/* join/leave or foreign messages */
	uint64_t misrouted;	/* a message of another room */
	uint64_t bad;		/* unparseable envelopes or frames */
	uint64_t gaps;
	uint64_t errors;	/* failed requests, error frames, ... */
	uint64_t reconnects;
	uint64_t connects;	/* TCP connections the subscribers opened */
	uint64_t requests;	/* HTTP requests (WebSocket: upgrades) */
	uint64_t frames;	/* WebSocket messages received */
	char last_error[256];
	struct bench_hist lat;	/* delivery latency, ns */

	/* written by the publisher thread */
	atomic_int sent;	/* publish requests made */
	atomic_int pub_errors;
	atomic_ullong expected;	/* deliveries owed for acked messages */
	atomic_int pub_done;
	uint8_t *acked;		/* per seq: 1 once the server answered 201 */
	int64_t t_pub_end;	/* ns; read after the thread is joined */
	int64_t t_send_first, t_send_last;	/* ns, first and last POST */
	long pub_connects;	/* TCP connections the publisher opened */
	struct bench_hist pub_rtt;	/* publish round trip, ns */
};

/* Returns CLOCK_MONOTONIC in ns. */
int64_t bench_now_ns(void);

/* Returns the peer's name ("imlab", "nchan", "socket.io"). */
const char *bench_peer_name(int peer);

/* Returns the transport's name ("poll", "longpoll", "sse", "ws", "sio",
 * "sio-polling"), or "?"
 * (defined in bench_main.c, beside the table of transports). */
const char *bench_tp_name(enum bench_tp tp);

/* Parses the envelope starting at env (text up to end, borrowed) and
 * counts it delivered to subscriber s at now_ns: latency, duplicates,
 * order, loss bookkeeping. Loop thread only. Returns the byte after it, or NULL
 * (counted as a bad frame) if it is not an envelope. */
const char *bench_deliver(struct bench_run *r, struct bench_sub *s,
			  const char *env, const char *end, int64_t now_ns);

/* Marks s registered (once) and notes the time. Loop thread only. */
void bench_registered(struct bench_run *r, struct bench_sub *s);

/* Writes subscriber s's cid into buf: the run's cid, or with
 * --distinct-cids the run's cid and "-<index>" (at most 64 characters, as
 * imlab's cid rule allows). */
void bench_sub_cid(const struct bench_run *r, const struct bench_sub *s,
		   char *buf, size_t len);

/* Writes subscriber s's from name into buf: "bench", or "bench<index>"
 * with --distinct-cids. */
void bench_sub_from(const struct bench_run *r, const struct bench_sub *s,
		    char *buf, size_t len);

/* Records a failure: counts it and keeps its text as the last error. */
void bench_error(struct bench_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes room k's name into buf. */
void bench_room_name(const struct bench_run *r, int k, char *buf,
		     size_t len);

#endif
