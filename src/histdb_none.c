/* SPDX-License-Identifier: MIT */
/*
 * histdb_none: histdb for an imlab built without SQLite (configure found
 * no libsqlite3-dev, or --without-sqlite). config_check() already
 * refuses --history-db; these keep the server and the tests linking.
 */
#include "autoconf.h"

#include "histdb.h"

struct histdb *
histdb_start(const struct histdb_config *cfg, struct store *st,
	     struct rooms *rs, struct im_error *e)
{
	(void)cfg;
	(void)st;
	(void)rs;
	im_error_set(e, IM_EINVAL, "bad_history_db", "--history-db: this "
		     "imlab was built without SQLite (install libsqlite3-dev,"
		     " then ./configure --with-sqlite)");
	return NULL;
}

void
histdb_stop(struct histdb **dbp)
{
	(void)dbp;
}

int
histdb_flush(struct histdb *db, int timeout_ms)
{
	(void)db;
	(void)timeout_ms;
	return -1;
}

void
histdb_get_stats(struct histdb *db, struct histdb_stats *out)
{
	(void)db;
	*out = (struct histdb_stats){ 0 };
}

void
histdb_metrics(struct histdb *db, FILE *f)
{
	(void)db;
	(void)f;
}

void
histdb_test_max_pages(struct histdb *db, unsigned pages)
{
	(void)db;
	(void)pages;
}

void
histdb_test_hold(struct histdb *db, int hold)
{
	(void)db;
	(void)hold;
}
