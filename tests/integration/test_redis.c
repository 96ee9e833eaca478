/* SPDX-License-Identifier: MIT */
/*
 * test_redis: three imlab nodes sharing one Redis (--redis), as separate
 * processes (so one can be killed with SIGKILL), and a redis-server of
 * the test's own (127.0.0.1, a free port, --save '' --appendonly no,
 * stopped by its pid). On every transport: a publish on node A reaches
 * B and C with the same id and bytes; a client that moves from A to B
 * with its cursor loses and repeats nothing; the clients of a node
 * killed with SIGKILL resume on another and lose nothing. Presence lists
 * the members of every node and drops a dead node's. A direct message
 * published on A to a member on B reaches B's recipient and the sender,
 * never a third client on C (live, since=0 and the history API), and a
 * pid that is no member is 404 unknown_recipient. A Redis restarted
 * without its data: publishes fail with 503 backend_unavailable while it
 * is away, the nodes reconnect, and a cursor from before hears of a gap
 * and then gets every new message once; restarted with its data (an
 * append-only file), the ids continue and an old cursor reads on with
 * no gap. A node started later serves the shared history under the same
 * ids. Skipped (77) without redis-server or without a build with
 * hiredis.
 */
#include "autoconf.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tdriver.h"
#include "testlib.h"
#include "trun.h"

#define NODES 3
#define WAIT_MS 10000
#define NODE_TTL "1000"		/* --redis-node-ttl: a dead node goes fast */

static const struct tdriver *const drivers[] = {
	&tdrv_poll, &tdrv_longpoll, &tdrv_sse, &tdrv_ws,
};

static pid_t redis_pid;
static uint16_t redis_port;
static char redis_dir[64];	/* "": no persistence */
static pid_t node_pid[NODES];
static uint16_t node_port[NODES];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint16_t
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &len))
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Starts argv[0] with its stdout on a pipe (*out, or /dev/null when out
 * is NULL); the child dies with the test (PR_SET_PDEATHSIG). */
static pid_t
spawn(const char *const argv[], int *out)
{
	int p[2] = { -1, -1 };
	pid_t pid;

	if (out && pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (out) {
			dup2(p[1], 1);
			close(p[0]);
			close(p[1]);
		} else {
			if (!freopen("/dev/null", "w", stdout))
				_exit(127);
		}
		{
			char *av[32];
			int n;

			if (!argv[0])
				_exit(127);
			for (n = 0; n < 31 && argv[n]; n++)
				av[n] = strdup(argv[n]);
			av[n] = NULL;
			execv(av[0], av);
		}
		_exit(127);
	}
	if (out) {
		close(p[1]);
		*out = p[0];
	}
	return pid;
}

static void
redis_start(void)
{
	char port[8];
	/* redis_dir set: an append-only file there, fsync'd every write */
	const char *argv[] = { getenv("REDIS_SERVER"), "--port", port, "--bind",
			 "127.0.0.1", "--save", "", "--appendonly",
			 redis_dir[0] ? "yes" : "no", "--daemonize", "no",
			 "--loglevel", "warning", "--appendfsync", "always",
			 "--dir", redis_dir[0] ? redis_dir : "/tmp", NULL };
	int64_t end = now_ms() + WAIT_MS;
	int fd = -1;

	if (!redis_port)
		redis_port = free_port();
	snprintf(port, sizeof(port), "%u", redis_port);
	redis_pid = spawn(argv, NULL);
	ck_assert_int_gt(redis_pid, 0);
	while (now_ms() < end && (fd = t_connect(redis_port)) < 0)
		nap(20);
	ck_assert_msg(fd >= 0, "redis-server did not start on %u",
		      redis_port);
	close(fd);
}

