/* SPDX-License-Identifier: MIT */
/*
 * redis_sub: the reader of a node: the shared stream, read in order on
 * its own thread and connection (XREAD BLOCK after the newest id
 * applied) and applied into the local store with the ids, times and
 * pids it carries (rooms_post_at()), this node's own publishes included,
 * a direct message with its recipient's pid and cid (fields o and k),
 * so every node's store holds the same messages under the same ids. On
 * each reconnect the HELLO script tells whether Redis lost data (its
 * epoch changed, or the stream ends before what this node applied) or
 * trimmed entries this node never read: then the store's base is raised
 * (store_raise_base()) so that every older cursor is told of a gap, and
 * reading goes on after the newest id applied - never a message twice.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"
#include "names.h"
#include "redis_node.h"
#include "redis_private.h"

#define TAG "redis"
#define READ_COUNT "512"
#define READ_BLOCK_MS "500"
#define LOAD_COUNT "1000"

void
rds_nap(struct redis_node *n, int ms)
{
	for (int i = 0; i < ms && !atomic_load(&n->stopping); i += 50) {
		struct timespec ts = { 0, 50 * 1000000L };

		nanosleep(&ts, NULL);
	}
}

/* A field value's string (NULL when it is not a string). */
static const char *
sval(const redisReply *r)
{
	return r->type == REDIS_REPLY_STRING ? r->str : NULL;
}

static int
name_ok(enum name_kind k, const char *s, int may_be_empty)
{
	if (!s)
		return 0;
	if (!*s)
		return may_be_empty;
	return names_check(k, s, strlen(s), NULL) == IM_OK;
}

static int
pid_ok(const char *s)
{
	size_t i;

	if (!s)
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 0 || i == MSG_PID_LEN;
}

/* Applies one stream entry [ID, [field, value, ...]] after *last;
 * entries at or before *last are replays and skipped. Returns 1 when
 * applied, 0 when skipped. */
static int
apply(struct redis_node *n, const redisReply *e, uint64_t *last)
{
	const char *f[128] = { 0 };
	struct msg_parts p = { 0 };
	const redisReply *kv;
	uint64_t id;
	int via = -1;
	enum im_err err;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    e->element[1]->type != REDIS_REPLY_ARRAY)
		return 0;
	id = rds_entry_id(e->element[0]->str, e->element[0]->len);
	if (!id || id <= *last)
		return 0;
	*last = id;
	kv = e->element[1];
	for (size_t i = 0; i + 1 < kv->elements; i += 2) {
		const char *k = sval(kv->element[i]);

		if (k && k[0] > 0 && !k[1])
			f[(unsigned char)k[0] & 127] = sval(kv->element[i + 1]);
	}
	for (int v = 0; f['v'] && v < VIA__COUNT; v++)
		if (!strcmp(f['v'], via_name((enum via)v)))
			via = v;
	if (!name_ok(NAME_ROOM, f['r'], 0) || !name_ok(NAME_EVENT, f['e'], 0)
	    || !name_ok(NAME_FROM, f['f'], 1) || !name_ok(NAME_CID, f['c'], 1)
	    || !pid_ok(f['p']) || via < 0 || !f['t'] || f['t'][0] < '0' ||
	    f['t'][0] > '3' || f['t'][1] || !f['s'] || !f['d'] ||
	    !f['d'][0] || strlen(f['d']) > n->max_data ||
	    (f['t'][0] == '3' && (!pid_ok(f['o']) || !f['o'][0] ||
				  !name_ok(NAME_CID, f['k'], 0)))) {
		LOG_WARN(TAG, "stream entry %" PRIu64 " is malformed: skipped",
			 id);
		return 0;
	}
	p.id = id;
	p.ts = (int64_t)rds_entry_id(f['s'], strlen(f['s']));
	p.room = f['r'];
	p.event = f['e'];
	p.from = f['f'];
	p.pid = f['p'];
	p.cid = f['c'][0] ? f['c'] : NULL;
	p.via = (enum via)via;
	p.to = (enum msg_target)(f['t'][0] - '0');
	if (p.to == MSG_TO_PID) {	/* a direct message: o pid, k cid */
		p.to_pid = f['o'];
		p.to_cid = f['k'];
	}
	p.data_json = f['d'];
	p.data_len = strlen(f['d']);
	err = rooms_post_at(n->rs, &p);
	if (err != IM_OK && err != IM_EINVAL)
		LOG_WARN(TAG, "message %" PRIu64 " for room %s not kept here: "
			 "%s", id, p.room, im_strerror(err));
	return 1;
}

/* Applies the entries of an XRANGE reply; returns how many it saw. */
static size_t
apply_all(struct redis_node *n, const redisReply *r, uint64_t *last)
{
	size_t i;

	for (i = 0; i < r->elements; i++)
		apply(n, r->element[i], last);
	return i;
}

static void
set_applied(struct redis_node *n, uint64_t last, int up)
{
	pthread_mutex_lock(&n->alock);
	if (last > n->applied)
		n->applied = last;
	n->rup = up;
	pthread_cond_broadcast(&n->acond);
	pthread_mutex_unlock(&n->alock);
}

