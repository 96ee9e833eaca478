/* SPDX-License-Identifier: MIT */
/*
 * redis_node: this process as one node of several sharing one Redis
 * (--redis URL). Redis holds the one id sequence, the shared history (the
 * stream PREFIX log), the pid key, the mid window and the presence of
 * every node; each node applies the stream, its own publishes included,
 * in stream order into its local store (store_append_at()), so every node
 * holds the same ids and bytes. The design and its failure modes are in
 * doc/architecture.md ("Nodes sharing Redis") and doc/scaling.md. Built
 * only with hiredis (HAVE_HIREDIS).
 */
#ifndef IMLAB_REDIS_NODE_H
#define IMLAB_REDIS_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hub.h"
#include "room.h"
#include "store.h"

struct redis_node;

struct redis_node_config {
	const char *url;	/* redis://[[user]:pass@]host[:port][/db] */
	const char *prefix;	/* of every key, e.g. "imlab:" */
	int node_ttl_ms;	/* a node silent this long is dead */
	long log_max;		/* entries the stream keeps (about) */
	size_t max_data;	/* bytes of a message's data (--max-body) */
};

/* Connects to Redis (one attempt, a 2 s timeout), loads the scripts,
 * agrees on the shared pid key and finds the shared history's base (the
 * id before its oldest message). Returns the node, or NULL with e filled:
 * IM_EFULL "backend_unavailable" when Redis cannot be reached or
 * answers an error, IM_EINVAL "bad_option" for a bad URL. cfg's strings
 * are copied. */
struct redis_node *redis_node_open(const struct redis_node_config *cfg,
				   struct im_error *e);

/* The id before the oldest message the shared history holds: what the
 * local store must be created after (store_create(history, base + 1)). */
uint64_t redis_node_base(const struct redis_node *n);

/* Wires n into the core: the shared pid key into rs, the publish path of
 * h (hub_post_fn) and the presence of rs through Redis; loads the shared
 * history into st (borrowed; st, rs and h must outlive n) and starts the
 * writer and reader threads. Returns IM_OK, or an error with e filled
 * (then n is unchanged but for what it loaded). */
enum im_err redis_node_attach(struct redis_node *n, struct store *st,
			      struct rooms *rs, struct hub *h,
			      struct im_error *e);

/* Stops the threads: the queued joins and leaves are sent (for up to a
 * second), this node's heartbeat is deleted and its remaining members
 * leave; then frees n and sets *np to NULL. Call after the front ends
 * stopped and before rs and st are destroyed. NULL: a no-op. */
void redis_node_stop(struct redis_node **np);

/* Lists the members of room across every node, in pid order after
 * `after` (NULL or "": from the first): fills out[0..*n) (at most max)
 * and returns the member count, or -1 with e filled (IM_EFULL
 * "backend_unavailable") when Redis cannot be asked. Blocks for one
 * round trip; thread-safe. */
long redis_node_members(struct redis_node *n, const char *room,
			const char *after, struct room_member_info *out,
			size_t max, size_t *nout, struct im_error *e);

/* Sets counts[i] to the member count across every node of room
 * names[i], i < k (one pipelined round trip). Returns 0, or -1 with e
 * filled (IM_EFULL "backend_unavailable"). Thread-safe. */
int redis_node_member_counts(struct redis_node *n, const char *const *names,
			     size_t *counts, size_t k, struct im_error *e);

/* Counters for /api/info and the tests: whether the writer and reader
 * are connected, the newest id applied, reconnects and losses seen. */
struct redis_node_stats {
	int writer_up, reader_up;
	uint64_t applied;
	unsigned long reconnects;
	unsigned long losses;	/* Redis lost data: a gap was opened */
};

/* Fills st with n's counters (thread-safe). */
void redis_node_stats(struct redis_node *n, struct redis_node_stats *st);

#endif
