/* SPDX-License-Identifier: MIT */
/*
 * eio_queue: an Engine.IO session's bounded queue of outgoing packets:
 * what the layer above sends (copied or a stored message's shared frame)
 * and what a transport takes (a polling batch, or one packet for the
 * WebSocket, the upgrade's noop and 3probe first). Under eio.lock.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "binary.h"
#include "eio.h"
#include "eio_private.h"
#include "msg.h"

void
eio_queue_out_free(struct eio_out *o)
{
	if (!o)
		return;
	msg_unref(&o->m);
	free(o);
}

/* Appends o; eio.lock held. Returns -1 over the bound (o freed). */
static int
enqueue_locked(struct eio_session *s, struct eio_out *o)
{
	if (s->closed || s->qn >= QUEUE_PACKETS ||
	    s->qbytes + o->len > s->e->queue_bytes) {
		eio_queue_out_free(o);
		return -1;
	}
	o->next = NULL;
	*s->qt = o;
	s->qt = &o->next;
	s->qn++;
	s->qbytes += o->len;
	eio_wake_locked(s);
	return 0;
}

struct eio_out *
eio_queue_new(int type, const char *data, size_t len)
{
	size_t n = len + (type >= 0);
	struct eio_out *o = malloc(sizeof(*o) + MSG_WS_PRE + n + 1);
	char *p;

	if (!o)
		return NULL;
	memset(o, 0, sizeof(*o));
	p = o->buf + MSG_WS_PRE;
	if (type >= 0)
		*p = (char)('0' + type);
	if (len)
		memcpy(p + (type >= 0), data, len);
	p[n] = '\0';
	o->p = p;
	o->len = n;
	o->binary = type < 0;
	return o;
}

int
eio_queue_control_locked(struct eio_session *s, enum eio_type t,
			 const char *data)
{
	struct eio_out *o = eio_queue_new((int)t, data,
					  data ? strlen(data) : 0);

	if (!o)
		return -1;
	return enqueue_locked(s, o);
}

int
eio_queue_send(struct eio_session *s, const char *data, size_t len,
	       int binary)
{
	struct eio_out *o = eio_queue_new(binary ? -1 : EIO_MESSAGE, data, len);
	int rc;

	if (!o)
		return -1;
	pthread_mutex_lock(&s->e->lock);
	rc = enqueue_locked(s, o);
	pthread_mutex_unlock(&s->e->lock);
	return rc;
}

int
eio_queue_send_shared(struct eio_session *s, struct msg *m,
		      const char *text, size_t len, int binary)
{
	struct eio_out *o = calloc(1, sizeof(*o));
	int rc;

	if (!o)
		return -1;
	o->m = msg_ref(m);
	o->p = text;
	o->len = len;
	o->binary = binary;
	pthread_mutex_lock(&s->e->lock);
	rc = enqueue_locked(s, o);
	pthread_mutex_unlock(&s->e->lock);
	return rc;
}

/* Takes up to max_bytes of queue (one packet at least, or exactly one
 * with one); eio.lock held. */
static struct eio_out *
take_locked(struct eio_session *s, size_t max_bytes, int one)
{
	struct eio_out *head = s->qh, **pp = &s->qh;
	size_t bytes = 0;

	while (*pp) {
		size_t n = (*pp)->binary ? binary_b64_len((*pp)->len) + 1 :
			   (*pp)->len;

		if (pp != &s->qh && (one || bytes + n + 1 > max_bytes))
			break;
		bytes += n + 1;
		s->qn--;
		s->qbytes -= (*pp)->len;
		pp = &(*pp)->next;
	}
	s->qh = *pp;
	*pp = NULL;
	if (!s->qh)
		s->qt = &s->qh;
	return s->qh == head ? NULL : head;
}

enum eio_take
eio_queue_take(struct eio_session *s, int ws, size_t max_bytes,
	 struct eio_out **out)
{
	struct eio *e = s->e;
	enum eio_take t = EIO_TAKE_NONE;
	int dead;

	*out = NULL;
	for (int pass = 0; pass < 2; pass++) {
		pthread_mutex_lock(&e->lock);
		dead = eio_beat_locked(s, im_mono_ms());
		if (s->closed || dead) {
			t = !ws && s->by_client && s->closed ?
			    EIO_TAKE_NOOP : EIO_TAKE_CLOSE;
		} else if (!ws && (s->noop || s->ws)) {
			s->noop = 0;
			t = EIO_TAKE_NOOP;
		} else if (ws && s->probe && !s->ws) {
			/* probing: only the "3probe" goes on the WebSocket */
			if (s->probe_owed) {
				*out = eio_queue_new(EIO_PONG, "probe", 5);
				s->probe_owed = 0;
				t = *out ? EIO_TAKE_PACKETS : EIO_TAKE_CLOSE;
			}
			pthread_mutex_unlock(&e->lock);
			return t;	/* nothing of the queue, no pull */
		} else if (s->qh) {
			*out = take_locked(s, max_bytes, ws && !max_bytes);
			t = EIO_TAKE_PACKETS;
		}
		pthread_mutex_unlock(&e->lock);
		if (dead)
			eio_close(s, 0);	/* idempotent */
		if (t != EIO_TAKE_NONE || pass)
			break;
		eio_app_pull(s);
	}
	return t;
}
