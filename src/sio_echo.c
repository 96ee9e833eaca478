/* SPDX-License-Identifier: MIT */
/*
 * sio_echo: the protocol suites' reference behaviour (sio_echo.h).
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "sio_echo.h"

static void *
eio_open_cb(void *cls, struct eio_session *s)
{
	(void)cls;
	return s;
}

static int
eio_message_cb(void *ctx, const char *data, size_t len, int binary)
{
	return eio_queue_send(ctx, data, len, binary);
}

static void
eio_close_cb(void *ctx)
{
	(void)ctx;
}

const struct eio_app sio_echo_eio = {
	.open = eio_open_cb,
	.message = eio_message_cb,
	.close = eio_close_cb,
};

static int
nsp_cb(void *cls, const char *nsp, size_t len)
{
	(void)cls;
	if (len == 1 && nsp[0] == '/')
		return 0;
	if (len == 7 && !memcmp(nsp, "/custom", 7))
		return 1;
	return -1;
}

static void *
open_cb(void *cls, struct sio_conn *c)
{
	(void)cls;
	return c;
}

static int
connect_cb(void *h, int n, const char *auth, size_t alen, char *extra,
	   size_t cap, const char **err)
{
	(void)extra;
	(void)cap;
	(void)h;
	(void)n;
	(void)auth;
	(void)alen;
	(void)err;
	return 0;
}

static const char *const nsps[] = { "/", "/custom" };

/* Sends head (type, nsp n, ack) + body[0..blen) + attachments. */
static int
reply(struct sio_conn *c, enum sio_type t, int n, long long ack,
      const char *pre, const char *body, size_t blen,
      const struct sio_bin *att, unsigned natt)
{
	size_t plen = strlen(pre);
	char *b = malloc(64 + plen + blen);
	size_t k;
	int rc;

	if (!b)
		return -1;
	k = sio_encode_head(b, 64, t, nsps[n], strlen(nsps[n]), natt, ack);
	memcpy(b + k, pre, plen);
	memcpy(b + k + plen, body, blen);
	rc = sio_send(c, b, k + plen + blen, att, natt);
	free(b);
	return rc;
}

static void
connected_cb(void *h, int n, const char *auth, size_t alen)
{
	char *b = malloc(alen + 16);
	size_t k = 8;

	if (!b)
		return;
	memcpy(b, "[\"auth\",", 8);
	if (auth) {
		memcpy(b + k, auth, alen);
		k += alen;
	} else {
		memcpy(b + k, "{}", 2);
		k += 2;
	}
	b[k++] = ']';
	reply(h, SIO_EVENT, n, -1, "", b, k, NULL, 0);
	free(b);
}

static int
event_cb(void *h, int n, const struct sio_pkt *p, const struct sio_bin *att,
	 unsigned natt, int is_ack)
{
	size_t pos = 0, st, el;
	const char *rest;
	size_t rlen;

	if (is_ack || !sio_array_next(p->data, p->len, &pos, &st, &el))
		return 0;
	rest = p->data + pos;	/* "," and the other arguments, or "]" */
	rlen = p->len - pos;
	if (el == 9 && !memcmp(p->data + st, "\"message\"", 9))
		return reply(h, natt ? SIO_BINARY_EVENT : SIO_EVENT, n, -1,
			     "[\"message-back\"", rest, rlen, att, natt);
	if (el == 18 && !memcmp(p->data + st, "\"message-with-ack\"", 18) &&
	    p->ack >= 0)
		return reply(h, natt ? SIO_BINARY_ACK : SIO_ACK, n, p->ack,
			     "[", rest + (*rest == ','), rlen - (*rest == ','),
			     att, natt);
	return 0;
}

static void
close_cb(void *h)
{
	(void)h;
}

const struct sio_handler sio_echo_handler = {
	.nsp = nsp_cb,
	.open = open_cb,
	.connect = connect_cb,
	.connected = connected_cb,
	.event = event_cb,
	.close = close_cb,
};
