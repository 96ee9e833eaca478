/* SPDX-License-Identifier: MIT */
/*
 * bench_report: the field list and the three printers (see
 * bench_report.h). The table shows a subset of the fields, in its own
 * order and with its own labels and precision.
 */
#include "autoconf.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bench_report.h"

enum kind { K_INT, K_LONG, K_U64, K_DBL };

/* A figure of struct bench_result. */
struct field {
	const char *key;	/* JSON member, TSV column */
	enum kind kind;
	int server;		/* measured only with --server-pid */
	size_t off;
};

#define R(f) offsetof(struct bench_result, f)

/* After "transport", "ok" and "error", in this order. */
static const struct field fields[] = {
	{ "subs", K_INT, 0, R(subs) },
	{ "registered", K_INT, 0, R(registered) },
	{ "cids", K_INT, 0, R(cids) },
	{ "connect_s", K_DBL, 0, R(connect_s) },
	{ "connect_all_s", K_DBL, 0, R(connect_all_s) },
	{ "presence_s", K_DBL, 0, R(presence_s) },
	{ "presence_messages", K_U64, 0, R(presence_msgs) },
	{ "sent", K_INT, 0, R(sent) },
	{ "publish_errors", K_INT, 0, R(pub_errors) },
	{ "expected", K_U64, 0, R(expected) },
	{ "received", K_U64, 0, R(received) },
	{ "unique", K_U64, 0, R(unique) },
	{ "lost", K_U64, 0, R(lost) },
	{ "duplicated", K_U64, 0, R(duplicated) },
	{ "out_of_order", K_U64, 0, R(out_of_order) },
	{ "gaps", K_U64, 0, R(gaps) },
	{ "misrouted", K_U64, 0, R(misrouted) },
	{ "bad_frames", K_U64, 0, R(bad) },
	{ "other_messages", K_U64, 0, R(other_msgs) },
	{ "errors", K_U64, 0, R(errors) },
	{ "reconnects", K_U64, 0, R(reconnects) },
	{ "latency_p50_ms", K_DBL, 0, R(lat_ms[0]) },
	{ "latency_p90_ms", K_DBL, 0, R(lat_ms[1]) },
	{ "latency_p99_ms", K_DBL, 0, R(lat_ms[2]) },
	{ "latency_p999_ms", K_DBL, 0, R(lat_ms[3]) },
	{ "latency_max_ms", K_DBL, 0, R(lat_ms[4]) },
	{ "latency_mean_ms", K_DBL, 0, R(lat_ms[5]) },
	{ "publish_s", K_DBL, 0, R(pub_s) },
	{ "publish_rate", K_DBL, 0, R(publish_rate) },
	{ "publish_rtt_p50_ms", K_DBL, 0, R(pub_rtt_p50_ms) },
	{ "publish_rtt_p99_ms", K_DBL, 0, R(pub_rtt_p99_ms) },
	{ "publisher_connections", K_LONG, 0, R(pub_connects) },
	{ "delivery_s", K_DBL, 0, R(drain_s) },
	{ "deliveries_per_s", K_DBL, 0, R(deliveries_per_s) },
	{ "http_requests", K_U64, 0, R(requests) },
	{ "requests_per_delivery", K_DBL, 0, R(requests_per_delivery) },
	{ "ws_frames", K_U64, 0, R(frames) },
	{ "deliveries_per_ws_frame", K_DBL, 0, R(deliveries_per_frame) },
	{ "bytes_in", K_U64, 0, R(bytes_in) },
	{ "bytes_out", K_U64, 0, R(bytes_out) },
	{ "bytes_per_delivery", K_DBL, 0, R(bytes_per_delivery) },
	{ "bytes_up_per_delivery", K_DBL, 0, R(bytes_up_per_delivery) },
	{ "bytes_down_per_delivery", K_DBL, 0, R(bytes_down_per_delivery) },
	{ "connections", K_U64, 0, R(connects) },
	{ "server_open", K_LONG, 0, R(server_open) },
	{ "server_cpu_before_s", K_DBL, 1, R(srv[0].cpu_s) },
	{ "server_cpu_connected_s", K_DBL, 1, R(srv[1].cpu_s) },
	{ "server_cpu_after_s", K_DBL, 1, R(srv[2].cpu_s) },
	{ "server_cpu_connect_s", K_DBL, 1, R(srv_cpu_connect_s) },
	{ "server_cpu_run_s", K_DBL, 1, R(srv_cpu_run_s) },
	{ "server_cpu_us_per_delivery", K_DBL, 1, R(srv_us_per_delivery) },
	{ "server_deliveries_per_cpu_s", K_DBL, 1,
	  R(srv_deliveries_per_cpu_s) },
	{ "server_rss_before_kb", K_LONG, 1, R(srv[0].rss_kb) },
	{ "server_rss_connected_kb", K_LONG, 1, R(srv[1].rss_kb) },
	{ "server_rss_after_kb", K_LONG, 1, R(srv[2].rss_kb) },
	{ "server_idle_kb_per_conn", K_DBL, 1, R(srv_kb_per_conn) },
	{ "bench_cpu_s", K_DBL, 0, R(bench_cpu_s) },
	{ NULL, K_INT, 0, 0 }
};

