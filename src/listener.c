/* SPDX-License-Identifier: MIT */
/*
 * listener: accept + peek + hand-off on one port. The listening socket uses
 * TCP_DEFER_ACCEPT so most connections arrive with their first bytes; the
 * rest wait in a ring of pending slots (edge-triggered epoll, since a peek
 * does not consume) until their request line says where they go or their
 * deadline passes. Pending slots are in arrival order, so the oldest is
 * closed first when the ring is full (a cheap slowloris defence).
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "msg.h"

#define TAG "listener"
#define BACKOFF_MS 100

struct pending {
	int fd;			/* -1: free */
	uint32_t seq;		/* guards against stale epoll events */
	int64_t deadline;	/* monotonic ms */
	struct sockaddr_storage sa;
	socklen_t salen;
};

struct listener {
	struct listener_config cfg;
	int lfd, efd, stopfd;
	uint16_t port;
	pthread_t thread;
	struct pending *pend;	/* ring of cfg.max_pending slots */
	size_t head, count;	/* ring: oldest at head, count used */
	uint32_t seq;
	int64_t paused_until;	/* EMFILE back-off, 0 if accepting */
	int64_t last_emfile_log;
};

#define BUSY_BODY "{\"error\":{\"code\":\"busy\",\"message\":" \
	"\"connection limit reached, retry later\"}}\n"
#define BUSY_REPLY \
	"HTTP/1.1 503 Service Unavailable\r\n" \
	"Content-Type: application/json\r\n" \
	"Retry-After: 5\r\n" \
	"Connection: close\r\n" \
	"Content-Length: %zu\r\n\r\n%s"

/* Answers 503 on a connection over the limit and closes it. */
static void
refuse_busy(int fd)
{
	char buf[4096];
	int n;

	/* read what arrived so the close does not turn into a reset */
	while (recv(fd, buf + 512, sizeof(buf) - 512, MSG_DONTWAIT) > 0)
		;
	n = snprintf(buf, sizeof(buf), BUSY_REPLY, sizeof(BUSY_BODY) - 1,
		     BUSY_BODY);
	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* the peer learns by the close */
	}
	shutdown(fd, SHUT_WR);
	close(fd);
}

static void
close_slot(struct listener *l, struct pending *p)
{
	epoll_ctl(l->efd, EPOLL_CTL_DEL, p->fd, NULL);
	close(p->fd);
	p->fd = -1;
}

/* Returns the ring index of the i-th slot after the head. */
static size_t
slot(const struct listener *l, size_t i)
{
	assert(l->cfg.max_pending > 0);
	return (l->head + i) % (size_t)l->cfg.max_pending;
}

/* Drops freed slots from the head of the ring. */
static void
ring_trim(struct listener *l)
{
	while (l->count && l->pend[l->head].fd < 0) {
		l->head = slot(l, 1);
		l->count--;
	}
}

/* 1: websocket, 0: http, -1: need more bytes */
static int
classify(const char *buf, ssize_t n)
{
	static const char ws[] = "GET /ws";
	ssize_t k = n < 7 ? n : 7;

	if (memcmp(buf, ws, (size_t)k))
		return 0;
	if (n < 8)
		return -1;
	return buf[7] == ' ' || buf[7] == '?';
}

/* Peeks at p's first bytes and hands it off if they are enough. */
static void
try_route(struct listener *l, struct pending *p)
{
	char buf[8];
	ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_PEEK);
	int kind, fd;

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		close_slot(l, p);
		return;
	}
	kind = classify(buf, n);
	if (kind < 0)
		return;
	fd = p->fd;
	epoll_ctl(l->efd, EPOLL_CTL_DEL, fd, NULL);
	p->fd = -1;
	atomic_fetch_add(l->cfg.open_conns, 1);
	(kind ? l->cfg.to_ws : l->cfg.to_http)(l->cfg.cls, fd,
		(struct sockaddr *)&p->sa, p->salen);
}

static void
accept_some(struct listener *l, int64_t now)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		struct epoll_event ev;
		struct pending *p;
		int fd = accept4(l->lfd, (struct sockaddr *)&sa, &salen,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				if (now - l->last_emfile_log > 5000) {
					LOG_WARN(TAG, "accept: %s; pausing "
						 "accepts", strerror(errno));
					l->last_emfile_log = now;
				}
				l->paused_until = now + BACKOFF_MS;
				epoll_ctl(l->efd, EPOLL_CTL_DEL, l->lfd, NULL);
			}
			return;
		}
		if (atomic_load(l->cfg.open_conns) >=
		    l->cfg.max_connections) {
			refuse_busy(fd);
			continue;
		}
		if (l->count == (size_t)l->cfg.max_pending) {
			/* full: the oldest waiting head goes */
			close_slot(l, &l->pend[l->head]);
			ring_trim(l);
		}
		p = &l->pend[slot(l, l->count)];
		l->count++;
		p->fd = fd;
		p->seq = ++l->seq;
		p->deadline = now + l->cfg.head_timeout_ms;
		memcpy(&p->sa, &sa, salen);
		p->salen = salen;
		ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
		ev.data.u64 = ((uint64_t)p->seq << 32) |
			      (uint64_t)(p - l->pend);
		if (epoll_ctl(l->efd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			p->fd = -1;
			ring_trim(l);
			continue;
		}
		/* with TCP_DEFER_ACCEPT the head is usually here already */
		try_route(l, p);
		ring_trim(l);
	}
}

