/* SPDX-License-Identifier: MIT */
/*
 * http_keep: the registry of HTTP connections and their head deadlines
 * (see http_keep.h). The list is guarded by one mutex, taken to add,
 * remove and scan; a deadline is an atomic the connection's own
 * libmicrohttpd thread sets without it. Because libmicrohttpd calls
 * NOTIFY_CLOSED (http_keep_del) before it closes the descriptor, a
 * descriptor the scan shuts down under the lock is still that
 * connection's, never a reused number.
 */
#include "autoconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "http_keep.h"
#include "log.h"

#define TAG "http"
#define SCAN_MS 1000		/* deadlines are checked once a second */

struct http_keep {
	pthread_mutex_t lock;	/* guards conns */
	struct list conns;
	int64_t last_scan;	/* the ticker's only */
};

struct http_keep *
http_keep_create(void)
{
	struct http_keep *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	pthread_mutex_init(&k->lock, NULL);
	list_init(&k->conns);
	return k;
}

void
http_keep_destroy(struct http_keep **kp)
{
	struct http_keep *k = *kp;

	if (!k)
		return;
	*kp = NULL;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

void
http_keep_add(struct http_keep *k, struct http_keep_conn *kc, int fd)
{
	kc->fd = fd;
	atomic_store(&kc->due, 0);
	pthread_mutex_lock(&k->lock);
	list_add(&k->conns, &kc->node);
	pthread_mutex_unlock(&k->lock);
}

void
http_keep_del(struct http_keep *k, struct http_keep_conn *kc)
{
	pthread_mutex_lock(&k->lock);
	list_unlink(&kc->node);
	pthread_mutex_unlock(&k->lock);
}

void
http_keep_arm(struct http_keep_conn *kc, int64_t due)
{
	atomic_store_explicit(&kc->due, due, memory_order_relaxed);
}

size_t
http_keep_tick(struct http_keep *k, int64_t now)
{
	struct list *pos, *n;
	size_t cut = 0;

	if (now - k->last_scan < SCAN_MS)
		return 0;
	k->last_scan = now;
	pthread_mutex_lock(&k->lock);
	list_for_each_safe(pos, n, &k->conns) {
		struct http_keep_conn *kc =
			list_entry(pos, struct http_keep_conn, node);
		int64_t due = atomic_load_explicit(&kc->due,
						   memory_order_relaxed);

		if (!due || now < due)
			continue;
		atomic_store(&kc->due, 0);
		/* libmicrohttpd reads the end of the stream and closes */
		shutdown(kc->fd, SHUT_RDWR);
		cut++;
	}
	pthread_mutex_unlock(&k->lock);
	if (cut)
		LOG_INFO(TAG, "%zu keep-alive connection%s closed: the next "
			 "request head not complete in time (--idle-timeout "
			 "for its request line, --head-timeout for the rest)",
			 cut, cut == 1 ? "" : "s");
	return cut;
}
