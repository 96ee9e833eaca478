/* SPDX-License-Identifier: MIT */
/*
 * err: names of imlab's error enum and the single place where errors are
 * mapped to HTTP status codes and WebSocket close codes.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>

#include "err.h"

/* Per error: its name, HTTP status and WebSocket close code (RFC 6455
 * 7.4.1: 1008 policy violation, 1009 too big, 1011 unexpected condition). */
static const struct {
	const char *name;
	unsigned int http, ws;
} errs[] = {
	[IM_OK] = { "ok", 200, 1000 },
	[IM_ENOMEM] = { "out of memory", 500, 1011 },
	[IM_EINVAL] = { "invalid input", 400, 1008 },
	[IM_ENOTFOUND] = { "not found", 404, 1008 },
	[IM_EFULL] = { "limit reached", 503, 1008 },
	[IM_ETOOBIG] = { "too large", 413, 1009 },
	[IM_EMETHOD] = { "method not allowed", 405, 1008 },
	[IM_ESYS] = { "system error", 500, 1011 },
};

#define KNOWN(err) ((unsigned)(err) < sizeof(errs) / sizeof(errs[0]))

const char *
im_strerror(enum im_err err)
{
	return KNOWN(err) ? errs[err].name : "unknown error";
}

unsigned int
im_err_http_status(enum im_err err)
{
	return KNOWN(err) ? errs[err].http : 500;
}

unsigned int
im_err_ws_close(enum im_err err)
{
	return KNOWN(err) ? errs[err].ws : 1011;
}

enum im_err
im_error_set(struct im_error *e, enum im_err err, const char *code,
	     const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return err;
	e->err = err;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return err;
}
