/* SPDX-License-Identifier: MIT */
/*
 * http_private: the HTTP layer's private state, shared by http.c (the
 * daemons, the access handler, the per-address counts) and
 * http_upgrade.c (the WebSocket hand-off) and by no one else: outside,
 * struct http is opaque (http.h). It includes no header of src/, so
 * neither file forms an include cycle through it (tools/inccycle.sh).
 */
#ifndef IMLAB_HTTP_PRIVATE_H
#define IMLAB_HTTP_PRIVATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct MHD_Daemon;
struct http_keep;
struct server;

#define ADDR_BUCKETS 1024

/* Open HTTP connections of one IPv4 address. */
struct addr_count {
	struct addr_count *next;
	uint32_t addr;		/* network order */
	int n;
};

/* Daemons (each one epoll thread) per pool size at most: --http-threads. */
#define HTTP_THREADS_MAX 16

/* One libmicrohttpd daemon: a small-pool or a big-pool one. */
struct http_daemon {
	struct http *h;
	struct MHD_Daemon *d;
	size_t pool;
	int big;			/* a big-pool daemon */
};

struct http {
	struct server *srv;
	/* [0, n) small pool, [n, 2n) big, [2n] the publishers' (small
	 * pool: connections whose first request is a small POST); each its
	 * own epoll thread, so HTTP runs on n threads per pool
	 * (--http-threads) and publishing is not queued behind streams */
	struct http_daemon dm[2 * HTTP_THREADS_MAX + 1];
	int n;
	unsigned next;			/* round robin (listener thread) */
	int kickfd;	/* eventfd in every daemon's epoll set: http_kick */
	pthread_mutex_t lock;		/* guards addrs, no_upgrades */
	struct addr_count *addrs[ADDR_BUCKETS];
	int no_upgrades;		/* set by http_close_upgrades */
	struct http_keep *keep;		/* later heads' deadlines, owned */
};

#endif
