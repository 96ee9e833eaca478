/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ws: libFuzzer target for the WebSocket op handler and reassembly,
 * ws_rx_receive() (src/ws_rx.h) and ws_proto_write_ctl() (ws_proto.h),
 * over an in-memory store, room registry and hub made afresh for each input, one
 * connection in the state ws.c's ESTABLISHED leaves it. libwebsockets is
 * replaced by stubs that play its part as 4.1.6 does: an input is a
 * sequence of RECEIVE callbacks, each a flags byte (bit 0 FIN, bit 1
 * binary for a message's first piece, bits 2-3 what
 * lws_remaining_packet_payload() says is left of the frame: none, a few
 * bytes or 2^63 - 1; bit 4 do not drain the reply queue afterwards), a
 * 16-bit length and that many bytes. lws_is_final_fragment() is FIN with
 * nothing left, as in libwebsockets; the binary flag holds for a whole
 * message. Besides the sanitizers it checks ws_proto's promises: a
 * connection that must close has its close reason set, nothing is fed
 * to it after that, every reply written is one JSON object with an "op",
 * within the reply size, and everything is freed by ws_proto_free() and
 * ws_rx_free().
 */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "cursor.h"
#include "hub.h"
#include "jparse.h"
#include "log.h"
#include "room.h"
#include "server_ctx.h"
#include "store.h"
#include "wire.h"
#include "ws_proto.h"
#include "ws_rx.h"

#define MAX_MSG 4096		/* --ws-max-msg here */
#define REPLY_MAX 2048		/* ws_proto.c's bound on a control reply */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- libwebsockets, as far as ws_proto uses it ------------------------ */

static struct {
	int final, binary;	/* the piece being received */
	size_t remaining;
	int close_set;		/* lws_close_reason() was called */
	int paused;		/* rx flow stopped */
} wsi_state;

static struct lws *const fake_wsi = (struct lws *)&wsi_state;

int
lws_is_final_fragment(struct lws *wsi)
{
	(void)wsi;
	return wsi_state.final && !wsi_state.remaining;
}

int
lws_frame_is_binary(struct lws *wsi)
{
	(void)wsi;
	return wsi_state.binary;
}

size_t
lws_remaining_packet_payload(struct lws *wsi)
{
	(void)wsi;
	return wsi_state.remaining;
}

void
lws_close_reason(struct lws *wsi, enum lws_close_status status,
		 unsigned char *buf, size_t len)
{
	(void)wsi;
	if (status < 1000 || status > 4999 || len > 123 || (len && !buf))
		abort();		/* not a close frame's reason */
	wsi_state.close_set = 1;
}

int
lws_rx_flow_control(struct lws *wsi, int enable)
{
	(void)wsi;
	wsi_state.paused = !enable;
	return 0;
}

int
lws_callback_on_writable(struct lws *wsi)
{
	(void)wsi;
	return 1;
}

int
lws_write(struct lws *wsi, unsigned char *buf, size_t len,
	  enum lws_write_protocol wp)
{
	struct json_object *o = NULL, *op;
	struct im_error e = { 0 };

	(void)wsi;
	if (wp != LWS_WRITE_TEXT || len > REPLY_MAX ||
	    jparse((const char *)buf, len, &o, &e) ||
	    !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "op", &op) ||
	    !json_object_is_type(op, json_type_string)) {
		fprintf(stderr, "bad reply: %.*s\n", (int)len, buf);
		abort();
	}
	json_object_put(o);
	return (int)len;
}

/* The byte meters (wire.c) are not what this target checks: the
 * connection has none (pss->wc is NULL), so naming its cid or counting
 * a held message (ws_rx.c, never without a delay) does nothing. */
void
wire_set_cid(struct wire_conn *wc, const char *cid)
{
	(void)wc;
	(void)cid;
}

void
wire_frame_in(struct wire_conn *wc)
{
	(void)wc;
}

/* ---- one connection --------------------------------------------------- */

static void
notify(struct sub *s, const struct msg *m)
{
	struct per_session_data__chat *pss = s->ctx;

	(void)m;
	pss->want_read = 1;
}

/* Reads what the cursor holds, as ws.c's delivery would. */
static void
deliver(struct per_session_data__chat *pss)
{
	struct msg *out[8];
	struct cursor_batch b;

	do {
		b = cursor_read(&pss->cur, out, 8, 1 << 20);
		for (size_t i = 0; i < b.n; i++)
			msg_unref(&out[i]);
	} while (b.more);
	pss->want_read = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t rem[4] = { 0, 0, 7, ((size_t)1 << 63) - 1 };
	struct rooms_config rc = { .max_rooms = 16,
				   .presence_ttl_ms = 60000,
				   .room_idle_ms = 60000 };
	struct per_session_data__chat pss;
	struct server srv;
	size_t at = 0;
	int open_msg = 0;

	log_set_level(LOG_LVL_ERROR);	/* refusals are expected here */
	memset(&srv, 0, sizeof(srv));
	srv.cfg.ws_max_msg = MAX_MSG;
	srv.cfg.rooms_per_sub = 4;
	srv.st = store_create(16, 1);
	srv.rs = srv.st ? rooms_create(srv.st, &rc) : NULL;
	if (!srv.rs)
		abort();
	hub_init(&srv.hub, srv.rs, MAX_MSG);
	memset(&wsi_state, 0, sizeof(wsi_state));
	memset(&pss, 0, sizeof(pss));
	pss.wsi = fake_wsi;
	pss.srv = &srv;
	pss.sub.notify = notify;
	pss.sub.ctx = &pss;
	pss.sub.via = VIA_WS;
	cursor_init(&pss.cur, srv.st, pss.sub.cid, 0);
	pss.established = 1;

	while (at + 3 <= size) {
		unsigned flags = data[at];
		size_t len = (size_t)data[at + 1] << 8 | data[at + 2];
		int rc_recv;

		at += 3;
		if (len > size - at)
			len = size - at;
		if (!open_msg)
			wsi_state.binary = !!(flags & 2);
		wsi_state.final = flags & 1;
		wsi_state.remaining = rem[(flags >> 2) & 3];
		rc_recv = ws_rx_receive(&pss, len ? data + at : NULL, len);
		at += len;
		if (rc_recv) {
			if (rc_recv != -1 || !wsi_state.close_set)
				abort();	/* closed without a reason */
			break;
		}
		if (wsi_state.close_set)
			abort();	/* a reason, yet left open */
		open_msg = !lws_is_final_fragment(fake_wsi);
		if (open_msg != pss.rx_open)
			abort();	/* reassembly lost its place */
		if (!(flags & 0x10))
			while (ws_proto_write_ctl(&pss) == 1)
				;
		if (pss.want_read)
			deliver(&pss);
	}
	while (ws_proto_write_ctl(&pss) == 1)
		;
	rooms_unsubscribe_all(srv.rs, &pss.sub);
	ws_proto_free(&pss);
	ws_rx_free(&pss);
	rooms_destroy(&srv.rs);
	store_destroy(&srv.st);
	return 0;
}
