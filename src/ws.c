/* SPDX-License-Identifier: MIT */
/*
 * ws: the /ws protocol on its libwebsockets context (ws_loop.h: the
 * service thread, the adoption queue, the dirty list) and message
 * delivery. The service thread drains the queue and the list in
 * LWS_CALLBACK_EVENT_WAIT_CANCELLED (delivered to every protocol, so it
 * is handled for protocol 0 only).
 *
 * Every connection is a cursor over the store (cursor.h). The room
 * layer's notify only puts the connection on the dirty list; the service
 * thread asks for a writeable callback, and there one lws_write() sends
 * either one queued control reply (ws_proto.c) or what the store holds
 * after the cursor (cursor_read): one
 * message as its shared, pre-serialised frame, several as one
 * {"op":"msgs"} frame built in a scratch buffer shared by the thread, or a
 * {"op":"gap"} notice. Nothing is queued per connection, so a slow reader
 * only falls behind.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "log.h"
#include "server_ctx.h"
#include "wire.h"
#include "ws.h"
#include "ws_alive.h"
#include "ws_binary.h"
#include "ws_loop.h"
#include "ws_origin.h"
#include "ws_proto.h"
#include "ws_rx.h"

#define TAG "ws"

/* One writeable callback sends at most this much. */
#define BATCH_MSGS 64
#define BATCH_BYTES (256 * 1024)

_Static_assert(LWS_PRE <= MSG_WS_PRE, "msg.h headroom too small for lws");

struct ws {
	struct server *srv;
	struct ws_loop loop;		/* context, thread, queue, dirty list */
	struct ws_alive alive;		/* the keepalive (no validity timers) */
	char *batch;			/* service thread's scratch frame */
};

/* The room layer's notify: runs on any thread under the room lock, so it
 * only puts pss on the dirty list (ws_loop_wake: one wake-up serves every
 * connection a publish touched). */
static void
notify(struct sub *s, const struct msg *m)
{
	struct per_session_data__chat *pss = s->ctx;

	(void)m;
	ws_loop_wake(&pss->w->loop, &pss->dnode);
}

/* The netem clock's wake-up: as if a publish had come. */
static void
fire_ws(void *key)
{
	notify(key, NULL);
}

/* ws_loop's woken (service thread, under dlock): the store may hold news
 * for a dirty connection; its writeable callback reads it. */
static void
woken(struct list *node)
{
	struct per_session_data__chat *pss = list_entry(node,
			struct per_session_data__chat, dnode);

	pss->want_read = 1;
	lws_callback_on_writable(pss->wsi);
}

static int
write_frame(struct per_session_data__chat *pss, char *buf, size_t len,
	    size_t nmsgs)
{
	struct stats *st = &pss->srv->stats;

	/* counted first: a peer may read the frame before this thread
	 * returns from lws_write() (a failed write closes the connection) */
	STATS_ADD(st, VIA_WS, bytes_out, len);
	if (nmsgs)
		STATS_ADD(st, VIA_WS, delivered, nmsgs);
	if (lws_write(pss->wsi, (unsigned char *)buf, len, LWS_WRITE_TEXT) < 0)
		return -1;
	return 0;
}

/* Writes the next frame of the message being split for a binary-frame
 * client (ws_binary.h); frees the split after its last frame. Returns 1
 * when a frame was written, 0 when none was due, -1 on a write error. */
