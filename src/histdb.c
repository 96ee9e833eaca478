/* SPDX-License-Identifier: MIT */
/*
 * histdb: the queue between the store and the database, the writer
 * thread that empties it, and the counters. The store calls the sink
 * (sink_put) with its lock held, so messages are queued in id order;
 * the queue is a fixed ring of --history-db-queue references, and a
 * message leaves it only once its batch is committed. While it is full,
 * or since a commit failed and until one works again, the sink refuses
 * the append, which makes the publish fail (503 history_busy,
 * history_write_failed) instead of a message being acknowledged and then
 * lost. A failed batch stays queued and is retried. Lock order: the
 * store's, then db->lock; the writer takes db->lock alone and runs SQL
 * without it.
 */
#include "autoconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "histdb.h"
#include "histdb_private.h"
#include "log.h"

#define TAG "histdb"
#define BATCH_MAX 1024		/* messages per transaction at most */
#define RETAIN_MS 1000		/* between retention passes */
#define RETRY_MS 200		/* between tries of a failed batch */
#define STOP_TRIES 5		/* tries of a failing batch at stop */
#define NAG_MS 10000		/* between "still failing" log lines */

static const int64_t lat_bounds[] = HISTDB_LAT_BOUNDS;
#define NBOUNDS (sizeof(lat_bounds) / sizeof(*lat_bounds))

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t
thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Waits on c for up to ms milliseconds; db->lock held. */
static void
wait_ms(pthread_cond_t *c, pthread_mutex_t *m, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(c, m, &ts);
}

/* The store's sink: queues m (a new reference) or refuses. Store lock
 * held: never blocks. */
static enum im_err
sink_put(void *ctx, struct msg *m)
{
	struct histdb *db = ctx;
	size_t slot;

	pthread_mutex_lock(&db->lock);
	if (db->failing || db->len == db->cap) {
		if (db->failing)
			db->stats.refused_failed++;
		else
			db->stats.refused_busy++;
		pthread_mutex_unlock(&db->lock);
		return IM_EFULL;
	}
	slot = (db->head + db->len) % db->cap;
	db->q[slot] = msg_ref(m);
	db->q_us[slot] = mono_us();
	if (db->len++ == 0)
		pthread_cond_signal(&db->wake);
	db->queued++;
	pthread_mutex_unlock(&db->lock);
	return IM_OK;
}

static void
sink_explain(void *ctx, enum im_err err, struct im_error *e)
{
	struct histdb *db = ctx;
	int failing;

	pthread_mutex_lock(&db->lock);
	failing = db->failing;
	pthread_mutex_unlock(&db->lock);
	if (failing)
		im_error_set(e, err, "history_write_failed",
			     "the history database cannot be written (see "
			     "the server log); nothing was stored");
	else
		im_error_set(e, err, "history_busy",
			     "%zu messages are waiting for the history "
			     "database; nothing was stored, try again",
			     db->cap);
}

/* Commits q[head .. head+n) in one transaction; returns an SQLite
 * code. Writer thread, db->lock not held (those slots are the writer's
 * until it moves head). */
static int
commit_batch(struct histdb *db, size_t head, size_t n)
{
	unsigned pages = atomic_load(&db->max_pages);
	uint64_t high = 0;
	int rc;

	if (pages != db->cur_pages) {
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%u",
			 pages ? pages : 0xfffffffeU);
		sqlite3_exec(db->db, sql, NULL, NULL, NULL);
		db->cur_pages = pages;
	}
	rc = histdb_sql_begin(db);
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
		const struct msg *m = db->q[(head + i) % db->cap];

		rc = histdb_sql_put(db, m);
		high = m->id;
	}
	return histdb_sql_end(db, high, rc == SQLITE_OK);
}

/* After a commit of q[head .. head+n): counts each one's latency and
 * drops the queue's references; db->lock not held. */
static void
settle(struct histdb *db, size_t head, size_t n, uint64_t hist[],
       uint64_t *sum, uint64_t *max)
{
	int64_t now = mono_us();

	for (size_t i = 0; i < n; i++) {
		size_t s = (head + i) % db->cap;
		uint64_t us = (uint64_t)(now - db->q_us[s]);
		size_t b = 0;

		while (b < NBOUNDS && (int64_t)us > lat_bounds[b] * 1000)
			b++;
		hist[b]++;
		*sum += us;
		if (us > *max)
			*max = us;
		msg_unref(&db->q[s]);
	}
}

/* A failed batch: refuse publishes, log (the first time and every
 * NAG_MS); db->lock held. */
static void
failed(struct histdb *db, int64_t *nag)
{
	int64_t now = im_mono_ms();

	db->stats.errors++;
	if (!db->failing || now >= *nag) {
		LOG_ERROR(TAG, "%s: cannot write: %s; %zu acknowledged "
			  "messages wait and are retried, publishing fails "
			  "(503 history_write_failed) until a write works",
			  db->path, db->errbuf, db->len);
		*nag = now + NAG_MS;
	}
	db->failing = 1;
}

