/* SPDX-License-Identifier: MIT */
/*
 * tp_longpoll: held long polling. GET /longpoll answers at once when there
 * is news after `since`; otherwise the request subscribes to its rooms and
 * is suspended (no thread, no CPU) until a publish to one of them resumes
 * it, or its timeout (1-60 s) passes and the ticker resumes it. It then
 * answers like a short poll, with no messages on a timeout. While the
 * server is busy, a small batch may wait for more (tp_coalesce.h).
 */
#include "autoconf.h"

#include <stdlib.h>

#include "netem_http.h"
#include "qs.h"
#include "server_ctx.h"
#include "tp.h"
#include "tp_wait.h"

#define TP_FULL_BATCH 16	/* a long poll with this much news answers */

/* A long poll's private state: the waiter and its ?limit=. */
struct lp {
	struct tp_wait w;		/* first: req->tp points at both */
	size_t limit;
};

static void
lp_done(struct http_req *req)
{
	struct lp *lp = req->tp;

	/* out of the registry first: no other thread can then read the
	 * cursor and arm a wake-up for it again (cursor.c) */
	tp_wait_remove(req->srv, &lp->w);
	if (netem_on(&lp->w.p.net))
		netem_forget(req->srv->clock, &lp->w.sub);
	tp_wait_free(&lp->w);
	free(lp);
	req->tp = NULL;
}

/* Answers now: everything after the cursor (possibly nothing). */
static enum MHD_Result
answer(struct MHD_Connection *c, struct http_req *req, struct lp *lp)
{
	struct http_conn *hc = http_conn_of(c);

	tp_wait_wrote(req->srv, &lp->w);
	if (hc)
		hc->last_answer = lp->w.last_write;
	return http_reply_batch(c, req, &lp->w.cur, lp->limit);
}

/* Answers, or waits again: with gate, a busy server may leave it to the
 * flusher; with nothing for us (e.g. a wake-up by a message for others)
 * it suspends again. */
static enum MHD_Result
wait_or_answer(struct MHD_Connection *c, struct http_req *req,
	       struct lp *lp, int gate)
{
	if ((gate && tp_wait_gate(req->srv, &lp->w, 1)) ||
	    tp_wait_suspend(req->srv, &lp->w))
		return MHD_YES;
	/* refresh presence first, so dropping the subscription is no leave */
	tp_params_touch(req->srv, &lp->w.p, VIA_LONGPOLL);
	tp_wait_remove(req->srv, &lp->w);
	return answer(c, req, lp);
}

/* The access handler runs again after a resume: news (maybe to be
 * batched while busy), the deadline or shutdown. */
static enum MHD_Result
lp_resumed(struct MHD_Connection *c, struct http_req *req)
{
	struct lp *lp = req->tp;
	size_t news = cursor_pending(&lp->w.cur, TP_FULL_BATCH);

	return wait_or_answer(c, req, lp, news < TP_FULL_BATCH);
}

enum MHD_Result
tp_longpoll_handle(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	long long limit = TP_BATCH_DEFAULT;
	long long timeout = srv->cfg.longpoll_timeout;
	struct http_conn *hc = http_conn_of(c);
	struct im_error e;
	struct lp *lp;
	enum im_err err;
	size_t news;

	if (qs_int(c, "limit", 1, TP_BATCH_MAX, &limit, &e) ||
	    qs_int(c, "timeout", 1, 60, &timeout, &e))
		return http_reply_im_error(c, req, &e);
	lp = calloc(1, sizeof(*lp));
	if (!lp)
		return MHD_NO;
	if (tp_params_parse(c, srv, 0, &lp->w.p, &e)) {
		free(lp);
		return http_reply_im_error(c, req, &e);
	}
	lp->limit = (size_t)limit;
	req->tp = lp;
	req->done = lp_done;
	if (tp_wait_init(&lp->w, srv, c, VIA_LONGPOLL, timeout * 1000))
		return MHD_NO;
	lp->w.p.net.fire = netem_http_fire_sub;	/* ?delay=: netem.h */
	lp->w.p.net.key = &lp->w.sub;
	/* the connection's last answer: a busy server makes a client that
	 * asks again at once wait for a batch */
	lp->w.last_write = hc ? hc->last_answer : 0;
	req->resume = lp_resumed;
	tp_params_touch(srv, &lp->w.p, VIA_LONGPOLL);
	/* a full batch answers at once; a small one may wait for more while
	 * the server is busy */
	news = cursor_pending(&lp->w.cur, TP_FULL_BATCH);
	if (news == TP_FULL_BATCH ||
	    (news && !tp_wait_gate(srv, &lp->w, 0)))
		return answer(c, req, lp);
	err = tp_wait_add(srv, &lp->w, srv->cfg.max_longpolls);
	if (err == IM_EFULL)
		return http_reply_busy(c, req, srv->cfg.max_longpolls,
				       "long polls are held");
	if (err != IM_OK)
		return MHD_NO;
	return wait_or_answer(c, req, lp, news > 0);
}