int
rds_load(struct redis_node *n, struct im_error *e)
{
	char key[RDS_PREFIX_MAX + 8], from[32];
	uint64_t last = n->base;
	size_t total = 0;

	snprintf(key, sizeof(key), "%slog", n->prefix);
	snprintf(from, sizeof(from), "-");
	for (;;) {
		redisReply *r = redisCommand(n->wc, "XRANGE %s %s + COUNT %s",
					     key, from, LOAD_COUNT);
		size_t got;

		if (!r || r->type != REDIS_REPLY_ARRAY) {
			im_error_set(e, IM_EFULL, "backend_unavailable",
				     "loading the shared history: %s",
				     r && r->type == REDIS_REPLY_ERROR ?
				     r->str : n->wc->errstr);
			if (r)
				freeReplyObject(r);
			return -1;
		}
		got = apply_all(n, r, &last);
		freeReplyObject(r);
		total += got;
		if (!got)
			break;
		snprintf(from, sizeof(from), "(%" PRIu64 "-0", last);
	}
	set_applied(n, last, 1);
	LOG_INFO(TAG, "node %s: %zu shared messages loaded, up to %" PRIu64,
		 n->node_id, total, last);
	return 0;
}

/* HELLO after a reconnect: compares what Redis holds with what this node
 * applied (last) and opens a gap when history was lost. */
static int
hello(struct redis_node *n, uint64_t last)
{
	char floor[24], seed[24], ep[33];
	unsigned char rnd[16];
	redisReply *r;
	uint64_t v[6] = { 0 };
	int lost, trimmed;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0, sizeof(rnd));
	for (int i = 0; i < 16; i++)
		snprintf(ep + 2 * i, 3, "%02x", rnd[i] ^ (unsigned)i);
	snprintf(floor, sizeof(floor), "%" PRIu64, last);
	rds_seed(last, seed);
	r = redisCommand(n->rc, "EVALSHA %s 0 %s %s %s %s",
			 rds_sha(RDS_HELLO), n->prefix, floor, seed, ep);
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 6) {
		LOG_WARN(TAG, "reader: HELLO failed: %s", !r ? n->rc->errstr :
			 r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
		if (r)
			freeReplyObject(r);
		return -1;
	}
	for (int i = 1; i < 6; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING)
			v[i] = rds_entry_id(r->element[i]->str,
					    r->element[i]->len);
	lost = r->element[0]->type == REDIS_REPLY_STRING &&
	       strcmp(r->element[0]->str, n->epoch) != 0;
	if (lost)
		snprintf(n->epoch, sizeof(n->epoch), "%s",
			 r->element[0]->str);
	freeReplyObject(r);
	/* v: 1 seq, 2 first, 3 last entry, 4 first after ours, 5 trimmed */
	/* the stream ends before what was applied (an empty one only when
	 * something was applied since the node started) */
	if (!lost && v[3] < last && (v[3] || last > n->base))
		lost = 1;
	trimmed = v[5] > last;
	if (lost) {
		uint64_t base = v[4] ? v[4] - 1 : v[1];

		if (base < last)
			base = last;
		store_raise_base(n->st, base);
		atomic_fetch_add(&n->losses, 1);
		LOG_WARN(TAG, "Redis lost data after id %" PRIu64 ": cursors "
			 "before %" PRIu64 " are told of a gap", last, base);
	} else if (trimmed) {
		store_raise_base(n->st, v[5]);
		atomic_fetch_add(&n->losses, 1);
		LOG_WARN(TAG, "the stream was trimmed past id %" PRIu64
			 " (to %" PRIu64 "): a gap", last, v[5]);
	}
	return 0;
}

/* One XREAD; returns 0, or -1 when the connection failed. */
static int
read_once(struct redis_node *n, const char *key, uint64_t *last)
{
	char from[32];
	redisReply *r;

	snprintf(from, sizeof(from), "%" PRIu64 "-0", *last);
	r = redisCommand(n->rc, "XREAD COUNT %s BLOCK %s STREAMS %s %s",
			 READ_COUNT, READ_BLOCK_MS, key, from);
	if (!r)
		return -1;
	if (r->type == REDIS_REPLY_ERROR) {
		LOG_WARN(TAG, "reader: XREAD: %s", r->str);
		freeReplyObject(r);
		rds_nap(n, 500);
		return 0;
	}
	/* [[key, [entry, ...]]], or nil after the block time */
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2 &&
	    r->element[0]->element[1]->type == REDIS_REPLY_ARRAY)
		apply_all(n, r->element[0]->element[1], last);
	freeReplyObject(r);
	set_applied(n, *last, 1);
	return 0;
}

void *
rds_reader(void *arg)
{
	struct redis_node *n = arg;
	char key[RDS_PREFIX_MAX + 8], err[256];
	uint64_t last;
	int backoff = 100;

	pthread_mutex_lock(&n->alock);
	last = n->applied;
	pthread_mutex_unlock(&n->alock);
	snprintf(key, sizeof(key), "%slog", n->prefix);
	while (!atomic_load(&n->stopping)) {
		if (!n->rc) {
			err[0] = '\0';
			n->rc = rds_connect(&n->url, 2000, err, sizeof(err));
			if (n->rc && hello(n, last)) {
				redisFree(n->rc);
				n->rc = NULL;
			}
			if (!n->rc) {
				LOG_WARN(TAG, "reader: %s (again in %d ms)",
					 err[0] ? err : "HELLO failed",
					 backoff);
				rds_nap(n, backoff);
				if (backoff < 2000)
					backoff *= 2;
				continue;
			}
			backoff = 100;
			LOG_INFO(TAG, "reader: connected, reading after %"
				 PRIu64, last);
		}
		if (read_once(n, key, &last)) {
			LOG_WARN(TAG, "reader: connection lost: %s",
				 n->rc->errstr);
			redisFree(n->rc);
			n->rc = NULL;
			atomic_fetch_add(&n->reconnects, 1);
			set_applied(n, last, 0);
		}
	}
	if (n->rc) {
		redisFree(n->rc);
		n->rc = NULL;
	}
	set_applied(n, last, 0);
	return NULL;
}
