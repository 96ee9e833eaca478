/* SPDX-License-Identifier: MIT */
/*
 * sio_frame: the shared Socket.IO form of a message (sio_frame.h). The
 * envelope's binary values are found in its text: data was compacted and
 * checked (binary_check: the object {"_binary":"..."} is exactly that),
 * and every other string is escaped, so {"_binary":" appears only there.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eio_packet.h"
#include "sio_frame.h"

#define MARK "{\"_binary\":\""
#define PLACE "{\"_placeholder\":true,\"num\":%u}"

/* One allocation: the struct, then each part after MSG_WS_PRE bytes. */
struct holder {
	struct sio_frame f;
	char mem[];
};

/* Finds the binary values of E: fills at[] and at_len[] with the base64
 * spans' starts in E (after MARK) and lengths. Returns their count, or -1
 * when more than SIO_MAX_ATTACH. */
static int
find_binary(const char *e, size_t n, const char **at, size_t *at_len)
{
	const char *p = e, *end = e + n;
	size_t ml = sizeof(MARK) - 1;
	int k = 0;

	while ((p = memmem(p, (size_t)(end - p), MARK, ml))) {
		const char *b = p + ml, *q = memchr(b, '"', (size_t)(end - b));

		if (!q || q + 1 >= end || q[1] != '}')
			break;
		if (k == SIO_MAX_ATTACH)
			return -1;
		at[k] = b;
		at_len[k++] = (size_t)(q - b);
		p = q + 2;
	}
	return k;
}

static struct holder *
build(const struct msg *m)
{
	const char *b64[SIO_MAX_ATTACH];
	size_t b64_len[SIO_MAX_ATTACH], cap, o = 0;
	char id[24], head[16];
	int k = find_binary(m->json, m->json_len, b64, b64_len);
	int idn = snprintf(id, sizeof(id), "%" PRIu64, m->id);
	struct holder *h;
	const char *e = m->json, *end = m->json + m->json_len;
	char *t;
	int hn;

	if (k < 0)
		k = 0;		/* too many: the JSON form goes as it is */
	hn = k ? snprintf(head, sizeof(head), "45%d-", k) :
		 snprintf(head, sizeof(head), "42");
	cap = MSG_WS_PRE + (size_t)hn + 4 + strlen(m->event) + m->json_len +
	      (size_t)idn + 8 + (size_t)k * 40;
	for (int i = 0; i < k; i++)
		cap += MSG_WS_PRE + b64_len[i] / 4 * 3 + 3;
	h = malloc(sizeof(*h) + cap);
	if (!h)
		return NULL;
	memset(&h->f, 0, sizeof(h->f));
	t = h->mem + MSG_WS_PRE;
	o = (size_t)(t - h->mem);
	memcpy(h->mem + o, head, (size_t)hn);
	o += (size_t)hn;
	o += (size_t)sprintf(h->mem + o, "[\"%s\",", m->event);
	for (int i = 0; i < k; i++) {
		const char *mark = b64[i] - (sizeof(MARK) - 1);

		memcpy(h->mem + o, e, (size_t)(mark - e));
		o += (size_t)(mark - e);
		o += (size_t)sprintf(h->mem + o, PLACE, (unsigned)i);
		e = b64[i] + b64_len[i] + 2;	/* past "} */
	}
	memcpy(h->mem + o, e, (size_t)(end - e));
	o += (size_t)(end - e);
	o += (size_t)sprintf(h->mem + o, ",\"%s\"]", id);
	h->f.text = t;
	h->f.len = (size_t)(h->mem + o - t);
	for (int i = 0; i < k; i++) {
		long n;

		o += MSG_WS_PRE;
		n = eio_b64_decode(b64[i], b64_len[i],
				   (unsigned char *)h->mem + o);
		if (n < 0) {
			free(h);
			return NULL;
		}
		h->f.att[i] = h->mem + o;
		h->f.att_len[i] = (size_t)n;
		o += (size_t)n;
	}
	h->f.natt = (unsigned)k;
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
