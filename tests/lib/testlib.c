/* SPDX-License-Identifier: MIT */
/*
 * testlib: in-process server, the server fixture and HTTP helpers for the
 * integration tests.
 */
#include "autoconf.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

void
t_config(struct config *cfg)
{
	const char *www = getenv("IMLAB_WWW");

	config_defaults(cfg);
	cfg->port = 0;
	cfg->bind = "127.0.0.1";
	cfg->www = www ? www : "www";
	cfg->log_level = getenv("IMLAB_LOG") ? getenv("IMLAB_LOG") : "warn";
	/* the tests pin --history's count; test_store covers the floor */
	cfg->history_seconds = 0;
}

struct server *
t_server_start(const struct config *cfg)
{
	struct config def;
	struct server *s = NULL;
	struct im_error e = { 0 };

	if (!cfg) {
		t_config(&def);
		cfg = &def;
	}
	ck_assert_msg(server_start(cfg, &s, &e) == IM_OK,
		      "server_start: %s", e.message);
	return s;
}

struct server *t_srv;
uint16_t t_port;
static t_tune_fn *tune_fn;

void
t_restart(const struct config *cfg)
{
	struct config def;

	server_stop(&t_srv);
	if (!cfg) {
		t_config(&def);
		if (tune_fn)
			tune_fn(&def);
		cfg = &def;
	}
	t_srv = t_server_start(cfg);
	t_port = server_port(t_srv);
}

static void
setup(void)
{
	t_restart(NULL);
}

static void
teardown(void)
{
	server_stop(&t_srv);
	t_port = 0;
}

void
t_fixture(TCase *tc, t_tune_fn *tune)
{
	tune_fn = tune;
	tcase_add_checked_fixture(tc, setup, teardown);
}

struct buf {
	char *p;
	size_t len;
};

static size_t
collect(char *data, size_t sz, size_t nm, void *ud)
{
	struct buf *b = ud;
	size_t n = sz * nm;
	char *np = realloc(b->p, b->len + n + 1);

	if (!np)
		return 0;
	memcpy(np + b->len, data, n);
	b->p = np;
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

int
t_http(uint16_t port, const char *method, const char *path,
       const char *body, const char *extra_header, struct t_resp *r)
{
	struct buf b = { NULL, 0 }, h = { NULL, 0 };
	struct curl_slist *hdrs = NULL;
	char url[1024];
	CURL *c = curl_easy_init();
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	if (!c)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 70L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	if (body) {
		hdrs = curl_slist_append(hdrs,
					 "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (extra_header)
		hdrs = curl_slist_append(hdrs, extra_header);
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (method && strcmp(method, "GET") && strcmp(method, "POST"))
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (method && !strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	r->body = b.p ? b.p : strdup("");
	r->len = b.len;
	r->headers = h.p ? h.p : strdup("");
	return rc == CURLE_OK ? 0 : -1;
}

void
t_resp_free(struct t_resp *r)
{
	free(r->body);
	free(r->headers);
	memset(r, 0, sizeof(*r));
}

const char *
t_header(const struct t_resp *r, const char *name)
{
	static char val[1024];
	size_t nlen = strlen(name);
	const char *p = r->headers;

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t llen = eol ? (size_t)(eol - p) : strlen(p);

		if (llen > nlen && !strncasecmp(p, name, nlen) &&
		    p[nlen] == ':') {
			const char *v = p + nlen + 1;

			while (*v == ' ')
				v++;
			snprintf(val, sizeof(val), "%.*s",
				 (int)(llen - (size_t)(v - p)), v);
			return val;
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

int
t_connect(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

char *
t_raw(uint16_t port, const char *request, int timeout_ms)
{
	struct buf b = { NULL, 0 };
	int fd = t_connect(port);

	if (fd < 0)
		return NULL;
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) < 0) {
		close(fd);
		return NULL;
	}
	for (struct timespec t0, t1;
	     clock_gettime(CLOCK_MONOTONIC, &t0) == 0;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char tmp[4096];
		ssize_t n;

		if (poll(&p, 1, timeout_ms) <= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		timeout_ms -= (int)((t1.tv_sec - t0.tv_sec) * 1000 +
				    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (timeout_ms <= 0)
			timeout_ms = 1;	/* read what is there, then stop */
		n = recv(fd, tmp, sizeof(tmp), 0);
		if (n <= 0)
			break;
		collect(tmp, 1, (size_t)n, &b);
	}
	close(fd);
	return b.p ? b.p : strdup("");
}
