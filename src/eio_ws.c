/* SPDX-License-Identifier: MIT */
/*
 * eio_ws: Engine.IO over WebSocket. A text frame is one packet, a binary
 * frame one binary message. The service thread (ws_loop.h) owns every
 * connection; other threads wake one by putting it on the dirty list
 * (eio_ws_wake, under eio.lock), as ws.c does. A writeable callback
 * writes what it takes from the session (eio_queue_take, up to
 * WRITE_BATCH bytes): one packet as one lws_write() from its own
 * headroom, several as their WebSocket frames built into the thread's
 * scratch buffer and sent with one raw lws_write() (Engine.IO has one
 * packet per frame, but nothing stops several frames sharing one send:
 * a 1,000-socket room at 200 msg/s is otherwise a send() per message per
 * socket). Frames in pieces are reassembled up to maxPayload.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "eio.h"
#include "eio_ws.h"
#include "list.h"
#include "log.h"
#include "msg.h"
#include "server_ctx.h"
#include "ws_loop.h"
#include "ws_origin.h"

#define TAG "eio"

_Static_assert(LWS_PRE <= MSG_WS_PRE, "msg.h headroom too small for lws");

#define WRITE_BATCH (64 * 1024)	/* payload bytes one write takes, at most */
#define FRAME_HEAD_MAX 10	/* a server frame's head: no mask */

struct eio_ws {
	struct server *srv;
	struct ws_loop loop;		/* context, thread, queue, dirty list */
	unsigned char *scratch;		/* several frames; service thread */
	size_t scratch_cap;
};

/* One connection (lws's per-session data). */
struct pss {
	struct eio_ws *w;
	struct lws *wsi;
	struct eio_session *s;		/* a reference */
	struct list dnode;		/* on w->dirty */
	char *rx;			/* a message in pieces, owned */
	size_t rxlen;
	int established, closing;
};

void
eio_ws_wake(void *conn)
{
	struct pss *pss = conn;

	ws_loop_wake(&pss->w->loop, &pss->dnode);
}

/* ws_loop's woken (under dlock). */
static void
woken(struct list *node)
{
	lws_callback_on_writable(list_entry(node, struct pss, dnode)->wsi);
}

/* ESTABLISHED: a new session, or the probe of a polling one. */
static int
established(struct eio_ws *w, struct pss *pss, struct lws *wsi)
{
	char uri[32], buf[64];
	const char *sid;
	int kind;

	memset(pss, 0, sizeof(*pss));
	pss->w = w;
	pss->wsi = wsi;
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0)
		return -1;
	kind = eio_path_kind(uri);
	if (kind < 0)
		return -1;
	sid = lws_get_urlarg_by_name(wsi, "sid=", buf, sizeof(buf));
	if (sid && *sid) {
		pss->s = eio_find(w->srv->eio, sid);
		if (!pss->s || (int)eio_session_kind(pss->s) != kind) {
			LOG_INFO(TAG, "WebSocket for unknown session %s", sid);
			eio_unref(&pss->s);
			return -1;
		}
	} else {
		pss->s = eio_open(w->srv->eio, (enum eio_kind)kind, 1);
		if (!pss->s)
			return -1;
	}
	if (eio_attach_ws(pss->s, pss)) {
		LOG_INFO(TAG, "session %s: a second WebSocket refused", sid);
		eio_unref(&pss->s);
		return -1;
	}
	pss->established = 1;
	/* HTTP counts its own requests and bytes; these are the socket's */
	STATS_ADD(&w->srv->stats, VIA_SIO, requests, 1);
	lws_callback_on_writable(wsi);
	return 0;
}

static void
closed(struct eio_ws *w, struct pss *pss)
{
	if (!pss->established)
		return;
	pss->established = 0;
	eio_detach_ws(pss->s, pss);
	ws_loop_undirty(&w->loop, &pss->dnode);
	eio_unref(&pss->s);
	free(pss->rx);
	pss->rx = NULL;
}

/* A whole message: one packet. Returns 0 or -1 (close). */
static int
message(struct pss *pss, const char *data, size_t len, int binary)
{
	struct eio_pkt p;

	if (binary) {
		p.type = EIO_MESSAGE;
		p.binary = 1;
		p.data = data;
		p.len = len;
	} else if (eio_decode(data, len, &p)) {
		eio_close(pss->s, 0);
		return -1;
	}
	return eio_input(pss->s, &p, 1);
}

