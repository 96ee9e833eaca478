/* SPDX-License-Identifier: MIT */
/*
 * http: the libmicrohttpd daemons. The daemons
 * have no listening socket (MHD_USE_NO_LISTEN_SOCKET): the listener thread
 * passes them connections with MHD_add_connection(). There are two pools
 * of them, alike but for their memory pool (libmicrohttpd 0.9.75 gives
 * every connection of a daemon the same pool, and a keep-alive request
 * makes all of it resident): the small one (--conn-memory) for
 * connections whose first head was small and had no Cookie (curl, the
 * bench, most API clients), the big one (--conn-memory-big) for the rest
 * (browsers). Each pool has --http-threads daemons (default one per
 * core), each with its own epoll
 * thread, and the listener deals a pool's connections to them in turn, so
 * HTTP uses every core (several daemons rather than one daemon's
 * MHD_OPTION_THREAD_POOL_SIZE: a pool's workers' epoll sets are not
 * reachable for the kick below). A connection stays on its daemon's
 * thread for life; long polls and SSE streams wait suspended, and any
 * thread resumes them (MHD_resume_connection() is thread-safe). HTTP
 * connections per address are counted here (--max-per-address); a
 * connection's and its requests' callbacks are http_request.c's, the
 * route table http_route.c's, the WebSocket hand-off http_upgrade.c's
 * (struct http is shared with them through http_private.h).
 *
 * libmicrohttpd 0.9.75's epoll loop calls epoll_wait() again, with its
 * full timeout, whenever one call returned a full batch of 128 events; the
 * connections it already took (including ones handed over with
 * MHD_add_connection) then wait until some later event, which can be
 * seconds away. An eventfd of ours sits in its epoll set (with a NULL
 * pointer, which the loop ignores) and http_kick() writes it: the ticker
 * does so every tick, the listener after each hand-off, which bounds such
 * a stall to one tick.
 */
#include "autoconf.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "http.h"
#include "http_keep.h"
#include "http_private.h"
#include "listener.h"
#include "log.h"
#include "server_ctx.h"

#define TAG "http"

uint32_t
http_addr_counted(const struct http *h, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	uint32_t a;

	if (!sa || sa->sa_family != AF_INET || !h->srv->cfg.max_per_address)
		return 0;
	a = sin->sin_addr.s_addr;
	if (!h->srv->cfg.limit_loopback && (ntohl(a) >> 24) == 127)
		return 0;
	return a;
}

int
http_addr_add(struct http *h, uint32_t a, int d)
{
	struct addr_count **pp = &h->addrs[(a ^ (a >> 16)) % ADDR_BUCKETS];
	struct addr_count *ac;
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	while (*pp && (*pp)->addr != a)
		pp = &(*pp)->next;
	ac = *pp;
	if (d > 0) {
		if (!ac && (ac = calloc(1, sizeof(*ac)))) {
			ac->addr = a;
			*pp = ac;
		}
		if (!ac || ac->n >= h->srv->cfg.max_per_address)
			rc = -1;
		else
			ac->n++;
	} else if (ac && !--ac->n) {
		*pp = ac->next;
		free(ac);
	}
	pthread_mutex_unlock(&h->lock);
	return rc;
}

/* The daemons per pool for --http-threads n: n, or with 0 the cores
 * online; at most HTTP_THREADS_MAX. */
static int
http_threads(int n)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (n <= 0)
		n = cores > 0 ? (int)cores : 1;
	return n < HTTP_THREADS_MAX ? n : HTTP_THREADS_MAX;
}

static struct MHD_Daemon *
start_daemon(struct http_daemon *hd, struct server *srv)
{
	return MHD_start_daemon(
		MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL_INTERNAL_THREAD |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC | MHD_USE_ERROR_LOG |
		MHD_USE_TURBO,
		0, NULL, NULL, http_request_access, hd,
		MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)srv->cfg.max_connections,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, hd->pool,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)srv->cfg.idle_timeout,
		MHD_OPTION_NOTIFY_COMPLETED, http_request_completed, hd,
		MHD_OPTION_NOTIFY_CONNECTION, http_request_connection, hd,
		MHD_OPTION_URI_LOG_CALLBACK, http_request_uri_log, hd,
		MHD_OPTION_END);
}

