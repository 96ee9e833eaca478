/* SPDX-License-Identifier: MIT */
/*
 * stats: per-transport counters (open connections, requests, messages
 * delivered, bytes sent and received), lock-free, shared by every front
 * end and read by /api/stats and /metrics.
 */
#ifndef IMLAB_STATS_H
#define IMLAB_STATS_H

#include <stdatomic.h>

#include "msg.h"

struct stats_tp {
	atomic_llong open;		/* connections / streams open now */
	atomic_ullong requests;		/* HTTP requests or WS connections */
	atomic_ullong delivered;	/* messages handed to the wire */
	atomic_ullong bytes_out;	/* body/frame bytes sent */
	atomic_ullong bytes_in;		/* body/frame bytes received */
	atomic_ullong empty;		/* responses with no message */
	atomic_ullong wakeups;		/* waiting connections woken */
	atomic_ullong deferred;		/* wake-ups left to the flusher */
};

struct stats {
	struct stats_tp tp[VIA__COUNT];	/* VIA_API: the rest of HTTP */
};

#define STATS_ADD(st, via, field, n) \
	atomic_fetch_add_explicit(&(st)->tp[via].field, (n), \
				  memory_order_relaxed)

#endif
