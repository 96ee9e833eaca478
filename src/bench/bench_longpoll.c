/* SPDX-License-Identifier: MIT */
/*
 * bench_longpoll: the long-poll subscriber, on the polling client of
 * bench_poll.h: GET /longpoll?...&timeout=30, asked again at once when an
 * answer was read. It is registered once its first request is on the
 * wire (handed to the kernel); a request times out after the long-poll
 * timeout plus 15 s. With --peer nchan it asks GET /nchan/lp?id=ROOM
 * (nchan's long poll, whose timeout run-bench.sh sets to the same 30 s).
 */
#include "autoconf.h"

#include <stdio.h>

#include "bench_poll.h"

#define TIMEOUT_S 30	/* the long-poll timeout asked */
#define TMO_NS ((TIMEOUT_S + 15) * 1000000000ll)

static int
lp_request(struct bench_conn *c)
{
	char q[32];

	if (c->r->o->peer == BENCH_PEER_NCHAN)	/* its timeout is nginx's */
		return bench_poll_send(c, "/nchan/lp", "", TMO_NS);
	snprintf(q, sizeof(q), "&timeout=%d", TIMEOUT_S);
	return bench_poll_send(c, "/longpoll", q, TMO_NS);
}

static int
lp_answered(struct bench_conn *c, int64_t now)
{
	struct bench_poll *p = c->priv;

	(void)now;
	if (p->close_after) {
		c->state = C_CLOSING;
		return 0;
	}
	return lp_request(c);
}

static ssize_t
lp_parse(struct bench_conn *c, const char *b, size_t have, int64_t now)
{
	return bench_poll_parse(c, b, have, now, lp_answered);
}

/* The request is on the wire: the server holds it from now on. */
static void
lp_flushed(struct bench_conn *c)
{
	if (c->state != C_HEAD)
		return;
	c->serving = 1;
	bench_registered(c->r, c->s);
}

const struct bench_tp_ops bench_longpoll_ops = {
	.name = "longpoll",
	.conn_size = sizeof(struct bench_poll),
	.open = bench_poll_open,
	.connected = lp_request,
	.parse = lp_parse,
	.ended = bench_poll_ended,
	.flushed = lp_flushed,
	.reset = bench_poll_reset,
};