/* Adds the kick eventfd to d's epoll set. Returns 0 or -1. */
static int
add_kick(struct http *h, struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET,
				  .data.ptr = NULL };

	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0)
		return -1;
	return epoll_ctl(info->epoll_fd, EPOLL_CTL_ADD, h->kickfd, &ev);
}

static void
stop_daemons(struct http *h)
{
	for (int i = 0; i < 2 * h->n + 1; i++)
		if (h->dm[i].d)
			MHD_stop_daemon(h->dm[i].d);
}

struct http *
http_start(struct server *srv, struct im_error *e)
{
	struct http *h = calloc(1, sizeof(*h));

	if (!h) {
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	h->srv = srv;
	h->keep = http_keep_create();
	if (!h->keep) {
		free(h);
		im_error_set(e, IM_ENOMEM, "no_memory", "out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	h->n = http_threads(srv->cfg.http_threads);
	for (int i = 0; i < 2 * h->n + 1; i++) {
		h->dm[i].h = h;
		h->dm[i].big = i >= h->n && i < 2 * h->n;
		h->dm[i].pool = (size_t)(h->dm[i].big ?
					 srv->cfg.conn_memory_big :
					 srv->cfg.conn_memory);
		h->dm[i].d = start_daemon(&h->dm[i], srv);
		if (!h->dm[i].d) {
			stop_daemons(h);
			pthread_mutex_destroy(&h->lock);
			http_keep_destroy(&h->keep);
			free(h);
			im_error_set(e, IM_ESYS, "mhd",
				     "libmicrohttpd did not start");
			return NULL;
		}
	}
	h->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (int i = 0; h->kickfd >= 0 && i < 2 * h->n + 1; i++)
		if (add_kick(h, h->dm[i].d)) {
			LOG_WARN(TAG, "no kick eventfd: new connections may "
				 "wait for the next event after a busy loop");
			break;
		}
	LOG_INFO(TAG, "HTTP on %d thread%s per pool (--http-threads) and "
		 "one for publishers", h->n, h->n == 1 ? "" : "s");
	return h;
}

void
http_kick(struct http *h)
{
	uint64_t one = 1;

	if (h && h->kickfd >= 0 && write(h->kickfd, &one, sizeof(one)) < 0) {
		/* the counter is full: the event is pending anyway */
	}
}

void
http_tick(struct http *h, int64_t now)
{
	if (h)
		http_keep_tick(h->keep, now);
}

void
http_adopt(struct http *h, int fd, const struct sockaddr *sa,
	   socklen_t salen, int big)
{
	uint32_t a = http_addr_counted(h, sa);

	if (a && http_addr_add(h, a, 1)) {
		char ip[INET_ADDRSTRLEN];

		atomic_fetch_sub(&h->srv->open_conns, 1);
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  ip, sizeof(ip));
		LOG_INFO(TAG, "%s holds --max-per-address %d connections: "
			 "503", ip, h->srv->cfg.max_per_address);
		listener_refuse(fd, 503, "Service Unavailable", "busy",
				"too many connections from your address, "
				"retry later");
		return;
	}
	/* MHD closes fd itself when it cannot take it; the daemons of a
	 * pool take turns */
	if (MHD_add_connection(h->dm[big == LISTENER_PUBLISH ? 2 * h->n :
				     (big ? h->n : 0) +
				     (int)(h->next++ % (unsigned)h->n)].d,
			       fd, sa, salen) != MHD_YES) {
		if (a)
			http_addr_add(h, a, -1);
		atomic_fetch_sub(&h->srv->open_conns, 1);
		LOG_WARN(TAG, "connection refused by libmicrohttpd: %s",
			 strerror(errno));
	}
}

void
http_stop(struct http **hp)
{
	struct http *h = *hp;

	if (!h)
		return;
	*hp = NULL;
	stop_daemons(h);
	if (h->kickfd >= 0)
		close(h->kickfd);
	for (int i = 0; i < ADDR_BUCKETS; i++)
		while (h->addrs[i]) {
			struct addr_count *ac = h->addrs[i];

			h->addrs[i] = ac->next;
			free(ac);
		}
	pthread_mutex_destroy(&h->lock);
	http_keep_destroy(&h->keep);	/* the daemons closed every entry */
	free(h);
}
