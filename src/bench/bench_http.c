/* SPDX-License-Identifier: MIT */
/*
 * bench_http: the polling subscribers (short poll, long poll) on one
 * libcurl multi handle driven by the socket API and epoll, so a wake-up
 * costs only the sockets that have data. One easy handle per subscriber,
 * re-added for every request:
 *  - poll: GET /poll every --interval ms (the first one at a random offset,
 *    so the subscribers do not poll in step); registered at its first 200.
 *    Poll and long-poll subscribers have a connection cache each (a
 *    CURLSH), so each keeps its own keep-alive connection as a browser tab
 *    would, and finding it costs O(1) instead of a walk over every
 *    connection to the host (which made the bench the bottleneck).
 *  - longpoll: GET /longpoll again as soon as one answers; registered once
 *    its first request is on the wire (curl's pre-request callback).
 * (SSE and WebSocket are bench_raw's.)
 * Every socket is opened and closed through callbacks so its TCP_INFO
 * byte counters can be read.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bench.h"
#include "bench_json.h"
#include "bench_proc.h"

#define BODY_MAX (64u << 20)	/* largest poll body */
#define RETRY_NS (200 * 1000000ll)	/* after a failed request */
#define MAX_EVENTS 512

struct hloop;

struct hsub {
	struct hloop *l;
	struct bench_sub *s;
	CURL *easy;
	CURLSH *share;		/* poll, longpoll: its own connection cache */
	int in_multi;
	int queued;		/* in the due heap */
	int polled;		/* poll: had an answer before */
	char *buf;		/* response body */
	size_t len, cap;
	int64_t due;		/* ns: when to start the next request */
};

struct hloop {
	struct bench_run *r;
	CURLM *multi;
	int ep;
	int64_t timer_due;	/* ns; -1: no curl timeout pending */
	struct hsub *hs;
	struct hsub **heap;	/* min-heap on due */
	int heap_n;
	uint8_t *fd_open;	/* per fd: a subscriber socket is open */
	int fd_cap;
	uint64_t closed_in, closed_out;	/* bytes of closed sockets */
};

/* ---- due heap ------------------------------------------------------ */

static void
heap_push(struct hloop *l, struct hsub *h, int64_t due)
{
	int i = l->heap_n++;

	h->due = due;
	h->queued = 1;
	while (i > 0 && l->heap[(i - 1) / 2]->due > due) {
		l->heap[i] = l->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	l->heap[i] = h;
}

static struct hsub *
heap_pop(struct hloop *l)
{
	struct hsub *top = l->heap[0], *last = l->heap[--l->heap_n];
	int i = 0;

	for (;;) {
		int c = 2 * i + 1;

		if (c >= l->heap_n)
			break;
		if (c + 1 < l->heap_n && l->heap[c + 1]->due < l->heap[c]->due)
			c++;
		if (l->heap[c]->due >= last->due)
			break;
		l->heap[i] = l->heap[c];
		i = c;
	}
	if (l->heap_n)
		l->heap[i] = last;
	top->queued = 0;
	return top;
}

/* ---- sockets --------------------------------------------------------- */

static curl_socket_t
open_sock(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct hloop *l = arg;
	int fd;

	(void)purpose;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	if (fd < 0)
		return CURL_SOCKET_BAD;
	if (fd >= l->fd_cap) {
		int ncap = fd * 2 + 64;
		uint8_t *n = realloc(l->fd_open, (size_t)ncap);

		if (!n) {
			close(fd);
			return CURL_SOCKET_BAD;
		}
		memset(n + l->fd_cap, 0, (size_t)(ncap - l->fd_cap));
		l->fd_open = n;
		l->fd_cap = ncap;
	}
	l->fd_open[fd] = 1;
	return fd;
}

static int
close_sock(void *arg, curl_socket_t fd)
{
	struct hloop *l = arg;

	if (fd >= 0 && fd < l->fd_cap && l->fd_open[fd]) {
		bench_proc_tcp_bytes(fd, &l->closed_in, &l->closed_out);
		l->fd_open[fd] = 0;
	}
	return close(fd);
}

static int
sock_cb(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct hloop *l = arg;
	struct epoll_event ev;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (sockp) {
			epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
			curl_multi_assign(l->multi, fd, NULL);
		}
		return 0;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) |
		    ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	ev.data.fd = fd;
	if (sockp || epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev))
		epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
	if (!sockp)
		curl_multi_assign(l->multi, fd, l);
	return 0;
}

static int
timer_cb(CURLM *m, long ms, void *arg)
{
	struct hloop *l = arg;

	(void)m;
	l->timer_due = ms < 0 ? -1 : bench_now_ns() + ms * 1000000ll;
	return 0;
}

/* ---- responses ------------------------------------------------------- */

