/* SPDX-License-Identifier: MIT */
/*
 * bench_net: the loop, the connections and the HTTP head, below the
 * protocols (see bench_net.h). libwebsockets parses client frames byte by
 * byte and libcurl pays about 60 us of CPU per request cycle, which made
 * the bench, not the server, the limit; hence these plain sockets.
 * Connects are ramped: at most RAMP subscribers connect at once.
 * The HTTP/1.1 request and response head are bench_http's.
 */
#include "autoconf.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_net.h"
#include "bench_proc.h"

#define RAMP 256		/* subscribers connecting at once at most */
#define RX_CHUNK (128u << 10)	/* bytes asked of one recv() */
#define RX_DIRECT (256u << 10)	/* larger pending frames: own buffer */
#define RETRY_NS (200 * 1000000ll)
#define MAX_EVENTS 512
#define READS_MAX 4		/* full recv()s per socket per wake-up */
#define SWEEP_NS 1000000000ll	/* how often timeouts are looked for */

struct bench_net {
	struct bench_run *r;
	const struct bench_tp_ops *ops;
	int ep;
	struct bench_conn *c;
	char *priv;		/* subs x ops->conn_size bytes */
	int retries;		/* connections waiting to reconnect */
	uint64_t closed_in, closed_out;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char hostport[160];
	uint64_t rng;
	char why[256];		/* the reason of the failure being handled */
	char *rx;		/* RX_DIRECT + RX_CHUNK bytes, shared */
	struct bench_conn **heap;	/* min-heap on due, if ops->due */
	int heap_n;
	int64_t sweep_at;	/* ns, next look for timeouts */
};

/* ---- buffers and sending -------------------------------------------- */

static int
reserve(struct bench_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 512;
	char *np;

	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > 2ull * BENCH_FRAME_MAX)
		return -1;
	np = realloc(b->p, cap);
	if (!np)
		return -1;
	b->p = np;
	b->cap = cap;
	return 0;
}

