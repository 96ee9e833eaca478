/* SPDX-License-Identifier: MIT */
/*
 * listener: accept + peek + hand-off on one port. The listening socket uses
 * TCP_DEFER_ACCEPT so most connections arrive with their first bytes; the
 * rest wait in a ring of pending slots (edge-triggered epoll, since a peek
 * does not consume) until their whole first request head has arrived or
 * their deadline (--head-timeout, for the whole head, not per byte)
 * passes. Pending slots are in arrival order, so the oldest is closed
 * first when the ring is full (a cheap slowloris defence).
 *
 * The first head is checked here, where one well-formed JSON answer is
 * still possible (libmicrohttpd 0.9.75 answers these itself with HTML,
 * some with two header blocks): over --max-head bytes is a 431 (a request
 * line alone that long a 414), a version other than HTTP/1.x a 505, two
 * Content-Length headers or one with Transfer-Encoding a 400. A head that
 * is small and carries no Cookie goes to the small-pool daemon, any other
 * to the big-pool one (http.c). Out of file descriptors, a reserve
 * descriptor is given up for a moment to accept and answer 503.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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
	int reserve;		/* spare descriptor for EMFILE, -1: none */
	char *peek;		/* cfg.max_head + 1 bytes */
};

#define REFUSE_REPLY \
	"HTTP/1.1 %d %s\r\n" \
	"Content-Type: application/json\r\n" \
	"Cache-Control: no-store\r\n" \
	"%s" \
	"Connection: close\r\n" \
	"Content-Length: %d\r\n\r\n%s"

void
listener_refuse(int fd, int status, const char *reason, const char *code,
		const char *message)
{
	char buf[4096], body[512];
	int n, blen;

	/* read what arrived so the close does not turn into a reset */
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	blen = snprintf(body, sizeof(body),
			"{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}\n",
			code, message);
	n = snprintf(buf, sizeof(buf), REFUSE_REPLY, status, reason,
		     status == 503 ? "Retry-After: 5\r\n" : "", blen, body);
	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* the peer learns by the close */
	}
	shutdown(fd, SHUT_WR);
	close(fd);
}

/* Answers 503 on a connection over the limit and closes it. */
static void
refuse_busy(int fd)
{
	listener_refuse(fd, 503, "Service Unavailable", "busy",
			"connection limit reached, retry later");
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

/* Returns the length of the head in buf[0..n) (through its blank line),
 * or 0 if it has not ended yet. */
static size_t
head_len(const char *buf, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < n && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Returns 1 if the header line [p, end) is named name. */
static int
is_header(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	return (size_t)(end - p) > n && p[n] == ':' && !strncasecmp(p, name, n);
}

enum verdict { V_SMALL, V_BIG, V_REFUSED };

/* Checks the complete head h[0..n) on fd: refuses it (and closes fd) or
 * says which daemon it goes to. */
static enum verdict
judge(const struct listener *l, int fd, const char *h, size_t n)
{
	const char *p = h, *end = h + n, *eol, *sp;
	int cl = 0, te = 0, cookie = 0;

	eol = memchr(p, '\n', n);
	sp = eol ? memrchr(p, ' ', (size_t)(eol - p)) : NULL;
	if (!sp || end - sp < 9 || strncmp(sp + 1, "HTTP/1.", 7) ||
	    (sp[8] != '0' && sp[8] != '1')) {
		listener_refuse(fd, 505, "HTTP Version Not Supported",
				"bad_version", "only HTTP/1.0 and HTTP/1.1 "
				"are served");
		return V_REFUSED;
	}
	for (p = eol + 1; p < end; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		if (is_header(p, eol, "Content-Length"))
			cl++;
		else if (is_header(p, eol, "Transfer-Encoding"))
			te++;
		else if (is_header(p, eol, "Cookie"))
			cookie = 1;
	}
	if (cl > 1 || (cl && te) || te > 1) {
		listener_refuse(fd, 400, "Bad Request", "bad_request",
				"one Content-Length or one Transfer-Encoding "
				"at most, not both");
		return V_REFUSED;
	}
	if (cookie || n > (size_t)l->cfg.small_head)
		return V_BIG;
	return V_SMALL;
}

/* Peeks at p's head and hands it off once it is complete. */
static void
try_route(struct listener *l, struct pending *p)
{
	size_t max = (size_t)l->cfg.max_head;
	ssize_t n = recv(p->fd, l->peek, max + 1, MSG_PEEK);
	enum verdict v;
	size_t hl;
	int fd;

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		close_slot(l, p);
		return;
	}
	hl = head_len(l->peek, (size_t)n);
	if (!hl && (size_t)n <= max)
		return;		/* more to come */
	fd = p->fd;
	epoll_ctl(l->efd, EPOLL_CTL_DEL, fd, NULL);
	p->fd = -1;
	if (!hl) {
		if (!memchr(l->peek, '\n', (size_t)n))
			listener_refuse(fd, 414, "URI Too Long", "uri_too_long",
					"the request line is over the "
					"--max-head limit");
		else
			listener_refuse(fd, 431,
					"Request Header Fields Too Large",
					"head_too_large", "the request head "
					"is over the --max-head limit");
		return;
	}
	v = judge(l, fd, l->peek, hl);
	if (v == V_REFUSED)
		return;
	atomic_fetch_add(l->cfg.open_conns, 1);
	l->cfg.to_http(l->cfg.cls, fd, (struct sockaddr *)&p->sa, p->salen,
		       v == V_BIG, l->peek, hl);
}

/* Out of descriptors: gives up the reserve for a moment to accept one
 * connection and answer it 503. Returns 1 if one was answered. */
static int
refuse_emfile(struct listener *l)
{
	int fd;

	if (l->reserve < 0)
		return 0;
	close(l->reserve);
	l->reserve = -1;
	fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0)
		listener_refuse(fd, 503, "Service Unavailable", "no_fds",
				"the server is out of file descriptors, "
				"retry later");
	l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0;
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
			int err = errno;

			if (err == EMFILE || err == ENFILE ||
			    err == ENOBUFS || err == ENOMEM) {
				if (now - l->last_emfile_log > 5000) {
					LOG_WARN(TAG, "accept: %s; answering "
						 "503 and pausing accepts",
						 strerror(err));
					l->last_emfile_log = now;
				}
				if ((err == EMFILE || err == ENFILE) &&
				    refuse_emfile(l))
					continue;
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
			LOG_DEBUG(TAG, "fd %d sent no whole head in time",
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
	if (l->reserve >= 0)
		close(l->reserve);
	free(l->peek);
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
				     sizeof(*l->pend))) ||
	    !(l->peek = malloc((size_t)cfg->max_head + 1))) {
		if (l)
			free(l->pend);
		free(l);
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	l->cfg = *cfg;
	l->lfd = l->efd = l->stopfd = -1;
	l->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
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
