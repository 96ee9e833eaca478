/* SPDX-License-Identifier: MIT */
/*
 * server: one imlab instance: the configuration, the core (store, rooms,
 * hub), the two front ends (libmicrohttpd, libwebsockets), the listener
 * that splits the port between them, and a ticker thread for timers.
 * Front-end modules receive struct server * and use its members.
 */
#ifndef IMLAB_SERVER_H
#define IMLAB_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "hub.h"
#include "room.h"
#include "stats.h"
#include "store.h"

struct http;
struct tp;
struct ws;
struct listener;

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
	pthread_t ticker;
	pthread_mutex_t tick_lock;
	pthread_cond_t tick_cond;
	int stopping;			/* under tick_lock */
};

/* Starts a server on cfg (copied; its strings must outlive the server).
 * Returns IM_OK and sets *out, or an error with e filled. */
enum im_err server_start(const struct config *cfg, struct server **out,
			 struct im_error *e);

/* Returns the TCP port the server listens on. */
uint16_t server_port(const struct server *s);

/* Stops accepting, closes every connection (resuming suspended ones
 * first), joins every thread and frees everything; sets *sp to NULL. */
void server_stop(struct server **sp);

/* Returns the default client directory: the source tree's www/ when this
 * binary runs from the build tree, else the installed one. Static. */
const char *server_default_www(void);

#endif
