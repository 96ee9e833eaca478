/* SPDX-License-Identifier: MIT */
/*
 * bench_main: imlab-bench's driver: main and the phases of a run
 * (connect, wait until registered, publish, drain). Options are
 * bench_opts', the publisher bench_pub's, the printing bench_report's,
 * the delivery bookkeeping bench.c's. The transports of --transport all
 * run one after another, each with its own rooms and subscribers, so they
 * never compete for the CPU. The table of transports is here, and so is
 * bench_tp_name() (bench.h), which reads it.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench.h"
#include "bench_json.h"
#include "bench_net.h"
#include "bench_opts.h"
#include "bench_proc.h"
#include "bench_pub.h"
#include "bench_report.h"

#define CONNECT_STALL_NS (40 * 1000000000ll)	/* no progress: give up */
#define OPEN_WAIT_NS (3 * 1000000000ll)	/* wait for /api/stats open */
#define SETTLE_NS (300 * 1000000ll)	/* quiet time before sampling */
#define DRAIN_MIN_NS (5 * 1000000000ll)	/* wait for stragglers */
#define PRESENCE_MAX_NS (120 * 1000000000ll)	/* presence settles by then */

static volatile sig_atomic_t interrupted;

/* The transports, in enum bench_tp order. */
static const struct bench_tp_ops *const tps[BENCH__COUNT] = {
	&bench_poll_ops, &bench_longpoll_ops, &bench_sse_ops, &bench_ws_ops,
	&bench_sio_ops, &bench_sio_polling_ops
};

const char *
bench_tp_name(enum bench_tp tp)
{
	return tp < BENCH__COUNT ? tps[tp]->name : "?";
}

/* ---- a run ----------------------------------------------------------- */

static void
progress(struct bench_run *r, int final)
{
	static int64_t last;
	int64_t now = bench_now_ns();
	int tty = isatty(2);

	if (!final && now - last < 1000000000ll)
		return;
	last = now;
	if (!r->publishing)
		fprintf(stderr, "[%s] connecting %d/%d registered, %" PRIu64
			" errors", bench_tp_name(r->tp), r->registered,
			r->o->subs, r->errors);
	else if (!r->o->msgs)
		fprintf(stderr, "[%s] %d connections registered, %" PRIu64
			" errors", bench_tp_name(r->tp), r->registered,
			r->errors);
	else
		fprintf(stderr, "[%s] sent %d/%d, delivered %" PRIu64 "/%llu"
			", lost so far %llu, p99 %.2f ms",
			bench_tp_name(r->tp), atomic_load(&r->sent),
			r->o->msgs, r->unique,
			(unsigned long long)atomic_load(&r->expected),
			(unsigned long long)(atomic_load(&r->expected) >
					     r->unique ?
					     atomic_load(&r->expected) -
					     r->unique : 0),
			(double)bench_hist_quantile(&r->lat, 0.99) / 1e6);
	fprintf(stderr, tty && !final ? "\033[K\r" : "\n");
}

static void
sample_server(const struct bench_opts *o, struct bench_result *res, int i)
{
	if (o->server_pid && !bench_proc_sample(o->server_pid, &res->srv[i]))
		res->have_server = 1;
}

/* Steps the loop for ns nanoseconds. */
static void
step_for(struct bench_run *r, int64_t ns)
{
	int64_t end = bench_now_ns() + ns;

	while (!interrupted && bench_now_ns() < end)
		bench_net_step(r, 20);
}

static uint64_t
count_lost(const struct bench_run *r)
{
	uint64_t lost = 0;
	int rooms = r->o->rooms;

	for (int i = 0; i < r->o->subs; i++) {
		const uint8_t *bits = r->seen + (size_t)i * r->seen_stride;

		for (int k = r->subs[i].room; k < r->o->msgs; k += rooms)
			if (r->acked[k] && !(bits[k / 8] & (1u << (k % 8))))
				lost++;
	}
	return lost;
}

