/* SPDX-License-Identifier: MIT */
/*
 * bench_pub: what imlab-bench asks the server over plain HTTP (libcurl):
 * its newest id before the subscribers connect, how many connections it
 * holds, and the messages themselves, published by a thread of their own.
 */
#ifndef IMLAB_BENCH_PUB_H
#define IMLAB_BENCH_PUB_H

#include <stddef.h>
#include <stdint.h>

#include "bench.h"

/* Reads last_id of GET /api/info into *id. Returns 0, or -1 with the
 * reason in err. */
int bench_pub_last_id(const struct bench_opts *o, uint64_t *id, char *err,
		      size_t errlen);

/* Returns transports.<tp>.open of GET /api/stats (sio for both Socket.IO
 * lanes), or -1. */
long bench_pub_open(const struct bench_opts *o, enum bench_tp tp);

/* The publisher thread (arg: the struct bench_run, borrowed): POSTs
 * message k of --msgs to room k % --rooms at --rate, data {"t":<send
 * time>,"seq":k,"pad":"xx.."} padded to --size bytes, and counts what
 * the server acknowledged with 201 (acked[], expected). Stops early when
 * the run is interrupted; sets pub_done last. Returns NULL. */
void *bench_pub_thread(void *arg);

#endif
