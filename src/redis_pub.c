/* SPDX-License-Identifier: MIT */
/*
 * redis_pub: everything a node writes to Redis, on one thread and one
 * connection in one FIFO, so a join queued before a publish gets the
 * lower id: publishes (the hub's thread waits for the id, then for its
 * own reader to have applied it), joins and leaves (queued by the
 * presence hook under rooms.lock, never waited for), the heartbeat and
 * the reaping of dead nodes. Calls are pipelined, RDS_BATCH at a time.
 * While Redis is unreachable publishes fail at once (503
 * backend_unavailable); joins and leaves wait in the queue (they are
 * idempotent, so a batch cut by a lost connection is sent again), and
 * on every reconnect the node's members are joined again.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "redis_node.h"
#include "redis_private.h"

#define TAG "redis"
#define MID_TTL_S "3600"	/* a mid is remembered this long */
#define APPLY_WAIT_MS 2000	/* an ack waits this long for the reader */
#define REAP_MS 1000

/* Copies s[0..len) as argument i of it; -1 when out of memory. */
static int
arg(struct rds_item *it, const char *s, size_t len)
{
	char *c = malloc(len + 1);

	if (!c || it->argc >= RDS_ARGS) {
		free(c);
		return -1;
	}
	memcpy(c, s, len);
	c[len] = '\0';
	it->argv[it->argc] = c;
	it->len[it->argc++] = len;
	return 0;
}

static int
args(struct rds_item *it, const char *s)
{
	return arg(it, s ? s : "", s ? strlen(s) : 0);
}

/* Frees it and its arguments but argv[4] and argv[5] (its own buffers). */
static void
item_free(struct rds_item *it)
{
	for (int i = 0; i < it->argc; i++)
		if (i != 4 && i != 5)
			free(it->argv[i]);
	free(it);
}

/* A new item calling script s with the common arguments; floor and seed
 * are filled when it is sent. NULL when out of memory. */
static struct rds_item *
item_new(struct redis_node *n, enum rds_script s)
{
	struct rds_item *it = calloc(1, sizeof(*it));

	if (!it)
		return NULL;
	if (args(it, "EVALSHA") || args(it, rds_sha(s)) || args(it, "0") ||
	    args(it, n->prefix)) {
		item_free(it);
		return NULL;
	}
	it->argv[4] = it->floor;
	it->argv[5] = it->seed;
	it->argc = 6;
	if (args(it, n->log_max_s)) {
		item_free(it);
		return NULL;
	}
	return it;
}

static void
push(struct redis_node *n, struct rds_item *it)
{
	it->next = NULL;
	if (n->qtail)
		n->qtail->next = it;
	else
		n->qhead = it;
	n->qtail = it;
	n->qlen++;
	pthread_cond_signal(&n->qcond);
}

void
rds_presence(void *ctx, const char *room, const char *cid, const char *pid,
	     const char *from, enum via via, const char *event)
{
	struct redis_node *n = ctx;
	struct rds_item *it = item_new(n, RDS_PRESENCE);
	char ts[24];

	snprintf(ts, sizeof(ts), "%" PRId64, im_now_ms());
	if (!it || args(it, n->node_id) || args(it, event) ||
	    args(it, room) || args(it, cid) || args(it, pid) ||
	    args(it, from) || args(it, via_name(via)) || args(it, ts)) {
		LOG_ERROR(TAG, "room %s: %s of %s lost: out of memory", room,
			  event, pid);
		if (it)
			item_free(it);
		return;
	}
	pthread_mutex_lock(&n->qlock);
	if (n->qlen >= RDS_QUEUE_MAX) {
		pthread_mutex_unlock(&n->qlock);
		LOG_ERROR(TAG, "room %s: %s of %s lost: %d queued for Redis",
			  room, event, pid, RDS_QUEUE_MAX);
		item_free(it);
		return;
	}
	push(n, it);
	pthread_mutex_unlock(&n->qlock);
}

