/* SPDX-License-Identifier: MIT */
/*
 * ws_proto: what a WebSocket client says and what it is told back. Client
 * messages are reassembled only when they arrive in pieces (most arrive
 * whole and are parsed in place), parsed strictly with jparse(), and run as
 * one op each. Replies other than messages (hello, joined, left, ack,
 * error, pong) wait in a short per-connection queue that ws.c's writeable
 * callback drains one frame at a time, before any message delivery; when
 * it fills up, reading from the peer pauses until it drains, so a client
 * that never reads cannot make the server queue without bound.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "jparse.h"
#include "log.h"
#include "names.h"
#include "server_ctx.h"
#include "utf8.h"
#include "wire.h"
#include "ws_proto.h"

#define TAG "ws"

#define CTL_PAUSE 16		/* stop reading at this many queued replies */
#define CTL_RESUME 4		/* read again at this many */
#define CTL_MAX 64		/* beyond this the peer breaks flow control */
#define REF_MAX 128		/* bytes of a serialised ref or t echoed */
#define REPLY_MAX 2048		/* bytes of a control reply */

struct ws_ctl {
	struct ws_ctl *next;
	size_t len;
	unsigned char buf[];	/* LWS_PRE headroom, then len bytes */
};

/* Sets the close frame lws will send: err's close code (err.c maps them
 * all) and the reason why. */
static void
close_reason(struct lws *wsi, enum im_err err, const char *why)
{
	unsigned char buf[64];
	size_t n = strlen(why);

	if (n > sizeof(buf))
		n = sizeof(buf);
	memcpy(buf, why, n);
	lws_close_reason(wsi, (enum lws_close_status)im_err_ws_close(err),
			 buf, n);
}

/* Queues the reply in b. Returns 0, or -1 when the connection must close
 * (out of memory, or a peer that keeps sending while rx is paused). */
static int
ctl_push(struct per_session_data__chat *pss, const struct jbuf *b)
{
	struct ws_ctl *c;

	if (b->over) {
		LOG_ERROR(TAG, "control reply over %d bytes dropped",
			  REPLY_MAX);
		return 0;
	}
	if (pss->nctl >= CTL_MAX) {
		close_reason(pss->wsi, IM_EFULL,
			     "too many requests in flight");
		return -1;
	}
	c = malloc(sizeof(*c) + LWS_PRE + b->len);
	if (!c) {
		close_reason(pss->wsi, IM_ENOMEM, "out of memory");
		return -1;
	}
	c->next = NULL;
	c->len = b->len;
	memcpy(c->buf + LWS_PRE, b->p, b->len);
	if (pss->ctl_tail)
		pss->ctl_tail->next = c;
	else
		pss->ctl_head = c;
	pss->ctl_tail = c;
	pss->nctl++;
	if (pss->nctl >= CTL_PAUSE && !pss->rx_paused) {
		pss->rx_paused = 1;
		lws_rx_flow_control(pss->wsi, 0);
	}
	lws_callback_on_writable(pss->wsi);
	return 0;
}

int
ws_proto_write_ctl(struct per_session_data__chat *pss)
{
	struct ws_ctl *c = pss->ctl_head;
	int n;

	if (!c)
		return 0;
	pss->ctl_head = c->next;
	if (!pss->ctl_head)
		pss->ctl_tail = NULL;
	pss->nctl--;
	STATS_ADD(&pss->srv->stats, VIA_WS, bytes_out, c->len);
	n = lws_write(pss->wsi, c->buf + LWS_PRE, c->len, LWS_WRITE_TEXT);
	free(c);
	if (n < 0)
		return -1;
	if (pss->rx_paused && pss->nctl <= CTL_RESUME) {
		pss->rx_paused = 0;
		lws_rx_flow_control(pss->wsi, 1);
	}
	return 1;
}

/* Starts a reply {"op":"<op>"[,"ref":R] in b. */
static void
reply_start(struct jbuf *b, char *mem, const char *op, const char *ref)
{
	jbuf_init(b, mem, REPLY_MAX);
	jbuf_printf(b, "{\"op\":\"%s\"", op);
	if (ref)
		jbuf_printf(b, ",\"ref\":%s", ref);
}

