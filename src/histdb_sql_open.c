/* SPDX-License-Identifier: MIT */
/*
 * histdb_sql_open: histdb's start in SQL. The file: WAL, an
 * exclusive lock held while imlab runs (a second server on the same file
 * is refused), application_id "imlb" and user_version 1 to tell ours
 * from any other SQLite file, PRAGMA quick_check at start. The tables:
 *   msgs(id, room, ts, event, cid, target, via, env, to_cid)
 *                                   every message: env the envelope bytes
 *                                   as sent, to_cid a direct message's
 *                                   recipient (who may read it)
 *   rooms(name, floor)              floor: the newest id retention
 *                                   deleted from the room (a gap below)
 *   runs(base, high)                per run: the id before its first and
 *                                   the newest it committed, so a cursor
 *                                   from an earlier run is answered when
 *                                   its run's messages are here and is a
 *                                   gap when they never reached the disk
 * The start (open, checks, the tables, the give-back of every room's
 * history) runs on the starting thread; the batches and the retention
 * (histdb_sql.c) on the writer thread, which alone uses the connection
 * afterwards.
 */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histdb_private.h"
#include "log.h"

#define TAG "histdb"
#define APP_ID 0x696d6c62	/* "imlb" */
#define FORMAT 1		/* user_version of this layout */
#define RUNS_KEPT 64		/* runs remembered (older cursors: a gap) */

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS msgs(id INTEGER PRIMARY KEY,"
	" room TEXT NOT NULL, ts INTEGER NOT NULL, event TEXT NOT NULL,"
	" cid TEXT NOT NULL, target INTEGER NOT NULL, via INTEGER NOT NULL,"
	" env BLOB NOT NULL, to_cid TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX IF NOT EXISTS msgs_room ON msgs(room, id);"
	"CREATE INDEX IF NOT EXISTS msgs_ts ON msgs(ts);"
	"CREATE TABLE IF NOT EXISTS rooms(name TEXT PRIMARY KEY,"
	" floor INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS runs(base INTEGER PRIMARY KEY,"
	" high INTEGER NOT NULL);"
	"PRAGMA application_id=1768778850;"	/* APP_ID */
	"PRAGMA user_version=1;";

/* Fills e for a start that failed at step what with SQLite code rc. */
static enum im_err
bad(struct histdb *db, struct im_error *e, const char *what, int rc)
{
	const char *why = db->db ? sqlite3_errmsg(db->db) : "out of memory";
	int sys = db->db ? sqlite3_system_errno(db->db) : 0;

	switch (rc & 0xff) {
	case SQLITE_NOTADB:
		why = "not an SQLite database (damaged, or another kind of "
		      "file)";
		break;
	case SQLITE_CORRUPT:
		why = "the database is damaged";
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		why = "in use by another process (another imlab?)";
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_IOERR:
	case SQLITE_PERM:
		if (sys)
			why = strerror(sys);
		break;
	default:
		break;
	}
	return im_error_set(e, IM_EINVAL, "bad_history_db",
			    "--history-db %s: %s: %s", db->path, what, why);
}

/* Runs a statement returning one integer into *v; an SQLite code. */
static int
one_int(struct histdb *db, const char *sql, int64_t *v)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Checks the file is ours (or empty) and intact; 0 or -1 with e. */
static int
check_file(struct histdb *db, struct im_error *e)
{
	int64_t app = 0, ver = 0, ntab = 0;
	const unsigned char *ok;
	sqlite3_stmt *s;
	int rc;

	if ((rc = one_int(db, "PRAGMA application_id", &app)) ||
	    (rc = one_int(db, "PRAGMA user_version", &ver)) ||
	    (rc = one_int(db, "SELECT count(*) FROM sqlite_master", &ntab))) {
		bad(db, e, "cannot read it", rc);
		return -1;
	}
	if (app != APP_ID && (app || ntab)) {
		im_error_set(e, IM_EINVAL, "bad_history_db", "--history-db "
			     "%s: an SQLite file, but not an imlab history "
			     "database", db->path);
		return -1;
	}
	if (ver > FORMAT) {
		im_error_set(e, IM_EINVAL, "bad_history_db", "--history-db "
			     "%s: written by a newer imlab (format %" PRId64
			     ")", db->path, ver);
		return -1;
	}
	rc = sqlite3_prepare_v2(db->db, "PRAGMA quick_check(1)", -1, &s,
				NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		ok = sqlite3_column_text(s, 0);
		if (ok && strcmp((const char *)ok, "ok")) {
			im_error_set(e, IM_EINVAL, "bad_history_db",
				     "--history-db %s: the database is "
				     "damaged (%s)", db->path, ok);
			sqlite3_finalize(s);
			return -1;
		}
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_OK) {
		bad(db, e, "cannot check it", rc);
		return -1;
	}
	return 0;
}

enum im_err
histdb_sql_open(struct histdb *db, struct im_error *e)
{
	char sync[40];
	int64_t dummy;
	int rc;

	rc = sqlite3_open_v2(db->path, &db->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return bad(db, e, "cannot open it", rc);
	sqlite3_extended_result_codes(db->db, 1);
	if (sqlite3_db_readonly(db->db, "main") == 1)
		return im_error_set(e, IM_EINVAL, "bad_history_db",
				    "--history-db %s: read-only", db->path);
	rc = sqlite3_exec(db->db, "PRAGMA locking_mode=EXCLUSIVE", NULL,
			  NULL, NULL);
	if (rc != SQLITE_OK)
		return bad(db, e, "cannot lock it", rc);
	if (check_file(db, e))
		return IM_EINVAL;
	/* WAL with the exclusive lock: no shared memory file; the lock is
	 * taken by the first write below and held until close */
	rc = one_int(db, "PRAGMA journal_mode=WAL", &dummy);
	if (rc != SQLITE_OK)
		return bad(db, e, "cannot use WAL", rc);
	snprintf(sync, sizeof(sync), "PRAGMA synchronous=%s",
		 db->cfg.sync ? "FULL" : "NORMAL");
	if ((rc = sqlite3_exec(db->db, sync, NULL, NULL, NULL)) ||
	    (rc = sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)))
		return bad(db, e, "cannot write it", rc);
	rc = sqlite3_exec(db->db, schema, NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		bad(db, e, "cannot write it", rc);
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
		return IM_EINVAL;
	}
	if ((rc = sqlite3_prepare_v2(db->db, "INSERT INTO msgs(id, room, ts,"
				     " event, cid, target, via, env, to_cid)"
				     " VALUES(?,?,?,?,?,?,?,?,?)", -1,
				     &db->ins_msg, NULL)) ||
	    (rc = sqlite3_prepare_v2(db->db, "INSERT OR IGNORE INTO rooms"
				     "(name) VALUES(?)", -1, &db->ins_room,
				     NULL)) ||
	    (rc = sqlite3_prepare_v2(db->db, "UPDATE runs SET high=? WHERE "
				     "base=?", -1, &db->upd_run, NULL)))
		return bad(db, e, "cannot prepare", rc);
	return IM_OK;
}

/* Reads the runs into store_resume() and records this one; an SQLite
 * code (IM_ENOMEM: *oom set). */
static int
resume_runs(struct histdb *db, int *oom)
{
	struct store_span *sp = NULL, *nsp;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s;
	char sql[160];
	int rc;

	rc = sqlite3_prepare_v2(db->db, "SELECT base, high FROM runs ORDER "
				"BY base", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nsp = realloc(sp, cap * sizeof(*sp));
			if (!nsp) {
				*oom = 1;
				break;
			}
			sp = nsp;
		}
		sp[n].lo = (uint64_t)sqlite3_column_int64(s, 0);
		sp[n].hi = (uint64_t)sqlite3_column_int64(s, 1);
		n++;
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	if (!*oom && rc == SQLITE_OK && store_resume(db->st, sp, n))
		*oom = 1;
	free(sp);
	if (*oom || rc != SQLITE_OK)
		return rc;
	db->run_base = store_last_id(db->st);
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO runs VALUES(%"
		 PRIu64 ",%" PRIu64 ");DELETE FROM runs WHERE base NOT IN "
		 "(SELECT base FROM runs ORDER BY base DESC LIMIT %d)",
		 db->run_base, db->run_base, RUNS_KEPT);
	return sqlite3_exec(db->db, sql, NULL, NULL, NULL);
}

/* Gives room name's newest messages back (floor: its retention mark);
 * returns how many, or -1 when the room has no message left. */
static long
load_room(struct histdb *db, sqlite3_stmt *rows, sqlite3_stmt *older,
	  const char *name, uint64_t floor)
{
	struct im_error e = { 0 };
	struct room *r = NULL;
	uint64_t lost = floor;
	long n = 0;
	int any = 0;

	sqlite3_bind_text(rows, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(rows, 2, (sqlite3_int64)db->cfg.history);
	while (sqlite3_step(rows) == SQLITE_ROW) {
		struct msg_parts p = { 0 };
		int target = sqlite3_column_int(rows, 4);
		int via = sqlite3_column_int(rows, 5);
		struct msg *m;

		p.id = (uint64_t)sqlite3_column_int64(rows, 0);
		p.ts = sqlite3_column_int64(rows, 1);
		p.room = name;
		p.event = (const char *)sqlite3_column_text(rows, 2);
		p.cid = (const char *)sqlite3_column_text(rows, 3);
		p.to = (enum msg_target)target;
		p.via = (enum via)via;
		p.to_cid = (const char *)sqlite3_column_text(rows, 7);
		any = 1;
		if (!r) {
			/* the newest id before what is given back */
			sqlite3_bind_text(older, 1, name, -1, SQLITE_STATIC);
			sqlite3_bind_int64(older, 2, (sqlite3_int64)p.id);
			if (sqlite3_step(older) == SQLITE_ROW &&
			    (uint64_t)sqlite3_column_int64(older, 0) > lost)
				lost = (uint64_t)sqlite3_column_int64(older,
								      0);
			sqlite3_reset(older);
			r = rooms_get(db->rs, name, 1, &e);
			if (!r) {
				LOG_WARN(TAG, "room %s not given back: %s",
					 name, e.message);
				break;
			}
			store_ring_lost(db->st, room_ring(r), lost);
		}
		m = NULL;
		if (p.event && target >= MSG_TO_ROOM && target <= MSG_TO_PID &&
		    via >= 0 && via < VIA__COUNT)
			m = msg_restore(&p, sqlite3_column_blob(rows, 6),
					(size_t)sqlite3_column_bytes(rows, 6));
		if (!m) {
			LOG_WARN(TAG, "room %s: message %" PRIu64 " cannot be "
				 "given back (bad row)", name, p.id);
			continue;
		}
		store_restore(db->st, room_ring(r), m);
		n++;
	}
	sqlite3_reset(rows);
	if (!any)
		return -1;
	rooms_release(db->rs, &r);
	return n;
}

/* The room with the highest floor among those with no message left:
 * made and dropped at once, so rings made later start at that floor
 * (a room's reclaim raises rooms_floor()). */
static void
raise_floor(struct histdb *db, const char *name, uint64_t floor)
{
	struct im_error e = { 0 };
	struct room *r = rooms_get(db->rs, name, 1, &e);

	if (!r)
		return;
	store_ring_lost(db->st, room_ring(r), floor);
	rooms_release(db->rs, &r);
}

enum im_err
histdb_sql_open_load(struct histdb *db, struct im_error *e)
{
	sqlite3_stmt *rooms = NULL, *rows = NULL, *older = NULL, *del = NULL;
	char empty[MSG_ROOM_MAX + 1] = "";
	uint64_t empty_floor = 0;
	int oom = 0, rc;

	rc = sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = resume_runs(db, &oom);
	if (oom) {
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
		return im_error_set(e, IM_ENOMEM, "no_memory",
				    "out of memory");
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db->db, "SELECT name, floor FROM rooms"
					" ORDER BY name", -1, &rooms, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db->db, "SELECT id, ts, event, cid, "
					"target, via, env, to_cid FROM (SELECT"
					" * FROM"
					" msgs WHERE room=?1 ORDER BY id DESC"
					" LIMIT ?2) ORDER BY id", -1, &rows,
					NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db->db, "SELECT max(id) FROM msgs "
					"WHERE room=?1 AND id<?2", -1, &older,
					NULL);
	while (rc == SQLITE_OK) {
		int step = sqlite3_step(rooms);
		const char *name;
		uint64_t floor;
		long n;

		if (step != SQLITE_ROW) {
			rc = step == SQLITE_DONE ? SQLITE_OK : step;
			break;
		}
		name = (const char *)sqlite3_column_text(rooms, 0);
		floor = (uint64_t)sqlite3_column_int64(rooms, 1);

		if (!name || strlen(name) > MSG_ROOM_MAX)
			continue;
		n = load_room(db, rows, older, name, floor);
		if (n > 0)
			db->stats.loaded += (uint64_t)n;
		else if (n < 0 && floor > empty_floor) {
			empty_floor = floor;
			snprintf(empty, sizeof(empty), "%s", name);
		}
	}
	/* rooms with nothing left: only the highest floor matters */
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db->db, "DELETE FROM rooms WHERE name"
					"<>?1 AND NOT EXISTS (SELECT 1 FROM "
					"msgs WHERE room=rooms.name)", -1, &del,
					NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(del, 1, empty, -1, SQLITE_STATIC);
		rc = sqlite3_step(del) == SQLITE_DONE ? SQLITE_OK :
			sqlite3_errcode(db->db);
	}
	sqlite3_finalize(del);
	sqlite3_finalize(older);
	sqlite3_finalize(rows);
	sqlite3_finalize(rooms);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		bad(db, e, "cannot read it", rc);
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
		return IM_EINVAL;
	}
	if (empty_floor)
		raise_floor(db, empty, empty_floor);
	return IM_OK;
}