static enum im_err
unavailable(struct im_error *e)
{
	return im_error_set(e, IM_EFULL, "backend_unavailable",
			    "the shared back end (Redis) is unreachable; "
			    "try again");
}

/* Waits (up to APPLY_WAIT_MS) until the reader applied id, so that a
 * read on this node right after the ack sees the message. */
static void
wait_applied(struct redis_node *n, uint64_t id)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += APPLY_WAIT_MS / 1000;
	pthread_mutex_lock(&n->alock);
	while (n->applied < id && n->rup &&
	       pthread_cond_timedwait(&n->acond, &n->alock, &ts) == 0)
		;
	pthread_mutex_unlock(&n->alock);
}

enum im_err
rds_post(void *ctx, const struct msg_parts *p, const char *mid,
	 struct rooms_posted *res, struct im_error *e)
{
	struct redis_node *n = ctx;
	struct rds_item *it = item_new(n, RDS_PUBLISH);
	char ts[24], to[4];
	enum im_err err;

	snprintf(ts, sizeof(ts), "%" PRId64, im_now_ms());
	snprintf(to, sizeof(to), "%d", (int)p->to);
	if (!it || args(it, MID_TTL_S) || args(it, mid) ||
	    args(it, p->room) || args(it, p->event) || args(it, p->from) ||
	    args(it, p->pid) || args(it, p->cid) ||
	    args(it, via_name(p->via)) || args(it, to) || args(it, ts) ||
	    arg(it, p->data_json, p->data_len) ||
	    args(it, p->to == MSG_TO_PID ? p->to_pid : "")) {
		if (it)
			item_free(it);
		return im_error_set(e, IM_ENOMEM, "no_memory",
				    "out of memory");
	}
	it->wait = 1;
	pthread_mutex_lock(&n->qlock);
	if (!n->wup || n->wquit) {
		pthread_mutex_unlock(&n->qlock);
		item_free(it);
		return unavailable(e);
	}
	push(n, it);
	while (!it->done)
		pthread_cond_wait(&n->dcond, &n->qlock);
	pthread_mutex_unlock(&n->qlock);
	err = it->err;
	res->id = it->id;
	res->ts = it->ts;
	res->dup = it->dup;
	item_free(it);
	if (err == IM_ENOTFOUND)
		return im_error_set(e, err, "unknown_recipient",
				    "pid:%s is not a member of room %s",
				    p->to_pid ? p->to_pid : "", p->room);
	if (err != IM_OK)
		return unavailable(e);
	wait_applied(n, res->id);
	return IM_OK;
}

/* Reads a publish's reply {id, ts, dup} into it (dup 2: a direct
 * message's recipient is no member, IM_ENOTFOUND). */
static void
publish_reply(struct rds_item *it, const redisReply *r)
{
	it->err = IM_EFULL;
	if (r->type == REDIS_REPLY_ERROR)
		LOG_WARN(TAG, "publish refused by Redis: %s", r->str);
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING)
		return;
	if (r->element[2]->type == REDIS_REPLY_INTEGER &&
	    r->element[2]->integer == 2) {	/* no such recipient */
		it->err = IM_ENOTFOUND;
		return;
	}
	it->id = rds_entry_id(r->element[0]->str, r->element[0]->len);
	it->ts = (int64_t)rds_entry_id(r->element[1]->str,
				       r->element[1]->len);
	it->dup = r->element[2]->type == REDIS_REPLY_INTEGER &&
		  r->element[2]->integer == 1;
	if (it->id)
		it->err = IM_OK;
}

/* Sends the heartbeat and, when due, the reap, pipelined with the
 * batch; returns how many replies to skip. */
