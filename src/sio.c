/* SPDX-License-Identifier: MIT */
/*
 * sio: the Socket.IO v5 connection over an Engine.IO session: packet
 * decoding (sio_packet.c), the namespace state, binary reassembly and the
 * connect timeout; events go to the handler.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "msg.h"
#include "server_ctx.h"
#include "sio.h"

#define TAG "sio"

struct sio_app {
	struct eio_app app;		/* first: what eio sees */
	const struct sio_handler *h;
	int64_t connect_timeout;	/* ms */
};

struct sio_conn {
	struct sio_app *a;
	struct eio_session *s;		/* borrowed: lives while we do */
	void *h;			/* the handler's */
	unsigned connected;		/* bit per namespace index */
	int ever;			/* connected once */
	int64_t opened;			/* monotonic ms */
	/* a binary packet waiting for its attachments */
	char *pend;			/* its text, owned */
	struct sio_pkt pp;		/* decoded from pend */
	int pend_nsp;
	char *att[SIO_MAX_ATTACH];	/* owned */
	size_t att_len[SIO_MAX_ATTACH];
	unsigned natt;
	size_t bytes;
};

struct eio_session *
sio_session(struct sio_conn *c)
{
	return c->s;
}

int
sio_connected(const struct sio_conn *c, int n)
{
	return n >= 0 && n < SIO_NSP_COUNT && (c->connected >> n) & 1;
}

int
sio_send(struct sio_conn *c, const char *pkt, size_t len,
	 const struct sio_bin *att, unsigned n_att)
{
	if (eio_queue_send(c->s, pkt, len, 0))
		return -1;
	for (unsigned i = 0; i < n_att; i++)
		if (eio_queue_send(c->s, att[i].data, att[i].len, 1))
			return -1;
	return 0;
}

static void
drop_pending(struct sio_conn *c)
{
	for (unsigned i = 0; i < c->natt; i++)
		free(c->att[i]);
	free(c->pend);
	c->pend = NULL;
	c->natt = 0;
	c->bytes = 0;
}

static void *
on_open(void *cls, struct eio_session *s)
{
	struct sio_app *a = cls;
	struct sio_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->a = a;
	c->s = s;
	c->opened = im_mono_ms();
	c->h = a->h->open(a->h->cls, c);
	if (!c->h) {
		free(c);
		return NULL;
	}
	return c;
}

/* CONNECT_ERROR {"message":msg} for nsp. */
static int
connect_error(struct sio_conn *c, const char *nsp, size_t nlen,
	      const char *msg)
{
	char b[SIO_NSP_MAX + 400];
	size_t n = sio_encode_head(b, sizeof(b), SIO_CONNECT_ERROR, nsp, nlen,
				   0, -1);
	int k = snprintf(b + n, sizeof(b) - n, "{\"message\":\"%.300s\"}",
			 msg);

	return sio_send(c, b, n + (size_t)k, NULL, 0);
}

