/* SPDX-License-Identifier: MIT */
/*
 * redis_node: a node's life: open (connect, the shared pid key, the
 * shared history's base), attach (hooks into rooms and hub, the history
 * loaded, the writer and reader threads started), stop, and the one
 * query the API makes: the members of a room across every node.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "redis_node.h"
#include "redis_private.h"

#define TAG "redis"

static void
hex(char *out, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static int
unhex(const char *s, size_t len, unsigned char *out, size_t n)
{
	if (len != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static void
node_free(struct redis_node *n)
{
	while (n->qhead) {
		struct rds_item *it = n->qhead;

		n->qhead = it->next;
		for (int i = 0; i < it->argc; i++)
			if (i != 4 && i != 5)
				free(it->argv[i]);
		free(it);
	}
	if (n->wc)
		redisFree(n->wc);
	if (n->rc)
		redisFree(n->rc);
	if (n->qc)
		redisFree(n->qc);
	pthread_mutex_destroy(&n->qlock);
	pthread_cond_destroy(&n->qcond);
	pthread_cond_destroy(&n->dcond);
	pthread_mutex_destroy(&n->alock);
	pthread_cond_destroy(&n->acond);
	pthread_mutex_destroy(&n->clock);
	free(n);
}

/* SET NX a random key, then GET the one that won. */
static int
agree_key(struct redis_node *n, char *err, size_t errlen)
{
	unsigned char rnd[32];
	char h[65];
	redisReply *r;
	int rc = -1;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		snprintf(err, errlen, "getrandom failed");
		return -1;
	}
	hex(h, rnd, sizeof(rnd));
	r = redisCommand(n->wc, "SET %skey %s NX", n->prefix, h);
	if (r)
		freeReplyObject(r);
	r = redisCommand(n->wc, "GET %skey", n->prefix);
	if (r && r->type == REDIS_REPLY_STRING &&
	    !unhex(r->str, r->len, n->key, sizeof(n->key)))
		rc = 0;
	else
		snprintf(err, errlen, "the shared pid key (%skey) is missing "
			 "or not 64 hex digits", n->prefix);
	if (r)
		freeReplyObject(r);
	return rc;
}

/* The first HELLO: the epoch, and the base (the id before the oldest
 * entry, or the sequence when the stream is empty). */
static int
first_hello(struct redis_node *n, char *err, size_t errlen)
{
	char seed[24], ep[33];
	unsigned char rnd[16];
	redisReply *r;
	uint64_t seq, first;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		snprintf(err, errlen, "getrandom failed");
		return -1;
	}
	hex(ep, rnd, sizeof(rnd));
	rds_seed(0, seed);
	r = redisCommand(n->wc, "EVALSHA %s 0 %s 0 %s 0 %s",
			 rds_sha(RDS_HELLO), n->prefix, seed, ep);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 6 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING ||
	    r->element[2]->type != REDIS_REPLY_STRING) {
		snprintf(err, errlen, "HELLO: %s", !r ? n->wc->errstr :
			 r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
		if (r)
			freeReplyObject(r);
		return -1;
	}
	snprintf(n->epoch, sizeof(n->epoch), "%s", r->element[0]->str);
	seq = rds_entry_id(r->element[1]->str, r->element[1]->len);
	first = rds_entry_id(r->element[2]->str, r->element[2]->len);
	n->base = first ? first - 1 : seq;
	freeReplyObject(r);
	return 0;
}

struct redis_node *
redis_node_open(const struct redis_node_config *cfg, struct im_error *e)
{
	struct redis_node *n = calloc(1, sizeof(*n));
	unsigned char rnd[8];
	char err[256] = "";

	if (!n) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	pthread_mutex_init(&n->qlock, NULL);
	pthread_cond_init(&n->qcond, NULL);
	pthread_cond_init(&n->dcond, NULL);
	pthread_mutex_init(&n->alock, NULL);
	pthread_cond_init(&n->acond, NULL);
	pthread_mutex_init(&n->clock, NULL);
	if (rds_url_parse(cfg->url, &n->url, err, sizeof(err)) ||
	    strlen(cfg->prefix) > RDS_PREFIX_MAX) {
		im_error_set(e, IM_EINVAL, "bad_option", "%s", err[0] ? err :
			     "--redis-prefix is longer than 32 bytes");
		node_free(n);
		return NULL;
	}
	snprintf(n->prefix, sizeof(n->prefix), "%s", cfg->prefix);
	n->ttl_ms = cfg->node_ttl_ms;
	n->log_max = cfg->log_max;
	snprintf(n->log_max_s, sizeof(n->log_max_s), "%ld", cfg->log_max);
	n->max_data = cfg->max_data;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));
	hex(n->node_id, rnd, sizeof(rnd));
	n->wc = rds_connect(&n->url, 2000, err, sizeof(err));
	if (!n->wc || agree_key(n, err, sizeof(err)) ||
	    first_hello(n, err, sizeof(err))) {
		im_error_set(e, IM_EFULL, "backend_unavailable", "--redis %s: "
			     "%s", cfg->url, err);
		node_free(n);
		return NULL;
	}
	LOG_INFO(TAG, "node %s on Redis %s:%d (prefix %s), history after %"
		 PRIu64, n->node_id, n->url.host, n->url.port, n->prefix,
		 n->base);
	return n;
}

uint64_t
redis_node_base(const struct redis_node *n)
{
	return n->base;
}

