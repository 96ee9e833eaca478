/* SPDX-License-Identifier: MIT */
/*
 * wire_head: heads rebuilt for the wire records (see wire_head.c).
 */
#ifndef IMLAB_WIRE_HEAD_H
#define IMLAB_WIRE_HEAD_H

#include <stddef.h>

#include <microhttpd.h>

struct wire_conn;

/* Returns c's request head rebuilt from the parsed request (method, url
 * and version as MHD gave them; the query decoded), malloc'd to its
 * length, cut at WIRE_HEAD_MAX, or NULL. */
char *wire_head_request(struct MHD_Connection *c, const char *method,
			const char *url, const char *version);

/* r is queued with status and body_len bytes of body (sized: 0 for a
 * stream of unknown length, chunked): records *req_head (taken, freed,
 * NULLed; nothing when NULL) and the response head for wc. exact:
 * *req_head is the bytes as read. */
void wire_head_queued(struct wire_conn *wc, char **req_head, int exact,
		      unsigned status, struct MHD_Response *r,
		      size_t body_len, int sized);

#endif
