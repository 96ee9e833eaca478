/* SPDX-License-Identifier: MIT */
/*
 * bench_ws: the WebSocket subscribers, all on one libwebsockets client
 * context serviced by the loop thread. Each connects to /ws (no
 * subprotocol), sends {"op":"hello"} then {"op":"join","since":...}, and
 * is registered when "joined" comes back. It takes both {"op":"msg"} and
 * batched {"op":"msgs"} frames; a closed connection reconnects with since =
 * the last id it saw. A 20 ms timer keeps lws_service() returning so the
 * loop can start connections and watch the publisher.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "bench.h"
#include "bench_json.h"
#include "bench_proc.h"

#define TICK_US (20 * LWS_US_PER_MS)
#define RETRY_NS (200 * 1000000ll)
#define FRAME_MAX (64u << 20)	/* largest reassembled message */

enum wstate {
	W_IDLE = 0,	/* not connected; retry_at says when */
	W_CONNECTING,
	W_HELLO,	/* established: send hello next */
	W_JOIN,		/* send join next */
	W_JOINING,	/* waiting for joined */
	W_JOINED,
};

struct wloop;

struct wsub {
	struct wloop *l;
	struct bench_sub *s;
	struct lws *wsi;
	enum wstate state;
	int fd;
	int64_t retry_at;	/* ns; 0: no retry pending */
	char *buf;		/* fragments of the current message */
	size_t len, cap;
};

struct wloop {
	struct bench_run *r;
	struct lws_context *ctx;
	struct wsub *ws;
	lws_sorted_usec_list_t tick;
	int retries;		/* subscribers waiting to reconnect */
	uint64_t closed_in, closed_out;
	char hostport[160];
};

static int log_lines;

static void
log_emit(int level, const char *line)
{
	(void)level;
	if (log_lines++ < 10)
		fprintf(stderr, "imlab-bench: lws: %s", line);
}

static void
retry_later(struct wsub *w)
{
	w->state = W_IDLE;
	w->wsi = NULL;
	w->fd = -1;
	w->len = 0;
	if (w->l->r->stopping || w->retry_at)
		return;
	w->retry_at = bench_now_ns() + RETRY_NS;
	w->l->retries++;
}

static void
ws_connect(struct wsub *w)
{
	struct wloop *l = w->l;
	struct lws_client_connect_info i;

	memset(&i, 0, sizeof(i));
	i.context = l->ctx;
	i.address = l->r->o->host;
	i.port = l->r->o->port;
	i.path = "/ws";
	i.host = l->hostport;
	i.origin = l->hostport;
	i.local_protocol_name = "imlab-bench";
	i.userdata = w;
	i.pwsi = &w->wsi;
	w->state = W_CONNECTING;
	w->fd = -1;
	w->len = 0;
	l->r->requests++;
	if (!lws_client_connect_via_info(&i) && w->state == W_CONNECTING) {
		bench_error(l->r, "ws: cannot start a connection");
		retry_later(w);
	}
}

static void
sample_close(struct wsub *w)
{
	if (w->fd >= 0)
		bench_proc_tcp_bytes(w->fd, &w->l->closed_in,
				     &w->l->closed_out);
	w->fd = -1;
}

static int
send_text(struct lws *wsi, const char *s, size_t n)
{
	unsigned char b[LWS_PRE + 512];

	if (n > sizeof(b) - LWS_PRE)
		return -1;
	memcpy(b + LWS_PRE, s, n);
	return lws_write(wsi, b + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n ? -1 :
	       0;
}

static int
writeable(struct wsub *w, struct lws *wsi)
{
	struct bench_run *r = w->l->r;
	char m[400], room[96];
	int n;

	if (w->state == W_HELLO) {
		n = snprintf(m, sizeof(m), "{\"op\":\"hello\",\"cid\":\"%s\","
			     "\"from\":\"bench\"}", r->cid);
		if (send_text(wsi, m, (size_t)n))
			return -1;
		w->state = W_JOIN;
		lws_callback_on_writable(wsi);
	} else if (w->state == W_JOIN) {
		bench_room_name(r, w->s->room, room, sizeof(room));
		n = snprintf(m, sizeof(m), "{\"op\":\"join\",\"room\":\"%s\","
			     "\"since\":%llu}", room,
			     (unsigned long long)w->s->cursor);
		if (send_text(wsi, m, (size_t)n))
			return -1;
		w->state = W_JOINING;
	}
	return 0;
}

/* One complete message from the server, read in one pass: a "msgs" array
 * is delivered while it is walked. */
static void
frame(struct wsub *w, const char *p, size_t len)
{
	struct bench_run *r = w->l->r;
	struct bench_json_it it, ai;
	const char *key, *val, *vend, *op = NULL, *end = p + len;
	size_t klen, oplen = 0;
	int64_t now = bench_now_ns();
	int n, m;

	r->frames++;
	if (bench_json_begin(&it, p, end, '{')) {
		r->bad++;
		return;
	}
	while ((n = bench_json_key(&it, &key, &klen, &val)) > 0) {
		if (bench_json_key_is(key, klen, "msg")) {
			it.p = bench_deliver(r, w->s, val, end, now);
		} else if (bench_json_key_is(key, klen, "msgs") &&
			   !bench_json_begin(&ai, val, end, '[')) {
			while ((m = bench_json_next(&ai, &val)) > 0) {
				ai.p = bench_deliver(r, w->s, val, end, now);
				if (!ai.p)
					break;
			}
			it.p = m < 0 ? NULL : ai.p;
		} else {
			vend = bench_json_skip(val, end);
			if (vend && bench_json_key_is(key, klen, "op"))
				bench_json_str(val, vend, &op, &oplen);
			it.p = vend;
		}
		if (!it.p) {
			r->bad++;
			return;
		}
	}
	if (n < 0 || !op) {
		r->bad++;
		return;
	}
	if (bench_json_key_is(op, oplen, "joined")) {
		w->state = W_JOINED;
		bench_registered(r, w->s);
	} else if (bench_json_key_is(op, oplen, "gap")) {
		r->gaps++;
	} else if (bench_json_key_is(op, oplen, "error")) {
		bench_error(r, "ws: error frame: %.*s",
			    (int)(len < 200 ? len : 200), p);
	}
}

static int
receive(struct wsub *w, struct lws *wsi, const char *in, size_t len)
{
	int whole = lws_is_final_fragment(wsi) &&
		    !lws_remaining_packet_payload(wsi);

	if (whole && !w->len) {
		frame(w, in, len);
		return 0;
	}
	if (w->len + len > w->cap) {
		size_t cap = w->cap ? w->cap : 8192;
		char *nb;

		while (cap < w->len + len)
			cap *= 2;
		if (cap > FRAME_MAX || !(nb = realloc(w->buf, cap))) {
			bench_error(w->l->r, "ws: message too large");
			return -1;
		}
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, in, len);
	w->len += len;
	if (whole) {
		frame(w, w->buf, w->len);
		w->len = 0;
	}
	return 0;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
	 void *in, size_t len)
{
	struct wsub *w = user;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!w)
			return -1;
		w->wsi = wsi;
		w->fd = lws_get_socket_fd(wsi);
		w->state = W_HELLO;
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (w && writeable(w, wsi))
			return -1;
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (w && receive(w, wsi, in, len))
			return -1;
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (!w)
			break;
		if (!w->l->r->stopping)
			bench_error(w->l->r, "ws: connect: %s",
				    in ? (const char *)in : "failed");
		sample_close(w);
		retry_later(w);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!w)
			break;
		if (!w->l->r->stopping) {
			if (w->state == W_JOINED)
				w->l->r->reconnects++;
			else
				bench_error(w->l->r, "ws: closed before "
					    "joined");
		}
		sample_close(w);
		retry_later(w);
		break;
	default:
		break;
	}
	return 0;
}

