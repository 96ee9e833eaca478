/* SPDX-License-Identifier: MIT */
/*
 * histdb: durable history in SQLite (--history-db). Every message the
 * store appends is also queued, in id order, for one writer thread that
 * commits them in batches (WAL, one transaction per batch) and applies
 * the retention (--history-db-keep, --history-db-max-age). At start each
 * room's last --history messages are given back to the store byte for
 * byte and the id sequence continues after everything an earlier run
 * handed out, so a cursor from before a restart resumes without a gap.
 * When the queue is full or the disk fails, the store's append is
 * refused (publishing answers 503) rather than a message dropped.
 * Built only with SQLite (configure --with-sqlite); histdb_none.c stands
 * in otherwise and refuses to start.
 */
#ifndef IMLAB_HISTDB_H
#define IMLAB_HISTDB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "histdb_types.h"
#include "room.h"
#include "store.h"

struct histdb;

/* Opens cfg->path (creating it and its tables when missing), checks that
 * it is an imlab history database, intact and writable, and takes it for
 * this process alone; gives each room's last cfg->history messages back
 * to st through rs, continues st's id sequence after every id an earlier
 * run handed out (store_resume()); then starts the writer thread and
 * becomes st's sink. st and rs are borrowed and must outlive the
 * histdb. Runs on the starting thread, before any other uses st.
 * Returns the histdb, or NULL with e filled: IM_EINVAL (code
 * "bad_history_db") for a file that cannot be opened, created, written
 * or read as ours, IM_ENOMEM or IM_ESYS otherwise. */
struct histdb *histdb_start(const struct histdb_config *cfg,
			    struct store *st, struct rooms *rs,
			    struct im_error *e);

/* Stops being st's sink, commits everything queued (retrying a failing
 * disk a few times, then logging how many acknowledged messages were
 * lost), stops the writer and closes the file; sets *dbp to NULL. NULL
 * or *dbp NULL: a no-op. Call once nothing publishes any more. */
void histdb_stop(struct histdb **dbp);

/* Waits until everything queued before the call is committed or
 * timeout_ms passed; returns 0, or -1 on timeout or while writes fail.
 * Thread-safe (tests, shutdown paths). */
int histdb_flush(struct histdb *db, int timeout_ms);

/* Copies the counters into out. Thread-safe. */
void histdb_get_stats(struct histdb *db, struct histdb_stats *out);

/* Writes the imlab_history_db_* series (Prometheus text) to f; db NULL
 * (no --history-db): nothing. Thread-safe. */
void histdb_metrics(struct histdb *db, FILE *f);

/* For tests: caps the database file at pages pages (PRAGMA
 * max_page_count), which the writer then meets as a full disk (0: no
 * cap). Takes effect before the next commit. */
void histdb_test_max_pages(struct histdb *db, unsigned pages);

/* For tests: hold 1 keeps the writer from starting another batch (what
 * is queued stays queued), 0 lets it go on. */
void histdb_test_hold(struct histdb *db, int hold);

#endif
