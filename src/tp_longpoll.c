/* SPDX-License-Identifier: MIT */
/*
 * tp_longpoll: held long polling. GET /longpoll answers at once when there
 * is news after `since`; otherwise the request subscribes to its rooms and
 * is suspended (no thread, no CPU) until a publish to one of them resumes
 * it, or its timeout (1-60 s) passes and the ticker resumes it. It then
 * answers like a short poll, with no messages on a timeout.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "qs.h"
#include "server.h"
#include "tp.h"

struct lp {
	struct tp_wait w;
	size_t limit;
};

static void
lp_done(struct http_req *req)
{
	struct lp *lp = req->tp;

	tp_wait_remove(req->srv, &lp->w);
	tp_params_free(&lp->w.p);
	free(lp);
	req->tp = NULL;
}

/* Answers now: everything after the cursor (possibly nothing). */
static enum MHD_Result
answer(struct MHD_Connection *c, struct http_req *req, struct lp *lp)
{
	struct http_conn *hc = http_conn_of(c);

	tp_wrote(req->srv, &lp->w);
	if (hc)
		hc->last_answer = lp->w.last_write;
	return http_reply_batch(c, req, lp->w.p.rings, lp->w.p.nrooms,
				lp->w.cursor, lp->w.p.cid, lp->limit);
}

static enum MHD_Result
finish(struct MHD_Connection *c, struct http_req *req, struct lp *lp)
{
	/* refresh presence first, so dropping the subscription is no leave */
	tp_params_touch(req->srv, &lp->w.p, VIA_LONGPOLL);
	tp_wait_remove(req->srv, &lp->w);
	return answer(c, req, lp);
}

static enum MHD_Result lp_resumed(struct MHD_Connection *c,
				  struct http_req *req);

enum MHD_Result
tp_longpoll_handle(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	long long limit = TP_BATCH_DEFAULT;
	long long timeout = srv->cfg.longpoll_timeout;
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
	if (tp_params_parse(c, srv, &lp->w.p, &e)) {
		free(lp);
		return http_reply_im_error(c, req, &e);
	}
	lp->limit = (size_t)limit;
	lp->w.srv = srv;
	lp->w.c = c;
	lp->w.cursor = lp->w.p.since;
	lp->w.sub.via = VIA_LONGPOLL;
	lp->w.deadline = im_mono_ms() + timeout * 1000;
	{
		struct http_conn *hc = http_conn_of(c);

		/* the connection's last answer: a busy server makes a client
		 * that asks again at once wait for a batch (see tp.h) */
		lp->w.last_write = hc ? hc->last_answer : 0;
	}
	req->tp = lp;
	req->done = lp_done;
	req->resume = lp_resumed;
	tp_params_touch(srv, &lp->w.p, VIA_LONGPOLL);
	/* a full batch answers at once; a small one may wait for more while
	 * the server is busy (see tp.h) */
	news = tp_news_count(&lp->w, TP_FULL_BATCH);
	if (news == TP_FULL_BATCH || (news && !tp_would_defer(srv, &lp->w)))
		return answer(c, req, lp);
	err = tp_wait_add(srv, &lp->w, srv->cfg.max_longpolls);
	if (err != IM_OK) {
		if (err == IM_EFULL)
			return http_reply_busy(c, req, srv->cfg.max_longpolls,
					       "long polls are held");
		return MHD_NO;
	}
	if ((news && tp_gate(srv, &lp->w)) ||
	    tp_wait_suspend(srv, &lp->w, tp_has_news))
		return MHD_YES;
	return finish(c, req, lp);
}

/* The access handler runs again after a resume. */
static enum MHD_Result
lp_resumed(struct MHD_Connection *c, struct http_req *req)
{
	struct lp *lp = req->tp;

	/* woken by news (maybe to be batched while busy), the deadline or
	 * shutdown; a wake-up with nothing for us (e.g. a message for
	 * others) waits again */
	if ((tp_news_count(&lp->w, TP_FULL_BATCH) < TP_FULL_BATCH &&
	     tp_gate(req->srv, &lp->w)) ||
	    tp_wait_suspend(req->srv, &lp->w, tp_has_news))
		return MHD_YES;
	return finish(c, req, lp);
}