/* rx_buffer_size is per connection: kept small for 10,000 of them (a
 * 64 KB buffer measured no faster). */
static const struct lws_protocols protocols[] = {
	{ "imlab-bench", callback, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
tick(lws_sorted_usec_list_t *sul)
{
	struct wloop *l = lws_container_of(sul, struct wloop, tick);

	lws_sul_schedule(l->ctx, 0, &l->tick, tick, TICK_US);
}

static int
ws_start(struct bench_run *r)
{
	struct lws_context_creation_info info;
	struct wloop *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(r->last_error, sizeof(r->last_error), "no memory");
		return -1;
	}
	r->loop = l;
	l->r = r;
	snprintf(l->hostport, sizeof(l->hostport), "%s:%d", r->o->host,
		 r->o->port);
	l->ws = calloc((size_t)r->o->subs, sizeof(*l->ws));
	if (!l->ws) {
		snprintf(r->last_error, sizeof(r->last_error), "no memory");
		return -1;
	}
	for (int i = 0; i < r->o->subs; i++) {
		l->ws[i].l = l;
		l->ws[i].s = &r->subs[i];
		l->ws[i].fd = -1;
	}
	lws_set_log_level(LLL_ERR, log_emit);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	info.count_threads = 1;
	info.fd_limit_per_thread = (unsigned)r->o->subs + 128;
	info.max_http_header_pool = BENCH_RAMP + 16;
	l->ctx = lws_create_context(&info);
	if (!l->ctx) {
		snprintf(r->last_error, sizeof(r->last_error),
			 "libwebsockets client context failed");
		return -1;
	}
	lws_sul_schedule(l->ctx, 0, &l->tick, tick, TICK_US);
	return 0;
}

static void
ws_step(struct bench_run *r, int wait_ms)
{
	struct wloop *l = r->loop;
	int64_t now = bench_now_ns();

	(void)wait_ms;	/* the tick bounds the wait */
	while (r->started < r->o->subs &&
	       r->started - r->registered < BENCH_RAMP)
		ws_connect(&l->ws[r->started++]);
	if (l->retries) {
		for (int i = 0; i < r->started; i++) {
			struct wsub *w = &l->ws[i];

			if (!w->retry_at || w->retry_at > now)
				continue;
			w->retry_at = 0;
			l->retries--;
			ws_connect(w);
		}
	}
	lws_service(l->ctx, 0);
}

static void
ws_bytes(struct bench_run *r, uint64_t *in, uint64_t *out)
{
	struct wloop *l = r->loop;

	*in += l->closed_in;
	*out += l->closed_out;
	for (int i = 0; i < r->o->subs; i++)
		if (l->ws[i].fd >= 0)
			bench_proc_tcp_bytes(l->ws[i].fd, in, out);
}

static void
ws_stop(struct bench_run *r)
{
	struct wloop *l = r->loop;

	if (!l)
		return;
	if (l->ctx) {
		lws_sul_cancel(&l->tick);
		lws_context_destroy(l->ctx);
	}
	for (int i = 0; l->ws && i < r->o->subs; i++)
		free(l->ws[i].buf);
	free(l->ws);
	free(l);
	r->loop = NULL;
}

const struct bench_tp_ops bench_ws_ops = {
	.start = ws_start,
	.step = ws_step,
	.bytes = ws_bytes,
	.stop = ws_stop,
};
