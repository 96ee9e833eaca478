/* SPDX-License-Identifier: MIT */
/*
 * ws: libwebsockets context, service thread and socket adoption.
 * libwebsockets is single-threaded: other threads only push onto the
 * adoption queue and call lws_cancel_service(); the service thread drains
 * the queue in LWS_CALLBACK_EVENT_WAIT_CANCELLED (delivered to every
 * protocol, so it is handled for protocol 0 only).
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "log.h"
#include "server.h"
#include "ws.h"

#define TAG "ws"

_Static_assert(LWS_PRE <= MSG_WS_PRE, "msg.h headroom too small for lws");

struct ws {
	struct server *srv;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	lws_retry_bo_t retry;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t qlock;		/* guards the adoption queue */
	int *q;
	size_t qlen, qcap;
};

struct per_session_data__chat {
	int unused;
};

static void
drain_queue(struct ws *w)
{
	int *fds;
	size_t n;

	pthread_mutex_lock(&w->qlock);
	fds = w->q;
	n = w->qlen;
	w->q = NULL;
	w->qlen = w->qcap = 0;
	pthread_mutex_unlock(&w->qlock);
	for (size_t i = 0; i < n; i++) {
		struct lws *wsi = lws_adopt_socket_vhost(w->vh, fds[i]);

		if (!wsi) {
			/* lws closed the fd */
			atomic_fetch_sub(&w->srv->open_conns, 1);
			LOG_WARN(TAG, "lws could not adopt a connection");
			continue;
		}
		lws_set_opaque_user_data(wsi, w);
	}
	free(fds);
}

static int
callback_chat(struct lws *wsi, enum lws_callback_reasons reason, void *user,
	      void *in, size_t len)
{
	struct ws *w = lws_context_user(lws_get_context(wsi));

	(void)user;
	(void)in;
	(void)len;
	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (w)
			drain_queue(w);
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
	{ "imlab", callback_chat, sizeof(struct per_session_data__chat),
	  4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void *
run(void *arg)
{
	struct ws *w = arg;

	while (!atomic_load(&w->stop))
		if (lws_service(w->ctx, 0) < 0)
			break;
	return NULL;
}

struct ws *
ws_start(struct server *srv, struct im_error *e)
{
	struct lws_context_creation_info info;
	struct ws *w = calloc(1, sizeof(*w));

	if (!w) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	w->srv = srv;
	pthread_mutex_init(&w->qlock, NULL);
	w->retry.secs_since_valid_ping = (uint16_t)srv->cfg.ws_ping;
	w->retry.secs_since_valid_hangup = (uint16_t)srv->cfg.ws_hangup;
	lws_set_log_level(log_lws_mask(), log_lws);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = protocols;
	info.user = w;
	info.retry_and_idle_policy = &w->retry;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	w->ctx = lws_create_context(&info);
	if (!w->ctx) {
		pthread_mutex_destroy(&w->qlock);
		free(w);
		im_error_set(e, IM_ESYS, "lws", "libwebsockets did not start");
		return NULL;
	}
	w->vh = lws_get_vhost_by_name(w->ctx, "default");
	if (!w->vh || pthread_create(&w->thread, NULL, run, w)) {
		lws_context_destroy(w->ctx);
		pthread_mutex_destroy(&w->qlock);
		free(w);
		im_error_set(e, IM_ESYS, "lws", "libwebsockets did not start");
		return NULL;
	}
	return w;
}

void
ws_adopt(struct ws *w, int fd, const struct sockaddr *sa, socklen_t salen)
{
	(void)sa;
	(void)salen;
	pthread_mutex_lock(&w->qlock);
	if (w->qlen == w->qcap) {
		size_t ncap = w->qcap ? w->qcap * 2 : 16;
		int *nq = realloc(w->q, ncap * sizeof(*nq));

		if (!nq) {
			pthread_mutex_unlock(&w->qlock);
			close(fd);
			atomic_fetch_sub(&w->srv->open_conns, 1);
			return;
		}
		w->q = nq;
		w->qcap = ncap;
	}
	w->q[w->qlen++] = fd;
	pthread_mutex_unlock(&w->qlock);
	lws_cancel_service(w->ctx);
}

void
ws_stop(struct ws **wp)
{
	struct ws *w = *wp;

	if (!w)
		return;
	*wp = NULL;
	atomic_store(&w->stop, 1);
	lws_cancel_service(w->ctx);
	pthread_join(w->thread, NULL);
	lws_context_destroy(w->ctx);
	for (size_t i = 0; i < w->qlen; i++)
		close(w->q[i]);
	free(w->q);
	pthread_mutex_destroy(&w->qlock);
	free(w);
}
