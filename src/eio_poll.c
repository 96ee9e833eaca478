/* SPDX-License-Identifier: MIT */
/*
 * eio_poll: Engine.IO's HTTP long-polling transport and the handshake, on
 * libmicrohttpd: the route row of /socket.io/ and /engine.io/. A GET
 * without sid opens a session and answers its open packet; a GET with one
 * answers the session's queued packets joined by 0x1e (binary as
 * b<base64>), or waits for them suspended in the tp_wait registry (at
 * most one per session: a second is the overlap the protocol forbids,
 * which closes the session); a POST carries the client's packets and is
 * answered "ok". Errors are the protocol's: HTTP 400 (403 for Forbidden)
 * with {"code":N,"message":"..."}.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "binary.h"
#include "eio.h"
#include "eio_poll.h"
#include "server_ctx.h"
#include "tp_wait.h"

#define HOLD_MS (3600 * 1000)	/* the registry's own deadline: eio's
				 * ticker wakes a held GET for pings */
#define TEXT "text/plain; charset=UTF-8"

/* A GET of a session, held or answered. */
struct ep {
	struct tp_wait w;		/* first: the registry's */
	struct eio_session *s;		/* a reference */
	int held, added, answered;
};

static const char *
arg(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

enum MHD_Result
eio_poll_error(struct MHD_Connection *c, struct http_req *req,
	       enum eio_error code)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\"}",
			 (int)code, eio_error_message(code));

	return http_reply(c, req, code == EIO_ERR_FORBIDDEN ? 403 : 400,
			  "application/json", body, (size_t)n,
			  MHD_RESPMEM_MUST_COPY);
}

int
eio_poll_check(struct MHD_Connection *c, int ws, enum eio_error *code)
{
	const char *v = arg(c, "EIO"), *t = arg(c, "transport");

	if (!v || strcmp(v, "4")) {
		*code = EIO_ERR_VERSION;
		return -1;
	}
	if (!t || (strcmp(t, "polling") && strcmp(t, "websocket"))) {
		*code = EIO_ERR_TRANSPORT;
		return -1;
	}
	if (strcmp(t, ws ? "websocket" : "polling")) {
		*code = EIO_ERR_REQUEST;
		return -1;
	}
	return 0;
}

int
eio_poll_probe_check(struct server *srv, const char *sid, int kind,
		     enum eio_error *code)
{
	struct eio_session *s = eio_find(srv->eio, sid);
	int rc = 0;

	/* an upgraded or probing session's WebSocket is taken and closed,
	 * as the reference server does (eio_ws.c) */
	if (!s || (int)eio_session_kind(s) != kind) {
		*code = EIO_ERR_SID;
		rc = -1;
	}
	eio_unref(&s);
	return rc;
}

/* Answers packets o (a list, taken) as one payload. */
static enum MHD_Result
answer_packets(struct MHD_Connection *c, struct http_req *req,
	       struct eio_out *o)
{
	size_t len = 0, at = 0;
	char *body;

	for (struct eio_out *p = o; p; p = p->next)
		len += (p->binary ? binary_b64_len(p->len) + 1 : p->len) + 1;
	body = malloc(len + 1);
	if (!body) {
		while (o) {
			struct eio_out *n = o->next;

			eio_queue_out_free(o);
			o = n;
		}
		return MHD_NO;
	}
	while (o) {
		struct eio_out *n = o->next;

		if (at)
			body[at++] = EIO_SEP;
		if (o->binary) {
			body[at++] = 'b';
			at += binary_b64_encode((const unsigned char *)o->p,
						o->len, body + at);
		} else {
			memcpy(body + at, o->p, o->len);
			at += o->len;
		}
		eio_queue_out_free(o);
		o = n;
	}
	return http_reply(c, req, MHD_HTTP_OK, TEXT, body, at,
			  MHD_RESPMEM_MUST_FREE);
}

static void
ep_release(struct server *srv, struct ep *ep)
{
	if (ep->held) {
		eio_unhold(ep->s, &ep->w);
		ep->held = 0;
	}
	if (ep->added) {
		tp_wait_remove(srv, &ep->w);
		ep->added = 0;
	}
}

static void
ep_done(struct http_req *req)
{
	struct ep *ep = req->tp;

	ep_release(req->srv, ep);
	/* a held GET whose client went away ends its session */
	if (!ep->answered)
		eio_close(ep->s, 0);
	tp_wait_free(&ep->w);
	eio_unref(&ep->s);
	free(ep);
	req->tp = NULL;
}

/* 1 if the peer of fd has closed its end. */
static int
peer_gone(int fd)
{
	char ch;
	ssize_t n = fd < 0 ? -1 :
		    recv(fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && fd >= 0 && errno != EAGAIN &&
			  errno != EWOULDBLOCK && errno != EINTR);
}

/* Answers what the session has, or waits for it. */
static enum MHD_Result
ep_try(struct MHD_Connection *c, struct http_req *req, struct ep *ep)
{
	struct server *srv = req->srv;
	struct eio_out *o;
	enum eio_take t;

	for (;;) {
		t = eio_queue_take(ep->s, 0,
				   (size_t)eio_max_payload(srv->eio), &o);
		if (t != EIO_TAKE_NONE || tp_wait_stopping(srv))
			break;
		if (tp_wait_suspend(srv, &ep->w))
			return MHD_YES;
		tp_wait_take_due(srv, &ep->w, HOLD_MS);
	}
	ep_release(srv, ep);
	ep->answered = 1;
	switch (t) {
	case EIO_TAKE_PACKETS:
		return answer_packets(c, req, o);
	case EIO_TAKE_CLOSE:
		return http_reply(c, req, MHD_HTTP_OK, TEXT, "1", 1,
				  MHD_RESPMEM_PERSISTENT);
	default:
		return http_reply(c, req, MHD_HTTP_OK, TEXT, "6", 1,
				  MHD_RESPMEM_PERSISTENT);
	}
}