static void
reap(pid_t *pid, int sig)
{
	if (*pid > 0) {
		kill(*pid, sig);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

/* Starts node i on a free port; returns once it listens. */
static void
node_start(int i)
{
	char url[64], line[256] = "";
	const char *argv[] = { getenv("IMLAB_BIN"), "--port", "0",
			       "--redis", url, "--redis-node-ttl", NODE_TTL,
			       "--presence-ttl", "2", "--log-level", "error",
			       "--www", getenv("IMLAB_WWW"), NULL };
	struct pollfd pfd;
	size_t len = 0;
	const char *p;
	int fd;

	snprintf(url, sizeof(url), "redis://127.0.0.1:%u", redis_port);
	node_pid[i] = spawn(argv, &fd);
	ck_assert_int_gt(node_pid[i], 0);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (!strchr(line, '\n') && len < sizeof(line) - 1 &&
	       poll(&pfd, 1, WAIT_MS) == 1) {
		ssize_t n = read(fd, line + len, sizeof(line) - 1 - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		line[len] = '\0';
	}
	close(fd);
	p = strstr(line, "http://127.0.0.1:");
	ck_assert_msg(p, "node %d did not start: \"%s\"", i, line);
	node_port[i] = (uint16_t)atoi(p + strlen("http://127.0.0.1:"));
}

static void
cluster_up(void)
{
	if (!getenv("REDIS_SERVER") || !getenv("IMLAB_BIN"))
		return;
	redis_port = 0;
	redis_start();
	for (int i = 0; i < NODES; i++)
		node_start(i);
}

/* Stops the nodes with SIGTERM: each must exit 0 (a sanitizer's report,
 * a leak, a hang in the shutdown would not). */
static void
cluster_down(void)
{
	int bad = -1, st = 0;

	for (int i = 0; i < NODES; i++) {
		int status = 0;

		if (node_pid[i] <= 0)
			continue;
		kill(node_pid[i], SIGTERM);
		waitpid(node_pid[i], &status, 0);
		node_pid[i] = 0;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			bad = i;
			st = status;
		}
	}
	reap(&redis_pid, SIGTERM);
	ck_assert_msg(bad < 0, "node %d ended with status 0x%x", bad, st);
}

/* The envelopes of event ev in s, in order, into out (at most max). */
static size_t
events(const struct tsub *s, const char *ev, const struct tenv **out,
       size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n && n < max; i++)
		if (!strcmp(s->env[i].event, ev))
			out[n++] = &s->env[i];
	return n;
}

/* Waits until s holds want chat messages; returns how many it holds. */
static size_t
wait_chats(struct tsub *s, size_t want)
{
	int64_t end = now_ms() + WAIT_MS;

	while (tsub_count(s, "chat", NULL) < want && now_ms() < end)
		s->drv->wait(s, s->n + 1, 300);
	return tsub_count(s, "chat", NULL);
}

/* Publishes {"k":k} as chat in room through node i's HTTP API; returns
 * the HTTP status (the id in *id when 201). */
static long
api_publish(int i, const char *room, int k, uint64_t *id)
{
	char path[128], body[256];
	struct t_resp r;
	struct json_object *o, *v;
	long st;

	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	snprintf(body, sizeof(body), "{\"event\":\"chat\",\"from\":\"pub\","
		 "\"data\":{\"k\":%d,\"s\":\"h\\u00e9 1.50e0\"}}", k);
	if (t_http(node_port[i], "POST", path, body, NULL, &r)) {
		t_resp_free(&r);
		return 0;
	}
	st = r.status;
	if (st == 503)
		ck_assert_msg(strstr(r.body, "backend_unavailable"),
			      "503 without backend_unavailable: %s", r.body);
	if (id && st == 201 && (o = json_tokener_parse(r.body))) {
		if (json_object_object_get_ex(o, "id", &v))
			*id = json_object_get_uint64(v);
		json_object_put(o);
	}
	t_resp_free(&r);
	return st;
}

/* GET /api/rooms/{room} on node i: the member count (-1 on failure). */
static long
member_count(int i, const char *room)
{
	char path[128];
	struct t_resp r;
	struct json_object *o, *v;
	long n = -1;

	snprintf(path, sizeof(path), "/api/rooms/%s", room);
	if (!t_http(node_port[i], "GET", path, NULL, NULL, &r) &&
	    r.status == 200 && (o = json_tokener_parse(r.body))) {
		if (json_object_object_get_ex(o, "member_count", &v))
			n = json_object_get_int(v);
		json_object_put(o);
	}
	t_resp_free(&r);
	return n;
}

/* GET /api/rooms on node i: the "members" of room (-1 if not listed). */
static long
listed_members(int i, const char *room)
{
	struct t_resp r;
	struct json_object *o, *v, *name;
	long n = -1;

	if (!t_http(node_port[i], "GET", "/api/rooms", NULL, NULL, &r) &&
	    r.status == 200 && (o = json_tokener_parse(r.body))) {
		for (size_t k = 0; json_object_is_type(o, json_type_array) &&
		     k < json_object_array_length(o); k++) {
			struct json_object *e = json_object_array_get_idx(o, k);

			if (json_object_object_get_ex(e, "room", &name) &&
			    !strcmp(json_object_get_string(name), room) &&
			    json_object_object_get_ex(e, "members", &v))
				n = json_object_get_int(v);
		}
		json_object_put(o);
	}
	t_resp_free(&r);
	return n;
}

static long
wait_members(int i, const char *room, long want)
{
	int64_t end = now_ms() + WAIT_MS;
	long n;

	while ((n = member_count(i, room)) != want && now_ms() < end)
		nap(100);
	return n;
}

/* Checks that the chats of s are want, in order, with no repeat. */
static void
check_chats(const struct tsub *s, const uint64_t *want, size_t n)
{
	const struct tenv *c[64] = { 0 };
	size_t got = events(s, "chat", c, 64);

	ck_assert_uint_eq(got, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(c[i]->id == want[i], "%s: chat %zu is %llu, "
			      "not %llu", s->drv->name, i,
			      (unsigned long long)c[i]->id,
			      (unsigned long long)want[i]);
}

START_TEST(publish_on_a_reaches_b_and_c_with_the_same_id_and_bytes)
{
	const struct tdriver *d = drivers[_i];
	struct tsub *s = calloc(3, sizeof(*s));
	const struct tenv *e[3][8] = { { 0 } };
	uint64_t ids[5] = { 0 };

	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < 3; i++) {
		char cid[32];

		snprintf(cid, sizeof(cid), "%s-node-%d", d->name, i);
		tsub_init(&s[i], d, node_port[i], cid, "sub", "lobby", 0);
		ck_assert_int_eq(d->open(&s[i]), 0);
	}
	for (int k = 0; k < 5; k++) {
		ids[k] = d->publish(&s[0], "lobby", "chat",
				    "{\"t\":\"h\\u00e9\",\"n\":1.50e0}", NULL);
		ck_assert_uint_gt(ids[k], 0);
		if (k)
			ck_assert_uint_gt(ids[k], ids[k - 1]);
	}
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(wait_chats(&s[i], 5), 5);
		check_chats(&s[i], ids, 5);
		events(&s[i], "chat", e[i], 8);
	}
	for (int k = 0; k < 5; k++)
		for (int i = 1; i < 3; i++)
			ck_assert_str_eq(e[i][k]->json, e[0][k]->json);
	/* the data as the sender wrote it, on every node */
	ck_assert_ptr_nonnull(strstr(e[2][0]->json, "\"data\":{\"t\":"
				     "\"h\\u00e9\",\"n\":1.50e0}"));
	for (int i = 0; i < 3; i++) {
		d->close(&s[i]);
		tsub_free(&s[i]);
	}
	free(s);
}
END_TEST