static int __attribute__((format(printf, 4, 5)))
reply_error(struct per_session_data__chat *pss, const char *ref,
	    const char *code, const char *fmt, ...)
{
	char mem[REPLY_MAX], msg[256];
	struct jbuf b;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_start(&b, mem, "error", ref);
	jbuf_puts(&b, ",\"code\":");
	jbuf_str(&b, code);
	jbuf_puts(&b, ",\"message\":");
	jbuf_str(&b, msg);
	jbuf_puts(&b, "}");
	return ctl_push(pss, &b);
}

/* Replies with the im_error e. */
static int
reply_e(struct per_session_data__chat *pss, const char *ref,
	const struct im_error *e)
{
	return reply_error(pss, ref, e->code, "%s", e->message);
}

/* Copies the serialised member key of o into out (REF_MAX + 1 bytes).
 * Returns out, or NULL when it is absent or too long to echo. */
static const char *
echo_member(struct json_object *o, const char *key, char *out)
{
	struct json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	s = json_object_to_json_string_length(v,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!s || n > REF_MAX)
		return NULL;
	memcpy(out, s, n + 1);
	return out;
}

/* Returns the joined room called name, or NULL. */
static struct room *
join_find(const struct per_session_data__chat *pss, const char *name)
{
	struct room *r = rooms_get(pss->srv->rs, name, 0, NULL);
	struct room *pin = r;
	size_t i;

	for (i = 0; r && i < pss->cur.nrings; i++)
		if (pss->cur.rings[i] == room_ring(r))
			break;
	/* joined, the subscription keeps r; otherwise it is not ours */
	rooms_release(pss->srv->rs, &pin);
	return r && i < pss->cur.nrings ? r : NULL;
}

static int
op_hello(struct per_session_data__chat *pss, struct json_object *o,
	 const char *ref)
{
	struct server *srv = pss->srv;
	char mem[REPLY_MAX], pid[MSG_PID_LEN + 1];
	struct im_error e = { 0 };
	const char *cid, *from;
	size_t cid_len = 0, from_len = 0;
	struct jbuf b;
	int bad = 0;

	if (pss->cur.nrings)
		return reply_error(pss, ref, "bad_state",
				   "hello must come before the first join");
	cid = jparse_str(o, "cid", &cid_len, &bad);
	from = jparse_str(o, "from", &from_len, &bad);
	if (bad)
		return reply_error(pss, ref, "bad_request",
				   "\"cid\" and \"from\" must be strings");
	if ((cid && names_check(NAME_CID, cid, cid_len, &e)) ||
	    names_check(NAME_FROM, from, from_len, &e))
		return reply_e(pss, ref, &e);
	snprintf(pss->sub.cid, sizeof(pss->sub.cid), "%s", cid ? cid : "");
	snprintf(pss->sub.from, sizeof(pss->sub.from), "%s", from);
	wire_set_cid(pss->wc, pss->sub.cid);
	pss->hello = 1;
	rooms_pid(srv->rs, pss->sub.cid, pid);
	reply_start(&b, mem, "hello", ref);
	jbuf_printf(&b, ",\"pid\":\"%s\",\"last_id\":%" PRIu64 "}", pid,
		  store_last_id(srv->st));
	return ctl_push(pss, &b);
}

