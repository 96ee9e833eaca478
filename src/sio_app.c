/* SPDX-License-Identifier: MIT */
/*
 * sio_app: imlab's rooms over Socket.IO (sio_app.h). A connection is a
 * struct sub and a struct cursor like a /ws connection: the room layer's
 * notify only wakes the Engine.IO transport (eio_wake), whose write then
 * pulls what is after the cursor. This file owns a connection's life
 * (open, CONNECT with its recovery, DISCONNECT, close) and the pull of
 * its messages; the events it sends (join, leave, send) are
 * sio_app_ops.c's, sharing struct sa through sio_app_private.h.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cursor.h"
#include "eio_packet.h"
#include "hmap.h"
#include "jbuf.h"
#include "joins.h"
#include "jparse.h"
#include "names.h"
#include "server_ctx.h"
#include "sio_app.h"
#include "sio_app_private.h"
#include "sio_frame.h"

#define PULL_MSGS 16
#define PULL_BYTES (256 * 1024)
#define MAX_RECS 10000		/* recovery records kept, at most */

/* A closed connection's rooms, kept for recovery. */
struct rec {
	char pid[MSG_PID_LEN + 1];
	char cid[MSG_CID_MAX + 1];
	int64_t expires;		/* monotonic ms */
	size_t nrooms;
	char rooms[][MSG_ROOM_MAX + 1];
};

struct sio_imlab {
	struct sio_handler h;
	struct server *srv;
	pthread_mutex_t lock;		/* guards recs */
	struct hmap recs;		/* pid -> struct rec */
};

static void
new_pid(char *out)
{
	unsigned char r[MSG_PID_LEN / 2];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		memset(r, 0x5a, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++)
		sprintf(out + 2 * i, "%02x", r[i]);
}

static int
nsp_cb(void *cls, const char *nsp, size_t len)
{
	(void)cls;
	return len == 1 && nsp[0] == '/' ? 0 : -1;
}

static void
notify(struct sub *s, const struct msg *m)
{
	struct sa *sa = s->ctx;

	(void)m;
	eio_wake(sio_session(sa->c));
}

static void *
open_cb(void *cls, struct sio_conn *c)
{
	struct sio_imlab *im = cls;
	struct sa *sa = calloc(1, sizeof(*sa));

	if (!sa)
		return NULL;
	sa->im = im;
	sa->c = c;
	sa->srv = im->srv;
	sa->sub.notify = notify;
	sa->sub.ctx = sa;
	sa->sub.via = VIA_SIO;
	cursor_init(&sa->cur, im->srv->st, sa->sub.cid, 0);
	return sa;
}

/* Takes the recovery record pid (or NULL), dropping expired ones. */
static struct rec *
take_rec(struct sio_imlab *im, const char *pid)
{
	struct rec *r;

	pthread_mutex_lock(&im->lock);
	r = hmap_del(&im->recs, pid);
	pthread_mutex_unlock(&im->lock);
	if (r && r->expires < im_mono_ms()) {
		free(r);
		r = NULL;
	}
	return r;
}

/* Keeps sa's rooms for a recovery under sa->pid. */
static void
keep_rec(struct sa *sa)
{
	struct sio_imlab *im = sa->im;
	struct rec *r, *old, *dead[64];
	size_t pos = 0, n = sa->sub.nlinks, ndead = 0;
	int64_t now = im_mono_ms();

	if (!n)
		return;
	r = malloc(sizeof(*r) + n * sizeof(r->rooms[0]));
	if (!r)
		return;
	memcpy(r->pid, sa->pid, sizeof(r->pid));
	memcpy(r->cid, sa->sub.cid, sizeof(r->cid));
	r->expires = now + SIO_RECOVERY_MS;
	r->nrooms = n;
	for (size_t i = 0; i < n; i++)
		snprintf(r->rooms[i], sizeof(r->rooms[i]), "%s",
			 room_name(sa->sub.links[i].room));
	pthread_mutex_lock(&im->lock);
	/* drop some expired ones (one pass), and refuse to grow past the
	 * bound */
	while (ndead < 64 && (old = hmap_next(&im->recs, &pos)))
		if (old->expires < now)
			dead[ndead++] = old;
	for (size_t i = 0; i < ndead; i++) {
		hmap_del(&im->recs, dead[i]->pid);
		free(dead[i]);
	}
	if (im->recs.len >= MAX_RECS || hmap_put(&im->recs, r->pid, r)) {
		pthread_mutex_unlock(&im->lock);
		free(r);
		return;
	}
	pthread_mutex_unlock(&im->lock);
}