/* Fills in the figures computed from the others. */
static void
derive(struct bench_result *x)
{
	double cpu = x->srv[2].cpu_s - x->srv[1].cpu_s;

	x->srv_cpu_run_s = cpu;
	x->srv_cpu_connect_s = x->srv[1].cpu_s - x->srv[0].cpu_s;
	if (cpu > 0)
		x->srv_deliveries_per_cpu_s = (double)x->unique / cpu;
	if (cpu > 0 && x->unique)
		x->srv_us_per_delivery = cpu * 1e6 / (double)x->unique;
	if (x->have_server && x->subs > 0)
		x->srv_kb_per_conn = (double)(x->srv[1].rss_kb -
					      x->srv[0].rss_kb) / x->subs;
	if (x->frames)
		x->deliveries_per_frame = (double)x->unique /
					  (double)x->frames;
}

static void
run_one(const struct bench_opts *o, enum bench_tp tp,
	struct bench_result *res)
{
	struct bench_run *r = calloc(1, sizeof(*r));
	uint64_t in0 = 0, out0 = 0, in1 = 0, out1 = 0, req0, frames0;
	int64_t now, last_progress, drain_end = 0;
	int last_registered = -1, started = 0;
	double cpu0 = bench_proc_self_cpu();
	pthread_t th;

	memset(res, 0, sizeof(*res));
	res->tp = tp;
	res->subs = o->subs;
	res->cids = o->distinct_cids ? o->subs : 1;
	res->server_open = -1;
	if (!r) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		return;
	}
	r->o = o;
	r->tp = tp;
	r->interrupted = &interrupted;
	snprintf(r->room_prefix, sizeof(r->room_prefix), "bench-%d-%s-",
		 (int)getpid(), bench_tp_name(tp));
	r->room_prefix_len = strlen(r->room_prefix);
	snprintf(r->cid, sizeof(r->cid), "bench-%d-%s", (int)getpid(),
		 bench_tp_name(tp));
	bench_hist_init(&r->lat);
	bench_hist_init(&r->pub_rtt);
	r->seen_stride = ((size_t)o->msgs + 7) / 8;
	r->subs = calloc((size_t)o->subs, sizeof(*r->subs));
	r->room_subs = calloc((size_t)o->rooms, sizeof(*r->room_subs));
	r->seen = calloc((size_t)o->subs * r->seen_stride + 1, 1);
	r->acked = calloc((size_t)o->msgs + 1, 1);
	if (!r->subs || !r->room_subs || !r->seen || !r->acked) {
		snprintf(res->error, sizeof(res->error), "out of memory");
		goto out;
	}
	for (int i = 0; i < o->subs; i++) {
		r->subs[i].room = i % o->rooms;
		r->subs[i].max_seq = -1;
		r->room_subs[i % o->rooms]++;
	}
	if (o->peer != BENCH_PEER_NCHAN &&
	    bench_pub_last_id(o, &r->since0, res->error, sizeof(res->error)))
		goto out;
	for (int i = 0; i < o->subs; i++)
		r->subs[i].cursor = r->since0;
	sample_server(o, res, 0);
	started = 1;
	if (bench_net_start(r, tps[tp])) {
		snprintf(res->error, sizeof(res->error), "%s", r->last_error);
		goto stop;
	}

	/* connect: until every subscriber is registered */
	r->t_connect0 = last_progress = bench_now_ns();
	while (r->registered < o->subs && !interrupted) {
		bench_net_step(r, 50);
		now = bench_now_ns();
		if (r->registered != last_registered) {
			last_registered = r->registered;
			last_progress = now;
		} else if (now - last_progress > CONNECT_STALL_NS) {
			break;
		}
		/* nobody gets in and everybody failed a few times */
		if (!r->registered && r->errors >= 3ull * (unsigned)o->subs)
			break;
		progress(r, 0);
	}
	r->t_connected = bench_now_ns();
	res->registered = r->registered;
	res->connect_s = (double)(r->t_connected - r->t_connect0) / 1e9;
	if (r->t_last_registered)
		res->connect_all_s = (double)(r->t_last_registered -
					      r->t_connect0) / 1e9;
	if (r->registered < o->subs) {
		progress(r, 1);
		snprintf(res->error, sizeof(res->error),
			 "%d of %d subscribers registered (last error: %.180s)",
			 r->registered, o->subs,
			 r->last_error[0] ? r->last_error : "none");
		goto stop;
	}
	/* settle: let the server finish holding every connection */
	now = bench_now_ns();
	while (o->peer != BENCH_PEER_NCHAN && !interrupted &&
	       bench_now_ns() - now < OPEN_WAIT_NS) {
		res->server_open = bench_pub_open(o, tp);
		if (res->server_open < 0 || res->server_open >= o->subs ||
		    tp == BENCH_POLL)
			break;
		step_for(r, 50 * 1000000ll);
	}
	step_for(r, SETTLE_NS);
	/* distinct cids: every join is delivered to the members before it;
	 * wait until that stops (SETTLE_NS with no presence message) */
	while (o->distinct_cids && !interrupted &&
	       bench_now_ns() - r->t_last_other < SETTLE_NS &&
	       bench_now_ns() - r->t_connected < PRESENCE_MAX_NS)
		step_for(r, 50 * 1000000ll);
	if (r->t_last_other > r->t_connect0)
		res->presence_s = (double)(r->t_last_other - r->t_connect0) /
				  1e9;
	res->presence_msgs = r->other_msgs;
	sample_server(o, res, 1);
	bench_net_bytes(r, &in0, &out0);
	req0 = r->requests;
	frames0 = r->frames;
	res->ok = 1;

	/* publish and drain */
	r->publishing = 1;
	r->t_pub0 = r->t_last_rx = bench_now_ns();
	if (o->msgs > 0 && pthread_create(&th, NULL, bench_pub_thread, r)) {
		snprintf(res->error, sizeof(res->error),
			 "cannot start the publisher thread");
		res->ok = 0;
		goto stop;
	}
	while (o->msgs > 0) {
		bench_net_step(r, 20);
		progress(r, 0);
		if (interrupted)
			break;
		if (!atomic_load(&r->pub_done))
			continue;
		if (r->unique >= atomic_load(&r->expected))
			break;
		now = bench_now_ns();
		if (!drain_end) {
			int64_t d = 3ll * o->interval_ms * 1000000ll;

			drain_end = now + (d > DRAIN_MIN_NS ? d :
					   DRAIN_MIN_NS);
		} else if (now > drain_end) {
			break;
		}
	}
	if (o->msgs > 0)
		pthread_join(th, NULL);
	else
		r->t_pub_end = r->t_pub0;
	progress(r, 1);
	bench_net_bytes(r, &in1, &out1);
	sample_server(o, res, 2);
	res->requests = r->requests - req0;
	res->frames = r->frames - frames0;
	res->bytes_in = in1 - in0;
	res->bytes_out = out1 - out0;
