/* SPDX-License-Identifier: MIT */
/*
 * err: names of imlab's error enum and the single place where errors are
 * mapped to HTTP status codes and WebSocket close codes.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>

#include "err.h"

const char *
im_strerror(enum im_err err)
{
	switch (err) {
	case IM_OK:		return "ok";
	case IM_ENOMEM:		return "out of memory";
	case IM_EINVAL:		return "invalid input";
	case IM_ENOTFOUND:	return "not found";
	case IM_EFULL:		return "limit reached";
	case IM_ETOOBIG:	return "too large";
	case IM_EMETHOD:	return "method not allowed";
	case IM_ESYS:		return "system error";
	}
	return "unknown error";
}

unsigned int
im_err_http_status(enum im_err err)
{
	switch (err) {
	case IM_OK:		return 200;
	case IM_EINVAL:		return 400;
	case IM_ENOTFOUND:	return 404;
	case IM_EMETHOD:	return 405;
	case IM_ETOOBIG:	return 413;
	case IM_EFULL:		return 503;
	case IM_ENOMEM:
	case IM_ESYS:		return 500;
	}
	return 500;
}

unsigned int
im_err_ws_close(enum im_err err)
{
	switch (err) {
	case IM_OK:		return 1000;	/* normal closure */
	case IM_ETOOBIG:	return 1009;	/* message too big */
	case IM_ENOMEM:
	case IM_ESYS:		return 1011;	/* unexpected condition */
	case IM_EINVAL:
	case IM_ENOTFOUND:
	case IM_EFULL:
	case IM_EMETHOD:	return 1008;	/* policy violation */
	}
	return 1011;
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