static enum MHD_Result
ep_resumed(struct MHD_Connection *c, struct http_req *req)
{
	struct ep *ep = req->tp;

	tp_wait_take_due(req->srv, &ep->w, HOLD_MS);
	if (peer_gone(ep->w.fd)) {
		eio_close(ep->s, 0);
		return MHD_NO;
	}
	return ep_try(c, req, ep);
}

/* A GET of session s (a reference, taken). */
static enum MHD_Result
get(struct MHD_Connection *c, struct http_req *req, struct eio_session *s,
    int fresh)
{
	struct server *srv = req->srv;
	struct ep *ep = calloc(1, sizeof(*ep));
	enum im_err err;

	if (!ep) {
		eio_unref(&s);
		return MHD_NO;
	}
	ep->s = s;
	req->tp = ep;
	req->done = ep_done;
	if (tp_wait_init(&ep->w, srv, c, VIA_SIO, HOLD_MS))
		return MHD_NO;
	switch (eio_hold(s, &ep->w)) {
	case 0:
		break;
	case -1:
		/* two GETs at once: the protocol closes the session */
		ep->answered = 1;
		eio_close(s, 0);
		return eio_poll_error(c, req, EIO_ERR_REQUEST);
	default:
		/* closed, or upgraded: the WebSocket goes on */
		ep->answered = 1;
		return eio_poll_error(c, req, eio_closed(s) ? EIO_ERR_SID :
				      EIO_ERR_REQUEST);
	}
	ep->held = 1;
	if (fresh)
		return ep_try(c, req, ep);	/* the open packet is there */
	err = tp_wait_add(srv, &ep->w, srv->cfg.max_longpolls);
	if (err != IM_OK) {
		ep_release(srv, ep);
		ep->answered = 1;
		if (err == IM_EFULL)
			return http_reply_busy(c, req, srv->cfg.max_longpolls,
					       "long polls are held");
		return MHD_NO;
	}
	ep->added = 1;
	req->resume = ep_resumed;
	return ep_try(c, req, ep);
}

/* A POST of session s (a reference, dropped here). */
static enum MHD_Result
post(struct MHD_Connection *c, struct http_req *req, struct eio_session *s)
{
	const char *p = req->body ? req->body : "", *end = p + req->body_len;
	unsigned char *bin = NULL;
	struct eio_pkt pkt;
	enum MHD_Result ret;
	int rc = 0, by_client = 0;

	if (eio_post_begin(s)) {
		ret = eio_poll_error(c, req, eio_closed(s) ? EIO_ERR_SID :
				     EIO_ERR_REQUEST);
		eio_unref(&s);
		return ret;
	}
	if (req->body_len > (size_t)eio_max_payload(req->srv->eio)) {
		eio_post_end(s);
		eio_close(s, 0);
		eio_unref(&s);
		return http_reply(c, req, MHD_HTTP_CONTENT_TOO_LARGE, TEXT,
				  "Payload Too Large", 17,
				  MHD_RESPMEM_PERSISTENT);
	}
	bin = malloc(req->body_len / 4 * 3 + 4);
	while (bin && rc == 0 &&
	       (rc = eio_payload_next(&p, end, &pkt, bin,
				      req->body_len / 4 * 3 + 4)) == 1) {
		by_client = pkt.type == EIO_CLOSE && !pkt.binary;
		rc = eio_input(s, &pkt, 0);
	}
	free(bin);
	eio_post_end(s);
	if (!bin || (rc < 0 && !by_client)) {
		eio_close(s, 0);
		eio_unref(&s);
		return eio_poll_error(c, req, EIO_ERR_REQUEST);
	}
	eio_unref(&s);
	return http_reply(c, req, MHD_HTTP_OK, "text/html", "ok", 2,
			  MHD_RESPMEM_PERSISTENT);
}

enum MHD_Result
eio_poll_handle(struct MHD_Connection *c, struct http_req *req)
{
	struct server *srv = req->srv;
	int kind = eio_path_kind(req->url);
	const char *sid = arg(c, "sid");
	enum eio_error code;
	struct eio_session *s;
	int is_get = !strcmp(req->method, MHD_HTTP_METHOD_GET);

	if (kind < 0 || !eio_served(srv->eio, (enum eio_kind)kind))
		return http_reply_error(c, req, MHD_HTTP_NOT_FOUND,
					"not_found", "no such endpoint");
	if (eio_poll_check(c, 0, &code))
		return eio_poll_error(c, req, code);
	if (!sid) {
		if (!is_get)
			return eio_poll_error(c, req, EIO_ERR_METHOD);
		s = eio_open(srv->eio, (enum eio_kind)kind, 0);
		if (!s)
			return http_reply_busy(c, req, 0, "sessions: out of "
					       "memory");
		return get(c, req, s, 1);
	}
	s = eio_find(srv->eio, sid);
	if (!s)
		return eio_poll_error(c, req, EIO_ERR_SID);
	if (eio_session_kind(s) != (enum eio_kind)kind) {
		eio_unref(&s);
		return eio_poll_error(c, req, EIO_ERR_SID);
	}
	if (is_get)
		return get(c, req, s, 0);
	if (!strcmp(req->method, MHD_HTTP_METHOD_POST))
		return post(c, req, s);
	eio_unref(&s);
	return eio_poll_error(c, req, EIO_ERR_REQUEST);
}