enum im_err
redis_node_attach(struct redis_node *n, struct store *st, struct rooms *rs,
		  struct hub *h, struct im_error *e)
{
	n->st = st;
	n->rs = rs;
	/* a cursor from a node ahead of this one is no future cursor */
	store_set_lead(st, RDS_LEAD);
	rooms_pid_set_key(rs, n->key);
	if (rds_load(n, e))
		return e ? e->err : IM_EFULL;
	n->wup = 1;
	if (pthread_create(&n->wthr, NULL, rds_writer, n))
		return im_error_set(e, IM_ESYS, "thread",
				    "cannot start a thread");
	n->wstarted = 1;
	if (pthread_create(&n->rthr, NULL, rds_reader, n)) {
		pthread_mutex_lock(&n->qlock);
		n->wquit = 2;
		pthread_cond_signal(&n->qcond);
		pthread_mutex_unlock(&n->qlock);
		pthread_join(n->wthr, NULL);
		n->wstarted = 0;
		return im_error_set(e, IM_ESYS, "thread",
				    "cannot start a thread");
	}
	n->rstarted = 1;
	rooms_set_presence_hook(rs, rds_presence, n);
	h->post = rds_post;
	h->post_ctx = n;
	return IM_OK;
}

void
redis_node_stop(struct redis_node **np)
{
	struct redis_node *n = *np;

	if (!n)
		return;
	*np = NULL;
	if (n->rs)
		rooms_set_presence_hook(n->rs, NULL, NULL);
	if (n->wstarted) {
		pthread_mutex_lock(&n->qlock);
		n->wquit = 1;
		pthread_cond_signal(&n->qcond);
		pthread_mutex_unlock(&n->qlock);
		pthread_join(n->wthr, NULL);
	}
	atomic_store(&n->stopping, 1);
	if (n->rstarted)
		pthread_join(n->rthr, NULL);
	node_free(n);
}

static int
by_pid(const void *a, const void *b)
{
	return strcmp(((const struct room_member_info *)a)->pid,
		      ((const struct room_member_info *)b)->pid);
}

/* Fills one member from pid and "from\nvia"; 0, or -1 if malformed. */
static int
member(struct room_member_info *m, const redisReply *pid,
       const redisReply *v)
{
	const char *nl;

	if (pid->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING
	    || pid->len > MSG_PID_LEN || !(nl = strchr(v->str, '\n')) ||
	    (size_t)(nl - v->str) >= sizeof(m->from))
		return -1;
	memcpy(m->pid, pid->str, pid->len + 1);
	memcpy(m->from, v->str, (size_t)(nl - v->str));
	m->from[nl - v->str] = '\0';
	m->via = VIA_API;
	for (int i = 0; i < VIA__COUNT; i++)
		if (!strcmp(nl + 1, via_name((enum via)i)))
			m->via = (enum via)i;
	return 0;
}

long
redis_node_members(struct redis_node *n, const char *room,
		   const char *after, struct room_member_info *out,
		   size_t max, size_t *nout, struct im_error *e)
{
	struct room_member_info *all;
	char err[256] = "";
	redisReply *r;
	size_t na = 0;

	*nout = 0;
	pthread_mutex_lock(&n->clock);
	if (!n->qc)
		n->qc = rds_connect(&n->url, 1000, err, sizeof(err));
	r = n->qc ? redisCommand(n->qc, "HGETALL %spi:%s", n->prefix, room) :
		    NULL;
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		if (n->qc && !r) {
			redisFree(n->qc);
			n->qc = NULL;
		}
		pthread_mutex_unlock(&n->clock);
		if (r)
			freeReplyObject(r);
		im_error_set(e, IM_EFULL, "backend_unavailable",
			     "the shared back end (Redis) is unreachable; "
			     "try again");
		return -1;
	}
	pthread_mutex_unlock(&n->clock);
	all = calloc(r->elements / 2 + 1, sizeof(*all));
	if (!all) {
		freeReplyObject(r);
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return -1;
	}
	for (size_t i = 0; i + 1 < r->elements; i += 2)
		if (!member(&all[na], r->element[i], r->element[i + 1]))
			na++;
	freeReplyObject(r);
	qsort(all, na, sizeof(*all), by_pid);
	for (size_t i = 0; i < na && *nout < max; i++)
		if (!after || !*after || strcmp(all[i].pid, after) > 0)
			out[(*nout)++] = all[i];
	free(all);
	return (long)na;
}

int
redis_node_member_counts(struct redis_node *n, const char *const *names,
			 size_t *counts, size_t k, struct im_error *e)
{
	char err[256] = "";
	int rc = 0;

	pthread_mutex_lock(&n->clock);
	if (!n->qc)
		n->qc = rds_connect(&n->url, 1000, err, sizeof(err));
	for (size_t i = 0; n->qc && i < k; i++)
		redisAppendCommand(n->qc, "HLEN %spi:%s", n->prefix, names[i]);
	for (size_t i = 0; n->qc && i < k; i++) {
		void *rv = NULL;
		redisReply *r;

		if (redisGetReply(n->qc, &rv) != REDIS_OK) {
			redisFree(n->qc);
			n->qc = NULL;
			break;
		}
		r = rv;
		counts[i] = r->type == REDIS_REPLY_INTEGER && r->integer > 0 ?
			    (size_t)r->integer : 0;
		freeReplyObject(r);
	}
	if (!n->qc) {
		rc = -1;
		im_error_set(e, IM_EFULL, "backend_unavailable",
			     "the shared back end (Redis) is unreachable; "
			     "try again");
	}
	pthread_mutex_unlock(&n->clock);
	return rc;
}

void
redis_node_stats(struct redis_node *n, struct redis_node_stats *st)
{
	pthread_mutex_lock(&n->qlock);
	st->writer_up = n->wup;
	pthread_mutex_unlock(&n->qlock);
	pthread_mutex_lock(&n->alock);
	st->reader_up = n->rup;
	st->applied = n->applied;
	pthread_mutex_unlock(&n->alock);
	st->reconnects = atomic_load(&n->reconnects);
	st->losses = atomic_load(&n->losses);
}
