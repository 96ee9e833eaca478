/* SPDX-License-Identifier: MIT */
/*
 * ws_rx: a /ws connection's incoming messages, from lws's RECEIVE
 * callbacks to ws_proto_run(): reassembly of fragments (most messages
 * arrive whole and are run in place), the --ws-max-msg bound (1009), the
 * UTF-8 rule for text (1007), and, behind an emulated delay, holding each
 * complete message until it is due (ws_netem.h). Service thread only.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "server_ctx.h"
#include "utf8.h"
#include "wire.h"
#include "ws_netem.h"
#include "ws_proto.h"
#include "ws_rx.h"

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
	ws_proto_close(pss->wsi, IM_ETOOBIG, "message too large");
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
	return ws_proto_run(pss, buf, len, binary);
}

/* ws_netem's run: a held message is due. A message that closes the
 * connection closes it from the writeable callback (ws.c), the close
 * reason already set. */
static int
held_run(void *ctx, const char *buf, size_t len, int binary)
{
	struct per_session_data__chat *pss = ctx;
	int rc = run_whole(pss, buf, len, binary);

	wire_frame_in(pss->wc);	/* after: a hello names the cid */
	if (rc < 0) {
		pss->closing = 1;
		lws_callback_on_writable(pss->wsi);
	}
	return rc;
}

/* ws_netem's done: the due messages ran; a reply may be due now. */
static void
held_done(void *ctx)
{
	struct per_session_data__chat *pss = ctx;

	if (ws_proto_ctl_ready(pss))
		lws_callback_on_writable(pss->wsi);
	ws_netem_arm(&pss->nem, ws_proto_ctl_due(pss));
}

/* A whole message arrived: it runs now, or is held behind an emulated
 * delay (ws_netem.h). */
static int
arrived(struct per_session_data__chat *pss, const char *buf, size_t len,
	int binary)
{
	const char *why;

	if (!netem_on(&pss->net))
		return run_whole(pss, buf, len, binary);
	if (!pss->nem.run)
		ws_netem_init(&pss->nem, &pss->net, pss->wsi,
			      (size_t)pss->srv->cfg.ws_max_msg *
			      WS_NETEM_BYTES_MUL, held_run, held_done, pss);
	if (!ws_netem_hold(&pss->nem, buf, len, binary, &why))
		return 0;
	ws_proto_close(pss->wsi, IM_EFULL, why);
	return -1;
}

int
ws_rx_receive(struct per_session_data__chat *pss, const void *in,
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
		return arrived(pss, len ? in : "", len,
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
			ws_proto_close(pss->wsi, IM_ENOMEM, "out of memory");
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
	rc = arrived(pss, pss->rx_len ? pss->rx : "", pss->rx_len,
		     pss->rx_binary);
	rx_drop(pss);
	return rc;
}

void
ws_rx_free(struct per_session_data__chat *pss)
{
	ws_netem_free(&pss->nem);
	rx_drop(pss);
}
