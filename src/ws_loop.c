/* SPDX-License-Identifier: MIT */
/*
 * ws_loop: a libwebsockets context, its service thread, its queue of
 * sockets to adopt and its dirty list (see ws_loop.h).
 */
#include "autoconf.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(HAVE_LIBUV)
#include <uv.h>
#endif

#include "log.h"
#include "ws_loop.h"

#define TAG "ws"	/* only /ws asks for libuv (--ws-libuv) */

/* A socket taken from libmicrohttpd with its rebuilt upgrade head. */
struct ws_loop_item {
	int fd;
	char *head;		/* owned */
	size_t len;
};

static const lws_retry_bo_t no_validity;	/* all zero */

#if defined(HAVE_LIBUV)
struct ws_loop_uv {
	uv_loop_t loop;			/* ours (epoll), lws's foreign loop */
	uv_loop_t *self;		/* &loop, for info.foreign_loops */
	uv_async_t stop_a;		/* stops it from ws_loop_stop() */
};

static void
stop_cb(uv_async_t *a)
{
	uv_stop(a->loop);
}

/* Makes l's libuv loop (epoll) and points info at it as lws's foreign
 * loop. Returns 0, or -1 (then lws runs its own poll() loop). */
static int
evlib_init(struct ws_loop *l, struct lws_context_creation_info *info)
{
	l->uv = calloc(1, sizeof(*l->uv));
	if (!l->uv || uv_loop_init(&l->uv->loop)) {
		free(l->uv);
		l->uv = NULL;
		return -1;
	}
	l->uv->self = &l->uv->loop;
	uv_async_init(&l->uv->loop, &l->uv->stop_a, stop_cb);
	info->options |= LWS_SERVER_OPTION_LIBUV;
	info->foreign_loops = (void **)&l->uv->self;
	return 0;
}

/* Closes the loop once lws let go of it (after lws_context_destroy()):
 * the close callbacks run in a last pass of the loop. */
static void
evlib_free(struct ws_loop *l)
{
	if (!l->uv)
		return;
	uv_close((uv_handle_t *)&l->uv->stop_a, NULL);
	while (uv_run(&l->uv->loop, UV_RUN_NOWAIT))
		;
	uv_loop_close(&l->uv->loop);
	free(l->uv);
	l->uv = NULL;
}
#endif

int
ws_loop_create(struct ws_loop *l, const struct lws_protocols *protocols,
	       void *user, atomic_long *conns, ws_loop_woken_fn *woken,
	       int libuv, struct im_error *e)
{
	struct lws_context_creation_info info;

	*l = (struct ws_loop){ .user = user, .conns = conns, .woken = woken };
	pthread_mutex_init(&l->qlock, NULL);
	pthread_mutex_init(&l->dlock, NULL);
	list_init(&l->dirty);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = protocols;
	info.user = l->user;
	/* no validity timers: lws's default policy would put a timer per
	 * connection into one sorted list, a walk of it per connect
	 * (ws_alive.h); /ws has ws_alive, Engine.IO its heartbeat */
	info.retry_and_idle_policy = &no_validity;
	/* no info.extensions: permessage-deflate stays off (~100 KB each) */
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
#if defined(HAVE_LIBUV)
	/* --ws-libuv 1: epoll through libuv rather than lws's poll(), which
	 * scans every connection on every pass; without the evlib plugin,
	 * poll(). Experimental: with lws 4.1.6 writes lag under load (see
	 * doc/architecture-ws.md); libev's plugin never fires the keepalive
	 * timers, so it is not offered */
	if (libuv && !evlib_init(l, &info)) {
		l->ctx = lws_create_context(&info);
		if (!l->ctx) {
			LOG_WARN(TAG, "libwebsockets has no libuv support: "
				 "poll()");
			evlib_free(l);
			info.options &= ~(uint64_t)LWS_SERVER_OPTION_LIBUV;
			info.foreign_loops = NULL;
		}
	}
#else
	(void)libuv;
#endif
	if (!l->ctx)
		l->ctx = lws_create_context(&info);
	if (l->ctx)
		l->vh = lws_get_vhost_by_name(l->ctx, "default");
	if (!l->vh) {
		im_error_set(e, IM_ESYS, "lws", "libwebsockets did not start");
		return -1;
	}
	return 0;
}

