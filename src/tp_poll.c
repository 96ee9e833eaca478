/* SPDX-License-Identifier: MIT */
/*
 * tp_poll: short polling. GET /poll answers at once with what is after
 * `since` in the listed rooms ({"messages","last_id","gap"}) and keeps the
 * poller present in those rooms for --presence-ttl.
 */
#include "autoconf.h"

#include <stdlib.h>

#include "qs.h"
#include "server.h"
#include "tp.h"

enum MHD_Result
tp_reply_read(struct MHD_Connection *c, struct http_req *req,
	      struct store_ring *const *rings, size_t nrings, uint64_t since,
	      const char *cid, size_t limit)
{
	struct server *srv = req->srv;
	struct store_read_result res;
	struct msg **out = malloc(limit * sizeof(*out));
	char *body;
	size_t len;

	if (!out)
		return MHD_NO;
	res = store_read(srv->st, rings, nrings, since, cid, out, limit);
	body = msg_batch_json(out, res.n, res.last_id, res.gap, &len);
	for (size_t i = 0; i < res.n; i++)
		msg_unref(&out[i]);
	free(out);
	if (!body)
		return MHD_NO;
	STATS_ADD(&srv->stats, req->via, delivered, res.n);
	if (!res.n)
		STATS_ADD(&srv->stats, req->via, empty, 1);
	return http_reply(c, req, MHD_HTTP_OK, "application/json", body, len,
			  MHD_RESPMEM_MUST_FREE);
}

enum MHD_Result
tp_batch_reply(struct MHD_Connection *c, struct http_req *req,
	       const struct tp_params *p, uint64_t since, size_t limit)
{
	return tp_reply_read(c, req, p->rings, p->nrooms, since, p->cid,
			     limit);
}

enum MHD_Result
tp_poll_handle(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	struct tp_params p;
	struct im_error e;
	long long limit = TP_BATCH_DEFAULT;
	enum MHD_Result ret;

	if (qs_int(c, "limit", 1, TP_BATCH_MAX, &limit, &e) ||
	    tp_params_parse(c, srv, &p, &e))
		return http_reply_im_error(c, req, &e);
	tp_params_touch(srv, &p, VIA_POLL);
	ret = tp_batch_reply(c, req, &p, p.since, (size_t)limit);
	tp_params_free(&p);
	return ret;
}
