/* SPDX-License-Identifier: MIT */
/*
 * bench_hist: log-bucketed histogram. Bucket i < 2 * SUB holds the value i;
 * above, a value with its top bit at position m (m >= SUB_BITS + 1) goes to
 * 2 * SUB + (m - SUB_BITS - 1) * SUB + its next SUB_BITS bits.
 */
#include "autoconf.h"

#include <string.h>

#include "bench_hist.h"

static unsigned
index_of(uint64_t v)
{
	unsigned m, shift;

	if (v < 2 * BENCH_HIST_SUB)
		return (unsigned)v;
	m = 63u - (unsigned)__builtin_clzll(v);
	shift = m - BENCH_HIST_SUB_BITS;
	return 2 * BENCH_HIST_SUB + (m - BENCH_HIST_SUB_BITS - 1) *
	       BENCH_HIST_SUB + (unsigned)((v >> shift) - BENCH_HIST_SUB);
}

/* Lowest value of bucket i and its width. */
static void
bucket_range(unsigned i, uint64_t *lo, uint64_t *width)
{
	unsigned m, sub;

	if (i < 2 * BENCH_HIST_SUB) {
		*lo = i;
		*width = 1;
		return;
	}
	i -= 2 * BENCH_HIST_SUB;
	m = i / BENCH_HIST_SUB + BENCH_HIST_SUB_BITS + 1;
	sub = i % BENCH_HIST_SUB;
	*width = 1ull << (m - BENCH_HIST_SUB_BITS);
	*lo = ((uint64_t)BENCH_HIST_SUB + sub) << (m - BENCH_HIST_SUB_BITS);
}

void
bench_hist_init(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void
bench_hist_add(struct bench_hist *h, uint64_t v)
{
	h->b[index_of(v)]++;
	h->count++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

uint64_t
bench_hist_quantile(const struct bench_hist *h, double q)
{
	uint64_t rank, seen = 0, lo, width, v;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (!rank)
		rank = 1;
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen < rank)
			continue;
		bucket_range(i, &lo, &width);
		v = lo + width / 2;
		if (v < h->min)
			v = h->min;
		if (v > h->max)
			v = h->max;
		return v;
	}
	return h->max;
}

double
bench_hist_mean(const struct bench_hist *h)
{
	return h->count ? h->sum / (double)h->count : 0;
}
