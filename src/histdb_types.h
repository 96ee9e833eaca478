/* SPDX-License-Identifier: MIT */
/*
 * histdb_types: the two plain structs of histdb's interface, the options
 * (struct histdb_config) and the counters (struct histdb_stats), apart
 * from histdb.h so that histdb_private.h can hold them without including
 * the module's own header (tools/inccycle.sh).
 */
#ifndef IMLAB_HISTDB_TYPES_H
#define IMLAB_HISTDB_TYPES_H

#include <stddef.h>
#include <stdint.h>

struct histdb_config {
	const char *path;	/* the SQLite file, created if missing */
	size_t history;		/* messages given back per room (--history) */
	size_t keep;		/* messages the database keeps per room */
	int64_t max_age_ms;	/* older ones are deleted; 0: never */
	size_t queue_max;	/* messages waiting for the writer at most */
	int sync;		/* 1: synchronous=FULL, 0: NORMAL */
};

/* What the writer has done; read by histdb_get_stats() and /metrics. */
struct histdb_stats {
	uint64_t written;	/* messages committed */
	uint64_t commits;	/* transactions committed */
	uint64_t errors;	/* failed commits (each retried) */
	uint64_t refused_busy;	/* appends refused: the queue was full */
	uint64_t refused_failed;	/* ... while writes were failing */
	uint64_t deleted;	/* messages removed by retention */
	uint64_t loaded;	/* messages given back at start */
	size_t pending;		/* queued, not yet committed */
	int failing;		/* 1 since a commit failed, until one works */
	uint64_t lat_us_sum;	/* queued -> committed, summed */
	uint64_t lat_us_max;	/* ... the longest */
	uint64_t lat_hist[12];	/* ... counts per HISTDB_LAT_BOUNDS bucket */
	uint64_t cpu_us;	/* the writer thread's CPU time */
};

/* Upper bounds (ms) of the latency buckets of histdb_stats.lat_hist; the
 * last bucket is everything above the last bound. */
#define HISTDB_LAT_BOUNDS { 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000 }

#endif