static void
expire(struct listener *l, int64_t now)
{
	for (size_t i = 0; i < l->count; i++) {
		struct pending *p = &l->pend[slot(l, i)];

		if (p->fd >= 0 && p->deadline <= now) {
			LOG_DEBUG(TAG, "fd %d sent no request line in time",
				  p->fd);
			close_slot(l, p);
		}
	}
	ring_trim(l);
}

#define LISTEN_TOKEN UINT64_MAX
#define STOP_TOKEN (UINT64_MAX - 1)

static void *
run(void *arg)
{
	struct listener *l = arg;
	struct epoll_event evs[64];

	for (;;) {
		int64_t now = im_mono_ms(), wait = 1000;
		int n;

		if (l->count) {
			int64_t d = l->pend[l->head].deadline - now;

			wait = d < 0 ? 0 : (d < wait ? d : wait);
		}
		if (l->paused_until) {
			if (now >= l->paused_until) {
				struct epoll_event ev = {
					.events = EPOLLIN,
					.data.u64 = LISTEN_TOKEN };

				l->paused_until = 0;
				epoll_ctl(l->efd, EPOLL_CTL_ADD, l->lfd, &ev);
			} else if (l->paused_until - now < wait) {
				wait = l->paused_until - now;
			}
		}
		n = epoll_wait(l->efd, evs, 64, (int)wait);
		if (n < 0 && errno != EINTR) {
			LOG_ERROR(TAG, "epoll_wait: %s", strerror(errno));
			break;
		}
		now = im_mono_ms();
		for (int i = 0; i < n; i++) {
			uint64_t tok = evs[i].data.u64;
			struct pending *p;

			if (tok == STOP_TOKEN)
				return NULL;
			if (tok == LISTEN_TOKEN) {
				accept_some(l, now);
				continue;
			}
			p = &l->pend[(uint32_t)tok];
			if (p->fd >= 0 && p->seq == (uint32_t)(tok >> 32))
				try_route(l, p);
		}
		ring_trim(l);
		expire(l, now);
	}
	return NULL;
}

/* Closes every descriptor l holds (-1: none) and frees it. */
static void
destroy(struct listener *l)
{
	for (int i = 0; i < l->cfg.max_pending; i++)
		if (l->pend[i].fd >= 0)
			close(l->pend[i].fd);
	if (l->lfd >= 0)
		close(l->lfd);
	if (l->efd >= 0)
		close(l->efd);
	if (l->stopfd >= 0)
		close(l->stopfd);
	free(l->pend);
	free(l);
}

struct listener *
listener_start(const struct listener_config *cfg, struct im_error *e)
{
	struct listener *l = calloc(1, sizeof(*l));
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	struct epoll_event ev = { .events = EPOLLIN };
	int one = 1, defer;

	assert(cfg->max_pending > 0);	/* see slot() */
	if (!l || !(l->pend = calloc((size_t)cfg->max_pending,
				     sizeof(*l->pend)))) {
		free(l);
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	l->cfg = *cfg;
	l->lfd = l->efd = l->stopfd = -1;
	for (int i = 0; i < cfg->max_pending; i++)
		l->pend[i].fd = -1;
	if (inet_pton(AF_INET, cfg->bind, &sin.sin_addr) != 1) {
		im_error_set(e, IM_EINVAL, "bad_bind",
			     "--bind %s is not an IPv4 address", cfg->bind);
		goto fail;
	}
	sin.sin_port = htons((uint16_t)cfg->port);
	l->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	if (l->lfd < 0)
		goto sysfail;
	setsockopt(l->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	defer = (cfg->head_timeout_ms + 999) / 1000;
	setsockopt(l->lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer,
		   sizeof(defer));
	if (bind(l->lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(l->lfd, 4096) ||
	    getsockname(l->lfd, (struct sockaddr *)&sin, &slen))
		goto sysfail;
	l->port = ntohs(sin.sin_port);
	l->efd = epoll_create1(EPOLL_CLOEXEC);
	l->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->efd < 0 || l->stopfd < 0)
		goto sysfail;
	ev.data.u64 = LISTEN_TOKEN;
	if (epoll_ctl(l->efd, EPOLL_CTL_ADD, l->lfd, &ev))
		goto sysfail;
	ev.data.u64 = STOP_TOKEN;
	if (epoll_ctl(l->efd, EPOLL_CTL_ADD, l->stopfd, &ev))
		goto sysfail;
	if (pthread_create(&l->thread, NULL, run, l)) {
		errno = EAGAIN;
		goto sysfail;
	}
	return l;
sysfail:
	im_error_set(e, IM_ESYS, "listen", "cannot listen on %s:%d: %s",
		     cfg->bind, cfg->port, strerror(errno));
fail:
	destroy(l);
	return NULL;
}

uint16_t
listener_port(const struct listener *l)
{
	return l->port;
}

void
listener_stop(struct listener **lp)
{
	struct listener *l = *lp;
	uint64_t one = 1;

	if (!l)
		return;
	*lp = NULL;
	if (write(l->stopfd, &one, sizeof(one)) < 0)
		LOG_ERROR(TAG, "stop: %s", strerror(errno));
	pthread_join(l->thread, NULL);
	destroy(l);
}
