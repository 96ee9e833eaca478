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

/* One libmicrohttpd daemon: the small-pool or the big-pool one. */
struct http_daemon {
	struct http *h;
	struct MHD_Daemon *d;
	size_t pool;
};

struct http {
	struct server *srv;
	struct http_daemon dm[2];	/* [0] small pool, [1] big */
	int kickfd;	/* eventfd in both daemons' epoll sets: http_kick */
	pthread_mutex_t lock;		/* guards addrs, no_upgrades */
	struct addr_count *addrs[ADDR_BUCKETS];
	int no_upgrades;		/* set by http_close_upgrades */
	struct http_keep *keep;		/* later heads' deadlines, owned */
};

#endif