stop:
	r->stopping = 1;
	if (started)
		bench_net_stop(r);
	if (res->ok || r->registered == o->subs) {
		res->expected = atomic_load(&r->expected);
		res->lost = count_lost(r);
	}
	res->sent = atomic_load(&r->sent);
	res->pub_errors = atomic_load(&r->pub_errors);
	res->received = r->received;
	res->unique = r->unique;
	res->duplicated = r->duplicated;
	res->out_of_order = r->out_of_order;
	res->other_msgs = r->other_msgs;
	res->misrouted = r->misrouted;
	res->bad = r->bad;
	res->gaps = r->gaps;
	res->errors = r->errors;
	res->reconnects = r->reconnects;
	res->connects = r->connects;
	res->lat_ms[0] = (double)bench_hist_quantile(&r->lat, 0.50) / 1e6;
	res->lat_ms[1] = (double)bench_hist_quantile(&r->lat, 0.90) / 1e6;
	res->lat_ms[2] = (double)bench_hist_quantile(&r->lat, 0.99) / 1e6;
	res->lat_ms[3] = (double)bench_hist_quantile(&r->lat, 0.999) / 1e6;
	res->lat_ms[4] = (double)r->lat.max / 1e6 * (r->lat.count > 0);
	res->lat_ms[5] = bench_hist_mean(&r->lat) / 1e6;
	res->pub_rtt_p50_ms = (double)bench_hist_quantile(&r->pub_rtt, 0.5) /
			      1e6;
	res->pub_rtt_p99_ms = (double)bench_hist_quantile(&r->pub_rtt,
							  0.99) / 1e6;
	res->pub_connects = r->pub_connects;
	if (r->t_pub0) {
		res->pub_s = (double)(r->t_pub_end - r->t_pub0) / 1e9;
		res->drain_s = (double)(r->t_last_rx - r->t_pub0) / 1e9;
	}
	if (res->drain_s > 0)
		res->deliveries_per_s = (double)r->unique / res->drain_s;
	if (res->sent > 1 && r->t_send_last > r->t_send_first)
		res->publish_rate = (res->sent - 1) * 1e9 /
				    (double)(r->t_send_last - r->t_send_first);
	if (r->unique) {
		res->requests_per_delivery = (double)res->requests /
					     (double)r->unique;
		res->bytes_per_delivery = (double)(res->bytes_in +
						   res->bytes_out) /
					  (double)r->unique;
		/* the subscribers' own sockets: out is up, in is down */
		res->bytes_up_per_delivery = (double)res->bytes_out /
					     (double)r->unique;
		res->bytes_down_per_delivery = (double)res->bytes_in /
					       (double)r->unique;
	}
	if (interrupted && !res->error[0])
		snprintf(res->error, sizeof(res->error), "interrupted");