START_TEST(every_transport_on_every_node_gets_the_same_bytes)
{
	struct tsub *s = calloc(4, sizeof(*s));
	const struct tenv *e[4][2] = { { 0 } };
	uint64_t id = 0;

	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < 4; i++) {
		char cid[32];

		snprintf(cid, sizeof(cid), "mixed-%d-0001", i);
		tsub_init(&s[i], drivers[i], node_port[(i + 1) % NODES], cid,
			  "mixed", "mixed", 0);
		ck_assert_int_eq(drivers[i]->open(&s[i]), 0);
	}
	ck_assert_int_eq(api_publish(0, "mixed", 7, &id), 201);
	/* the ack came after this node applied it: a poll here has it */
	{
		struct tsub *me = calloc(1, sizeof(*me));

		ck_assert_ptr_nonnull(me);
		tsub_init(me, &tdrv_poll, node_port[0], NULL, NULL, "mixed",
			  id - 1);
		ck_assert_int_eq(tdrv_poll.open(me), 0);
		ck_assert_uint_eq(tsub_count(me, "chat", NULL), 1);
		ck_assert_uint_eq(me->env[0].id, id);
		tsub_free(me);
		free(me);
	}
	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(wait_chats(&s[i], 1), 1);
		ck_assert_uint_eq(events(&s[i], "chat", e[i], 2), 1);
		ck_assert_uint_eq(e[i][0]->id, id);
		ck_assert_str_eq(e[i][0]->json, e[0][0]->json);
	}
	for (int i = 0; i < 4; i++) {
		drivers[i]->close(&s[i]);
		tsub_free(&s[i]);
	}
	free(s);
}
END_TEST

