/* SPDX-License-Identifier: MIT */
/*
 * tp_poll: short polling. GET /poll answers at once with what is after
 * `since` in the listed rooms ({"messages","last_id","gap"}) and keeps the
 * poller present in those rooms for --presence-ttl.
 */
#include "autoconf.h"

#include <stdlib.h>

#include "cursor.h"
#include "qs.h"
#include "server_ctx.h"
#include "tp.h"
#include "tp_params.h"

enum MHD_Result
tp_poll_handle(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	struct tp_params p;
	struct cursor cur;
	struct im_error e;
	long long limit = TP_BATCH_DEFAULT;
	enum MHD_Result ret;

	if (qs_int(c, "limit", 1, TP_BATCH_MAX, &limit, &e) ||
	    tp_params_parse(c, srv, 0, &p, &e))
		return http_reply_im_error(c, req, &e);
	tp_params_touch(srv, &p, VIA_POLL);
	ret = tp_params_cursor(&p, srv, &cur) ? MHD_NO :
	      http_reply_batch(c, req, &cur, (size_t)limit);
	cursor_free(&cur);
	tp_params_free(&p);
	return ret;
}
