/* SPDX-License-Identifier: MIT */
/*
 * ws_proto: what a WebSocket client says and what it is told back. A
 * complete client message (ws_rx.c) is parsed strictly with jparse() and
 * run as one op. Replies other than messages (hello, joined, left, ack,
 * error, pong) wait in a short per-connection queue that ws.c's writeable
 * callback drains one frame at a time, before any message delivery; when
 * it fills up, reading from the peer pauses until it drains, so a client
 * that never reads cannot make the server queue without bound. Behind an
 * emulated delay a reply waits until it is due (ws_netem.h); the replies
 * in flight on the emulated link count on top of the queue's limits.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "joins.h"
#include "jparse.h"
#include "log.h"
#include "names.h"
#include "server_ctx.h"
#include "wire.h"
#include "ws_binary.h"
#include "ws_proto.h"

#define TAG "ws"

#define CTL_PAUSE 16		/* stop reading at this many queued replies */
#define CTL_RESUME 4		/* read again at this many */
#define CTL_MAX 64		/* beyond this the peer breaks flow control */
#define REF_MAX 128		/* bytes of a serialised ref or t echoed */
#define REPLY_MAX 2048		/* bytes of a control reply */

struct ws_ctl {
	struct ws_ctl *next;
	int64_t due;		/* write it then (lws_now_usecs()), 0: now */
	size_t len;
	unsigned char buf[];	/* LWS_PRE headroom, then len bytes */
};

void
ws_proto_close(struct lws *wsi, enum im_err err, const char *why)
{
	unsigned char buf[64];
	size_t n = strlen(why);

	if (n > sizeof(buf))
		n = sizeof(buf);
	memcpy(buf, why, n);
	lws_close_reason(wsi, (enum lws_close_status)im_err_ws_close(err),
			 buf, n);
}

int64_t
ws_proto_ctl_due(const struct per_session_data__chat *pss)
{
	return pss->ctl_head ? pss->ctl_head->due : -1;
}

/* The queue's limits grow by what the emulated link holds (ws_netem.h):
 * those replies are in flight, not unread. */
static unsigned
ctl_slack(const struct per_session_data__chat *pss)
{
	return netem_on(&pss->net) ? WS_NETEM_MSGS : 0;
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
	if (pss->nctl >= CTL_MAX + ctl_slack(pss)) {
		ws_proto_close(pss->wsi, IM_EFULL,
			     "too many requests in flight");
		return -1;
	}
	c = malloc(sizeof(*c) + LWS_PRE + b->len);
	if (!c) {
		ws_proto_close(pss->wsi, IM_ENOMEM, "out of memory");
		return -1;
	}
	c->next = NULL;
	c->due = netem_on(&pss->net) ? ws_netem_reply_due(&pss->nem) : 0;
	c->len = b->len;
	memcpy(c->buf + LWS_PRE, b->p, b->len);
	if (pss->ctl_tail)
		pss->ctl_tail->next = c;
	else
		pss->ctl_head = c;
	pss->ctl_tail = c;
	pss->nctl++;
	if (pss->nctl >= CTL_PAUSE + ctl_slack(pss) && !pss->rx_paused) {
		pss->rx_paused = 1;
		lws_rx_flow_control(pss->wsi, 0);
	}
	if (c->due)
		ws_netem_arm(&pss->nem, ws_proto_ctl_due(pss));	/* if not now */
	lws_callback_on_writable(pss->wsi);
	return 0;
}

int
ws_proto_ctl_ready(const struct per_session_data__chat *pss)
{
	const struct ws_ctl *c = pss->ctl_head;

	return c && (!c->due || c->due <= (int64_t)lws_now_usecs());
}