/* The table's rows: label, field, decimals of a double. */
static const struct row {
	const char *label, *key;
	int digits;
} rows[] = {
	{ "registered", "registered", 0 },
	{ "distinct cids", "cids", 0 },
	{ "connect time (s)", "connect_s", 2 },
	{ "all registered (s)", "connect_all_s", 2 },
	{ "presence settled (s)", "presence_s", 2 },
	{ "presence messages", "presence_messages", 0 },
	{ "sent", "sent", 0 },
	{ "publish errors", "publish_errors", 0 },
	{ "expected deliveries", "expected", 0 },
	{ "received", "received", 0 },
	{ "lost", "lost", 0 },
	{ "duplicated", "duplicated", 0 },
	{ "out of order", "out_of_order", 0 },
	{ "gaps", "gaps", 0 },
	{ "errors", "errors", 0 },
	{ "reconnects", "reconnects", 0 },
	{ "latency p50 (ms)", "latency_p50_ms", 2 },
	{ "latency p90 (ms)", "latency_p90_ms", 2 },
	{ "latency p99 (ms)", "latency_p99_ms", 2 },
	{ "latency p99.9 (ms)", "latency_p999_ms", 2 },
	{ "latency max (ms)", "latency_max_ms", 2 },
	{ "publish rate (msg/s)", "publish_rate", 0 },
	{ "deliveries/s", "deliveries_per_s", 0 },
	{ "HTTP requests/delivery", "requests_per_delivery", 3 },
	{ "wire bytes/delivery", "bytes_per_delivery", 0 },
	{ "bytes up/delivery", "bytes_up_per_delivery", 0 },
	{ "bytes down/delivery", "bytes_down_per_delivery", 0 },
	{ "TCP connections", "connections", 0 },
	{ "WebSocket frames", "ws_frames", 0 },
	{ "server CPU connect (s)", "server_cpu_connect_s", 2 },
	{ "server CPU run (s)", "server_cpu_run_s", 2 },
	{ "server CPU us/delivery", "server_cpu_us_per_delivery", 3 },
	{ "server deliveries/CPU-s", "server_deliveries_per_cpu_s", 0 },
	{ "server RSS before (KB)", "server_rss_before_kb", 0 },
	{ "server RSS connected (KB)", "server_rss_connected_kb", 0 },
	{ "server RSS after (KB)", "server_rss_after_kb", 0 },
	{ "server KB/connection", "server_idle_kb_per_conn", 2 },
	{ "bench CPU (s)", "bench_cpu_s", 2 },
	{ NULL, NULL, 0 }
};

/* Prints field f of x: width columns (0: as is), doubles with digits
 * decimals. */
static void
value(const struct field *f, const struct bench_result *x, int width,
      int digits)
{
	const void *p = (const char *)x + f->off;

	switch (f->kind) {
	case K_INT:
		printf("%*d", width, *(const int *)p);
		break;
	case K_LONG:
		printf("%*ld", width, *(const long *)p);
		break;
	case K_U64:
		printf("%*llu", width,
		       (unsigned long long)*(const uint64_t *)p);
		break;
	case K_DBL:
		printf("%*.*f", width, digits, *(const double *)p);
		break;
	}
}