START_TEST(a_client_moves_from_a_to_b_with_its_cursor)
{
	const struct tdriver *d = drivers[_i];
	struct tsub *s = calloc(2, sizeof(*s));
	uint64_t ids[6] = { 0 };

	ck_assert_ptr_nonnull(s);
	tsub_init(&s[0], d, node_port[0], "mover-0001", "mover", "move", 0);
	ck_assert_int_eq(d->open(&s[0]), 0);
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(api_publish(k % 3, "move", k, &ids[k]), 201);
	ck_assert_uint_eq(wait_chats(&s[0], 3), 3);
	check_chats(&s[0], ids, 3);
	d->close(&s[0]);
	/* while it moves, three more from every node */
	for (int k = 3; k < 6; k++)
		ck_assert_int_eq(api_publish(k % 3, "move", k, &ids[k]), 201);
	tsub_init(&s[1], d, node_port[1], "mover-0001", "mover", "move",
		  s[0].cursor);
	ck_assert_int_eq(d->open(&s[1]), 0);
	ck_assert_uint_eq(wait_chats(&s[1], 3), 3);
	check_chats(&s[1], ids + 3, 3);
	ck_assert_int_eq(s[1].gaps, 0);
	d->close(&s[1]);
	tsub_free(&s[0]);
	tsub_free(&s[1]);
	free(s);
}
END_TEST

START_TEST(the_clients_of_a_killed_node_resume_on_another)
{
	const struct tdriver *d = drivers[_i];
	struct tsub *s = calloc(2, sizeof(*s));
	uint64_t ids[6] = { 0 };

	ck_assert_ptr_nonnull(s);
	tsub_init(&s[0], d, node_port[2], "victim-001", "victim", "k9", 0);
	ck_assert_int_eq(d->open(&s[0]), 0);
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(api_publish(0, "k9", k, &ids[k]), 201);
	ck_assert_uint_eq(wait_chats(&s[0], 3), 3);
	reap(&node_pid[2], SIGKILL);
	d->close(&s[0]);
	for (int k = 3; k < 6; k++)
		ck_assert_int_eq(api_publish(k % 2, "k9", k, &ids[k]), 201);
	tsub_init(&s[1], d, node_port[1], "victim-001", "victim", "k9",
		  s[0].cursor);
	ck_assert_int_eq(d->open(&s[1]), 0);
	ck_assert_uint_eq(wait_chats(&s[1], 3), 3);
	check_chats(&s[0], ids, 3);
	check_chats(&s[1], ids + 3, 3);
	ck_assert_int_eq(s[1].gaps, 0);
	d->close(&s[1]);
	tsub_free(&s[0]);
	tsub_free(&s[1]);
	free(s);
}
END_TEST