/* Reads "since": returns 0 and sets *out (0 when absent), or -1. */
static int
get_since(struct json_object *o, uint64_t *out)
{
	struct json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(o, "since", &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return -1;
	*out = json_object_get_uint64(v);
	return 0;
}

static int
op_join(struct per_session_data__chat *pss, struct json_object *o,
	const char *ref)
{
	struct server *srv = pss->srv;
	char mem[REPLY_MAX];
	struct im_error e = { 0 };
	struct room *r;
	const char *name;
	uint64_t since, last;
	size_t len;
	struct jbuf b;
	int bad = 0;

	name = jparse_str(o, "room", &len, &bad);
	if (bad || !name)
		return reply_error(pss, ref, "bad_room",
				   "\"room\" is required (a string)");
	if (get_since(o, &since))
		return reply_error(pss, ref, "bad_since",
			"\"since\" is a message id (an integer >= 0)");
	if (names_check(NAME_ROOM, name, len, &e))
		return reply_e(pss, ref, &e);
	if (join_find(pss, name))
		return reply_error(pss, ref, "already_joined",
				    "already in room %s", name);
	if (pss->cur.nrings >= (size_t)srv->cfg.rooms_per_sub)
		return reply_error(pss, ref, "room_limit",
				    "a connection joins %d rooms at most",
				    srv->cfg.rooms_per_sub);
	r = rooms_get(srv->rs, name, 1, &e);
	if (!r)
		return reply_e(pss, ref, &e);
	last = store_ring_last_id(srv->st, room_ring(r));
	/* a since older than the cursor rewinds it (cursor.h) */
	if (cursor_add_ring(&pss->cur, room_ring(r), since) != IM_OK) {
		rooms_release(srv->rs, &r);
		return reply_error(pss, ref, "no_memory", "out of memory");
	}
	if (rooms_subscribe(srv->rs, &pss->sub, &r, 1) != IM_OK) {
		cursor_del_ring(&pss->cur, room_ring(r));
		rooms_release(srv->rs, &r);
		return reply_error(pss, ref, "no_memory", "out of memory");
	}
	rooms_release(srv->rs, &r);	/* the subscription keeps it now */
	LOG_DEBUG(TAG, "%s joined %s since %" PRIu64,
		  pss->sub.cid[0] ? pss->sub.cid : "anonymous", name, since);
	reply_start(&b, mem, "joined", ref);
	jbuf_puts(&b, ",\"room\":");
	jbuf_str(&b, name);
	jbuf_printf(&b, ",\"last_id\":%" PRIu64 "}", last);
	pss->want_read = 1;
	return ctl_push(pss, &b);
}

static int
op_leave(struct per_session_data__chat *pss, struct json_object *o,
	 const char *ref)
{
	char mem[REPLY_MAX];
	const char *name;
	struct room *r;
	size_t len;
	struct jbuf b;
	int bad = 0;

	name = jparse_str(o, "room", &len, &bad);
	if (bad || !name)
		return reply_error(pss, ref, "bad_room",
				   "\"room\" is required (a string)");
	r = strlen(name) == len ? join_find(pss, name) : NULL;
	if (!r)
		return reply_error(pss, ref, "not_joined",
				   "not in that room");
	/* the ring first: unsubscribed, r may be reclaimed */
	cursor_del_ring(&pss->cur, room_ring(r));
	rooms_unsubscribe(pss->srv->rs, &pss->sub, r);
	reply_start(&b, mem, "left", ref);
	jbuf_puts(&b, ",\"room\":");
	jbuf_str(&b, name);
	jbuf_puts(&b, "}");
	return ctl_push(pss, &b);
}

static int
op_send(struct per_session_data__chat *pss, struct json_object *o,
	const char *ref)
{
	const char *text = pss->text;
	size_t text_len = pss->text_len;
	struct hub_pub p = { 0 };
	struct hub_ack ack;
	struct im_error e = { 0 };
	char mem[REPLY_MAX];
	struct jbuf b;

	if (!pss->hello)
		return reply_error(pss, ref, "no_hello",
				   "send \"hello\" before \"send\"");
	p.from = pss->sub.from;
	p.cid = pss->sub.cid[0] ? pss->sub.cid : NULL;
	p.via = VIA_WS;
	if (hub_pub_decode(&p, o, text, text_len, HUB_PUB_WS, "bad_request",
			   &e) != IM_OK ||
	    hub_publish(&pss->srv->hub, &p, &ack, &e) != IM_OK)
		return reply_e(pss, ref, &e);
	reply_start(&b, mem, "ack", ref);
	jbuf_printf(&b, ",\"id\":%" PRIu64 ",\"ts\":%" PRId64 "}", ack.id,
		  ack.ts);
	return ctl_push(pss, &b);
}

static int
op_ping(struct per_session_data__chat *pss, struct json_object *o,
	const char *ref)
{
	char mem[REPLY_MAX], t[REF_MAX + 1];
	struct jbuf b;

	reply_start(&b, mem, "pong", ref);
	if (echo_member(o, "t", t))
		jbuf_printf(&b, ",\"t\":%s", t);
	jbuf_printf(&b, ",\"ts\":%" PRId64 "}", im_now_ms());
	return ctl_push(pss, &b);
}

/* Runs one complete client message. Returns 0, or -1 to close. */
static int
run(struct per_session_data__chat *pss, const char *buf, size_t len,
    int binary)
{
	static const struct {
		const char *name;
		int (*fn)(struct per_session_data__chat *,
			  struct json_object *, const char *);
	} ops[] = {
		{ "send", op_send }, { "ping", op_ping },
		{ "join", op_join }, { "leave", op_leave },
		{ "hello", op_hello },
	};
	char refbuf[REF_MAX + 1];
	struct json_object *o = NULL;
	struct im_error e = { 0 };
	const char *ref, *op;
	int bad = 0, rc;

	if (binary)
		return reply_error(pss, NULL, "bad_frame",
				   "messages are JSON in text frames");
	if (jparse(buf, len, &o, &e))
		return reply_e(pss, NULL, &e);
	pss->text = buf;	/* the ops that keep bytes as written */
	pss->text_len = len;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return reply_error(pss, NULL, "bad_json",
				   "a message is a JSON object");
	}
	ref = echo_member(o, "ref", refbuf);
	if (!ref && json_object_object_get_ex(o, "ref", NULL)) {
		/* too long to echo: say so, never answer without it */
		rc = reply_error(pss, NULL, "bad_ref", "\"ref\" is at most %d "
				 "bytes of JSON", REF_MAX);
		goto out;
	}
	op = jparse_str(o, "op", NULL, &bad);
	if (bad || !op) {
		rc = reply_error(pss, ref, "bad_op",
				 "\"op\" is required (a string)");
		goto out;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(op, ops[i].name)) {
			rc = ops[i].fn(pss, o, ref);
			goto out;
		}
	rc = reply_error(pss, ref, "unknown_op", "unknown op \"%.32s\"", op);
out:
	pss->text = NULL;
	json_object_put(o);
	return rc;
}

