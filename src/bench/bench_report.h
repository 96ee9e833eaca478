/* SPDX-License-Identifier: MIT */
/*
 * bench_report: what a run measured and the three ways it is printed:
 * the table (the default), one JSON object (--json) and tab-separated
 * values (--tsv: a header line, then one line per transport). One list of
 * fields drives JSON and TSV, so the two always carry the same figures.
 */
#ifndef IMLAB_BENCH_REPORT_H
#define IMLAB_BENCH_REPORT_H

#include <stdint.h>

#include "bench.h"
#include "bench_proc.h"

/* What one run measured; filled from struct bench_run after it. */
struct bench_result {
	enum bench_tp tp;
	int ok;				/* every subscriber registered */
	char error[256];
	double connect_s;
	double connect_all_s;		/* first connect to last registered */
	double presence_s;		/* first connect to last join seen */
	uint64_t presence_msgs;		/* join/leave received by then */
	int cids;			/* distinct cids of the subscribers */
	int subs, registered;
	int sent, pub_errors;
	uint64_t expected, received, unique, lost, duplicated, out_of_order;
	uint64_t other_msgs, misrouted, bad, gaps, errors, reconnects;
	double lat_ms[6];		/* p50 p90 p99 p99.9 max mean */
	double pub_s, drain_s, deliveries_per_s, publish_rate;
	double pub_rtt_p50_ms, pub_rtt_p99_ms;
	long pub_connects;
	uint64_t requests, bytes_in, bytes_out, frames;
	double requests_per_delivery, bytes_per_delivery;
	double bytes_up_per_delivery, bytes_down_per_delivery;
	uint64_t connects;		/* subscriber TCP connections, all */
	double deliveries_per_frame;
	int have_server;
	struct bench_proc_sample srv[3];	/* before, connected, after */
	double srv_cpu_run_s;		/* srv[2] - srv[1] */
	double srv_deliveries_per_cpu_s;
	double srv_us_per_delivery;	/* server CPU us per delivery */
	double srv_cpu_connect_s;	/* srv[1] - srv[0] */
	double srv_kb_per_conn;		/* RSS connected - before, per sub */
	long server_open;		/* /api/stats open, -1 unknown */
	double bench_cpu_s;
};

/* Prints the n results (borrowed) of one invocation to stdout in the
 * format o->format asks for. */
void bench_report(const struct bench_opts *o, const struct bench_result *res,
		  int n);

#endif