static int
housekeeping(struct redis_node *n, int64_t now, int64_t *hb_at,
	     int64_t *reap_at)
{
	int extra = 0;

	if (now >= *hb_at) {
		char key[RDS_PREFIX_MAX + 24], px[16];

		snprintf(key, sizeof(key), "%shb:%s", n->prefix, n->node_id);
		snprintf(px, sizeof(px), "%d", n->ttl_ms);
		redisAppendCommand(n->wc, "SET %s 1 PX %s", key, px);
		*hb_at = now + n->ttl_ms / 3;
		extra++;
	}
	if (now >= *reap_at) {
		char floor[24], seed[24], ts[24];

		snprintf(floor, sizeof(floor), "%" PRIu64,
			 store_last_id(n->st));
		rds_seed(store_last_id(n->st), seed);
		snprintf(ts, sizeof(ts), "%" PRId64, im_now_ms());
		redisAppendCommand(n->wc, "EVALSHA %s 0 %s %s %s %s %s",
				   rds_sha(RDS_REAP), n->prefix, floor, seed,
				   n->log_max_s, ts);
		*reap_at = now + REAP_MS;
		extra++;
	}
	return extra;
}

/* Sends batch[0..nb) and the housekeeping, reads the replies. Returns 0,
 * or -1 when the connection failed (the items not answered keep
 * err == IM_ESYS). */
static int
send_batch(struct redis_node *n, struct rds_item **batch, size_t nb,
	   int64_t *hb_at, int64_t *reap_at)
{
	uint64_t floor = store_last_id(n->st);
	int extra, noscript = 0;

	for (size_t i = 0; i < nb; i++) {
		struct rds_item *it = batch[i];

		snprintf(it->floor, sizeof(it->floor), "%" PRIu64, floor);
		rds_seed(floor, it->seed);
		it->len[4] = strlen(it->floor);
		it->len[5] = strlen(it->seed);
		const char *av[RDS_ARGS];

		for (int j = 0; j < it->argc; j++)
			av[j] = it->argv[j];
		redisAppendCommandArgv(n->wc, it->argc, av, it->len);
		it->err = IM_ESYS;
	}
	extra = housekeeping(n, im_mono_ms(), hb_at, reap_at);
	for (size_t i = 0; i < nb + (size_t)extra; i++) {
		void *rv = NULL;
		redisReply *r;
		int err;

		if (redisGetReply(n->wc, &rv) != REDIS_OK)
			return -1;
		r = rv;
		err = r->type == REDIS_REPLY_ERROR;
		/* the scripts were flushed: reconnect (which loads them) and
		 * send the joins and leaves again */
		if (err && !strncmp(r->str, "NOSCRIPT", 8))
			noscript = 1;
		if (i < nb && batch[i]->wait)
			publish_reply(batch[i], r);
		else if (i < nb)
			batch[i]->err = err && noscript ? IM_ESYS : IM_OK;
		if (err && !(i < nb && batch[i]->wait))
			LOG_WARN(TAG, "%s: %s", i < nb ? "join/leave" :
				 "heartbeat/reap", r->str);
		freeReplyObject(r);
	}
	return noscript ? -1 : 0;
}

/* Hands the answered items back: publishes to their threads, joins and
 * leaves freed, or (failed) put back at the queue's head in order. */
static void
finish(struct redis_node *n, struct rds_item **batch, size_t nb)
{
	struct rds_item *back = NULL, *last = NULL;

	pthread_mutex_lock(&n->qlock);
	for (size_t i = 0; i < nb; i++) {
		struct rds_item *it = batch[i];

		if (it->wait) {
			it->done = 1;
		} else if (it->err == IM_OK || n->wquit > 1) {
			item_free(it);
		} else {
			it->next = NULL;
			if (last)
				last->next = it;
			else
				back = it;
			last = it;
			n->qlen++;
		}
	}
	if (back) {
		last->next = n->qhead;
		if (!n->qhead)
			n->qtail = last;
		n->qhead = back;
	}
	pthread_cond_broadcast(&n->dcond);
	pthread_mutex_unlock(&n->qlock);
}

/* Takes up to RDS_BATCH items off the queue, waiting up to ms for the
 * first; lock held. */