/* Frees the reassembly buffer: idle connections keep nothing. */
static void
rx_drop(struct per_session_data__chat *pss)
{
	free(pss->rx);
	pss->rx = NULL;
	pss->rx_len = pss->rx_cap = 0;
	pss->rx_open = 0;
}

static int
too_big(struct per_session_data__chat *pss)
{
	rx_drop(pss);
	close_reason(pss->wsi, IM_ETOOBIG, "message too large");
	return -1;
}

/* Runs a whole text or binary message. A text message must be UTF-8
 * (RFC 6455 section 8.1): anything else closes with 1007. */
static int
run_whole(struct per_session_data__chat *pss, const char *buf, size_t len,
	  int binary)
{
	static unsigned char why[] = "text is not UTF-8";

	if (!binary && !utf8_valid(buf, len)) {
		lws_close_reason(pss->wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
				 why, sizeof(why) - 1);
		return -1;
	}
	return run(pss, buf, len, binary);
}

int
ws_proto_receive(struct per_session_data__chat *pss, const void *in,
		 size_t len)
{
	size_t max = (size_t)pss->srv->cfg.ws_max_msg;
	int final = lws_is_final_fragment(pss->wsi);
	int rc;

	STATS_ADD(&pss->srv->stats, VIA_WS, bytes_in, len);
	if (!pss->rx_open && final) {
		/* the common case: a whole message in one piece */
		if (len > max)
			return too_big(pss);
		return run_whole(pss, len ? in : "", len,
				 lws_frame_is_binary(pss->wsi));
	}
	if (pss->rx_len + len + lws_remaining_packet_payload(pss->wsi) > max)
		return too_big(pss);
	if (!pss->rx_open) {
		/* a message starts, possibly with no bytes: rx_open, not
		 * rx_len, says one is being reassembled */
		pss->rx_open = 1;
		pss->rx_binary = (uint8_t)lws_frame_is_binary(pss->wsi);
	}
	if (len && pss->rx_len + len > pss->rx_cap) {
		size_t ncap = pss->rx_cap ? pss->rx_cap : 1024;
		char *nrx;

		while (ncap < pss->rx_len + len)
			ncap *= 2;
		if (ncap > max)
			ncap = max;
		nrx = realloc(pss->rx, ncap);
		if (!nrx) {
			close_reason(pss->wsi, IM_ENOMEM, "out of memory");
			return -1;
		}
		pss->rx = nrx;
		pss->rx_cap = ncap;
	}
	if (len) {
		memcpy(pss->rx + pss->rx_len, in, len);
		pss->rx_len += len;
	}
	if (!final)
		return 0;
	rc = run_whole(pss, pss->rx_len ? pss->rx : "", pss->rx_len,
		       pss->rx_binary);
	rx_drop(pss);
	return rc;
}

void
ws_proto_free(struct per_session_data__chat *pss)
{
	while (pss->ctl_head) {
		struct ws_ctl *c = pss->ctl_head;

		pss->ctl_head = c->next;
		free(c);
	}
	pss->ctl_tail = NULL;
	pss->nctl = 0;
	rx_drop(pss);
	cursor_free(&pss->cur);
}
