/* SPDX-License-Identifier: MIT */
/*
 * sio_frame: the shared Socket.IO form of a message (sio_frame.h). The
 * envelope's binary values are found in its text by binary_find() (the
 * envelope is compact JSON the server wrote, so {"_binary":" only opens
 * such a value).
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binary.h"
#include "sio_frame.h"

/* One allocation: the struct, then each part after MSG_WS_PRE bytes. */
struct holder {
	struct sio_frame f;
	char mem[];
};

static struct holder *
build(const struct msg *m)
{
	struct binary_span v[SIO_MAX_ATTACH + 1];
	unsigned char *bin[SIO_MAX_ATTACH] = { NULL };
	size_t bin_len[SIO_MAX_ATTACH], cap, o;
	char id[24], head[16];
	int k = binary_find(m->json, m->json_len, v, SIO_MAX_ATTACH);
	int idn = snprintf(id, sizeof(id), "%" PRIu64, m->id);
	struct holder *h = NULL;
	int hn;

	if (k < 0 || k > SIO_MAX_ATTACH)
		k = 0;		/* unreadable or too many: the JSON form */
	for (int i = 0; i < k; i++)
		if (!(bin[i] = binary_span_decode(m->json, &v[i], 0,
						  &bin_len[i])))
			goto out;
	hn = k ? snprintf(head, sizeof(head), "45%d-", k) :
		 snprintf(head, sizeof(head), "42");
	cap = MSG_WS_PRE + (size_t)hn + 4 + strlen(m->event) + m->json_len +
	      (size_t)k * BINARY_PLACEHOLDER_MAX + (size_t)idn + 8;
	for (int i = 0; i < k; i++)
		cap += MSG_WS_PRE + bin_len[i];
	h = malloc(sizeof(*h) + cap);
	if (!h)
		goto out;
	memset(&h->f, 0, sizeof(h->f));
	o = MSG_WS_PRE;
	memcpy(h->mem + o, head, (size_t)hn);
	o += (size_t)hn;
	o += (size_t)sprintf(h->mem + o, "[\"%s\",", m->event);
	o += binary_placeholders(m->json, m->json_len, v, k, h->mem + o);
	o += (size_t)sprintf(h->mem + o, ",\"%s\"]", id);
	h->f.text = h->mem + MSG_WS_PRE;
	h->f.len = o - MSG_WS_PRE;
	for (int i = 0; i < k; i++) {
		o += MSG_WS_PRE;
		memcpy(h->mem + o, bin[i], bin_len[i]);
		h->f.att[i] = h->mem + o;
		h->f.att_len[i] = bin_len[i];
		o += bin_len[i];
	}
	h->f.natt = (unsigned)k;
out:
	for (int i = 0; i < k; i++)
		free(bin[i]);
	return h;
}

const struct sio_frame *
sio_frame_of(struct msg *m)
{
	void *cur = atomic_load(&m->sio);
	struct holder *h;

	if (cur)
		return &((struct holder *)cur)->f;
	h = build(m);
	if (!h)
		return NULL;
	cur = NULL;
	if (!atomic_compare_exchange_strong(&m->sio, &cur, h)) {
		free(h);	/* another thread built it first */
		return &((struct holder *)cur)->f;
	}
	return &h->f;
}
