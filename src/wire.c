/* SPDX-License-Identifier: MIT */
/*
 * wire: the byte and request meters' registry (see wire.h): each metered
 * connection, the per-cid and total counters they charge (a meter
 * remembers where it last charged, up0 and down0, and charges the
 * difference to its connection's current transport and cid), the
 * request/response records and the reports. What the kernel counted is
 * read by wire_meter.c.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "hmap.h"
#include "list.h"
#include "wire.h"
#include "wire_meter.h"

#define PENDING 256	/* first heads and hand-offs waiting, by fd */

struct wire_rec {
	enum via via;
	char *req, *resp;
	int exact;
};

struct client {
	char cid[WIRE_CID_MAX + 1];	/* the hmap key */
	uint64_t used;			/* LRU stamp */
	struct wire_cnt tp[VIA__COUNT];
	struct wire_rec rec[WIRE_RECORDS];
	unsigned nrec;			/* records ever kept */
};

struct wire_conn {
	struct list node;		/* on w->open while metered */
	struct wire *w;
	int fd;
	enum via via;			/* of the current request */
	char cid[WIRE_CID_MAX + 1];	/* "" none */
	uint64_t up0, down0;		/* charged so far */
	unsigned via_seen, cid_seen;	/* bit per via: a connection */
	char seen_cid[WIRE_CID_MAX + 1];	/* the cid cid_seen is for */
	char *raw;			/* first head, until taken */
	struct wire_rec held;		/* a record waiting for a cid */
};

struct pend {
	int fd;				/* -1 free */
	char *raw;
	struct wire_conn *wc;		/* a hand-off */
};

struct wire {
	pthread_mutex_t lock;
	struct list open;
	struct wire_cnt tot[VIA__COUNT];
	struct hmap cids;
	struct client *cl;		/* max slots, n used */
	size_t n, max;
	uint64_t clock;
	struct pend pend[PENDING];
};

static void
rec_free(struct wire_rec *r)
{
	free(r->req);
	free(r->resp);
	r->req = r->resp = NULL;
}

/* Returns a copy of s cut to WIRE_HEAD_MAX bytes, or NULL. */
static char *
head_dup(const char *s)
{
	return s ? strndup(s, WIRE_HEAD_MAX) : NULL;
}

struct wire *
wire_create(size_t max_clients)
{
	struct wire *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->max = max_clients ? max_clients : 1;
	w->cl = calloc(w->max, sizeof(*w->cl));
	if (!w->cl) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	list_init(&w->open);
	for (int i = 0; i < PENDING; i++)
		w->pend[i].fd = -1;
	return w;
}

static void
conn_free(struct wire_conn *wc)
{
	free(wc->raw);
	rec_free(&wc->held);
	free(wc);
}

