/* SPDX-License-Identifier: MIT */
/*
 * err: the one error enum of imlab, its names, and its mappings to HTTP
 * status codes and WebSocket close codes. Validation failures also carry
 * a short machine-readable code ("bad_room") and a human message; struct
 * im_error holds both.
 */
#ifndef IMLAB_ERR_H
#define IMLAB_ERR_H

#include <stddef.h>

enum im_err {
	IM_OK = 0,
	IM_ENOMEM,	/* allocation failed */
	IM_EINVAL,	/* bad input from the peer (400) */
	IM_ENOTFOUND,	/* no such thing (404) */
	IM_EFULL,	/* a limit is reached, try later (503) */
	IM_ETOOBIG,	/* input over its size limit (413) */
	IM_EMETHOD,	/* method not allowed (405) */
	IM_ESYS,	/* a system call failed; errno says why */
};

/* A failed operation's details: code is a static string such as "bad_room",
 * message is for humans. Both are always NUL-terminated. */
struct im_error {
	enum im_err err;
	const char *code;
	char message[192];
};

/* Returns a static, human-readable name for err ("out of memory"). */
const char *im_strerror(enum im_err err);

/* Returns the HTTP status that reports err to a client (IM_OK -> 200). */
unsigned int im_err_http_status(enum im_err err);

/* Returns the WebSocket close code (RFC 6455 7.4.1) that ends a
 * connection for err: 1009 too big, 1011 out of memory or a system error,
 * 1008 (policy) for a peer that broke a rule or a limit, 1000 for IM_OK. */
unsigned int im_err_ws_close(enum im_err err);

/* Fills e with err, code (a static string, borrowed) and a printf-style
 * message. Returns err so callers can write `return im_error_set(...)`. */
enum im_err im_error_set(struct im_error *e, enum im_err err,
			 const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