static int
buf_add(struct hsub *h, const char *data, size_t n)
{
	if (h->len + n > h->cap) {
		size_t cap = h->cap ? h->cap : 4096;
		char *nb;

		while (cap < h->len + n)
			cap *= 2;
		if (cap > BODY_MAX)
			return -1;
		nb = realloc(h->buf, cap);
		if (!nb)
			return -1;
		h->buf = nb;
		h->cap = cap;
	}
	memcpy(h->buf + h->len, data, n);
	h->len += n;
	return 0;
}

/* A poll or long-poll body {"messages":[E,...],"last_id":N,"gap":B}, read
 * in one pass. */
static void
batch_parse(struct hloop *l, struct hsub *h)
{
	struct bench_run *r = l->r;
	struct bench_json_it it, ai;
	const char *key, *val, *vend, *end = h->buf + h->len;
	size_t klen;
	int64_t now = bench_now_ns();
	uint64_t last;
	int n, m;

	if (bench_json_begin(&it, h->buf, end, '{')) {
		r->bad++;
		return;
	}
	while ((n = bench_json_key(&it, &key, &klen, &val)) > 0) {
		if (bench_json_key_is(key, klen, "messages") &&
		    !bench_json_begin(&ai, val, end, '[')) {
			while ((m = bench_json_next(&ai, &val)) > 0) {
				ai.p = bench_deliver(r, h->s, val, end, now);
				if (!ai.p)
					break;
			}
			if (m < 0 || !ai.p) {
				r->bad++;
				return;
			}
			it.p = ai.p;
			continue;
		}
		vend = bench_json_skip(val, end);
		if (!vend) {
			r->bad++;
			return;
		}
		it.p = vend;
		if (bench_json_key_is(key, klen, "last_id")) {
			if (!bench_json_u64(val, vend, &last) &&
			    last > h->s->cursor)
				h->s->cursor = last;
		} else if (bench_json_key_is(key, klen, "gap")) {
			if (vend - val >= 4 && !memcmp(val, "true", 4))
				r->gaps++;
		}
	}
	if (n < 0)
		r->bad++;
}

static size_t
write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct hsub *h = arg;
	size_t len = size * n;

	return buf_add(h, data, len) ? 0 : len;
}

static int
prereq_cb(void *arg, char *ip, char *lip, int port, int lport)
{
	struct hsub *h = arg;

	(void)ip;
	(void)lip;
	(void)port;
	(void)lport;
	bench_registered(h->l->r, h->s);
	return CURL_PREREQFUNC_OK;
}

/* ---- requests -------------------------------------------------------- */

static void
start_req(struct hloop *l, struct hsub *h)
{
	static const char *const path[] = { "poll", "longpoll" };
	struct bench_run *r = l->r;
	char url[512], room[96];

	bench_room_name(r, h->s->room, room, sizeof(room));
	snprintf(url, sizeof(url), "%s/%s?rooms=%s&since=%llu&cid=%s"
		 "&from=bench%s", r->o->url, path[r->tp], room,
		 (unsigned long long)h->s->cursor, r->cid,
		 r->tp == BENCH_LONGPOLL ? "&timeout=30" : "");
	curl_easy_setopt(h->easy, CURLOPT_URL, url);
	h->len = 0;
	if (curl_multi_add_handle(l->multi, h->easy) != CURLM_OK) {
		bench_error(r, "curl_multi_add_handle failed");
		heap_push(l, h, bench_now_ns() + RETRY_NS);
		return;
	}
	h->in_multi = 1;
	r->requests++;
}

static void
done(struct hloop *l, struct hsub *h, CURLcode rc)
{
	struct bench_run *r = l->r;
	int64_t now = bench_now_ns();
	long code = 0;
	int ok;

	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(l->multi, h->easy);
	h->in_multi = 0;
	ok = rc == CURLE_OK && code == 200;
	if (r->stopping)
		return;
	if (!ok) {
		if (rc != CURLE_OK)
			bench_error(r, "%s: %s", bench_tp_name(r->tp),
				    curl_easy_strerror(rc));
		else
			bench_error(r, "%s: HTTP %ld: %.*s",
				    bench_tp_name(r->tp), code,
				    (int)(h->len < 160 ? h->len : 160),
				    h->buf ? h->buf : "");
		if (h->s->registered)
			r->reconnects++;
		heap_push(l, h, now + RETRY_NS);
		return;
	}
	batch_parse(l, h);
	bench_registered(r, h->s);
	if (r->tp == BENCH_POLL) {
		heap_push(l, h, now + (h->polled ? 0 :
			  (int64_t)(rand() % r->o->interval_ms) * 1000000ll) +
			  (int64_t)r->o->interval_ms * 1000000ll *
			  h->polled);
		h->polled = 1;
	} else {
		start_req(l, h);
	}
}

static void
check_done(struct hloop *l)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(l->multi, &left))) {
		struct hsub *h = NULL;
		CURLcode rc = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
				  (char **)(void *)&h);
		done(l, h, rc);
	}
}