static int
write_btx(struct per_session_data__chat *pss)
{
	unsigned char *buf;
	size_t len;
	int bin;

	if (!pss->btx || ws_binary_next(pss->btx, &buf, &len, &bin)) {
		ws_btx_free(&pss->btx);
		return 0;
	}
	STATS_ADD(&pss->srv->stats, VIA_WS, bytes_out, len);
	if (!bin)
		STATS_ADD(&pss->srv->stats, VIA_WS, delivered, 1);
	if (lws_write(pss->wsi, buf, len,
		      bin ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < 0)
		return -1;
	return 1;
}

/* Sends what the store holds after pss's cursor: one frame at most.
 * Leaves want_read set while more is pending. Returns 0 or -1 (close). */
static int
deliver(struct ws *w, struct per_session_data__chat *pss)
{
	struct msg *out[BATCH_MSGS];
	uint64_t at = cursor_pos(&pss->cur);
	struct cursor_batch b;
	char *p = w->batch + LWS_PRE;
	struct jbuf f;
	int rc = 0;

	/* a binary-frame client reads one message at a time: it may split */
	b = cursor_read(&pss->cur, out, pss->binary_out ? 1 : BATCH_MSGS,
			BATCH_BYTES);
	pss->want_read = (uint8_t)b.more;
	if (b.gap) {
		int n = snprintf(p, 64, "{\"op\":\"gap\",\"since\":%" PRIu64
				 "}", at);

		return write_frame(pss, p, (size_t)n, 0);
	}
	if (b.n == 1 && pss->binary_out &&
	    (rc = ws_binary_split(out[0]->json, out[0]->json_len, LWS_PRE,
				  &pss->btx)) != 0) {
		/* its text frame now, its binary frames next */
		rc = rc < 0 ? -1 : write_btx(pss) < 0 ? -1 : 0;
	} else if (b.n == 1) {
		/* the shared frame, written in place: no copy */
		rc = write_frame(pss, out[0]->ws + MSG_WS_PRE, out[0]->ws_len,
				 1);
	} else if (b.n > 1) {
		/* fits: the cursor kept the envelopes within BATCH_BYTES */
		jbuf_init(&f, p, BATCH_BYTES + 64);
		jbuf_puts(&f, "{\"op\":\"msgs\",\"msgs\":[");
		msg_json_list(&f, out, b.n);
		jbuf_raw(&f, "]}", 2);
		rc = write_frame(pss, p, f.len, b.n);
	}
	for (size_t i = 0; i < b.n; i++)
		msg_unref(&out[i]);
	return rc;
}

/* Sets pss's emulated link from the URL http_upgrade.c passed on. */
static void
netem_ws(struct per_session_data__chat *pss, struct lws *wsi)
{
	char v[32];
	const char *a;
	int d = 0, j = 0;

	if ((a = lws_get_urlarg_by_name(wsi, "delay=", v, sizeof(v))))
		d = atoi(a);
	if ((a = lws_get_urlarg_by_name(wsi, "jitter=", v, sizeof(v))))
		j = atoi(a);
	if (d < 0 || d > NETEM_MAX_MS || j < 0 || j > NETEM_MAX_MS)
		return;
	pss->net = (struct netem){ d, j, pss->srv->clock, fire_ws,
				   &pss->sub };
	if (netem_on(&pss->net))
		pss->cur.net = &pss->net;
}

static void
established(struct ws *w, struct per_session_data__chat *pss,
	    struct lws *wsi)
{
	memset(pss, 0, sizeof(*pss));
	pss->wsi = wsi;
	pss->w = w;
	pss->srv = w->srv;
	pss->sub.notify = notify;
	pss->sub.ctx = pss;
	pss->sub.via = VIA_WS;
	cursor_init(&pss->cur, w->srv->st, pss->sub.cid, 0);
	pss->established = 1;
	ws_alive_add(&w->alive, &pss->alive, wsi);
	pss->wc = wire_conn_open(w->srv->wire, lws_get_socket_fd(wsi));
	netem_ws(pss, wsi);
	STATS_ADD(&w->srv->stats, VIA_WS, open, 1);
	STATS_ADD(&w->srv->stats, VIA_WS, requests, 1);
}

/* LWS_CALLBACK_CLOSED: the pss memory goes away after this returns, so it
 * leaves the rooms (no notify after that) and the dirty list first. */
static void
closed(struct ws *w, struct per_session_data__chat *pss)
{
	if (!pss->established)
		return;
	wire_conn_close(&pss->wc);
	if (netem_on(&pss->net))
		netem_forget(w->srv->clock, &pss->sub);
	pss->established = 0;
	ws_alive_del(&pss->alive);
	rooms_unsubscribe_all(w->srv->rs, &pss->sub);
	ws_loop_undirty(&w->loop, &pss->dnode);
	ws_proto_free(pss);
	ws_rx_free(pss);
	STATS_ADD(&w->srv->stats, VIA_WS, open, -1);
}

static int
callback_chat(struct lws *wsi, enum lws_callback_reasons reason, void *user,
	      void *in, size_t len)
{
	struct ws *w = lws_context_user(lws_get_context(wsi));
	struct per_session_data__chat *pss = user;

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		for (size_t n = w ? ws_loop_drain(&w->loop) : 0; n; n--)
			LOG_WARN(TAG, "lws could not adopt a connection");
		break;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (!ws_origin_ok(wsi, w->srv->cfg.allow_origin)) {
			LOG_INFO(TAG, "upgrade refused: foreign Origin");
			lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN,
					       "foreign Origin");
			return -1;
		}
		break;
	case LWS_CALLBACK_ESTABLISHED:
		established(w, pss, wsi);
		break;
	case LWS_CALLBACK_RECEIVE: {
		int rc, whole;

		if (!pss || !pss->established || pss->closing)
			return -1;
		ws_alive_seen(&pss->alive);
		whole = lws_is_final_fragment(wsi) &&
			!lws_remaining_packet_payload(wsi);
		rc = ws_rx_receive(pss, in, len);
		/* after: a hello names the cid; a held message is counted
		 * when it runs (ws_netem.c) */
		if (whole && !netem_on(&pss->net))
			wire_frame_in(pss->wc);
		return rc;
	}
	case LWS_CALLBACK_RECEIVE_PONG:
		if (pss && pss->established)
			ws_alive_seen(&pss->alive);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE: {
		int n;

		if (!pss || !pss->established)
			break;
		if (pss->closing)	/* a held message said so (ws_rx.c) */
			return -1;
		/* a split message's frames go together, before replies */
		n = write_btx(pss);
		if (!n)
			n = ws_alive_write(&pss->alive);
		if (!n)
			n = ws_proto_write_ctl(pss);
		if (!n && pss->want_read)
			n = deliver(w, pss);
		if (n < 0)
			return -1;
		if (pss->btx || pss->alive.ping_due ||
		    ws_proto_ctl_ready(pss) || pss->want_read)
			lws_callback_on_writable(wsi);
		break;
	}
	case LWS_CALLBACK_CLOSED:
		if (pss)
			closed(w, pss);
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		if (w && lws_get_opaque_user_data(wsi) == w)
			atomic_fetch_sub(&w->srv->open_conns, 1);
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	/* small rx buffer: it is allocated for every connection; bigger
	 * messages arrive in pieces and are reassembled (ws_proto.c).
	 * tx_packet_size lets a whole batch go to send() at once. */
	{ "imlab", callback_chat, sizeof(struct per_session_data__chat),
	  1024, 0, NULL, BATCH_BYTES + 1024 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* Destroys w's context (then CLOSED runs for every connection) and w. */
static void
ws_free(struct ws *w)
{
	ws_loop_destroy(&w->loop);	/* closes what was still queued */
	free(w->batch);
	free(w);
}

struct ws *
ws_start(struct server *srv, struct im_error *e)
{
	struct ws *w = calloc(1, sizeof(*w));

	if (w)
		w->batch = malloc(LWS_PRE + BATCH_BYTES + 64);
	if (!w || !w->batch) {
		free(w);
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	w->srv = srv;
	lws_set_log_level(log_lws_mask(), log_lws);
	if (ws_loop_create(&w->loop, protocols, w, &srv->open_conns, woken,
			   srv->cfg.ws_libuv, e)) {
		ws_free(w);
		return NULL;
	}
	ws_alive_start(&w->alive, w->loop.ctx, srv->cfg.ws_ping,
		       srv->cfg.ws_hangup);
	if (ws_loop_run(&w->loop, e)) {
		ws_alive_stop(&w->alive);
		ws_free(w);
		return NULL;
	}
	return w;
}

void
ws_adopt(struct ws *w, int fd, const char *head, size_t len)
{
	ws_loop_adopt(&w->loop, fd, head, len);
}

void
ws_stop(struct ws **wp)
{
	struct ws *w = *wp;

	if (!w)
		return;
	*wp = NULL;
	ws_loop_stop(&w->loop);
	ws_alive_stop(&w->alive);
	/* publishes from HTTP threads may still notify: ws_loop_destroy()
	 * stops their wake-ups before the context goes; the CLOSED callbacks
	 * run by the destroy take every connection off the rooms and the
	 * dirty list */
	ws_free(w);
}