static void *
run(void *arg)
{
	struct ws_loop *l = arg;

#if defined(HAVE_LIBUV)
	if (l->uv) {
		uv_run(&l->uv->loop, UV_RUN_DEFAULT);	/* until stopped */
		return NULL;
	}
#endif
	while (!atomic_load(&l->stop))
		if (lws_service(l->ctx, 0) < 0)
			break;
	return NULL;
}

int
ws_loop_run(struct ws_loop *l, struct im_error *e)
{
	if (pthread_create(&l->thread, NULL, run, l)) {
		im_error_set(e, IM_ESYS, "lws", "libwebsockets did not start");
		return -1;
	}
	return 0;
}

void
ws_loop_adopt(struct ws_loop *l, int fd, const char *head, size_t len)
{
	int one = 1;
	char *copy = malloc(len ? len : 1);

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	pthread_mutex_lock(&l->qlock);
	if (copy && l->len == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct ws_loop_item *nq = realloc(l->q, ncap * sizeof(*nq));

		if (nq) {
			l->q = nq;
			l->cap = ncap;
		}
	}
	if (!copy || l->len == l->cap) {
		pthread_mutex_unlock(&l->qlock);
		free(copy);
		close(fd);
		atomic_fetch_sub(l->conns, 1);
		return;
	}
	memcpy(copy, head, len);
	l->q[l->len].fd = fd;
	l->q[l->len].head = copy;
	l->q[l->len].len = len;
	l->len++;
	pthread_mutex_unlock(&l->qlock);
	lws_cancel_service(l->ctx);
}

void
ws_loop_wake(struct ws_loop *l, struct list *node)
{
	int wake = 0;

	pthread_mutex_lock(&l->dlock);
	if (!list_linked(node)) {
		wake = list_empty(&l->dirty);
		list_add(&l->dirty, node);
	}
	/* under dlock so ws_loop_destroy() cannot destroy the context
	 * meanwhile */
	if (wake && !l->dead)
		lws_cancel_service(l->ctx);
	pthread_mutex_unlock(&l->dlock);
}

void
ws_loop_undirty(struct ws_loop *l, struct list *node)
{
	pthread_mutex_lock(&l->dlock);
	list_unlink(node);
	pthread_mutex_unlock(&l->dlock);
}

size_t
ws_loop_drain(struct ws_loop *l)
{
	struct ws_loop_item *q;
	struct list *pos, *n;
	size_t len, refused = 0;

	pthread_mutex_lock(&l->qlock);
	q = l->q;
	len = l->len;
	l->q = NULL;
	l->len = l->cap = 0;
	pthread_mutex_unlock(&l->qlock);
	for (size_t i = 0; i < len; i++) {
		/* lws copies the head into its own buffer list */
		struct lws *wsi = lws_adopt_socket_vhost_readbuf(l->vh,
			q[i].fd, q[i].head, q[i].len);

		free(q[i].head);
		if (!wsi)
			refused++;	/* lws closed the fd */
		else
			lws_set_opaque_user_data(wsi, l->user);
	}
	free(q);
	if (refused)
		atomic_fetch_sub(l->conns, (long)refused);
	pthread_mutex_lock(&l->dlock);
	list_for_each_safe(pos, n, &l->dirty) {
		list_unlink(pos);
		l->woken(pos);
	}
	pthread_mutex_unlock(&l->dlock);
	return refused;
}

void
ws_loop_stop(struct ws_loop *l)
{
	atomic_store(&l->stop, 1);
#if defined(HAVE_LIBUV)
	if (l->uv)
		uv_async_send(&l->uv->stop_a);
#endif
	lws_cancel_service(l->ctx);
	pthread_join(l->thread, NULL);
}

void
ws_loop_destroy(struct ws_loop *l)
{
	pthread_mutex_lock(&l->dlock);
	l->dead = 1;
	pthread_mutex_unlock(&l->dlock);
	if (l->ctx)
		lws_context_destroy(l->ctx);
#if defined(HAVE_LIBUV)
	evlib_free(l);	/* after lws_context_destroy() */
#endif
	for (size_t i = 0; i < l->len; i++) {
		close(l->q[i].fd);
		free(l->q[i].head);
	}
	free(l->q);
	pthread_mutex_destroy(&l->qlock);
	pthread_mutex_destroy(&l->dlock);
}
