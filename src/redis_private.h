/* SPDX-License-Identifier: MIT */
/*
 * redis_private: the state shared by the files that implement
 * redis_node.h and by no one else: redis_conn.c (URL, connecting, the
 * scripts), redis_pub.c (the writer thread: publishes, joins and leaves,
 * heartbeat, reaping dead nodes), redis_sub.c (the reader thread: the
 * stream applied into the local store, loss detection) and redis_node.c
 * (start, stop, members). Include it after redis_node.h.
 *
 * Locks: qlock (the writer's queue, wup) and alock (applied, rup) are
 * leaves: the presence hook takes qlock under rooms.lock, nothing takes
 * rooms.lock or store.lock while holding either; clock guards the query
 * connection alone.
 */
#ifndef IMLAB_REDIS_PRIVATE_H
#define IMLAB_REDIS_PRIVATE_H

#include <hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "err.h"
#include "msg.h"

#define RDS_PREFIX_MAX 32
#define RDS_ARGS 20		/* arguments of one script call at most */
#define RDS_QUEUE_MAX 65536	/* joins/leaves queued at most */
#define RDS_BATCH 256		/* calls pipelined at once */
#define RDS_LEAD ((uint64_t)1 << 20)	/* ids another node may be ahead */

/* Where Redis is. */
struct rds_url {
	char host[256];
	int port;
	int db;
	char user[64];
	char pass[128];
};

/* The scripts, by index (redis_conn.c). */
enum rds_script { RDS_HELLO = 0, RDS_PUBLISH, RDS_PRESENCE, RDS_REAP,
		  RDS__SCRIPTS };

/* One call queued for the writer: a publish (a thread waits for it) or a
 * join/leave (nobody waits). argv[0..argc) are owned copies; argv[4] and
 * argv[5] (floor, seed) are filled when it is sent. */
struct rds_item {
	struct rds_item *next;
	int wait;		/* 1: a publish; its thread waits for done */
	int done;		/* under qlock */
	enum im_err err;
	uint64_t id;
	int64_t ts;
	int dup;
	int argc;
	char *argv[RDS_ARGS];
	size_t len[RDS_ARGS];
	char floor[24], seed[24];
};

struct redis_node {
	struct rds_url url;
	char prefix[RDS_PREFIX_MAX + 1];
	int ttl_ms;
	long log_max;
	char log_max_s[24];
	size_t max_data;
	char node_id[17];	/* random per process */
	unsigned char key[32];	/* the shared pid key */
	uint64_t base;		/* the shared history's base at open */
	char epoch[40];		/* Redis's data generation, as last seen */
	struct store *st;	/* borrowed */
	struct rooms *rs;	/* borrowed */
	atomic_int stopping;

	/* the writer (redis_pub.c) */
	pthread_t wthr;
	int wstarted;
	redisContext *wc;	/* the writer thread's (open's before) */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;	/* the queue grew, or stop */
	pthread_cond_t dcond;	/* an item is done */
	struct rds_item *qhead, *qtail;
	size_t qlen;
	int wup;		/* connected: publishes are accepted */
	int wquit;		/* under qlock: drain, then end */

	/* the reader (redis_sub.c) */
	pthread_t rthr;
	int rstarted;
	redisContext *rc;
	pthread_mutex_t alock;
	pthread_cond_t acond;	/* applied moved */
	uint64_t applied;	/* newest stream id applied, under alock */
	int rup;

	/* the members query (redis_node.c) */
	pthread_mutex_t clock;
	redisContext *qc;

	atomic_ulong reconnects;
	atomic_ulong losses;
};

/* Parses url into u; returns 0, or -1 with a message in err. */
int rds_url_parse(const char *url, struct rds_url *u, char *err,
		  size_t errlen);

/* Connects to u with timeout_ms for the connection and every command,
 * authenticates, selects the db and loads the scripts. Returns the
 * context (the caller redisFree()s it), or NULL with a message in err. */
redisContext *rds_connect(const struct rds_url *u, int timeout_ms,
			  char *err, size_t errlen);

/* The SHA1 of script s (static, 40 hex digits), known once rds_connect()
 * succeeded once. */
const char *rds_sha(enum rds_script s);

/* Runs redisCommandArgv() and returns the reply, or NULL on an I/O error
 * (c is then unusable) with a message in err; an error reply is returned
 * as it is. */
redisReply *rds_call(redisContext *c, int argc, const char **argv,
		     const size_t *len, char *err, size_t errlen);

/* The id of a stream entry "N-0" (0 when it is not one). */
uint64_t rds_entry_id(const char *s, size_t len);

/* Fills buf with the node's seed for a fresh sequence: the clock rule of
 * the store ((unix ms << STORE_ID_SHIFT)), at least floor. */
void rds_seed(uint64_t floor, char buf[24]);

/* The presence hook (rooms_presence_fn) and the publish path
 * (hub_post_fn) of a node; ctx is the struct redis_node (redis_pub.c). */
void rds_presence(void *ctx, const char *room, const char *cid,
		  const char *pid, const char *from, enum via via,
		  const char *event);
struct rooms_posted;
enum im_err rds_post(void *ctx, const struct msg_parts *p, const char *mid,
		     struct rooms_posted *res, struct im_error *e);

/* The writer's thread (redis_pub.c). */
void *rds_writer(void *arg);

/* The reader's thread (redis_sub.c). */
void *rds_reader(void *arg);

/* Applies the stream from the start into the local store (at attach,
 * before the threads start); returns 0 or -1 with e filled. */
int rds_load(struct redis_node *n, struct im_error *e);

/* Sleeps ms unless the node is stopping (then returns at once). */
void rds_nap(struct redis_node *n, int ms);

#endif
