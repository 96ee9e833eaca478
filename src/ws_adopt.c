/* SPDX-License-Identifier: MIT */
/*
 * ws_adopt: the queue of sockets waiting for a libwebsockets service
 * thread (see ws_adopt.h).
 */
#include "autoconf.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ws_adopt.h"

/* A socket taken from libmicrohttpd with its rebuilt upgrade head. */
struct ws_adopt_item {
	int fd;
	char *head;		/* owned */
	size_t len;
};

void
ws_adopt_init(struct ws_adopt *a)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
}

int
ws_adopt_push(struct ws_adopt *a, int fd, const char *head, size_t len)
{
	int one = 1;
	char *copy = malloc(len ? len : 1);

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	pthread_mutex_lock(&a->lock);
	if (copy && a->len == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 16;
		struct ws_adopt_item *nq = realloc(a->q, ncap * sizeof(*nq));

		if (nq) {
			a->q = nq;
			a->cap = ncap;
		}
	}
	if (!copy || a->len == a->cap) {
		pthread_mutex_unlock(&a->lock);
		free(copy);
		close(fd);
		return -1;
	}
	memcpy(copy, head, len);
	a->q[a->len].fd = fd;
	a->q[a->len].head = copy;
	a->q[a->len].len = len;
	a->len++;
	pthread_mutex_unlock(&a->lock);
	return 0;
}

size_t
ws_adopt_drain(struct ws_adopt *a, struct lws_vhost *vh, void *opaque)
{
	struct ws_adopt_item *q;
	size_t n, refused = 0;

	pthread_mutex_lock(&a->lock);
	q = a->q;
	n = a->len;
	a->q = NULL;
	a->len = a->cap = 0;
	pthread_mutex_unlock(&a->lock);
	for (size_t i = 0; i < n; i++) {
		/* lws copies the head into its own buffer list */
		struct lws *wsi = lws_adopt_socket_vhost_readbuf(vh,
			q[i].fd, q[i].head, q[i].len);

		free(q[i].head);
		if (!wsi)
			refused++;	/* lws closed the fd */
		else
			lws_set_opaque_user_data(wsi, opaque);
	}
	free(q);
	return refused;
}

void
ws_adopt_free(struct ws_adopt *a)
{
	for (size_t i = 0; i < a->len; i++) {
		close(a->q[i].fd);
		free(a->q[i].head);
	}
	free(a->q);
	a->q = NULL;
	a->len = a->cap = 0;
	pthread_mutex_destroy(&a->lock);
}
