/* SPDX-License-Identifier: MIT */
/*
 * histdb_sql: histdb's writer in SQL, on the writer thread, which alone
 * uses the connection after the start (histdb_sql_open.c: the file, its
 * checks, the tables and the give-back): a batch of messages in one
 * transaction with this run's newest id, the retention passes (count per
 * room, age overall, each room's floor raised to what they deleted) and
 * the close.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histdb_private.h"
#include "log.h"

#define TAG "histdb"

/* Keeps the reason of a failure in db->errbuf; returns rc. */
static int
fail(struct histdb *db, int rc)
{
	snprintf(db->errbuf, sizeof(db->errbuf), "%s",
		 sqlite3_errmsg(db->db));
	return rc;
}

int
histdb_sql_begin(struct histdb *db)
{
	int rc = sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL);

	return rc == SQLITE_OK ? rc : fail(db, rc);
}

/* Remembers room for the next retention pass (writer only). */
static void
touch(struct histdb *db, const char *room)
{
	struct histdb_room *r;

	if (hmap_get(&db->touched, room))
		return;
	r = malloc(sizeof(*r));
	if (!r)
		return;		/* its retention waits for its next write */
	snprintf(r->name, sizeof(r->name), "%s", room);
	if (hmap_put(&db->touched, r->name, r))
		free(r);
}

int
histdb_sql_put(struct histdb *db, const struct msg *m)
{
	sqlite3_stmt *s = db->ins_msg;
	int rc;

	sqlite3_bind_int64(s, 1, (sqlite3_int64)m->id);
	sqlite3_bind_text(s, 2, m->room, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, m->ts);
	sqlite3_bind_text(s, 4, m->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, m->cid, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 6, (int)m->to);
	sqlite3_bind_int(s, 7, (int)m->via);
	sqlite3_bind_blob(s, 8, m->json, (int)m->json_len, SQLITE_STATIC);
	sqlite3_bind_text(s, 9, m->to_cid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return fail(db, rc);
	sqlite3_bind_text(db->ins_room, 1, m->room, -1, SQLITE_STATIC);
	rc = sqlite3_step(db->ins_room);
	sqlite3_reset(db->ins_room);
	if (rc != SQLITE_DONE)
		return fail(db, rc);
	touch(db, m->room);
	return SQLITE_OK;
}

int
histdb_sql_end(struct histdb *db, uint64_t high, int ok)
{
	int rc = SQLITE_OK;

	if (ok) {
		sqlite3_bind_int64(db->upd_run, 1, (sqlite3_int64)high);
		sqlite3_bind_int64(db->upd_run, 2,
				   (sqlite3_int64)db->run_base);
		rc = sqlite3_step(db->upd_run);
		sqlite3_reset(db->upd_run);
		rc = rc == SQLITE_DONE ? SQLITE_OK : fail(db, rc);
	}
	if (ok && rc == SQLITE_OK) {
		rc = sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			fail(db, rc);
	} else if (!ok) {
		rc = SQLITE_ERROR;	/* the reason is in errbuf already */
	}
	/* a failed statement or commit may have rolled back already */
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(db->db))
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Runs sql with ?1 = a and ?2 = b (text a when ta); an SQLite code and
 * the changes it made in *changes. */
static int
run2(struct histdb *db, const char *sql, const char *ta, int64_t a,
     int64_t b, uint64_t *changes)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return fail(db, rc);
	if (ta)
		sqlite3_bind_text(s, 1, ta, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return fail(db, rc);
	if (changes)
		*changes += (uint64_t)sqlite3_changes(db->db);
	return SQLITE_OK;
}

/* Count retention of one room: keeps its newest cfg.keep. */
static int
keep_newest(struct histdb *db, const char *room, uint64_t *deleted)
{
	sqlite3_stmt *s;
	int64_t cut = 0;
	int rc = sqlite3_prepare_v2(db->db, "SELECT id FROM msgs WHERE room="
				    "?1 ORDER BY id DESC LIMIT 1 OFFSET ?2",
				    -1, &s, NULL);

	if (rc != SQLITE_OK)
		return fail(db, rc);
	sqlite3_bind_text(s, 1, room, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)db->cfg.keep);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		cut = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(db, rc);
	if (!cut)
		return SQLITE_OK;
	rc = run2(db, "DELETE FROM msgs WHERE room=?1 AND id<=?2", room, 0,
		  cut, deleted);
	if (rc == SQLITE_OK)
		rc = run2(db, "UPDATE rooms SET floor=max(floor, ?2) WHERE "
			  "name=?1", room, 0, cut, NULL);
	return rc;
}

/* Age retention: everything older than cutoff (ms), each room's floor
 * raised to the newest id it loses. */
static int
drop_older(struct histdb *db, int64_t cutoff, uint64_t *deleted)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db->db, "SELECT room, max(id) FROM msgs "
				    "WHERE ts<?1 GROUP BY room", -1, &s, NULL);

	if (rc != SQLITE_OK)
		return fail(db, rc);
	sqlite3_bind_int64(s, 1, cutoff);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rc = run2(db, "UPDATE rooms SET floor=max(floor, ?2) WHERE "
			  "name=?1", (const char *)sqlite3_column_text(s, 0),
			  0, sqlite3_column_int64(s, 1), NULL);
		if (rc != SQLITE_OK)
			break;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_OK ? SQLITE_ERROR : fail(db, rc);
	return run2(db, "DELETE FROM msgs WHERE ts<?1 AND ?2=?2", NULL,
		    cutoff, 0, deleted);
}

int
histdb_sql_retain(struct histdb *db, int64_t now_ms, uint64_t *deleted)
{
	struct histdb_room *r;
	uint64_t del = 0;
	size_t pos = 0;
	int rc;

	if (!db->touched.len && !db->cfg.max_age_ms)
		return SQLITE_OK;
	rc = histdb_sql_begin(db);
	while ((r = hmap_next(&db->touched, &pos))) {
		if (rc == SQLITE_OK)
			rc = keep_newest(db, r->name, &del);
		free(r);
	}
	hmap_clear(&db->touched);
	if (rc == SQLITE_OK && db->cfg.max_age_ms)
		rc = drop_older(db, now_ms - db->cfg.max_age_ms, &del);
	if (rc == SQLITE_OK) {
		rc = sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			fail(db, rc);
	}
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(db->db))
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		*deleted += del;
	return rc;
}

void
histdb_sql_close(struct histdb *db)
{
	sqlite3_finalize(db->ins_msg);
	sqlite3_finalize(db->ins_room);
	sqlite3_finalize(db->upd_run);
	db->ins_msg = db->ins_room = db->upd_run = NULL;
	if (db->db && sqlite3_close(db->db) != SQLITE_OK)
		LOG_WARN(TAG, "%s: close: %s", db->path,
			 sqlite3_errmsg(db->db));
	db->db = NULL;
}
