/* SPDX-License-Identifier: MIT */
/*
 * server: starts and stops one imlab instance (struct server, in
 * server_ctx.h): the core, the two front ends, the listener and the
 * ticker. For main.c and the tests; the front-end modules include
 * server_ctx.h only.
 */
#ifndef IMLAB_SERVER_H
#define IMLAB_SERVER_H

#include <stdint.h>

#include "config.h"
#include "err.h"
#include "server_ctx.h"

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