static size_t
take(struct redis_node *n, struct rds_item **batch, int ms)
{
	size_t nb = 0;

	if (!n->qhead && !n->wquit) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)ms * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&n->qcond, &n->qlock, &ts);
	}
	while (n->qhead && nb < RDS_BATCH) {
		batch[nb++] = n->qhead;
		n->qhead = n->qhead->next;
		n->qlen--;
	}
	if (!n->qhead)
		n->qtail = NULL;
	return nb;
}

/* Fails every waiting publish in the queue (Redis is gone); lock held. */
static void
fail_waiters(struct redis_node *n)
{
	struct rds_item **pp = &n->qhead;

	n->qtail = NULL;
	while (*pp) {
		struct rds_item *it = *pp;

		if (it->wait) {
			*pp = it->next;
			n->qlen--;
			it->err = IM_EFULL;
			it->done = 1;
		} else {
			n->qtail = it;
			pp = &it->next;
		}
	}
	pthread_cond_broadcast(&n->dcond);
}

/* (Re)connects the writer, with backoff; returns 0 once up, -1 when
 * stopping. */
static int
reconnect(struct redis_node *n, int *backoff)
{
	char err[256] = "";

	while (!n->wc) {
		int quit;

		pthread_mutex_lock(&n->qlock);
		quit = n->wquit;
		pthread_mutex_unlock(&n->qlock);
		if (quit || atomic_load(&n->stopping))
			return -1;
		n->wc = rds_connect(&n->url, 2000, err, sizeof(err));
		if (n->wc)
			break;
		LOG_WARN(TAG, "writer: %s (again in %d ms)", err, *backoff);
		rds_nap(n, *backoff);
		if (*backoff < 2000)
			*backoff *= 2;
	}
	*backoff = 100;
	pthread_mutex_lock(&n->qlock);
	n->wup = 1;
	pthread_mutex_unlock(&n->qlock);
	/* Redis may have lost this node's members (a restart without data,
	 * or a reap while it was away): say them again; a join Redis still
	 * holds is a no-op (HSETNX) */
	rooms_presence_replay(n->rs);
	return 0;
}

/* The last words of a node that stops: its heartbeat goes and a reap
 * makes its remaining members leave at once. */
static void
goodbye(struct redis_node *n)
{
	char key[RDS_PREFIX_MAX + 24];
	redisReply *r;

	snprintf(key, sizeof(key), "%shb:%s", n->prefix, n->node_id);
	r = redisCommand(n->wc, "DEL %s", key);
	if (r)
		freeReplyObject(r);
	if (r) {
		int64_t hb = INT64_MAX, reap = 0;

		send_batch(n, NULL, 0, &hb, &reap);
	}
}

void *
rds_writer(void *arg)
{
	struct redis_node *n = arg;
	struct rds_item *batch[RDS_BATCH];
	int64_t hb_at = 0, reap_at = 0;
	int backoff = 100, quit = 0;

	while (!quit) {
		size_t nb;

		if (!n->wc && reconnect(n, &backoff))
			break;
		pthread_mutex_lock(&n->qlock);
		nb = take(n, batch, 200);
		quit = n->wquit && !n->qhead;
		pthread_mutex_unlock(&n->qlock);
		if (send_batch(n, batch, nb, &hb_at, &reap_at)) {
			LOG_WARN(TAG, "writer: connection lost: %s",
				 n->wc->errstr[0] ? n->wc->errstr :
				 "scripts flushed");
			redisFree(n->wc);
			n->wc = NULL;
			atomic_fetch_add(&n->reconnects, 1);
			pthread_mutex_lock(&n->qlock);
			n->wup = 0;
			fail_waiters(n);
			if (n->wquit)
				n->wquit = 2;	/* stopping: drop the rest */
			pthread_mutex_unlock(&n->qlock);
			quit = 0;
		}
		finish(n, batch, nb);
		if (n->wquit > 1)
			break;
	}
	pthread_mutex_lock(&n->qlock);
	n->wup = 0;
	fail_waiters(n);
	pthread_mutex_unlock(&n->qlock);
	if (n->wc) {
		goodbye(n);
		redisFree(n->wc);
		n->wc = NULL;
	}
	return NULL;
}
