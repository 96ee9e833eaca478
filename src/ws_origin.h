/* SPDX-License-Identifier: MIT */
/*
 * ws_origin: the Origin check of WebSocket upgrades (see ws_origin.c).
 */
#ifndef IMLAB_WS_ORIGIN_H
#define IMLAB_WS_ORIGIN_H

#include <libwebsockets.h>

/* Returns 1 when the upgrade request on wsi may proceed: it has no Origin
 * header (not a browser), its Origin names the Host it was sent to, or it
 * is listed in allow (comma-separated origins, "*" for any; NULL or ""
 * for none). Else 0. Service thread only (reads wsi's headers). */
int ws_origin_ok(struct lws *wsi, const char *allow);

/* The same rule on strings (borrowed): origin the Origin header (NULL:
 * none), host the Host header (NULL or "": none). Any thread. */
int ws_origin_match(const char *origin, const char *host,
		    const char *allow);

#endif
