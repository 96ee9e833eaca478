/* SPDX-License-Identifier: MIT */
/*
 * test_histdb_restart: --history-db over real sockets. The test starts
 * the server on a database in a temporary directory, publishes, restarts
 * it on the same file (t_restart) and resumes with the cursor it had, on
 * every transport: exactly what followed the cursor comes back, with the
 * same ids and bytes and no gap, and new ids continue after the old. A
 * disk that fills up makes publishing answer 503 history_write_failed
 * (and /metrics say so) until it can write again. The imlab binary,
 * killed with SIGKILL once /metrics says all is committed, loses nothing
 * and its next run's ids go on; the binary,
 * given a damaged file or a path it cannot create, says why and exits
 * with status 2. Skipped (77) without SQLite.
 */
#include "autoconf.h"

#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "histdb.h"
#include "server_ctx.h"
#include "tdriver.h"
#include "testlib.h"
#include "trun.h"

#define WAIT_MS 10000

static const struct tdriver *const drivers[] = {
	&tdrv_poll, &tdrv_longpoll, &tdrv_sse, &tdrv_ws,
};
#define NDRIVERS ((int)(sizeof(drivers) / sizeof(drivers[0])))

static char dir[64], path[96];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/imlab-hdbrs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/history.db", dir);
}

static void
teardown(void)
{
	char cmd[128];

	server_stop(&t_srv);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* (Re)starts the server on the database. */
static void
start_db(void)
{
	struct config cfg;

	t_config(&cfg);
	cfg.history_db = path;
	cfg.history_db_sync = 0;	/* a crash of imlab, not the disk */
	cfg.presence_ttl = 1;
	cfg.sse_ping = 1;
	t_restart(&cfg);
	ck_assert_ptr_nonnull(t_srv->hdb);
}

/* The n-th envelope with event in s, or NULL. */
static const struct tenv *
nth(const struct tsub *s, const char *event, size_t n)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->env[i].event, event) && n-- == 0)
			return &s->env[i];
	return NULL;
}

static size_t
wait_for(struct tsub *s, const char *event, size_t want)
{
	for (int i = 0; i < WAIT_MS / 50 && tsub_count(s, event, NULL) < want;
	     i++)
		s->drv->wait(s, s->n + 1, 50);
	return tsub_count(s, event, NULL);
}

START_TEST(resume_across_a_restart_is_exact)
{
	const struct tdriver *d = drivers[_i];
	struct tsub pub, sub, again;
	uint64_t ids[4], next;

	start_db();
	tsub_init(&pub, d, t_port, "publisher-0001", "pub", "lobby",
		  store_last_id(t_srv->st));
	ck_assert_int_eq(d->open(&pub), 0);
	tsub_init(&sub, d, t_port, "reader-000001", "reader", "lobby",
		  store_last_id(t_srv->st));
	ck_assert_int_eq(d->open(&sub), 0);
	for (int i = 0; i < 4; i++) {
		char data[48];

		snprintf(data, sizeof(data), "{\"n\":%d,\"t\":\"caf\\u00e9\"}",
			 i);
		ids[i] = d->publish(&pub, "lobby", "chat", data, NULL);
		ck_assert_uint_ne(ids[i], 0);
	}
	ck_assert_uint_eq(wait_for(&sub, "chat", 4), 4);
	d->close(&pub);
	d->close(&sub);
	ck_assert_int_eq(histdb_flush(t_srv->hdb, WAIT_MS), 0);

	start_db();		/* the same file, a new process state */
	ck_assert_uint_ge(store_last_id(t_srv->st), ids[3]);
	tsub_init(&again, d, t_port, "reader-000001", "reader", "lobby",
		  ids[0]);
	ck_assert_int_eq(d->open(&again), 0);
	ck_assert_uint_eq(wait_for(&again, "chat", 3), 3);
	ck_assert_int_eq(again.gaps, 0);
	for (size_t i = 0; i < 3; i++) {
		const struct tenv *a = nth(&again, "chat", i);
		const struct tenv *b = nth(&sub, "chat", i + 1);

		ck_assert_uint_eq(a->id, ids[i + 1]);
		ck_assert_str_eq(a->json, b->json);
	}
	tsub_free(&pub);	/* the first run's publisher, opened again */
	tsub_init(&pub, d, t_port, "publisher-0001", "pub", "lobby",
		  store_last_id(t_srv->st));
	ck_assert_int_eq(d->open(&pub), 0);
	next = d->publish(&pub, "lobby", "chat", "\"after\"", NULL);
	ck_assert_uint_gt(next, ids[3]);
	ck_assert_uint_eq(wait_for(&again, "chat", 4), 4);
	ck_assert_uint_eq(nth(&again, "chat", 3)->id, next);
	d->close(&pub);
	d->close(&again);
	tsub_free(&pub);
	tsub_free(&sub);
	tsub_free(&again);
}
END_TEST

