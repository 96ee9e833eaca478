/* SPDX-License-Identifier: MIT */
/*
 * histdb_private: struct histdb, shared by histdb.c (the queue, the
 * writer thread, the sink, the counters), histdb_sql_open.c (the SQL of
 * the start: open and checks, the give-back) and histdb_sql.c (the
 * writer's SQL: a batch's transaction, the retention). Nothing else
 * includes it.
 */
#ifndef IMLAB_HISTDB_PRIVATE_H
#define IMLAB_HISTDB_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>

#include <sqlite3.h>

#include "err.h"
#include "histdb_types.h"
#include "hmap.h"
#include "msg.h"
#include "room.h"
#include "store.h"

/* A room written to since the last retention pass (writer only). */
struct histdb_room {
	char name[MSG_ROOM_MAX + 1];	/* the hmap key */
};

struct histdb {
	struct histdb_config cfg;	/* cfg.path points at path */
	char *path;			/* owned */
	struct store *st;		/* borrowed */
	struct rooms *rs;		/* borrowed */
	sqlite3 *db;			/* main thread at start, then the
					 * writer's alone */
	sqlite3_stmt *ins_msg, *ins_room, *upd_run;
	uint64_t run_base;		/* this run's row in runs */
	struct hmap touched;		/* writer only: histdb_room */
	unsigned cur_pages;		/* writer only: max_page_count set */
	char errbuf[160];		/* writer only: the last SQL error */
	atomic_uint max_pages;		/* histdb_test_max_pages() */
	int hold;			/* histdb_test_hold(); under lock */

	pthread_mutex_t lock;		/* guards what follows */
	pthread_cond_t wake;		/* the writer: news or stop */
	pthread_cond_t done;		/* histdb_flush(): a commit */
	struct msg **q;			/* cap slots; [head, head+len) wait */
	int64_t *q_us;			/* each one's monotonic queue time */
	size_t cap, head, len;
	uint64_t queued;		/* messages ever queued */
	int stopping;
	int failing;
	struct histdb_stats stats;
	pthread_t thread;
	int started;
};

/* histdb_sql_open.c (the start) and histdb_sql.c (the writer). The
 * writer's calls return an SQLite result code (SQLITE_OK) and, on
 * failure, leave the reason in db->errbuf; the start's fill e. */

/* Opens db->path, sets WAL and the locking, checks the file and creates
 * the tables; IM_EINVAL "bad_history_db" with e filled on failure. */
enum im_err histdb_sql_open(struct histdb *db, struct im_error *e);

/* Continues the id sequence (store_resume()), records this run and
 * gives every room's history back to db->st through db->rs. */
enum im_err histdb_sql_open_load(struct histdb *db, struct im_error *e);

/* One batch: begin, put each message, end (records high, the newest id
 * put, as this run's, and commits; rolls back on failure). */
int histdb_sql_begin(struct histdb *db);
int histdb_sql_put(struct histdb *db, const struct msg *m);
int histdb_sql_end(struct histdb *db, uint64_t high, int ok);

/* The retention pass: rooms in db->touched over cfg.keep, and (with
 * cfg.max_age_ms) everything older than now_ms - max_age_ms; adds what
 * it deleted to *deleted and empties db->touched. */
int histdb_sql_retain(struct histdb *db, int64_t now_ms, uint64_t *deleted);

/* Closes the statements and the file. */
void histdb_sql_close(struct histdb *db);

#endif