static void *
writer(void *arg)
{
	struct histdb *db = arg;
	int64_t next_retain = im_mono_ms() + RETAIN_MS, nag = 0;
	int stop_tries = 0;

	pthread_mutex_lock(&db->lock);
	for (;;) {
		uint64_t hist[NBOUNDS + 1] = { 0 }, sum = 0, max = 0;
		int64_t now = im_mono_ms();
		size_t head, n;
		int rc;

		if (db->hold && !db->stopping) {
			wait_ms(&db->wake, &db->lock, RETRY_MS);
			continue;
		}
		if (!db->len) {
			uint64_t del = 0;

			if (db->stopping)
				break;
			if (now < next_retain) {
				wait_ms(&db->wake, &db->lock,
					next_retain - now);
				continue;
			}
			pthread_mutex_unlock(&db->lock);
			rc = histdb_sql_retain(db, im_now_ms(), &del);
			if (rc != SQLITE_OK)
				LOG_WARN(TAG, "%s: retention: %s", db->path,
					 db->errbuf);
			pthread_mutex_lock(&db->lock);
			db->stats.deleted += del;
			db->stats.cpu_us = thread_cpu_us();
			next_retain = im_mono_ms() + RETAIN_MS;
			continue;
		}
		head = db->head;
		n = db->len < BATCH_MAX ? db->len : BATCH_MAX;
		pthread_mutex_unlock(&db->lock);
		rc = commit_batch(db, head, n);
		if (rc == SQLITE_OK)
			settle(db, head, n, hist, &sum, &max);
		pthread_mutex_lock(&db->lock);
		db->stats.cpu_us = thread_cpu_us();
		if (rc != SQLITE_OK) {
			failed(db, &nag);
			if (db->stopping && ++stop_tries >= STOP_TRIES) {
				LOG_ERROR(TAG, "%s: stopping: %zu acknowledged "
					  "messages could not be written and "
					  "are lost", db->path, db->len);
				for (size_t i = 0; i < db->len; i++)
					msg_unref(&db->q[(db->head + i) %
							 db->cap]);
				db->len = 0;
				break;
			}
			wait_ms(&db->wake, &db->lock, RETRY_MS);
			continue;
		}
		db->head = (head + n) % db->cap;
		db->len -= n;
		db->stats.written += n;
		db->stats.commits++;
		db->stats.lat_us_sum += sum;
		if (max > db->stats.lat_us_max)
			db->stats.lat_us_max = max;
		for (size_t b = 0; b <= NBOUNDS; b++)
			db->stats.lat_hist[b] += hist[b];
		if (db->failing) {
			db->failing = 0;
			LOG_INFO(TAG, "%s: writing again; publishing resumes",
				 db->path);
		}
		pthread_cond_broadcast(&db->done);
	}
	pthread_cond_broadcast(&db->done);
	pthread_mutex_unlock(&db->lock);
	return NULL;
}

/* Frees db and what it holds (the writer stopped or never started). */
static void
destroy(struct histdb *db)
{
	struct histdb_room *r;
	size_t pos = 0;

	for (size_t i = 0; i < db->len; i++)
		msg_unref(&db->q[(db->head + i) % db->cap]);
	histdb_sql_close(db);
	while ((r = hmap_next(&db->touched, &pos)))
		free(r);
	hmap_clear(&db->touched);
	pthread_cond_destroy(&db->done);
	pthread_cond_destroy(&db->wake);
	pthread_mutex_destroy(&db->lock);
	free(db->q);
	free(db->q_us);
	free(db->path);
	free(db);
}

struct histdb *
histdb_start(const struct histdb_config *cfg, struct store *st,
	     struct rooms *rs, struct im_error *e)
{
	struct histdb *db = calloc(1, sizeof(*db));
	struct store_sink sink;

	if (!db) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	pthread_mutex_init(&db->lock, NULL);
	pthread_cond_init(&db->wake, NULL);
	pthread_cond_init(&db->done, NULL);
	atomic_init(&db->max_pages, 0);
	db->cfg = *cfg;
	db->st = st;
	db->rs = rs;
	db->cap = cfg->queue_max ? cfg->queue_max : 1;
	db->path = strdup(cfg->path);
	db->q = calloc(db->cap, sizeof(*db->q));
	db->q_us = calloc(db->cap, sizeof(*db->q_us));
	if (!db->path || !db->q || !db->q_us) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		destroy(db);
		return NULL;
	}
	db->cfg.path = db->path;
	if (histdb_sql_open(db, e) != IM_OK ||
	    histdb_sql_open_load(db, e) != IM_OK) {
		destroy(db);
		return NULL;
	}
	if (pthread_create(&db->thread, NULL, writer, db)) {
		im_error_set(e, IM_ESYS, "thread", "cannot start a thread");
		destroy(db);
		return NULL;
	}
	db->started = 1;
	sink = (struct store_sink){ .put = sink_put,
				    .explain = sink_explain, .ctx = db };
	store_set_sink(st, &sink);
	LOG_INFO(TAG, "%s: %" PRIu64 " messages given back; ids continue "
		 "after %" PRIu64, db->path, db->stats.loaded,
		 store_last_id(st));
	return db;
}