/* POSTs one message of about 3 KB to lobby; returns the status. */
static long
publish_big(struct t_resp *r)
{
	static char body[3200];
	char data[3000];

	memset(data, 'x', sizeof(data) - 1);
	data[sizeof(data) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"event\":\"chat\",\"from\":\"bob\","
		 "\"data\":\"%s\"}", data);
	ck_assert_int_eq(t_http(t_port, "POST", "/api/rooms/lobby/messages",
				body, NULL, r), 0);
	return r->status;
}

START_TEST(a_full_disk_answers_503_history_write_failed)
{
	struct t_resp r = { 0 };
	long status = 201;

	start_db();
	histdb_test_max_pages(t_srv->hdb, 1);
	for (int i = 0; i < 2000 && status == 201; i++) {
		status = publish_big(&r);
		if (status == 201)
			t_resp_free(&r);
	}
	ck_assert_int_eq(status, 503);
	ck_assert_msg(strstr(r.body, "\"code\":\"history_write_failed\""),
		      "%s", r.body);
	t_resp_free(&r);
	ck_assert_int_eq(t_http(t_port, "GET", "/metrics", NULL, NULL, &r), 0);
	ck_assert_ptr_nonnull(strstr(r.body, "\nimlab_history_db_failing 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body,
		"imlab_history_db_refused_total{reason=\"write_failed\"} "));
	t_resp_free(&r);
	histdb_test_max_pages(t_srv->hdb, 0);	/* room again */
	for (int i = 0; i < WAIT_MS / 50 && status != 201; i++) {
		status = publish_big(&r);
		t_resp_free(&r);
		if (status != 201)
			usleep(50 * 1000);
	}
	ck_assert_int_eq(status, 201);
}
END_TEST

/* Runs the imlab binary on --history-db db; returns its exit status and
 * its stderr in err. */