/* Prints s without control characters, escaped for JSON if json. */
static void
text(const char *s, int json)
{
	for (; *s; s++) {
		if (json && (*s == '"' || *s == '\\'))
			printf("\\%c", *s);
		else if ((unsigned char)*s >= 0x20)
			putchar(*s);
	}
}

static void
print_json(const struct bench_opts *o, const struct bench_result *res,
	   int n)
{
	printf("{\n  \"tool\": \"imlab-bench\",\n  \"version\": \"%s\",\n"
	       "  \"url\": \"%s\",\n  \"subs\": %d,\n  \"rooms\": %d,\n"
	       "  \"msgs\": %d,\n  \"rate\": %d,\n  \"size\": %d,\n"
	       "  \"interval_ms\": %d,\n  \"server_pid\": %d,\n"
	       "  \"peer\": \"%s\",\n  \"distinct_cids\": %s,\n"
	       "  \"results\": [", PACKAGE_VERSION, o->url, o->subs,
	       o->rooms, o->msgs, o->rate, o->size, o->interval_ms,
	       o->server_pid, bench_peer_name(o->peer),
	       o->distinct_cids ? "true" : "false");
	for (int i = 0; i < n; i++) {
		const struct bench_result *x = &res[i];

		printf("%s\n    {\n      \"transport\": \"%s\",\n"
		       "      \"ok\": %s,\n      \"error\": \"", i ? "," : "",
		       bench_tp_name(x->tp), x->ok ? "true" : "false");
		text(x->error, 1);
		printf("\"");
		for (const struct field *f = fields; f->key; f++) {
			if (f->server && !x->have_server)
				continue;
			printf(",\n      \"%s\": ", f->key);
			value(f, x, 0, 3);
		}
		printf("\n    }");
	}
	printf("\n  ]\n}\n");
}

/* Server figures are columns when --server-pid was given; a run that
 * could not read them leaves those cells empty. */
static void
print_tsv(const struct bench_opts *o, const struct bench_result *res, int n)
{
	printf("transport\tok\terror\tpeer");
	for (const struct field *f = fields; f->key; f++)
		if (!f->server || o->server_pid)
			printf("\t%s", f->key);
	printf("\n");
	for (int i = 0; i < n; i++) {
		const struct bench_result *x = &res[i];

		printf("%s\t%s\t", bench_tp_name(x->tp),
		       x->ok ? "true" : "false");
		text(x->error, 0);
		printf("\t%s", bench_peer_name(o->peer));
		for (const struct field *f = fields; f->key; f++) {
			if (f->server && !o->server_pid)
				continue;
			printf("\t");
			if (!f->server || x->have_server)
				value(f, x, 0, 3);
		}
		printf("\n");
	}
}

static const struct field *
find(const char *key)
{
	const struct field *f = fields;

	while (f->key && strcmp(f->key, key))
		f++;
	return f;
}

static void
print_table(const struct bench_opts *o, const struct bench_result *res,
	    int n)
{
	char rate[32];

	if (o->rate)
		snprintf(rate, sizeof(rate), "at %d/s", o->rate);
	else
		snprintf(rate, sizeof(rate), "back to back");
	printf("imlab-bench %s: %s (%s), %d subscribers in %d room%s, %d "
	       "messages of %d B %s\n\n%-26s", PACKAGE_VERSION, o->url,
	       bench_peer_name(o->peer), o->subs, o->rooms,
	       o->rooms > 1 ? "s" : "", o->msgs, o->size, rate, "");
	for (int i = 0; i < n; i++)
		printf(" %12s", bench_tp_name(res[i].tp));
	printf("\n");
	for (const struct row *w = rows; w->label; w++) {
		const struct field *f = find(w->key);

		if (f->server && !o->server_pid)
			continue;
		printf("%-26s", w->label);
		for (int i = 0; i < n; i++) {
			printf(" ");
			value(f, &res[i], 12, w->digits);
		}
		printf("\n");
	}
	for (int i = 0; i < n; i++)
		if (res[i].error[0])
			printf("%s: %s\n", bench_tp_name(res[i].tp),
			       res[i].error);
}

void
bench_report(const struct bench_opts *o, const struct bench_result *res,
	     int n)
{
	if (o->format == BENCH_OUT_JSON)
		print_json(o, res, n);
	else if (o->format == BENCH_OUT_TSV)
		print_tsv(o, res, n);
	else
		print_table(o, res, n);
}
