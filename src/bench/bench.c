/* SPDX-License-Identifier: MIT */
/*
 * bench: the helpers bench.h shares with every part of imlab-bench - the
 * clock, names (peer, room, cid, from), errors, registration, and the
 * delivery bookkeeping (bench_deliver(): counted, checked for route,
 * duplicate and order, its latency into the histogram). The driver, main
 * and the phases of a run, is bench_main.c; this file includes only what
 * it needs, so no module below it includes it back (tools/inccycle.sh).
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "bench_json.h"

int64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

const char *
bench_peer_name(int peer)
{
	if (peer == BENCH_PEER_NCHAN)
		return "nchan";
	return peer == BENCH_PEER_SOCKETIO ? "socket.io" : "imlab";
}

void
bench_room_name(const struct bench_run *r, int k, char *buf, size_t len)
{
	snprintf(buf, len, "%s%d", r->room_prefix, k);
}

void
bench_sub_cid(const struct bench_run *r, const struct bench_sub *s,
	      char *buf, size_t len)
{
	if (r->o->distinct_cids)
		snprintf(buf, len, "%s-%d", r->cid, (int)(s - r->subs));
	else
		snprintf(buf, len, "%s", r->cid);
}

void
bench_sub_from(const struct bench_run *r, const struct bench_sub *s,
	       char *buf, size_t len)
{
	if (r->o->distinct_cids)
		snprintf(buf, len, "bench%d", (int)(s - r->subs));
	else
		snprintf(buf, len, "bench");
}

void
bench_error(struct bench_run *r, const char *fmt, ...)
{
	va_list ap;

	r->errors++;
	va_start(ap, fmt);
	vsnprintf(r->last_error, sizeof(r->last_error), fmt, ap);
	va_end(ap);
}

void
bench_registered(struct bench_run *r, struct bench_sub *s)
{
	if (s->registered)
		return;
	s->registered = 1;
	r->registered++;
	r->t_last_registered = bench_now_ns();
}

/* Returns 1 if [p, p + len) is the decimal k, as snprintf("%d") writes
 * it (no sign, no leading zero). */
static int
is_decimal(const char *p, size_t len, int k)
{
	long v = 0;

	if (!len || len > 9 || (len > 1 && *p == '0'))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (p[i] - '0');
	}
	return v == k;
}

/* Counts envelope e delivered to s at now_ns. */
static void
deliver(struct bench_run *r, struct bench_sub *s, const struct bench_env *e,
	int64_t now_ns)
{
	size_t idx, pl = r->room_prefix_len;
	uint8_t *byte, bit;

	if (e->id > s->cursor)
		s->cursor = e->id;
	if (e->event_len != sizeof(BENCH_EVENT) - 1 ||
	    memcmp(e->event, BENCH_EVENT, e->event_len) || !e->has_seq ||
	    e->seq < 0 || e->seq >= r->o->msgs) {
		r->other_msgs++;
		r->t_last_other = now_ns;
		return;
	}
	/* is it bench_room_name(s->room)? compared without formatting it */
	if (e->room_len <= pl || memcmp(e->room, r->room_prefix, pl) ||
	    !is_decimal(e->room + pl, e->room_len - pl, s->room)) {
		r->misrouted++;
		return;
	}
	r->received++;
	idx = (size_t)(s - r->subs) * r->seen_stride + (size_t)e->seq / 8;
	byte = &r->seen[idx];
	bit = (uint8_t)(1u << (e->seq % 8));
	if (*byte & bit) {
		r->duplicated++;
		return;
	}
	*byte |= bit;
	r->unique++;
	if (e->seq < s->max_seq)
		r->out_of_order++;
	else
		s->max_seq = (int32_t)e->seq;
	if (now_ns > e->t)
		bench_hist_add(&r->lat, (uint64_t)(now_ns - e->t));
	else
		bench_hist_add(&r->lat, 0);
	r->t_last_rx = now_ns;
}

const char *
bench_deliver(struct bench_run *r, struct bench_sub *s, const char *env,
	      const char *end, int64_t now_ns)
{
	struct bench_env e;
	const char *after = bench_json_env(env, end, &e);

	if (!after) {
		r->bad++;
		return NULL;
	}
	deliver(r, s, &e, now_ns);
	return after;
}