static int
run_imlab(const char *db, char *err, size_t errlen)
{
	const char *bin = getenv("IMLAB_BIN");
	int fds[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	ck_assert_ptr_nonnull(bin);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		dup2(fds[1], 2);
		close(fds[0]);
		execl(bin, bin, "--port", "0", "--log-level", "error",
		      "--history-db", db, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], err + got, errlen - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(a_damaged_file_is_a_startup_error)
{
	char err[512];
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs("this is not a database, but it is long enough to look like "
	      "a file of some kind ......................................",
	      f);
	for (int i = 0; i < 2000; i++)
		fputc(i & 0xff, f);
	fclose(f);
	ck_assert_int_eq(run_imlab(path, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "--history-db") && strstr(err, path) &&
		      strstr(err, "not an SQLite database"), "%s", err);
}
END_TEST

START_TEST(a_path_that_cannot_be_created_is_a_startup_error)
{
	char err[512], file[128], bad[160];
	FILE *f;

	/* a path below a regular file: not even root can create it */
	snprintf(file, sizeof(file), "%s/plain", dir);
	f = fopen(file, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(bad, sizeof(bad), "%s/history.db", file);
	ck_assert_int_eq(run_imlab(bad, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, bad) && strstr(err, "cannot open it"),
		      "%s", err);
}
END_TEST

/* A port free now on 127.0.0.1. */
static uint16_t
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	close(s);
	return ntohs(sa.sin_port);
}

/* Starts the imlab binary on the database and port; waits until it
 * answers. Returns its pid. */
static pid_t
spawn(uint16_t port)
{
	const char *bin = getenv("IMLAB_BIN");
	struct t_resp r = { 0 };
	char p[16];
	pid_t pid;

	ck_assert_ptr_nonnull(bin);
	snprintf(p, sizeof(p), "%u", port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		execl(bin, bin, "--port", p, "--log-level", "error",
		      "--history-db", path, "--history-db-sync", "0",
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < WAIT_MS / 50; i++) {
		if (!t_http(port, "GET", "/healthz", NULL, NULL, &r) &&
		    r.status == 200) {
			t_resp_free(&r);
			return pid;
		}
		t_resp_free(&r);
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	ck_abort_msg("imlab did not start");
	return -1;
}

/* The number after "key": in s (0 if absent). */
static uint64_t
num_after(const char *s, const char *key)
{
	const char *p = strstr(s, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

START_TEST(kill_9_keeps_what_was_committed_and_ids_go_on)
{
	uint16_t port = free_port();
	struct t_resp r = { 0 };
	uint64_t ids[20], next;
	char want[64], q[96];
	pid_t pid = spawn(port);
	int status, done = 0;

	for (int i = 0; i < 20; i++) {
		ck_assert_int_eq(t_http(port, "POST",
					"/api/rooms/lobby/messages",
					"{\"event\":\"chat\",\"from\":\"bob\","
					"\"data\":[1,2,3]}", NULL, &r), 0);
		ck_assert_int_eq(r.status, 201);
		ids[i] = num_after(r.body, "\"id\":");
		t_resp_free(&r);
	}
	/* committed: nothing pending, everything written */
	for (int i = 0; i < WAIT_MS / 50 && !done; i++) {
		ck_assert_int_eq(t_http(port, "GET", "/metrics", NULL, NULL,
					&r), 0);
		done = strstr(r.body, "\nimlab_history_db_pending 0\n") &&
		       num_after(r.body, "\nimlab_history_db_written_total ")
		       >= 20;
		t_resp_free(&r);
		if (!done)
			usleep(50 * 1000);
	}
	ck_assert(done);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);

	port = free_port();
	pid = spawn(port);
	snprintf(q, sizeof(q), "/poll?rooms=lobby&since=%llu",
		 (unsigned long long)ids[9]);
	ck_assert_int_eq(t_http(port, "GET", q, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(strstr(r.body, "\"gap\":false"), "%s", r.body);
	for (int i = 0; i < 20; i++) {
		snprintf(want, sizeof(want), "{\"id\":%llu,",
			 (unsigned long long)ids[i]);
		ck_assert_msg(!strstr(r.body, want) == (i < 10),
			      "id %d: %s", i, r.body);
	}
	t_resp_free(&r);
	ck_assert_int_eq(t_http(port, "POST", "/api/rooms/lobby/messages",
				"{\"event\":\"chat\",\"from\":\"bob\","
				"\"data\":0}", NULL, &r), 0);
	next = num_after(r.body, "\"id\":");
	t_resp_free(&r);
	ck_assert_uint_gt(next, ids[19]);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("histdb_restart");
	TCase *tc = tcase_create("restart");
	TCase *bad = tcase_create("startup errors");

	/* _i indexes drivers[]: poll, longpoll, sse, ws */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, resume_across_a_restart_is_exact, 0,
			    NDRIVERS);
	tcase_add_test(tc, a_full_disk_answers_503_history_write_failed);
	tcase_add_test(tc, kill_9_keeps_what_was_committed_and_ids_go_on);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_test(bad, a_damaged_file_is_a_startup_error);
	tcase_add_test(bad, a_path_that_cannot_be_created_is_a_startup_error);
	suite_add_tcase(s, bad);
	return s;
}

int
main(void)
{
	int rc;

#ifndef HAVE_SQLITE
	return 77;	/* built without SQLite: nothing to test */
#endif
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = trun(suite());
	curl_global_cleanup();
	return rc;
}
