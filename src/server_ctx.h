/* SPDX-License-Identifier: MIT */
/*
 * server_ctx: struct server, the one imlab instance every front-end module
 * reads: the configuration, the core (store, rooms, hub), the two front
 * ends (libmicrohttpd, libwebsockets), the listener that splits the port
 * between them, and the ticker thread's state. Modules receive a
 * struct server * and use its members; only server.c builds and frees
 * one (server.h). Kept apart from server.h so that server.c, which wires
 * every front end, and the front ends, which read this struct, do not
 * include each other (tools/inccycle.sh).
 */
#ifndef IMLAB_SERVER_CTX_H
#define IMLAB_SERVER_CTX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "hub.h"
#include "room.h"
#include "stats.h"
#include "store.h"

struct http;
struct tp;
struct ws;
struct listener;
struct wire;
struct netem_clock;

struct server {
	struct config cfg;		/* a copy; strings borrowed */
	char *www;			/* resolved client directory, owned */
	int64_t started_ms;		/* wall clock at start */
	struct store *st;
	struct rooms *rs;
	struct hub hub;
	struct stats stats;
	atomic_long open_conns;		/* all front ends */
	struct http *http;
	struct tp *tp;			/* waiting HTTP connections */
	struct ws *ws;
	struct listener *lst;
	struct wire *wire;		/* byte meters (wire.h) */
	struct netem_clock *clock;	/* emulated delays (netem.h) */
	pthread_t ticker;
	pthread_mutex_t tick_lock;
	pthread_cond_t tick_cond;
	int stopping;			/* under tick_lock */
};

#endif
