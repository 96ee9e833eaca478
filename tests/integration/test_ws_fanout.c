/* SPDX-License-Identifier: MIT */
/*
 * test_ws_fanout: 1,000 WebSocket clients in one room receive a burst of
 * messages published in one go, every one of them complete, in order and
 * without duplicates. Bounded (a generous deadline), not a timing
 * assertion; the rate is printed for information. One thread drives every
 * client with poll() (wsclient.c); envelopes are recognised by scanning
 * for {"id": rather than parsed, to keep the client side cheap.
 */
#include "autoconf.h"

#include <check.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <json-c/json.h>

#include "trun.h"
#include "testlib.h"
#include "wsclient.h"

#define NCLIENTS 1000
#define NMSGS_DEFAULT 50	/* IMLAB_FANOUT_MSGS overrides (<= 1000) */
#define DEADLINE_MS 25000

static unsigned nmsgs = NMSGS_DEFAULT;

struct fan {
	struct t_ws c;
	uint64_t next;		/* id expected next */
	unsigned got;		/* envelopes received */
	int joined;
	int bad;		/* out of order or duplicate */
};

static size_t
raise_nofile(size_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

/* Takes in one frame of client f. */
static void
take(struct fan *f, const char *m, size_t len)
{
	static const char key[] = "{\"id\":";

	if (!strncmp(m, "{\"op\":\"joined\"", 14)) {
		f->joined = 1;
		return;
	}
	if (strncmp(m, "{\"op\":\"msg", 10))
		return;
	for (const char *p = m; (p = memmem(p, len - (size_t)(p - m), key,
					    sizeof(key) - 1));) {
		uint64_t id;

		p += sizeof(key) - 1;
		id = strtoull(p, NULL, 10);
		if (f->got == 0 ? id < f->next : id != f->next)
			f->bad = 1;
		f->next = id + 1;
		f->got++;
	}
}

/* Serves every client until done(f) holds for all or the deadline passes.
 * Returns how many are done. */
static size_t
pump(struct fan *fans, size_t n, int (*done)(const struct fan *),
     int timeout_ms)
{
	struct pollfd *p = calloc(n, sizeof(*p));
	int64_t deadline = im_mono_ms() + timeout_ms;
	size_t ndone = 0;

	ck_assert_ptr_nonnull(p);
	for (;;) {
		ndone = 0;
		for (size_t i = 0; i < n; i++) {
			p[i].fd = done(&fans[i]) ? -1 : fans[i].c.fd;
			p[i].events = POLLIN;
			p[i].revents = 0;
			ndone += done(&fans[i]) != 0;
		}
		if (ndone == n || im_mono_ms() >= deadline)
			break;
		if (poll(p, n, 100) <= 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			char *m;
			size_t len;

			if (!p[i].revents)
				continue;
			t_ws_fill(&fans[i].c);
			while (t_ws_next(&fans[i].c, &m, &len) == 1) {
				take(&fans[i], m, len);
				free(m);
			}
		}
	}
	free(p);
	return ndone;
}

static int
is_joined(const struct fan *f)
{
	return f->joined;
}

static int
has_all(const struct fan *f)
{
	return f->got >= nmsgs;
}

START_TEST(thousand_clients_receive_a_burst_without_loss)
{
	struct fan *fans = calloc(NCLIENTS, sizeof(*fans));
	struct server *srv;
	struct json_object *d;
	uint16_t port;
	uint64_t first = 0, since;
	int64_t t0, t1;
	size_t ok;

	ck_assert_ptr_nonnull(fans);
	ck_assert_uint_ge(raise_nofile(2 * NCLIENTS + 256),
			  2 * NCLIENTS + 64);
	srv = t_server_start(NULL);
	port = server_port(srv);
	since = store_last_id(srv->st);
	for (size_t i = 0; i < NCLIENTS; i++) {
		ck_assert_int_eq(t_ws_connect(&fans[i].c, port, NULL, 5000),
				 101);
		/* anonymous: no presence traffic, only the burst */
		ck_assert_int_eq(t_ws_sendf(&fans[i].c, "{\"op\":\"join\","
					    "\"room\":\"fan\",\"since\":%"
					    PRIu64 "}", since), 0);
	}
	ck_assert_uint_eq(pump(fans, NCLIENTS, is_joined, DEADLINE_MS),
			  NCLIENTS);

	d = json_tokener_parse("{\"text\":\"hello, everyone\"}");
	t0 = im_mono_ms();
	if (getenv("IMLAB_FANOUT_MSGS"))
		nmsgs = (unsigned)atoi(getenv("IMLAB_FANOUT_MSGS"));
	if (nmsgs < 1 || nmsgs > 1000)
		nmsgs = NMSGS_DEFAULT;
	for (unsigned i = 0; i < nmsgs; i++) {
		struct hub_pub p = { .room = "fan", .event = "chat",
				     .from = "fanout", .via = VIA_API,
				     .data = d };
		struct hub_ack ack;
		struct im_error e;

		ck_assert_int_eq(hub_publish(&srv->hub, &p, &ack, &e), IM_OK);
		if (!first)
			first = ack.id;
	}
	ok = pump(fans, NCLIENTS, has_all, DEADLINE_MS);
	t1 = im_mono_ms();
	json_object_put(d);
	for (size_t i = 0; i < NCLIENTS; i++) {
		ck_assert_msg(fans[i].got == nmsgs && !fans[i].bad &&
			      fans[i].next == first + nmsgs,
			      "client %zu: %u of %u messages%s", i,
			      fans[i].got, nmsgs,
			      fans[i].bad ? ", out of order" : "");
	}
	ck_assert_uint_eq(ok, NCLIENTS);
	fprintf(stderr, "fan-out: %d x %u deliveries in %" PRId64 " ms "
		"(%.0f/s with the clients on the same cores), %llu bytes\n",
		NCLIENTS, nmsgs, t1 - t0,
		(double)NCLIENTS * nmsgs * 1000.0 / (double)(t1 - t0 + 1),
		(unsigned long long)atomic_load(
			&srv->stats.tp[VIA_WS].bytes_out));
	ck_assert_uint_eq(atomic_load(&srv->stats.tp[VIA_WS].delivered),
			  (unsigned long long)NCLIENTS * nmsgs);
	ck_assert_int_eq(atomic_load(&srv->stats.tp[VIA_WS].open), NCLIENTS);
	/* half leave politely, half vanish; the server stops with the
	 * rest still open */
	for (size_t i = 0; i < NCLIENTS / 2; i++)
		t_ws_close(&fans[i].c);
	server_stop(&srv);
	for (size_t i = NCLIENTS / 2; i < NCLIENTS; i++)
		t_ws_drop(&fans[i].c);
	free(fans);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ws_fanout");
	TCase *tc = tcase_create("fanout");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, thousand_clients_receive_a_burst_without_loss);
	suite_add_tcase(s, tc);
	return trun(s);
}
