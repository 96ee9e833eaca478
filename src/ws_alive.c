/* SPDX-License-Identifier: MIT */
/*
 * ws_alive: one sweep timer for the keepalive of every /ws connection
 * (see ws_alive.h for why not lws's per-connection validity timers).
 */
#include "autoconf.h"

#include <string.h>

#include "ws_alive.h"

static void
sweep(lws_sorted_usec_list_t *sul)
{
	struct ws_alive *a = lws_container_of(sul, struct ws_alive, sul);
	lws_usec_t now = lws_now_usecs();
	struct list *pos, *n;

	list_for_each_safe(pos, n, &a->all) {
		struct ws_alive_conn *c = list_entry(pos, struct ws_alive_conn,
						     node);
		lws_usec_t idle = now - c->last;

		if (idle >= a->hangup_us) {
			/* closed on the next service pass, after this walk
			 * (its CLOSED callback unlists it) */
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
					LWS_TO_KILL_ASYNC);
		} else if (idle >= a->ping_us && !c->pinged) {
			c->pinged = 1;
			c->ping_due = 1;
			lws_callback_on_writable(c->wsi);
		}
	}
	lws_sul_schedule(a->ctx, 0, &a->sul, sweep, WS_ALIVE_SWEEP_US);
}

void
ws_alive_start(struct ws_alive *a, struct lws_context *ctx, int ping_s,
	       int hangup_s)
{
	memset(a, 0, sizeof(*a));
	a->ctx = ctx;
	list_init(&a->all);
	a->ping_us = (lws_usec_t)ping_s * LWS_US_PER_SEC;
	a->hangup_us = (lws_usec_t)hangup_s * LWS_US_PER_SEC;
	lws_sul_schedule(ctx, 0, &a->sul, sweep, WS_ALIVE_SWEEP_US);
}

void
ws_alive_stop(struct ws_alive *a)
{
	lws_sul_cancel(&a->sul);
}

void
ws_alive_add(struct ws_alive *a, struct ws_alive_conn *c, struct lws *wsi)
{
	c->wsi = wsi;
	c->last = lws_now_usecs();
	c->ping_due = c->pinged = 0;
	list_add(&a->all, &c->node);
}

void
ws_alive_seen(struct ws_alive_conn *c)
{
	c->last = lws_now_usecs();
	c->pinged = 0;
}

void
ws_alive_del(struct ws_alive_conn *c)
{
	list_unlink(&c->node);
}

int
ws_alive_write(struct ws_alive_conn *c)
{
	/* not empty: lws 4.1.6 does not pass an empty pong's RECEIVE_PONG
	 * to the protocol, and the pong echoes this */
	unsigned char buf[LWS_PRE + 1];

	if (!c->ping_due)
		return 0;
	c->ping_due = 0;
	buf[LWS_PRE] = 'k';
	return lws_write(c->wsi, buf + LWS_PRE, 1, LWS_WRITE_PING) < 0 ?
	       -1 : 1;
}
