/* SPDX-License-Identifier: MIT */
/*
 * bench_hist: a log-bucketed histogram of non-negative 64-bit values
 * (latencies in ns) in constant memory: values below 128 have a bucket
 * each, above that every power of two is cut into 64 buckets, so a
 * reported percentile is within 1.6% of the true value. min, max and the
 * mean are exact.
 */
#ifndef IMLAB_BENCH_HIST_H
#define IMLAB_BENCH_HIST_H

#include <stdint.h>

#define BENCH_HIST_SUB_BITS 6
#define BENCH_HIST_SUB (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_BUCKETS (2 * BENCH_HIST_SUB + \
			    (63 - BENCH_HIST_SUB_BITS) * BENCH_HIST_SUB)

struct bench_hist {
	uint64_t count;
	uint64_t min, max;
	double sum;
	uint64_t b[BENCH_HIST_BUCKETS];
};

/* Empties h. */
void bench_hist_init(struct bench_hist *h);

/* Counts one value. */
void bench_hist_add(struct bench_hist *h, uint64_t v);

/* Returns the value at quantile q (0..1): the middle of the bucket holding
 * the ceil(q * count)-th smallest value, clamped to [min, max]; 0 when h is
 * empty. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);

/* Returns the mean, 0 when empty. */
double bench_hist_mean(const struct bench_hist *h);

#endif