out:
	res->bench_cpu_s = bench_proc_self_cpu() - cpu0;
	derive(res);
	if (r) {
		free(r->subs);
		free(r->room_subs);
		free(r->seen);
		free(r->acked);
		free(r);
	}
}

/* --sweep: every transport of o at every rate of o->sweep_rates, one TSV
 * line each (the cost-versus-rate table of doc/benchmarks.md). Returns
 * the exit status: 0, 1 (a run lost or doubled messages), 3 (failed). */
static int
sweep(struct bench_opts *o)
{
	const char *p = o->sweep_rates;
	struct bench_result res;
	int status = 0;

	if (o->msgs < 3)
		o->msgs = 3;
	printf("transport\trate\tmsgs\tsubs\tunique\trequests_per_delivery"
	       "\tbytes_up_per_delivery\tbytes_down_per_delivery"
	       "\tbytes_per_delivery\tconnections\tlatency_p50_ms\tlost"
	       "\tduplicated\n");
	while (*p && !interrupted) {
		char *end;
		double rate = strtod(p, &end);

		p = *end ? end + 1 : end;
		o->rate_milli = (int)(rate * 1000 + 0.5);
		for (int t = 0; t < BENCH__COUNT && !interrupted; t++) {
			if (!(o->tps & (1u << t)))
				continue;
			memset(&res, 0, sizeof(res));
			run_one(o, (enum bench_tp)t, &res);
			if (!res.ok)
				status = 3;
			else if (!status && (res.lost || res.duplicated))
				status = 1;
			printf("%s\t%g\t%d\t%d\t%llu\t%.3f\t%.1f\t%.1f\t%.1f"
			       "\t%llu\t%.2f\t%llu\t%llu\n",
			       bench_tp_name((enum bench_tp)t), rate, o->msgs,
			       o->subs, (unsigned long long)res.unique,
			       res.requests_per_delivery,
			       res.bytes_up_per_delivery,
			       res.bytes_down_per_delivery,
			       res.bytes_per_delivery,
			       (unsigned long long)res.connects,
			       res.lat_ms[0], (unsigned long long)res.lost,
			       (unsigned long long)res.duplicated);
			fflush(stdout);
		}
	}
	return status;
}

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

int
main(int argc, char **argv)
{
	struct bench_opts o;
	struct bench_result res[BENCH__COUNT];
	struct sigaction sa;
	int n = 0, rc, status = 0;
	long lim;

	rc = bench_opts_parse(&o, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 2;
	lim = bench_proc_raise_nofile((long)o.subs + 256);
	if (lim < (long)o.subs + 64) {
		fprintf(stderr, "imlab-bench: the file limit is %ld: too low "
			"for %d subscribers (raise the hard limit: ulimit "
			"-Hn)\n", lim, o.subs);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		fprintf(stderr, "imlab-bench: libcurl did not start\n");
		return 3;
	}
	if (o.sweep) {
		status = sweep(&o);
		curl_global_cleanup();
		return status;
	}
	for (int t = 0; t < BENCH__COUNT && !interrupted; t++) {
		if (!(o.tps & (1u << t)))
			continue;
		run_one(&o, (enum bench_tp)t, &res[n]);
		if (!res[n].ok)
			status = 3;
		else if (status == 0 && (res[n].lost || res[n].duplicated ||
					 res[n].pub_errors || res[n].errors ||
					 res[n].misrouted || res[n].bad))
			status = 1;
		if (res[n].error[0])
			fprintf(stderr, "[%s] %s\n", bench_tp_name(res[n].tp),
				res[n].error);
		n++;
	}
	bench_report(&o, res, n);
	fflush(stdout);
	curl_global_cleanup();
	return status;
}