void
wire_free(struct wire **wp)
{
	struct wire *w = *wp;
	struct list *p, *n;

	if (!w)
		return;
	*wp = NULL;
	list_for_each_safe(p, n, &w->open) {
		list_unlink(p);
		conn_free(list_entry(p, struct wire_conn, node));
	}
	for (int i = 0; i < PENDING; i++) {
		free(w->pend[i].raw);
		if (w->pend[i].wc)
			conn_free(w->pend[i].wc);
	}
	for (size_t i = 0; i < w->n; i++)
		for (int k = 0; k < WIRE_RECORDS; k++)
			rec_free(&w->cl[i].rec[k]);
	hmap_clear(&w->cids);
	free(w->cl);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* Returns cid's record, created (evicting the least recently used) when
 * create; NULL if none. Under w->lock. */
static struct client *
client(struct wire *w, const char *cid, int create)
{
	struct client *c;
	size_t i, old = 0;

	if (!cid || !*cid)
		return NULL;
	c = hmap_get(&w->cids, cid);
	if (c || !create) {
		if (c)
			c->used = ++w->clock;
		return c;
	}
	if (w->n < w->max) {
		c = &w->cl[w->n++];
	} else {
		for (i = 1; i < w->n; i++)
			if (w->cl[i].used < w->cl[old].used)
				old = i;
		c = &w->cl[old];
		hmap_del(&w->cids, c->cid);
		for (int k = 0; k < WIRE_RECORDS; k++)
			rec_free(&c->rec[k]);
	}
	memset(c, 0, sizeof(*c));
	snprintf(c->cid, sizeof(c->cid), "%s", cid);
	if (hmap_put(&w->cids, c->cid, c)) {
		c->cid[0] = '\0';	/* out of memory: not tracked */
		return NULL;
	}
	c->used = ++w->clock;
	return c;
}

/* Charges wc's bytes since its last charge to its transport and cid.
 * Under w->lock. */
static void
charge(struct wire_conn *wc, int final)
{
	struct wire *w = wc->w;
	uint64_t up, down, du, dd;
	struct client *c;

	if (wire_meter_read(wc->fd, &up, &down, final))
		return;
	du = up > wc->up0 ? up - wc->up0 : 0;
	dd = down > wc->down0 ? down - wc->down0 : 0;
	wc->up0 += du;
	wc->down0 += dd;
	w->tot[wc->via].up += du;
	w->tot[wc->via].down += dd;
	c = client(w, wc->cid, 0);
	if (c) {
		c->tp[wc->via].up += du;
		c->tp[wc->via].down += dd;
	}
}

void
wire_head(struct wire *w, int fd, const char *raw, size_t len)
{
	struct pend *p;

	if (!w || fd < 0)
		return;
	p = &w->pend[fd % PENDING];
	pthread_mutex_lock(&w->lock);
	free(p->raw);
	p->raw = strndup(raw, len < WIRE_HEAD_MAX ? len : WIRE_HEAD_MAX);
	p->fd = fd;
	if (p->wc) {
		conn_free(p->wc);	/* a hand-off never adopted */
		p->wc = NULL;
	}
	pthread_mutex_unlock(&w->lock);
}

struct wire_conn *
wire_conn_open(struct wire *w, int fd)
{
	struct wire_conn *wc = NULL;
	struct pend *p;

	if (!w || fd < 0)
		return NULL;
	p = &w->pend[fd % PENDING];
	pthread_mutex_lock(&w->lock);
	if (p->fd == fd && p->wc) {
		wc = p->wc;	/* its checkpoint goes on */
		p->wc = NULL;
	} else if ((wc = calloc(1, sizeof(*wc)))) {
		wc->w = w;
		wc->fd = fd;
		wc->via = VIA_API;
		wire_meter_read(fd, &wc->up0, &wc->down0, 0);
		if (p->fd == fd) {
			wc->raw = p->raw;
			p->raw = NULL;
		}
	}
	if (p->fd == fd)
		p->fd = -1;
	if (wc)
		list_add(&w->open, &wc->node);
	pthread_mutex_unlock(&w->lock);
	return wc;
}

void
wire_conn_close(struct wire_conn **wcp)
{
	struct wire_conn *wc = *wcp;
	struct wire *w;

	if (!wc)
		return;
	*wcp = NULL;
	w = wc->w;
	pthread_mutex_lock(&w->lock);
	charge(wc, 1);
	list_unlink(&wc->node);
	pthread_mutex_unlock(&w->lock);
	conn_free(wc);
}

void
wire_conn_handoff(struct wire_conn *wc, int newfd)
{
	struct wire *w;
	struct pend *p;

	if (!wc)
		return;
	w = wc->w;
	p = &w->pend[newfd % PENDING];
	pthread_mutex_lock(&w->lock);
	if (wc->cid[0])
		charge(wc, 0);	/* else the cid of a hello gets the head */
	list_unlink(&wc->node);
	wc->fd = newfd;
	free(p->raw);
	p->raw = NULL;
	if (p->wc)
		conn_free(p->wc);
	p->wc = wc;
	p->fd = newfd;
	pthread_mutex_unlock(&w->lock);
}

/* Counts one request of wc's transport (and the connection, the first
 * time for it, or for its cid). Under w->lock. */
static void
count_req(struct wire_conn *wc, int conn_only)
{
	struct wire *w = wc->w;
	struct client *c = client(w, wc->cid, 1);
	unsigned bit = 1u << wc->via;

	if (!conn_only)
		w->tot[wc->via].requests++;
	if (!(wc->via_seen & bit)) {
		wc->via_seen |= bit;
		w->tot[wc->via].conns++;
	}
	if (!c)
		return;
	if (!conn_only)
		c->tp[wc->via].requests++;
	if (!(wc->cid_seen & bit)) {
		wc->cid_seen |= bit;
		c->tp[wc->via].conns++;
	}
}

/* Keeps r (moved) in c's ring. Under w->lock. */
static void
keep(struct client *c, struct wire_rec *r)
{
	struct wire_rec *slot = &c->rec[c->nrec++ % WIRE_RECORDS];

	rec_free(slot);
	*slot = *r;
	r->req = r->resp = NULL;
}

/* Sets wc's cid, charging the old one first when it had one and
 * old_owns (what is pending is still its: a hello naming the cid of a
 * connection already counting). A request's begin passes 0: its
 * predecessor was charged at its end, so what is pending is the new
 * request's own head. cid_seen follows the last non-empty cid, so a
 * cid-less request in between (a browser shares its sockets) does not
 * count the connection twice. Under w->lock. */
static void
set_cid(struct wire_conn *wc, const char *cid, int old_owns)
{
	if (!cid)
		cid = "";
	if (!strcmp(wc->cid, cid))
		return;
	if (wc->cid[0] && old_owns)
		charge(wc, 0);
	snprintf(wc->cid, sizeof(wc->cid), "%s", cid);
	if (cid[0] && strcmp(wc->seen_cid, cid)) {
		snprintf(wc->seen_cid, sizeof(wc->seen_cid), "%s", cid);
		wc->cid_seen = 0;
	}
}

void
wire_req_begin(struct wire_conn *wc, enum via via, const char *cid)
{
	if (!wc)
		return;
	pthread_mutex_lock(&wc->w->lock);
	set_cid(wc, cid, 0);
	wc->via = via;
	count_req(wc, via == VIA_WS);	/* ws: frames are its requests */
	pthread_mutex_unlock(&wc->w->lock);
}

void
wire_req_end(struct wire_conn *wc)
{
	if (!wc)
		return;
	pthread_mutex_lock(&wc->w->lock);
	charge(wc, 0);
	pthread_mutex_unlock(&wc->w->lock);
}

void
wire_frame_in(struct wire_conn *wc)
{
	if (!wc)
		return;
	pthread_mutex_lock(&wc->w->lock);
	count_req(wc, 0);
	pthread_mutex_unlock(&wc->w->lock);
}

void
wire_set_cid(struct wire_conn *wc, const char *cid)
{
	struct client *c;

	if (!wc || !cid || !*cid)
		return;
	pthread_mutex_lock(&wc->w->lock);
	if (strcmp(wc->cid, cid)) {
		set_cid(wc, cid, 1);
		count_req(wc, 1);
	}
	c = client(wc->w, wc->cid, 1);
	if (c && wc->held.req)
		keep(c, &wc->held);
	pthread_mutex_unlock(&wc->w->lock);
}

char *
wire_take_head(struct wire_conn *wc)
{
	char *raw;

	if (!wc)
		return NULL;
	pthread_mutex_lock(&wc->w->lock);
	raw = wc->raw;
	wc->raw = NULL;
	pthread_mutex_unlock(&wc->w->lock);
	return raw;
}

void
wire_record(struct wire_conn *wc, const char *req, const char *resp,
	    int exact)
{
	struct wire_rec r;
	struct client *c;

	if (!wc || !req)
		return;
	r.via = wc->via;
	r.req = head_dup(req);
	r.resp = head_dup(resp);
	r.exact = exact;
	pthread_mutex_lock(&wc->w->lock);
	c = client(wc->w, wc->cid, 0);
	if (c) {
		keep(c, &r);
	} else {
		rec_free(&wc->held);
		wc->held = r;
		r.req = r.resp = NULL;
	}
	pthread_mutex_unlock(&wc->w->lock);
	rec_free(&r);
}

/* Adds the bytes wc counted and has not charged to t (wc's transport).
 * Under w->lock. */
static void
live(const struct wire_conn *wc, struct wire_cnt *t)
{
	uint64_t up, down;

	if (wire_meter_read(wc->fd, &up, &down, 0))
		return;
	t[wc->via].up += up > wc->up0 ? up - wc->up0 : 0;
	t[wc->via].down += down > wc->down0 ? down - wc->down0 : 0;
}

size_t
wire_cut(struct wire *w, const char *cid, int via)
{
	struct list *p, *n;
	size_t cut = 0;

	pthread_mutex_lock(&w->lock);
	list_for_each_safe(p, n, &w->open) {
		struct wire_conn *wc = list_entry(p, struct wire_conn, node);

		if (strcmp(wc->cid, cid) || (via >= 0 && (int)wc->via != via))
			continue;
		if (!shutdown(wc->fd, SHUT_RDWR))
			cut++;
	}
	pthread_mutex_unlock(&w->lock);
	return cut;
}

void
wire_totals(struct wire *w, struct wire_cnt tot[VIA__COUNT])
{
	struct list *p, *n;

	pthread_mutex_lock(&w->lock);
	memcpy(tot, w->tot, sizeof(w->tot));
	list_for_each_safe(p, n, &w->open)
		live(list_entry(p, struct wire_conn, node), tot);
	pthread_mutex_unlock(&w->lock);
}

static struct json_object *
cnt_json(const struct wire_cnt *t)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "requests",
			       json_object_new_uint64(t->requests));
	json_object_object_add(o, "bytes_up", json_object_new_uint64(t->up));
	json_object_object_add(o, "bytes_down",
			       json_object_new_uint64(t->down));
	json_object_object_add(o, "connections",
			       json_object_new_uint64(t->conns));
	return o;
}

