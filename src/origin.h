/* SPDX-License-Identifier: MIT */
/*
 * origin: the one rule of which browser origins --allow-origin lets in,
 * shared by the HTTP API's CORS answers and the WebSocket Origin check.
 */
#ifndef IMLAB_ORIGIN_H
#define IMLAB_ORIGIN_H

/* Returns 1 if origin (borrowed, e.g. "http://a.example:8080") is one of
 * the comma-separated entries of allow (spaces around entries ignored,
 * compared without regard to case; "*" matches any origin), else 0. A
 * NULL or empty allow lists nothing. */
int origin_listed(const char *origin, const char *allow);

#endif