int
bench_buf_add(struct bench_buf *b, const void *p, size_t n)
{
	if (reserve(b, b->len + n))
		return -1;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

void
bench_buf_free(struct bench_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int
bench_net_fail(struct bench_conn *c, const char *fmt, ...)
{
	struct bench_net *l = c->net;
	va_list ap;
	int n = snprintf(l->why, sizeof(l->why), "%s: ", l->ops->name);

	va_start(ap, fmt);
	vsnprintf(l->why + n, sizeof(l->why) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

void
bench_net_quiet(struct bench_conn *c)
{
	c->net->why[0] = '\0';
}

const char *
bench_net_hostport(const struct bench_conn *c)
{
	return c->net->hostport;
}

uint32_t
bench_net_rand(struct bench_conn *c)
{
	struct bench_net *l = c->net;

	/* xorshift64* */
	l->rng ^= l->rng >> 12;
	l->rng ^= l->rng << 25;
	l->rng ^= l->rng >> 27;
	return (uint32_t)((l->rng * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Asks for EPOLLOUT too, or not, if that changes. */
static void
watch_out(struct bench_conn *c, int out)
{
	struct epoll_event ev;

	if (c->pollout == out)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.ptr = c;
	epoll_ctl(c->net->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->pollout = out;
}

/* Sends what is queued; 0, or -1 if the socket failed. */
static int
flush_out(struct bench_conn *c)
{
	size_t off = 0;

	while (off < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + off, c->out.len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return bench_net_fail(c, "send: %s", strerror(errno));
		off += (size_t)n;
	}
	c->out.len -= off;
	if (c->out.len)
		memmove(c->out.p, c->out.p + off, c->out.len);
	else
		bench_buf_free(&c->out);
	watch_out(c, c->out.len > 0);
	if (!c->out.len && c->net->ops->flushed)
		c->net->ops->flushed(c);
	return 0;
}

int
bench_net_send(struct bench_conn *c, const void *p, size_t n)
{
	if (bench_buf_add(&c->out, p, n))
		return bench_net_fail(c, "no memory");
	return flush_out(c);
}

/* ---- connections ----------------------------------------------------- */

static void
close_fd(struct bench_conn *c)
{
	if (c->fd < 0)
		return;
	bench_proc_tcp_bytes(c->fd, &c->net->closed_in, &c->net->closed_out);
	close(c->fd);
	c->fd = -1;
}

/* Closes the socket and forgets its bytes in flight and its parse state. */
static void
reset(struct bench_conn *c)
{
	close_fd(c);
	c->state = C_IDLE;
	c->serving = 0;
	c->need = 0;
	c->deadline = 0;
	bench_buf_free(&c->in);
	bench_buf_free(&c->out);
	if (c->net->ops->reset)
		c->net->ops->reset(c);
}

/* Ends c (the reason, if any, in l->why) and schedules its reconnect,
 * counted as one if it was serving; a queued one reconnects when due. */
static void
drop(struct bench_conn *c)
{
	struct bench_net *l = c->net;
	struct bench_run *r = l->r;

	if (!r->stopping) {
		if (l->why[0])
			bench_error(r, "%s", l->why);
		if (c->serving)
			r->reconnects++;
	}
	l->why[0] = '\0';
	reset(c);
	if (!c->queued && !r->stopping && !c->retry_at) {
		c->retry_at = bench_now_ns() + RETRY_NS;
		l->retries++;
	}
}

static void
conn_start(struct bench_conn *c)
{
	struct bench_net *l = c->net;
	struct epoll_event ev;
	const char *what = "socket";
	int one = 1;

	if (l->ops->open)
		l->ops->open(c);
	c->fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		       SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	what = "connect";
	if (connect(c->fd, (struct sockaddr *)&l->addr, l->addrlen) &&
	    errno != EINPROGRESS)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = c;
	what = "epoll_ctl";
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, c->fd, &ev))
		goto fail;
	c->state = C_CONNECTING;
	c->pollout = 1;
	l->r->connects++;
	return;
fail:
	bench_net_fail(c, "%s: %s", what, strerror(errno));
	drop(c);
}

/* The connection ended between requests, or a protocol asked: opens a
 * new one at once (a queued one when due), counting nothing. */
static void
reopen(struct bench_conn *c)
{
	reset(c);
	if (!c->queued)
		conn_start(c);
}

/* ---- the due heap ---------------------------------------------------- */

void
bench_net_at(struct bench_conn *c, int64_t due)
{
	struct bench_net *l = c->net;
	int i = l->heap_n++;

	c->due = due;
	c->queued = 1;
	while (i > 0 && l->heap[(i - 1) / 2]->due > due) {
		l->heap[i] = l->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	l->heap[i] = c;
}

static struct bench_conn *
heap_pop(struct bench_net *l)
{
	struct bench_conn *top = l->heap[0], *last = l->heap[--l->heap_n];
	int i = 0;

	for (;;) {
		int k = 2 * i + 1;

		if (k >= l->heap_n)
			break;
		if (k + 1 < l->heap_n && l->heap[k + 1]->due < l->heap[k]->due)
			k++;
		if (l->heap[k]->due >= last->due)
			break;
		l->heap[i] = l->heap[k];
		i = k;
	}
	if (l->heap_n)
		l->heap[i] = last;
	top->queued = 0;
	return top;
}

/* ---- the receive path ------------------------------------------------- */

/* The socket is readable: a few large reads, each parsed at once. 0, -1
 * to drop the connection, or 1 to reopen it (see ops->ended). */
static int
rx(struct bench_conn *c)
{
	struct bench_net *l = c->net;

	for (int i = 0; i < READS_MAX; i++) {
		int direct = c->need > RX_DIRECT || c->in.len > RX_DIRECT;
		size_t have = c->in.len, room, tail;
		ssize_t n, used;
		char *b;

		if (direct) {
			size_t want = c->need > have ? c->need :
				      have + RX_CHUNK;

			if (reserve(&c->in, want))
				return bench_net_fail(c, "no memory");
			b = c->in.p;
			room = c->in.cap - have;
		} else {
			b = l->rx;
			if (have)
				memcpy(b, c->in.p, have);
			room = RX_CHUNK;
		}
		n = recv(c->fd, b + have, room, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET)
				return l->ops->ended(c);
			return bench_net_fail(c, "recv: %s", strerror(errno));
		}
		if (!n)
			return l->ops->ended(c);
		have += (size_t)n;
		used = l->ops->parse(c, b, have, bench_now_ns());
		if (used < 0)
			return -1;
		if (c->state == C_CLOSING)
			return 1;
		tail = have - (size_t)used;
		if (direct) {
			memmove(b, b + used, tail);
			c->in.len = tail;
		} else {
			c->in.len = 0;
			if (tail && bench_buf_add(&c->in, b + used, tail))
				return bench_net_fail(c, "no memory");
		}
		if (!c->in.len)	/* idle connections hold no buffer */
			bench_buf_free(&c->in);
		if ((size_t)n < room)
			break;
	}
	return 0;
}

static void
conn_event(struct bench_conn *c, uint32_t events)
{
	socklen_t sl = sizeof(int);
	int rc, err = 0;

	if (c->state == C_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) || err)
			rc = bench_net_fail(c, "connect: %s",
					    strerror(err ? err : errno));
		else
			rc = c->net->ops->connected(c);
		if (rc)
			drop(c);
		return;
	}
	if ((events & EPOLLOUT) && flush_out(c)) {
		drop(c);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
	rc = rx(c);
	if (rc < 0)
		drop(c);
	else if (rc > 0)
		reopen(c);
}

/* ---- the loop -------------------------------------------------------- */

int
bench_net_start(struct bench_run *r, const struct bench_tp_ops *ops)
{
	struct bench_net *l = calloc(1, sizeof(*l));
	struct addrinfo hints, *ai = NULL;
	size_t n = (size_t)r->o->subs;
	char port[16];
	int rc;

	if (!l) {
		snprintf(r->last_error, sizeof(r->last_error), "no memory");
		return -1;
	}
	r->net = l;
	l->r = r;
	l->ops = ops;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	l->c = calloc(n, sizeof(*l->c));
	l->priv = calloc(n, ops->conn_size ? ops->conn_size : 1);
	l->rx = malloc(RX_DIRECT + RX_CHUNK);
	if (ops->due)
		l->heap = calloc(n, sizeof(struct bench_conn *));
	if (l->ep < 0 || !l->c || !l->priv || !l->rx ||
	    (ops->due && !l->heap)) {
		snprintf(r->last_error, sizeof(r->last_error),
			 "cannot set up the %s loop", ops->name);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		l->c[i].net = l;
		l->c[i].r = r;
		l->c[i].s = &r->subs[i];
		l->c[i].priv = l->priv + i * ops->conn_size;
		l->c[i].fd = -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", r->o->port);
	rc = getaddrinfo(r->o->host, port, &hints, &ai);
	if (rc || !ai || ai->ai_addrlen > sizeof(l->addr)) {
		snprintf(r->last_error, sizeof(r->last_error), "%s: %s",
			 r->o->host, rc ? gai_strerror(rc) : "no address");
		if (ai)
			freeaddrinfo(ai);
		return -1;
	}
	memcpy(&l->addr, ai->ai_addr, ai->ai_addrlen);
	l->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	snprintf(l->hostport, sizeof(l->hostport), "%s:%d", r->o->host,
		 r->o->port);
	l->rng = (uint64_t)bench_now_ns() ^ ((uint64_t)getpid() << 32) ^
		 0x9E3779B97F4A7C15ull;
	return 0;
}

/* Fails every connect or request past its deadline. */
static void
sweep(struct bench_net *l, int64_t now)
{
	for (int i = 0; i < l->r->started; i++) {
		struct bench_conn *c = &l->c[i];

		if (c->fd < 0 || !c->deadline || c->deadline > now)
			continue;
		bench_net_fail(c, "%s timed out", c->state == C_CONNECTING ?
			       "connect" : "request");
		drop(c);
	}
}

void
bench_net_step(struct bench_run *r, int wait_ms)
{
	struct bench_net *l = r->net;
	struct epoll_event ev[MAX_EVENTS];
	int64_t now = bench_now_ns();
	int n;

	while (r->started < r->o->subs &&
	       r->started - r->registered < RAMP)
		conn_start(&l->c[r->started++]);
	for (int i = 0; l->retries && i < r->started; i++) {
		struct bench_conn *c = &l->c[i];

		if (!c->retry_at || c->retry_at > now)
			continue;
		c->retry_at = 0;
		l->retries--;
		conn_start(c);
	}
	if (now >= l->sweep_at) {
		l->sweep_at = now + SWEEP_NS;
		sweep(l, now);
	}
	while (l->heap_n && l->heap[0]->due <= now) {
		struct bench_conn *c = heap_pop(l);

		if (c->fd < 0)
			conn_start(c);
		else if (l->ops->due(c))
			drop(c);
	}
	if (l->heap_n) {
		int64_t w = (l->heap[0]->due - now + 999999) / 1000000;

		if (w < wait_ms)
			wait_ms = w < 0 ? 0 : (int)w;
	}
	n = epoll_wait(l->ep, ev, MAX_EVENTS, wait_ms);
	for (int i = 0; i < n; i++)
		conn_event(ev[i].data.ptr, ev[i].events);
}

void
bench_net_bytes(struct bench_run *r, uint64_t *in, uint64_t *out)
{
	struct bench_net *l = r->net;

	*in += l->closed_in;
	*out += l->closed_out;
	for (int i = 0; i < r->o->subs; i++)
		if (l->c[i].fd >= 0)
			bench_proc_tcp_bytes(l->c[i].fd, in, out);
}

void
bench_net_stop(struct bench_run *r)
{
	struct bench_net *l = r->net;

	if (!l)
		return;
	/* c->net is set once bench_net_start got that far */
	for (int i = 0; l->c && i < r->o->subs && l->c[i].net; i++) {
		struct bench_conn *c = &l->c[i];

		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		reset(c);
	}
	if (l->ep >= 0)
		close(l->ep);
	free(l->c);
	free(l->priv);
	free(l->rx);
	free(l->heap);
	free(l);
	r->net = NULL;
}
