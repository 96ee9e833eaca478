/* SPDX-License-Identifier: MIT */
/*
 * http_private: the HTTP layer's private state, shared by http.c (the
 * daemons, the per-address counts), http_request.c (libmicrohttpd's
 * callbacks) and http_upgrade.c (the WebSocket hand-off) and by no one
 * else: outside, struct http is opaque (http.h). It includes no header of
 * src/, so no file forms an include cycle through it (tools/inccycle.sh).
 */
#ifndef IMLAB_HTTP_PRIVATE_H
#define IMLAB_HTTP_PRIVATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

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

/* http.c: sa's IPv4 address in network order, or 0 when it is not
 * counted (not IPv4, or loopback without --limit-loopback). */
uint32_t http_addr_counted(const struct http *h, const struct sockaddr *sa);

/* http.c: adds d (1 or -1) to a's count. Returns 0, or -1 when the count
 * is at the limit already (nothing added). Takes h->lock. */
int http_addr_add(struct http *h, uint32_t a, int d);

/* http_request.c: libmicrohttpd's callbacks of a daemon (cls: its struct
 * http_daemon), each on that daemon's thread. The access handler: the
 * first call creates *con_cls (a struct http_req) and checks the head,
 * later ones read the body, resume or dispatch (http_route.h). */
enum MHD_Result http_request_access(void *cls, struct MHD_Connection *c,
				    const char *url, const char *method,
				    const char *version,
				    const char *upload_data,
				    size_t *upload_data_size, void **con_cls);

/* The request ended: re-arms the idle deadline when it was answered and
 * frees *con_cls (after its done callback). */
void http_request_completed(void *cls, struct MHD_Connection *c,
			    void **con_cls,
			    enum MHD_RequestTerminationCode toe);

/* A connection started (its context, registered with http_keep and the
 * wire meters) or closed (all of that undone; its address and
 * srv->open_conns counted down). */
void http_request_connection(void *cls, struct MHD_Connection *c,
			     void **socket_context,
			     enum MHD_ConnectionNotificationCode toe);

/* The request line of c is in: the rest of its head is due within
 * --head-timeout. Returns NULL, the access handler's first *con_cls. */
void *http_request_uri_log(void *cls, const char *uri,
			   struct MHD_Connection *c);

#endif