static int
on_connect(struct sio_conn *c, int idx, const struct sio_pkt *p)
{
	const struct sio_handler *h = c->a->h;
	const char *err = "Invalid namespace";
	char b[SIO_NSP_MAX + 256], sid[EIO_SID_LEN + 1], extra[128] = "";
	unsigned char r[EIO_SID_LEN];
	size_t n;

	if (idx < 0 || h->connect(c->h, idx, p->data, p->len, extra,
				  sizeof(extra), &err))
		return connect_error(c, p->nsp, p->nsp_len, err);
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		memset(r, 7, sizeof(r));
	for (size_t i = 0; i < EIO_SID_LEN; i++)
		sid[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789-_"[r[i] & 63];
	sid[EIO_SID_LEN] = '\0';
	n = sio_encode_head(b, sizeof(b), SIO_CONNECT, p->nsp, p->nsp_len, 0,
			    -1);
	n += (size_t)snprintf(b + n, sizeof(b) - n, "{\"sid\":\"%s\"%s}", sid,
			      extra);
	if (sio_send(c, b, n, NULL, 0))
		return -1;
	c->connected |= 1u << idx;
	c->ever = 1;
	if (h->connected)
		h->connected(c->h, idx, p->data, p->len);
	return 0;
}

/* Dispatches a complete packet. Returns 0 or -1 (close). */
static int
dispatch(struct sio_conn *c, const struct sio_pkt *p, int idx,
	 const struct sio_bin *att, unsigned natt)
{
	const struct sio_handler *h = c->a->h;

	switch (p->type) {
	case SIO_CONNECT:
		return on_connect(c, idx, p);
	case SIO_DISCONNECT:
		if (sio_connected(c, idx)) {
			c->connected &= ~(1u << idx);
			if (h->disconnect)
				h->disconnect(c->h, idx);
		}
		return 0;
	case SIO_EVENT:
	case SIO_BINARY_EVENT:
	case SIO_ACK:
	case SIO_BINARY_ACK:
		/* packets for a namespace not joined are ignored, as the
		 * reference server does */
		if (!sio_connected(c, idx))
			return 0;
		return h->event(c->h, idx, p, att, natt,
				p->type == SIO_ACK ||
				p->type == SIO_BINARY_ACK);
	default:
		return -1;	/* CONNECT_ERROR comes from servers only */
	}
}

static int
on_message(void *ctx, const char *data, size_t len, int binary)
{
	struct sio_conn *c = ctx;
	const struct sio_handler *h = c->a->h;
	struct sio_bin att[SIO_MAX_ATTACH];
	struct im_error e;
	struct sio_pkt p;
	int idx, rc;

	if (binary) {
		size_t max = (size_t)eio_max_payload(eio_server(c->s)->eio);

		if (!c->pend || c->bytes + len > max)
			return -1;	/* unexpected, or too big */
		c->att[c->natt] = malloc(len ? len : 1);
		if (!c->att[c->natt])
			return -1;
		memcpy(c->att[c->natt], data, len);
		c->att_len[c->natt++] = len;
		c->bytes += len;
		if (c->natt < c->pp.attachments)
			return 0;
		for (unsigned i = 0; i < c->natt; i++) {
			att[i].data = c->att[i];
			att[i].len = c->att_len[i];
		}
		rc = dispatch(c, &c->pp, c->pend_nsp, att, c->natt);
		drop_pending(c);
		return rc;
	}
	if (c->pend)
		return -1;	/* text before the attachments were all in */
	if (sio_decode(data, len, &p, &e)) {
		LOG_DEBUG(TAG, "closing: %s", e.message);
		return -1;
	}
	idx = h->nsp(h->cls, p.nsp, p.nsp_len);
	if (p.type == SIO_BINARY_EVENT || p.type == SIO_BINARY_ACK) {
		c->pend = malloc(len + 1);
		if (!c->pend)
			return -1;
		memcpy(c->pend, data, len);
		c->pend[len] = '\0';
		/* decoded again so that its pointers are into pend */
		if (sio_decode(c->pend, len, &c->pp, &e)) {
			drop_pending(c);
			return -1;
		}
		c->pend_nsp = idx;
		c->bytes = len;
		return 0;
	}
	return dispatch(c, &p, idx, NULL, 0);
}

static void
on_pull(void *ctx)
{
	struct sio_conn *c = ctx;

	if (c->a->h->pull)
		c->a->h->pull(c->h);
}

static int
on_tick(void *ctx, int64_t now)
{
	struct sio_conn *c = ctx;

	/* no namespace joined in time: the connect timeout */
	if (!c->ever && now - c->opened >= c->a->connect_timeout)
		return -1;
	return 0;
}

static void
on_close(void *ctx)
{
	struct sio_conn *c = ctx;

	c->a->h->close(c->h);
	drop_pending(c);
	free(c);
}

struct eio_app *
sio_app_create(const struct sio_handler *handler, int64_t connect_timeout_ms)
{
	struct sio_app *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->h = handler;
	a->connect_timeout = connect_timeout_ms;
	a->app.cls = a;
	a->app.open = on_open;
	a->app.message = on_message;
	a->app.pull = on_pull;
	a->app.tick = on_tick;
	a->app.close = on_close;
	return &a->app;
}

void
sio_app_free(struct eio_app **ap)
{
	free(*ap);
	*ap = NULL;
}