static struct json_object *
records_json(const struct client *c)
{
	struct json_object *a = json_object_new_array();
	unsigned first = c->nrec > WIRE_RECORDS ? c->nrec - WIRE_RECORDS : 0;

	for (unsigned i = first; i < c->nrec; i++) {
		const struct wire_rec *r = &c->rec[i % WIRE_RECORDS];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "transport", json_object_new_string(
					       via_name(r->via)));
		json_object_object_add(o, "request",
				       json_object_new_string(r->req));
		json_object_object_add(o, "response", r->resp ?
				       json_object_new_string(r->resp) : NULL);
		json_object_object_add(o, "exact",
				       json_object_new_boolean(r->exact));
		json_object_array_add(a, o);
	}
	return a;
}

struct json_object *
wire_client_json(struct wire *w, const char *cid, int records)
{
	struct wire_cnt t[VIA__COUNT];
	struct json_object *o = NULL, *tps;
	struct list *p, *n;
	struct client *c;

	pthread_mutex_lock(&w->lock);
	c = client(w, cid, 0);
	if (!c)
		goto out;
	o = json_object_new_object();
	json_object_object_add(o, "cid", json_object_new_string(c->cid));
	if (records) {
		json_object_object_add(o, "records", records_json(c));
		goto out;
	}
	memcpy(t, c->tp, sizeof(t));
	list_for_each_safe(p, n, &w->open) {
		struct wire_conn *wc = list_entry(p, struct wire_conn, node);

		if (!strcmp(wc->cid, c->cid))
			live(wc, t);
	}
	tps = json_object_new_object();
	for (int i = 0; i < VIA_API; i++)
		json_object_object_add(tps, via_name((enum via)i),
				       cnt_json(&t[i]));
	json_object_object_add(o, "transports", tps);
out:
	pthread_mutex_unlock(&w->lock);
	return o;
}