void
histdb_stop(struct histdb **dbp)
{
	struct histdb *db = dbp ? *dbp : NULL;

	if (!db)
		return;
	*dbp = NULL;
	store_set_sink(db->st, NULL);
	if (db->started) {
		pthread_mutex_lock(&db->lock);
		db->stopping = 1;
		pthread_cond_signal(&db->wake);
		pthread_mutex_unlock(&db->lock);
		pthread_join(db->thread, NULL);
	}
	destroy(db);
}

int
histdb_flush(struct histdb *db, int timeout_ms)
{
	int64_t end = im_mono_ms() + timeout_ms;
	uint64_t target;
	int ret = 0;

	pthread_mutex_lock(&db->lock);
	target = db->queued;
	while (db->queued - db->len < target) {
		int64_t now = im_mono_ms();

		if (db->failing || now >= end || db->stopping) {
			ret = -1;
			break;
		}
		wait_ms(&db->done, &db->lock, end - now);
	}
	pthread_mutex_unlock(&db->lock);
	return ret;
}

void
histdb_get_stats(struct histdb *db, struct histdb_stats *out)
{
	pthread_mutex_lock(&db->lock);
	*out = db->stats;
	out->pending = db->len;
	out->failing = db->failing;
	pthread_mutex_unlock(&db->lock);
}

void
histdb_test_max_pages(struct histdb *db, unsigned pages)
{
	atomic_store(&db->max_pages, pages);
}

void
histdb_test_hold(struct histdb *db, int hold)
{
	pthread_mutex_lock(&db->lock);
	db->hold = hold;
	pthread_cond_signal(&db->wake);
	pthread_mutex_unlock(&db->lock);
}

/* One unlabelled series with its HELP and TYPE lines. */
static void
series(FILE *f, const char *name, const char *type, const char *help,
       unsigned long long v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name,
		type, name, v);
}

void
histdb_metrics(struct histdb *db, FILE *f)
{
	struct histdb_stats s;
	uint64_t cum = 0;
	const char *h = "imlab_history_db_durable_seconds";

	if (!db)
		return;
	histdb_get_stats(db, &s);
	series(f, "imlab_history_db_written_total", "counter",
	       "Messages committed to the history database", s.written);
	series(f, "imlab_history_db_commits_total", "counter",
	       "Transactions (batches) committed", s.commits);
	series(f, "imlab_history_db_pending", "gauge",
	       "Messages acknowledged and not yet committed", s.pending);
	series(f, "imlab_history_db_failing", "gauge",
	       "1 while writes fail (publishing answers 503)", (unsigned)
	       s.failing);
	series(f, "imlab_history_db_write_errors_total", "counter",
	       "Failed commits (each batch is retried)", s.errors);
	fprintf(f, "# HELP imlab_history_db_refused_total Publishes refused "
		"by the history database\n# TYPE imlab_history_db_refused_"
		"total counter\nimlab_history_db_refused_total{reason=\"busy\"}"
		" %" PRIu64 "\nimlab_history_db_refused_total{reason=\""
		"write_failed\"} %" PRIu64 "\n", s.refused_busy,
		s.refused_failed);
	series(f, "imlab_history_db_deleted_total", "counter",
	       "Messages deleted by retention (count and age)", s.deleted);
	series(f, "imlab_history_db_loaded", "gauge",
	       "Messages given back to the rooms at start", s.loaded);
	fprintf(f, "# HELP imlab_history_db_writer_cpu_seconds_total CPU "
		"time of the writer thread\n# TYPE imlab_history_db_writer_"
		"cpu_seconds_total counter\nimlab_history_db_writer_cpu_"
		"seconds_total %.6f\n", (double)s.cpu_us / 1e6);
	fprintf(f, "# HELP %s From queued (acknowledged) to committed\n"
		"# TYPE %s histogram\n", h, h);
	for (size_t b = 0; b < NBOUNDS; b++) {
		cum += s.lat_hist[b];
		fprintf(f, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", h,
			(double)lat_bounds[b] / 1000.0, cum);
	}
	cum += s.lat_hist[NBOUNDS];
	fprintf(f, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum %.6f\n"
		"%s_count %" PRIu64 "\n", h, cum, h,
		(double)s.lat_us_sum / 1e6, h, cum);
	series(f, "imlab_history_db_durable_max_microseconds", "gauge",
	       "The longest time from queued to committed", s.lat_us_max);
}