static int
receive(struct pss *pss, const char *in, size_t len)
{
	struct lws *wsi = pss->wsi;
	int binary = lws_frame_is_binary(wsi);
	size_t max = (size_t)eio_max_payload(pss->w->srv->eio);
	int rc;

	STATS_ADD(&pss->w->srv->stats, VIA_SIO, bytes_in, len);
	if (!pss->rx && lws_is_first_fragment(wsi) &&
	    lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
		return message(pss, in, len, binary);
	if (pss->rxlen + len > max) {
		eio_close(pss->s, 0);
		return -1;
	}
	char *n = realloc(pss->rx, pss->rxlen + len + 1);

	if (!n)
		return -1;
	memcpy(n + pss->rxlen, in, len);
	pss->rx = n;
	pss->rxlen += len;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	rc = message(pss, pss->rx, pss->rxlen, binary);
	free(pss->rx);
	pss->rx = NULL;
	pss->rxlen = 0;
	return rc;
}

/* Writes the head of an unmasked final frame of n payload bytes into
 * dst; returns its size. */
static size_t
frame_head(unsigned char *dst, int binary, size_t n)
{
	size_t h = 0;

	dst[h++] = binary ? 0x82 : 0x81;
	if (n < 126) {
		dst[h++] = (unsigned char)n;
	} else if (n < 65536) {
		dst[h++] = 126;
		dst[h++] = (unsigned char)(n >> 8);
		dst[h++] = (unsigned char)n;
	} else {
		dst[h++] = 127;
		for (int i = 7; i >= 0; i--)
			dst[h++] = (unsigned char)((uint64_t)n >> (8 * i));
	}
	return h;
}

/* Writes the packets of the list o as their frames in one raw write.
 * Returns 0 or -1. */
static int
write_frames(struct pss *pss, const struct eio_out *o)
{
	struct eio_ws *w = pss->w;
	size_t need = LWS_PRE, len = 0;
	unsigned char *p;

	for (const struct eio_out *x = o; x; x = x->next)
		need += FRAME_HEAD_MAX + x->len;
	if (need > w->scratch_cap) {
		unsigned char *n = realloc(w->scratch, need);

		if (!n)
			return -1;
		w->scratch = n;
		w->scratch_cap = need;
	}
	p = w->scratch + LWS_PRE;
	for (const struct eio_out *x = o; x; x = x->next) {
		len += frame_head(p + len, x->binary, x->len);
		memcpy(p + len, x->p, x->len);
		len += x->len;
	}
	/* LWS_WRITE_RAW: the bytes go out as they are, already framed */
	return lws_write(pss->wsi, p, len, LWS_WRITE_RAW) < 0 ? -1 : 0;
}

/* Writes what the session has, up to WRITE_BATCH bytes. Returns 0, or
 * -1 to close. */
static int
writeable(struct pss *pss)
{
	struct stats *st = &pss->w->srv->stats;
	struct eio_out *o, *next;
	enum eio_take t = eio_queue_take(pss->s, 1, WRITE_BATCH, &o);
	size_t bytes = 0;
	int rc = 0;

	if (t == EIO_TAKE_CLOSE || t == EIO_TAKE_NOOP)
		return -1;
	if (t != EIO_TAKE_PACKETS || !o)
		return 0;
	for (const struct eio_out *x = o; x; x = x->next)
		bytes += x->len;
	STATS_ADD(st, VIA_SIO, bytes_out, bytes);
	if (o->next)
		rc = write_frames(pss, o);
	/* one: lws writes its frame head into the headroom before o->p */
	else if (lws_write(pss->wsi, (unsigned char *)(uintptr_t)o->p,
			   o->len, o->binary ? LWS_WRITE_BINARY :
			   LWS_WRITE_TEXT) < 0)
		rc = -1;
	for (; o; o = next) {
		next = o->next;
		eio_queue_out_free(o);
	}
	if (!rc)
		lws_callback_on_writable(pss->wsi);	/* maybe more */
	return rc;
}

static int
callback_eio(struct lws *wsi, enum lws_callback_reasons reason, void *user,
	     void *in, size_t len)
{
	struct eio_ws *w = lws_context_user(lws_get_context(wsi));
	struct pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* a refused one may also be a second WebSocket of a
		 * session (logged by established()) */
		for (size_t r = w ? ws_loop_drain(&w->loop) : 0; r; r--)
			LOG_INFO(TAG, "a WebSocket was not adopted");
		break;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (!ws_origin_ok(wsi, w->srv->cfg.allow_origin)) {
			lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN,
					       "foreign Origin");
			return -1;
		}
		break;
	case LWS_CALLBACK_ESTABLISHED:
		if (established(w, pss, wsi))
			return -1;
		break;
	case LWS_CALLBACK_RECEIVE:
		if (!pss || !pss->established)
			return -1;
		return receive(pss, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!pss || !pss->established)
			break;
		return writeable(pss);
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
	/* small rx buffer, as ws.c's: lws allocates it for every
	 * connection (4096 made an idle session cost 3 KB more than a /ws
	 * connection); bigger frames arrive in pieces (receive()).
	 * tx_packet_size lets a whole batch go to send() at once. */
	{ "eio", callback_eio, sizeof(struct pss), 1024, 0, NULL,
	  WRITE_BATCH + 8192 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
eio_ws_free(struct eio_ws *w)
{
	ws_loop_destroy(&w->loop);	/* closes what was still queued */
	free(w->scratch);
	free(w);
}

struct eio_ws *
eio_ws_start(struct server *srv, struct im_error *e)
{
	struct eio_ws *w = calloc(1, sizeof(*w));

	if (!w) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	w->srv = srv;
	/* no libuv (0): Engine.IO's context stays on lws's poll() */
	if (ws_loop_create(&w->loop, protocols, w, &srv->open_conns, woken, 0,
			   e) ||
	    ws_loop_run(&w->loop, e)) {
		eio_ws_free(w);
		return NULL;
	}
	return w;
}

void
eio_ws_adopt(struct eio_ws *w, int fd, const char *head, size_t len)
{
	ws_loop_adopt(&w->loop, fd, head, len);
}

void
eio_ws_stop(struct eio_ws **wp)
{
	struct eio_ws *w = *wp;

	if (!w)
		return;
	*wp = NULL;
	ws_loop_stop(&w->loop);
	eio_ws_free(w);
}