/* Recovers rec at offset if no room lost history after it. Returns 1 if
 * recovered. */
static int
recover(struct sa *sa, struct rec *rec, uint64_t offset)
{
	struct server *srv = sa->srv;
	struct store_ring *rings[64];
	struct room *pins[64];
	size_t n = rec->nrooms < 64 ? rec->nrooms : 64, k = 0;
	int gap = 1;
	struct im_error e;

	if (strcmp(rec->cid, sa->sub.cid))
		return 0;
	for (size_t i = 0; i < n; i++) {
		pins[k] = rooms_get(srv->rs, rec->rooms[i], 0, NULL);
		if (pins[k]) {
			rings[k] = room_ring(pins[k]);
			k++;
		}
	}
	if (k == n)
		store_count_after(srv->st, rings, NULL, k, offset,
				  sa->sub.cid, 1, &gap);
	for (size_t i = 0; i < k; i++)
		rooms_release(srv->rs, &pins[i]);
	if (gap || k != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (joins_add(srv, &sa->sub, &sa->cur, rec->rooms[i],
			      strlen(rec->rooms[i]), offset, NULL, &e))
			return 0;
	return 1;
}

/* Escapes e's message into sa->err as the CONNECT_ERROR's message. */
static const char *
err_text(struct sa *sa, const struct im_error *e)
{
	struct jbuf b;
	char tmp[sizeof(sa->err)];

	jbuf_init(&b, tmp, sizeof(tmp));
	jbuf_printf(&b, "%s: ", e->code);
	jbuf_puts(&b, e->message);
	tmp[b.len < sizeof(tmp) ? b.len : sizeof(tmp) - 1] = '\0';
	jbuf_init(&b, sa->err, sizeof(sa->err));
	jbuf_str(&b, tmp);
	/* without its quotes: sio.c writes them */
	if (b.len >= 2) {
		memmove(sa->err, sa->err + 1, b.len - 2);
		sa->err[b.len - 2] = '\0';
	} else {
		sa->err[0] = '\0';
	}
	return sa->err;
}

static int
connect_cb(void *h, int n, const char *auth, size_t alen, char *extra,
	   size_t cap, const char **err)
{
	struct sa *sa = h;
	struct json_object *o = NULL;
	struct im_error e = { 0 };
	const char *cid = NULL, *from = NULL, *pid = NULL, *off = NULL;
	size_t cid_len = 0, from_len = 0, plen = 0, olen = 0;
	struct rec *rec = NULL;
	int bad = 0, recovered = 0;

	(void)n;
	if (sa->connected) {
		*err = "already connected";
		return -1;
	}
	if (auth && jparse(auth, alen, &o, &e) == 0 && o) {
		cid = jparse_str(o, "cid", &cid_len, &bad);
		from = jparse_str(o, "from", &from_len, &bad);
		pid = jparse_str(o, "pid", &plen, &bad);
		off = jparse_str(o, "offset", &olen, &bad);
	}
	if (!from) {
		from = "anonymous";
		from_len = strlen(from);
	}
	if (bad) {
		im_error_set(&e, IM_EINVAL, "bad_request", "\"cid\", \"from\", "
			     "\"pid\" and \"offset\" must be strings");
		goto fail;
	}
	if ((cid && names_check(NAME_CID, cid, cid_len, &e)) ||
	    names_check(NAME_FROM, from, from_len, &e))
		goto fail;
	snprintf(sa->sub.cid, sizeof(sa->sub.cid), "%s", cid ? cid : "");
	snprintf(sa->sub.from, sizeof(sa->sub.from), "%s", from);
	if (pid && plen == MSG_PID_LEN && off && olen && olen < 21 &&
	    strspn(off, "0123456789") == olen)
		rec = take_rec(sa->im, pid);
	if (rec) {
		recovered = recover(sa, rec, strtoull(off, NULL, 10));
		if (recovered)
			memcpy(sa->pid, rec->pid, sizeof(sa->pid));
		free(rec);
	}
	if (!recovered) {
		/* the rooms a failed recovery joined are left */
		rooms_unsubscribe_all(sa->srv->rs, &sa->sub);
		cursor_free(&sa->cur);
		cursor_init(&sa->cur, sa->srv->st, sa->sub.cid, 0);
		new_pid(sa->pid);
	}
	json_object_put(o);
	snprintf(extra, cap, ",\"pid\":\"%s\"", sa->pid);
	sa->connected = 1;
	return 0;
fail:
	json_object_put(o);
	*err = err_text(sa, &e);
	return -1;
}

static void
disconnect_cb(void *h, int n)
{
	struct sa *sa = h;

	(void)n;
	rooms_unsubscribe_all(sa->srv->rs, &sa->sub);
	cursor_free(&sa->cur);
	cursor_init(&sa->cur, sa->srv->st, sa->sub.cid, 0);
	sa->connected = 0;
}

static void
pull_cb(void *h)
{
	struct sa *sa = h;
	struct eio_session *s = sio_session(sa->c);
	struct msg *out[PULL_MSGS];
	uint64_t at = cursor_pos(&sa->cur);
	struct cursor_batch b;
	size_t sent = 0;

	if (!sa->connected || !sa->cur.nrings)
		return;
	b = cursor_read(&sa->cur, out, PULL_MSGS, PULL_BYTES);
	if (b.gap) {
		char g[64];
		int k = snprintf(g, sizeof(g), "2[\"gap\",{\"since\":%" PRIu64
				 "}]", at);

		sio_send(sa->c, g, (size_t)k, NULL, 0);
	}
	for (size_t i = 0; i < b.n; i++) {
		const struct sio_frame *f = sio_frame_of(out[i]);
		int rc = f ? eio_queue_send_shared(s, out[i], f->text,
						   f->len, 0) : -1;

		for (unsigned k = 0; f && !rc && k < f->natt; k++)
			rc = eio_queue_send_shared(s, out[i], f->att[k],
					     f->att_len[k], 1);
		if (!rc)
			sent++;
		msg_unref(&out[i]);
	}
	if (sent)
		STATS_ADD(&sa->srv->stats, VIA_SIO, delivered, sent);
}

static void
close_cb(void *h)
{
	struct sa *sa = h;

	if (sa->connected)
		keep_rec(sa);
	rooms_unsubscribe_all(sa->srv->rs, &sa->sub);
	cursor_free(&sa->cur);
	free(sa);
}

struct sio_imlab *
sio_imlab_create(struct server *srv)
{
	struct sio_imlab *im = calloc(1, sizeof(*im));

	if (!im)
		return NULL;
	im->srv = srv;
	pthread_mutex_init(&im->lock, NULL);
	im->h.cls = im;
	im->h.nsp = nsp_cb;
	im->h.open = open_cb;
	im->h.connect = connect_cb;
	im->h.event = sio_app_ops_event;
	im->h.disconnect = disconnect_cb;
	im->h.pull = pull_cb;
	im->h.close = close_cb;
	return im;
}

const struct sio_handler *
sio_imlab_handler(struct sio_imlab *im)
{
	return &im->h;
}

void
sio_imlab_destroy(struct sio_imlab **imp)
{
	struct sio_imlab *im = *imp;
	struct rec *r;
	size_t pos = 0;

	if (!im)
		return;
	*imp = NULL;
	while ((r = hmap_next(&im->recs, &pos)))
		free(r);
	hmap_clear(&im->recs);
	pthread_mutex_destroy(&im->lock);
	free(im);
}