START_TEST(presence_lists_every_node_and_drops_a_dead_one)
{
	struct tsub *s = calloc(4, sizeof(*s));
	const struct tdriver *d[3] = { &tdrv_sse, &tdrv_ws, &tdrv_sse };

	ck_assert_ptr_nonnull(s);
	for (int i = 0; i < 3; i++) {
		char cid[32];

		snprintf(cid, sizeof(cid), "member-%d-0001", i);
		tsub_init(&s[i], d[i], node_port[i], cid, "m", "pres", 0);
		ck_assert_int_eq(d[i]->open(&s[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(wait_members(i, "pres", 3), 3);
		/* the listing counts every node's too */
		ck_assert_int_eq(listed_members(i, "pres"), 3);
	}
	/* one member on two nodes is one member */
	{
		struct tsub *twin = &s[3];

		tsub_init(twin, &tdrv_sse, node_port[1], "member-0-0001",
			  "m", "pres", 0);
		ck_assert_int_eq(tdrv_sse.open(twin), 0);
		nap(300);
		ck_assert_int_eq(member_count(2, "pres"), 3);
		tdrv_sse.close(twin);
		tsub_free(twin);
	}
	reap(&node_pid[2], SIGKILL);
	ck_assert_int_eq(wait_members(0, "pres", 2), 2);
	ck_assert_int_eq(wait_members(1, "pres", 2), 2);
	/* and the others hear it leave */
	{
		int64_t end = now_ms() + WAIT_MS;

		while (tsub_count(&s[0], "leave", "pres") < 1 &&
		       now_ms() < end)
			tdrv_sse.wait(&s[0], s[0].n + 1, 300);
		ck_assert_uint_ge(tsub_count(&s[0], "leave", "pres"), 1);
	}
	for (int i = 0; i < 3; i++) {
		d[i]->close(&s[i]);
		tsub_free(&s[i]);
	}
	free(s);
}
END_TEST

START_TEST(a_node_started_later_serves_the_shared_history)
{
	struct tsub *s = calloc(2, sizeof(*s));
	uint64_t ids[3] = { 0 };

	ck_assert_ptr_nonnull(s);
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(api_publish(k % 2, "late", k, &ids[k]), 201);
	/* node C again, as a new process: it loads the stream */
	reap(&node_pid[2], SIGTERM);
	node_start(2);
	tsub_init(&s[0], &tdrv_poll, node_port[2], NULL, NULL, "late", 0);
	ck_assert_int_eq(tdrv_poll.open(&s[0]), 0);
	check_chats(&s[0], ids, 3);
	ck_assert_int_eq(s[0].gaps, 0);
	/* a cursor from before the shared history is a gap */
	tsub_init(&s[1], &tdrv_poll, node_port[2], NULL, NULL, "late", 1);
	ck_assert_int_eq(tdrv_poll.open(&s[1]), 0);
	ck_assert_int_eq(s[1].gaps, 1);
	check_chats(&s[1], ids, 3);
	tsub_free(&s[0]);
	tsub_free(&s[1]);
	free(s);
}
END_TEST

START_TEST(a_redis_restart_without_data_is_a_gap_never_a_repeat)
{
	const struct tdriver *d = drivers[_i];
	struct tsub *s = calloc(3, sizeof(*s));
	uint64_t ids[3] = { 0 }, fresh[3] = { 0 };
	struct tsub *stay;
	int64_t end;
	long st = 0;

	ck_assert_ptr_nonnull(s);
	stay = &s[2];
	/* a member that stays on node C through it all */
	tsub_init(stay, &tdrv_sse, node_port[2], "stayer-0001", "st", "rr",
		  0);
	ck_assert_int_eq(tdrv_sse.open(stay), 0);
	tsub_init(&s[0], d, node_port[0], "survivor-1", "sv", "rr", 0);
	ck_assert_int_eq(d->open(&s[0]), 0);
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(api_publish(1, "rr", k, &ids[k]), 201);
	ck_assert_uint_eq(wait_chats(&s[0], 3), 3);
	d->close(&s[0]);
	reap(&redis_pid, SIGKILL);
	/* away: refused with 503 backend_unavailable, never a 201 */
	ck_assert_int_eq(api_publish(1, "rr", 99, NULL), 503);
	redis_start();
	/* back: each node's writer reconnects (a first 503 is allowed) */
	for (int k = 0; k < 3; k++) {
		end = now_ms() + WAIT_MS;
		while (now_ms() < end &&
		       (st = api_publish(k, "rr", 10 + k, &fresh[k])) != 201)
			nap(100);
		ck_assert_int_eq(st, 201);
	}
	ck_assert_uint_gt(fresh[0], ids[2]);
	{
		/* the node counted the loss and is connected again */
		int64_t until = now_ms() + WAIT_MS;
		int seen = 0;

		while (!seen && now_ms() < until) {
			struct t_resp r;

			ck_assert_int_eq(t_http(node_port[0], "GET",
						"/metrics", NULL, NULL, &r), 0);
			seen = !strstr(r.body, "imlab_redis_losses_total 0") &&
			       strstr(r.body, "imlab_redis_up{side=\"reader\"} "
				      "1");
			t_resp_free(&r);
			if (!seen)
				nap(100);
		}
		ck_assert_msg(seen, "node A did not report the loss");
	}
	tsub_init(&s[1], d, node_port[0], "survivor-1", "sv", "rr",
		  s[0].cursor);
	ck_assert_int_eq(d->open(&s[1]), 0);
	ck_assert_uint_eq(wait_chats(&s[1], 3), 3);
	check_chats(&s[1], fresh, 3);
	ck_assert_int_ge(s[1].gaps, 1);
	d->close(&s[1]);
	/* node C told the new Redis of its member again */
	ck_assert_int_eq(wait_members(0, "rr", 1), 1);
	tdrv_sse.close(stay);
	tsub_free(stay);
	tsub_free(&s[0]);
	tsub_free(&s[1]);
	free(s);
}
END_TEST

START_TEST(a_redis_restart_with_its_data_is_no_gap)
{
	struct tsub *s = calloc(2, sizeof(*s));
	uint64_t ids[6] = { 0 };
	int64_t end;
	long st = 0;

	ck_assert_ptr_nonnull(s);
	/* this test's own Redis, with an append-only file */
	cluster_down();
	snprintf(redis_dir, sizeof(redis_dir), "/tmp/test_redis.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(redis_dir));
	redis_port = 0;
	redis_start();
	for (int i = 0; i < NODES; i++)
		node_start(i);
	tsub_init(&s[0], &tdrv_poll, node_port[0], "keeper-001", "k", "aof",
		  0);
	ck_assert_int_eq(tdrv_poll.open(&s[0]), 0);
	for (int k = 0; k < 3; k++)
		ck_assert_int_eq(api_publish(1, "aof", k, &ids[k]), 201);
	ck_assert_uint_eq(wait_chats(&s[0], 3), 3);
	reap(&redis_pid, SIGTERM);
	redis_start();
	for (int k = 3; k < 6; k++) {
		end = now_ms() + WAIT_MS;
		while (now_ms() < end &&
		       (st = api_publish(k % 3, "aof", k, &ids[k])) != 201)
			nap(100);
		ck_assert_int_eq(st, 201);
	}
	/* the ids continue, and the old cursor reads on without a gap */
	ck_assert_uint_eq(ids[3], ids[2] + 1);
	tsub_init(&s[1], &tdrv_poll, node_port[2], "keeper-001", "k", "aof",
		  s[0].cursor);
	ck_assert_int_eq(tdrv_poll.open(&s[1]), 0);
	ck_assert_uint_eq(wait_chats(&s[1], 3), 3);
	check_chats(&s[1], ids + 3, 3);
	ck_assert_int_eq(s[1].gaps, 0);
	tsub_free(&s[0]);
	tsub_free(&s[1]);
	free(s);
	cluster_down();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", redis_dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	redis_dir[0] = '\0';
}
END_TEST

START_TEST(an_unreachable_redis_at_start_is_exit_2)
{
	char url[64];
	const char *argv[] = { getenv("IMLAB_BIN"), "--port", "0",
			       "--redis", url, "--log-level", "error", NULL };
	int status = 0;
	pid_t pid;

	snprintf(url, sizeof(url), "redis://127.0.0.1:%u", free_port());
	pid = spawn(argv, NULL);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 2);
}
END_TEST

/* The envelope with id in s, or NULL. */
static const struct tenv *
find_id(const struct tsub *s, uint64_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->env[i].id == id)
			return &s->env[i];
	return NULL;
}

/* Waits (up to WAIT_MS) until s holds the message id. */
static const struct tenv *
wait_id(struct tsub *s, uint64_t id)
{
	int64_t end = now_ms() + WAIT_MS;
	const struct tenv *e;

	while (!(e = find_id(s, id)) && now_ms() < end)
		s->drv->wait(s, s->n + 1, 300);
	return e;
}

/* A reader on node i as cid after since: it hears fence, and the direct
 * message dm exactly when sees. */
static void
reader_on(int i, const struct tdriver *d, const char *room, const char *cid,
	  uint64_t since, uint64_t dm, uint64_t fence, int sees)
{
	struct tsub *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	tsub_init(s, d, node_port[i], cid, "reader", room, since);
	ck_assert_int_eq(d->open(s), 0);
	ck_assert_msg(wait_id(s, fence) != NULL, "%s %s on %d: no fence",
		      d->name, cid, i);
	ck_assert_msg(!find_id(s, dm) == !sees, "%s %s on node %d: the DM "
		      "%s", d->name, cid, i, sees ? "missing" : "seen");
	d->close(s);
	tsub_free(s);
	free(s);
}

/* GET .../messages?since=0 on node i (as cid, or anonymous when NULL):
 * it holds "fence", and "secret" exactly when dm. */
static void
history_on(int i, const char *room, const char *cid, int dm)
{
	char path[192];
	struct t_resp r;

	snprintf(path, sizeof(path), "/api/rooms/%s/messages?since=0%s%s",
		 room, cid ? "&cid=" : "", cid ? cid : "");
	ck_assert_int_eq(t_http(node_port[i], "GET", path, NULL, NULL, &r),
			 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "\"fence\""));
	ck_assert_msg(!strstr(r.body, "\"secret\"") == !dm,
		      "history on node %d as %s: %s", i, cid ? cid : "-",
		      r.body);
	t_resp_free(&r);
}

START_TEST(a_dm_on_a_reaches_its_recipient_on_b_and_not_c)
{
	const struct tdriver *d = drivers[_i];
	struct tsub *s = calloc(3, sizeof(*s));
	const char *cids[3] = { "dm-alice-01", "dm-bob-0002", "dm-carol-03" };
	char room[32], to[80], want[96], body[256], path[96];
	const struct tenv *e;
	uint64_t hi, dm, fence;
	struct t_resp r;

	ck_assert_ptr_nonnull(s);
	snprintf(room, sizeof(room), "dm-%s", d->name);
	for (int i = 0; i < 3; i++) {
		tsub_init(&s[i], d, node_port[i], cids[i], "dm", room, 0);
		ck_assert_int_eq(d->open(&s[i]), 0);
	}
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(wait_members(i, room, 3), 3);
	/* bob's pid, from his own message */
	hi = d->publish(&s[1], room, "chat", "\"hi\"", NULL);
	ck_assert_uint_gt(hi, 0);
	ck_assert_ptr_nonnull(e = wait_id(&s[1], hi));
	snprintf(to, sizeof(to), "pid:%s", e->pid);
	snprintf(want, sizeof(want), "\"to\":\"%s\"", to);

	dm = d->publish(&s[0], room, "chat", "\"secret\"", to);
	ck_assert_uint_gt(dm, 0);
	fence = d->publish(&s[0], room, "chat", "\"fence\"", NULL);
	ck_assert_uint_gt(fence, dm);
	/* live: bob on B and alice on A, with the target shown */
	ck_assert_ptr_nonnull(e = wait_id(&s[1], dm));
	ck_assert_ptr_nonnull(strstr(e->json, want));
	ck_assert_ptr_nonnull(strstr(e->json, "\"secret\""));
	ck_assert_ptr_null(strstr(e->json, cids[1]));	/* no cid shown */
	ck_assert_ptr_nonnull(e = wait_id(&s[0], dm));
	ck_assert_ptr_nonnull(strstr(e->json, want));
	/* carol on C hears the fence and not the DM */
	ck_assert_ptr_nonnull(wait_id(&s[2], fence));
	ck_assert_ptr_null(find_id(&s[2], dm));
	ck_assert_ptr_nonnull(wait_id(&s[1], fence));

	/* since=0 on every node: the two ends only */
	for (int i = 0; i < 3; i++) {
		reader_on(i, d, room, cids[0], 0, dm, fence, 1);
		reader_on(i, d, room, cids[1], 0, dm, fence, 1);
		reader_on(i, d, room, cids[2], 0, dm, fence, 0);
		reader_on(i, d, room, cids[2], dm - 1, dm, fence, 0);
		history_on(i, room, NULL, 0);
		history_on(i, room, cids[1], 1);
		history_on(i, room, cids[2], 0);
	}

	/* a pid that no node holds in the room: 404 unknown_recipient */
	snprintf(path, sizeof(path), "/api/rooms/%s/messages", room);
	snprintf(body, sizeof(body), "{\"event\":\"chat\",\"from\":\"dm\","
		 "\"cid\":\"%s\",\"to\":\"pid:%032d\",\"data\":1}", cids[0], 0);
	ck_assert_int_eq(t_http(node_port[0], "POST", path, body, NULL, &r),
			 0);
	ck_assert_msg(r.status == 404 && strstr(r.body, "unknown_recipient"),
		      "%ld %s", r.status, r.body);
	t_resp_free(&r);
	/* nor a member of another room */
	snprintf(path, sizeof(path), "/api/rooms/%s-x/messages", room);
	snprintf(body, sizeof(body), "{\"event\":\"chat\",\"from\":\"dm\","
		 "\"cid\":\"%s\",\"to\":\"%s\",\"data\":1}", cids[0], to);
	ck_assert_int_eq(t_http(node_port[2], "POST", path, body, NULL, &r),
			 0);
	ck_assert_msg(r.status == 404 && strstr(r.body, "unknown_recipient"),
		      "%ld %s", r.status, r.body);
	t_resp_free(&r);
	for (int i = 0; i < 3; i++) {
		d->close(&s[i]);
		tsub_free(&s[i]);
	}
	free(s);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("redis");
	TCase *tc = tcase_create("nodes");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, cluster_up, cluster_down);
	tcase_add_loop_test(tc,
		publish_on_a_reaches_b_and_c_with_the_same_id_and_bytes, 0, 4);
	tcase_add_test(tc, every_transport_on_every_node_gets_the_same_bytes);
	tcase_add_loop_test(tc, a_dm_on_a_reaches_its_recipient_on_b_and_not_c,
			    0, 4);
	tcase_add_loop_test(tc, a_client_moves_from_a_to_b_with_its_cursor,
			    0, 4);
	tcase_add_loop_test(tc, the_clients_of_a_killed_node_resume_on_another,
			    0, 4);
	tcase_add_test(tc, presence_lists_every_node_and_drops_a_dead_one);
	tcase_add_test(tc, a_node_started_later_serves_the_shared_history);
	tcase_add_loop_test(tc,
		a_redis_restart_without_data_is_a_gap_never_a_repeat, 0, 4);
	tcase_add_test(tc, a_redis_restart_with_its_data_is_no_gap);
	tcase_add_test(tc, an_unreachable_redis_at_start_is_exit_2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	const char *rs = getenv("REDIS_SERVER");

#ifndef HAVE_HIREDIS
	fprintf(stderr, "test_redis: built without hiredis: skipped\n");
	return 77;
#endif
	if (!rs || !*rs || access(rs, X_OK) || !getenv("IMLAB_BIN")) {
		fprintf(stderr, "test_redis: no redis-server (REDIS_SERVER): "
			"skipped\n");
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return trun(suite());
}