int
ws_proto_write_ctl(struct per_session_data__chat *pss)
{
	struct ws_ctl *c = pss->ctl_head;
	int n;

	if (!ws_proto_ctl_ready(pss))
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
	if (pss->rx_paused && pss->nctl <= CTL_RESUME + ctl_slack(pss)) {
		pss->rx_paused = 0;
		lws_rx_flow_control(pss->wsi, 1);
	}
	if (pss->ctl_head && pss->ctl_head->due)	/* the next's time */
		ws_netem_arm(&pss->nem, ws_proto_ctl_due(pss));
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

static int
op_hello(struct per_session_data__chat *pss, struct json_object *o,
	 const char *ref)
{
	struct server *srv = pss->srv;
	char mem[REPLY_MAX], pid[MSG_PID_LEN + 1];
	struct im_error e = { 0 };
	const char *cid, *from;
	size_t cid_len = 0, from_len = 0;
	struct json_object *bin = NULL;
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
	if (json_object_object_get_ex(o, "binary", &bin) &&
	    !json_object_is_type(bin, json_type_boolean))
		return reply_error(pss, ref, "bad_request",
				   "\"binary\" is true or false");
	if ((cid && names_check(NAME_CID, cid, cid_len, &e)) ||
	    names_check(NAME_FROM, from, from_len, &e))
		return reply_e(pss, ref, &e);
	snprintf(pss->sub.cid, sizeof(pss->sub.cid), "%s", cid ? cid : "");
	snprintf(pss->sub.from, sizeof(pss->sub.from), "%s", from);
	wire_set_cid(pss->wc, pss->sub.cid);
	pss->hello = 1;
	pss->binary_out = (uint8_t)(bin && json_object_get_boolean(bin));
	rooms_pid(srv->rs, pss->sub.cid, pid);
	reply_start(&b, mem, "hello", ref);
	jbuf_printf(&b, ",\"pid\":\"%s\",\"last_id\":%" PRIu64 "%s}", pid,
		    store_last_id(srv->st),
		    pss->binary_out ? ",\"binary\":true" : "");
	return ctl_push(pss, &b);
}

static int
op_join(struct per_session_data__chat *pss, struct json_object *o,
	const char *ref)
{
	char mem[REPLY_MAX];
	struct im_error e = { 0 };
	const char *name;
	uint64_t since, last;
	size_t len;
	struct jbuf b;

	if (joins_decode(o, &name, &len, &since, &e) ||
	    joins_add(pss->srv, &pss->sub, &pss->cur, name, len, since, &last,
		      &e))
		return reply_e(pss, ref, &e);
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
	struct im_error e = { 0 };
	const char *name;
	size_t len;
	struct jbuf b;

	if (joins_decode(o, &name, &len, NULL, &e) ||
	    joins_del(pss->srv, &pss->sub, &pss->cur, name, len, &e))
		return reply_e(pss, ref, &e);
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
	int nbin;

	if (!pss->hello)
		return reply_error(pss, ref, "no_hello",
				   "send \"hello\" before \"send\"");
	if ((nbin = ws_binary_count(o, &e)) < 0)
		return reply_e(pss, ref, &e);
	if (nbin) {
		/* base64 is 4 bytes for 3: the frames' share of the data */
		pss->bin = ws_binary_start(text, text_len, ref, nbin,
					   pss->srv->hub.max_data / 4 * 3);
		return pss->bin ? 0 : reply_error(pss, ref, "no_memory",
						  "out of memory");
	}
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

static int run(struct per_session_data__chat *pss, const char *buf,
	       size_t len, int binary);

/* One binary frame for the send awaiting it: when it is the last one,
 * the send runs, rebuilt with its frames (ws_binary_build()). */
static int
binary_frame(struct per_session_data__chat *pss, const char *buf, size_t len)
{
	char ref[REF_MAX + 1];
	struct im_error e = { 0 };
	const char *r = ws_binary_ref(pss->bin);
	char *text;
	size_t n = 0;
	int rc;

	snprintf(ref, sizeof(ref), "%s", r ? r : "");
	rc = ws_binary_add(pss->bin, buf, len, &e);
	if (rc == 0)
		return 0;
	text = rc > 0 ? ws_binary_build(pss->bin, &n, &e) : NULL;
	ws_binary_free(&pss->bin);
	if (!text)
		return reply_e(pss, r ? ref : NULL, &e);
	rc = run(pss, text, n, 0);
	free(text);
	return rc;
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

	if (binary && pss->bin)
		return binary_frame(pss, buf, len);
	if (binary)
		return reply_error(pss, NULL, "bad_frame", "messages are JSON "
				   "in text frames; binary frames follow a "
				   "send with \"binary\":N");
	if (pss->bin) {
		const char *r = ws_binary_ref(pss->bin);

		snprintf(refbuf, sizeof(refbuf), "%s", r ? r : "");
		ws_binary_free(&pss->bin);
		if (reply_error(pss, r ? refbuf : NULL, "bad_binary", "a text "
				"message came before the binary frames "
				"announced: that send is dropped"))
			return -1;
	}
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

int
ws_proto_run(struct per_session_data__chat *pss, const char *buf, size_t len,
	     int binary)
{
	return run(pss, buf, len, binary);
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
	ws_binary_free(&pss->bin);
	ws_btx_free(&pss->btx);
	cursor_free(&pss->cur);
}