/* ---- the loop -------------------------------------------------------- */

static int
http_start(struct bench_run *r)
{
	struct hloop *l = calloc(1, sizeof(*l));
	int n = r->o->subs;

	if (!l) {
		snprintf(r->last_error, sizeof(r->last_error), "no memory");
		return -1;
	}
	r->loop = l;
	l->r = r;
	l->timer_due = -1;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->multi = curl_multi_init();
	l->hs = calloc((size_t)n, sizeof(*l->hs));
	l->heap = calloc((size_t)n, sizeof(*l->heap));
	if (l->ep < 0 || !l->multi || !l->hs || !l->heap) {
		snprintf(r->last_error, sizeof(r->last_error),
			 "cannot set up the libcurl loop");
		return -1;
	}
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, (long)n + 16);
	for (int i = 0; i < n; i++) {
		struct hsub *h = &l->hs[i];
		CURL *e = curl_easy_init();

		h->l = l;
		h->s = &r->subs[i];
		h->easy = e;
		if (!e) {
			snprintf(r->last_error, sizeof(r->last_error),
				 "curl_easy_init failed");
			return -1;
		}
		h->share = curl_share_init();
		if (!h->share) {
			snprintf(r->last_error, sizeof(r->last_error),
				 "curl_share_init failed");
			return -1;
		}
		curl_share_setopt(h->share, CURLSHOPT_SHARE,
				  CURL_LOCK_DATA_CONNECT);
		curl_easy_setopt(e, CURLOPT_SHARE, h->share);
		curl_easy_setopt(e, CURLOPT_PRIVATE, h);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
		curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_sock);
		curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, l);
		curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_sock);
		curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, l);
		curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
		if (r->tp == BENCH_LONGPOLL) {
			curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, prereq_cb);
			curl_easy_setopt(e, CURLOPT_PREREQDATA, h);
			curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
					 (BENCH_LONGPOLL_TIMEOUT + 15) * 1000L);
		} else {
			curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 15000L);
		}
	}
	return 0;
}

static void
http_step(struct bench_run *r, int wait_ms)
{
	struct hloop *l = r->loop;
	struct epoll_event ev[MAX_EVENTS];
	int64_t now = bench_now_ns(), wait = (int64_t)wait_ms * 1000000ll;
	int n, running;

	while (r->started < r->o->subs &&
	       r->started - r->registered < BENCH_RAMP)
		start_req(l, &l->hs[r->started++]);
	while (l->heap_n && l->heap[0]->due <= now)
		start_req(l, heap_pop(l));
	if (l->heap_n && l->heap[0]->due - now < wait)
		wait = l->heap[0]->due - now;
	if (l->timer_due >= 0 && l->timer_due - now < wait)
		wait = l->timer_due - now;
	if (wait < 0)
		wait = 0;
	n = epoll_wait(l->ep, ev, MAX_EVENTS, (int)((wait + 999999) /
						     1000000));
	for (int i = 0; i < n; i++) {
		int f = 0;

		if (ev[i].events & EPOLLIN)
			f |= CURL_CSELECT_IN;
		if (ev[i].events & EPOLLOUT)
			f |= CURL_CSELECT_OUT;
		if (ev[i].events & (EPOLLERR | EPOLLHUP))
			f |= CURL_CSELECT_ERR;
		curl_multi_socket_action(l->multi, ev[i].data.fd, f, &running);
	}
	if (l->timer_due >= 0 && bench_now_ns() >= l->timer_due) {
		l->timer_due = -1;
		curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0,
					 &running);
	}
	check_done(l);
}

static void
http_bytes(struct bench_run *r, uint64_t *in, uint64_t *out)
{
	struct hloop *l = r->loop;

	*in += l->closed_in;
	*out += l->closed_out;
	for (int fd = 0; fd < l->fd_cap; fd++)
		if (l->fd_open[fd])
			bench_proc_tcp_bytes(fd, in, out);
}

static void
http_stop(struct bench_run *r)
{
	struct hloop *l = r->loop;

	if (!l)
		return;
	for (int i = 0; l->hs && i < r->o->subs; i++) {
		struct hsub *h = &l->hs[i];

		if (h->in_multi)
			curl_multi_remove_handle(l->multi, h->easy);
		if (h->easy)
			curl_easy_cleanup(h->easy);
		if (h->share)
			curl_share_cleanup(h->share);
		free(h->buf);
	}
	if (l->multi)
		curl_multi_cleanup(l->multi);
	if (l->ep >= 0)
		close(l->ep);
	free(l->hs);
	free(l->heap);
	free(l->fd_open);
	free(l);
	r->loop = NULL;
}

const struct bench_tp_ops bench_http_ops = {
	.start = http_start,
	.step = http_step,
	.bytes = http_bytes,
	.stop = http_stop,
};
