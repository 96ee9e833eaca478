/* SPDX-License-Identifier: MIT */
/*
 * netem_http: HTTP's hold and parameters for the emulated delay (see
 * netem_http.h). A held request is an ordinary suspended connection:
 * the netem clock resumes it, and the access handler then runs the
 * route as if the request had only now arrived.
 */
#include "autoconf.h"

#include "netem_http.h"
#include "qs.h"
#include "server_ctx.h"
#include "sub.h"

int
netem_http_parse(struct MHD_Connection *c, struct server *srv,
		 struct netem *n, struct im_error *e)
{
	long long d = 0, j = 0;

	if (qs_int(c, "delay", 0, NETEM_MAX_MS, &d, e) ||
	    qs_int(c, "jitter", 0, NETEM_MAX_MS, &j, e))
		return -1;
	*n = (struct netem){ (int)d, (int)j, srv->clock, NULL, NULL };
	return 0;
}

static void
fire_resume(void *key)
{
	struct http_req *req = key;

	MHD_resume_connection(req->net_c);
}

static enum MHD_Result
resumed(struct MHD_Connection *c, struct http_req *req)
{
	req->resume = NULL;
	return req->net_then(c, req);
}

int
netem_http_hold(struct MHD_Connection *c, struct http_req *req,
		http_resume_fn then)
{
	struct netem n;
	struct im_error e;
	int64_t d, now = im_now_ms(), stall = netem_stalled(now);

	if (req->net_held || !req->srv->clock ||
	    netem_http_parse(c, req->srv, &n, &e) ||
	    (!netem_on(&n) && !stall))
		return 0;
	d = 2 * (int64_t)n.delay_ms;
	if (n.jitter_ms)
		d += im_mono_ms() % (n.jitter_ms + 1);
	if (stall && now + d < stall)
		d = stall - now;	/* an admin stall holds it too */
	req->net_held = 1;
	req->net_then = then;
	req->net_c = c;
	req->resume = resumed;
	MHD_suspend_connection(c);
	netem_at(req->srv->clock, now + d, fire_resume, req);
	return 1;
}

void
netem_http_end(struct http_req *req)
{
	if (req->net_held)
		netem_forget(req->srv->clock, req);
}

void
netem_http_fire_sub(void *key)
{
	struct sub *s = key;

	s->notify(s, NULL);
}
