/* SPDX-License-Identifier: MIT */
/*
 * static: the browser client's files. A URL is mapped below the client
 * directory only after every segment is checked (no "..", no hidden
 * files), and the resolved path must still lie inside the directory, so
 * neither encoded dots nor symlinks lead out. Files are sent with
 * MHD_create_response_from_fd (sendfile); revalidation uses an ETag made
 * of size and mtime, with Cache-Control: no-cache so edits show at once.
 *
 * Third-party browser modules come from npm, never from the repository:
 * /vendor/PKG/... is served from the node_modules directory beside the
 * client directory (the source tree's, or the installed copy's), for the
 * packages named in vendor_pkgs only.
 *
 * The tutorial and the other user pages: /doc/NAME.md (NAME of
 * [A-Za-z0-9_-], nothing else below /doc/) is served as Markdown from the
 * doc directory beside the client directory (the source tree's doc/) or
 * else from the installed documentation directory; the page renders it.
 * /doc/ itself redirects to the page's tutorial view.
 *
 * For the Learn view's keep-alive lesson, any file asked for with the
 * query close=1 is answered with "Connection: close": the server closes
 * the TCP connection after it, so the browser's next request needs a new
 * one (a page cannot send Connection: close itself).
 */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "server_ctx.h"
#include "static.h"

#define TAG "static"

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".map", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".jpg", "image/jpeg" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".md", "text/markdown; charset=utf-8" },
	{ ".woff2", "font/woff2" },
	{ ".wasm", "application/wasm" },
};

const char *
static_content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

/* npm packages the browser client may load through /vendor/ */
static const char *const vendor_pkgs[] = { "uplot", "socket.io-client",
					      "marked" };

/* If url is /vendor/PKG/... for an allowed PKG, writes the directory that
 * holds node_modules into root and returns the path below it. */
static const char *
vendor_path(const struct server *srv, const char *url, char *root,
	    size_t rootlen)
{
	char tmp[PATH_MAX];

	if (strncmp(url, "/vendor/", 8))
		return NULL;
	for (size_t i = 0; i < sizeof(vendor_pkgs) / sizeof(*vendor_pkgs);
	     i++) {
		size_t n = strlen(vendor_pkgs[i]);

		if (!strncmp(url + 8, vendor_pkgs[i], n) && url[8 + n] == '/') {
			snprintf(tmp, sizeof(tmp), "%s/../node_modules",
				 srv->www);
			if (!realpath(tmp, root) || strlen(root) >= rootlen)
				return NULL;
			return url + 7;		/* "/PKG/..." */
		}
	}
	return NULL;
}

/* If url is /doc/NAME.md with NAME 1-64 of [A-Za-z0-9_-], writes the
 * directory to serve it from into root (the source tree's doc/ beside the
 * client directory if it holds the file, else the installed docdir) and
 * returns "/NAME.md"; NULL for any other url. */
static const char *
doc_path(const struct server *srv, const char *url, char *root,
	 size_t rootlen)
{
	const char *name = url + 5;
	char tmp[PATH_MAX];
	struct stat sb;
	size_t n;

	if (strncmp(url, "/doc/", 5))
		return NULL;
	n = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		   "0123456789_-");
	if (n < 1 || n > 64 || strcmp(name + n, ".md"))
		return NULL;
	snprintf(tmp, sizeof(tmp), "%s/../doc/%s", srv->www, name);
	if (!stat(tmp, &sb) && S_ISREG(sb.st_mode)) {
		snprintf(tmp, sizeof(tmp), "%s/../doc", srv->www);
		if (realpath(tmp, root) && strlen(root) < rootlen)
			return url + 4;
	}
	if (!realpath(IMLAB_DOCDIR, root) || strlen(root) >= rootlen)
		return NULL;
	return url + 4;		/* "/NAME.md" */
}

/* 1 if the query asks for close=1 (Connection: close on the answer). */
static int
close_asked(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
						    "close");

	return v && !strcmp(v, "1");
}

/* 1 if every segment of url is a plain name (no "", ".", "..", hidden). */
static int
url_safe(const char *url)
{
	const char *p = url;

	if (*p != '/' || strchr(url, '\\'))
		return 0;
	while (*p == '/') {
		const char *seg = ++p;

		while (*p && *p != '/')
			p++;
		if (p == seg)
			return *p == '\0';	/* trailing slash only */
		if (*seg == '.')
			return 0;		/* ".", "..", hidden files */
	}
	return *p == '\0';
}

enum MHD_Result
static_serve(struct MHD_Connection *c, struct http_req *req)
{
	const char *url = req->url;
	struct server *srv = req->srv;
	char path[PATH_MAX], real[PATH_MAX], etag[64], vroot[PATH_MAX];
	const char *root = srv->www, *vurl;
	size_t rootlen, ulen = strlen(url);
	struct MHD_Response *r;
	const char *inm;
	struct stat sb;
	int fd, n;

	if (!url_safe(url))
		return http_reply_error(c, req, MHD_HTTP_FORBIDDEN,
					"forbidden", "path not allowed");
	if (!strcmp(url, "/doc") || !strcmp(url, "/doc/")) {
		r = MHD_create_response_from_buffer(0, NULL,
						    MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION,
					"/#doc/lesson");
		return http_queue(c, req, MHD_HTTP_FOUND, r, 0);
	}
	vurl = vendor_path(srv, url, vroot, sizeof(vroot));
	if (!vurl && !strncmp(url, "/doc/", 5)) {
		vurl = doc_path(srv, url, vroot, sizeof(vroot));
		if (!vurl)
			return http_reply_error(c, req, MHD_HTTP_NOT_FOUND,
						"not_found",
						"only /doc/NAME.md is served");
	}
	if (vurl) {
		root = vroot;
		url = vurl;
		ulen = strlen(url);
	}
	rootlen = strlen(root);
	n = snprintf(path, sizeof(path), "%s%s%s", root, url,
		     url[ulen - 1] == '/' ? "index.html" : "");
	if (n < 0 || (size_t)n >= sizeof(path))
		return http_reply_error(c, req, MHD_HTTP_URI_TOO_LONG,
					"too_long", "path too long");
	if (!realpath(path, real))
		return http_reply_error(c, req, MHD_HTTP_NOT_FOUND,
					"not_found", "no such file");
	if (strncmp(real, root, rootlen) || real[rootlen] != '/') {
		LOG_WARN(TAG, "refused %s: resolves outside %s", url, root);
		return http_reply_error(c, req, MHD_HTTP_FORBIDDEN,
					"forbidden", "path not allowed");
	}
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		if (fd >= 0)
			close(fd);
		return http_reply_error(c, req, MHD_HTTP_NOT_FOUND,
					"not_found", "no such file");
	}
	if (S_ISDIR(sb.st_mode)) {
		char loc[PATH_MAX];

		close(fd);
		snprintf(loc, sizeof(loc), "%s/", url);
		r = MHD_create_response_from_buffer(0, NULL,
						    MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, loc);
		return http_queue(c, req, MHD_HTTP_MOVED_PERMANENTLY, r, 0);
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return http_reply_error(c, req, MHD_HTTP_NOT_FOUND,
					"not_found", "no such file");
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"",
		 (unsigned long long)sb.st_size,
		 (unsigned long long)sb.st_mtim.tv_sec * 1000000000ULL +
		 (unsigned long long)sb.st_mtim.tv_nsec);
	inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					  MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm && strstr(inm, etag)) {
		close(fd);
		r = MHD_create_response_from_buffer(0, NULL,
						    MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
					"no-cache");
		return http_queue(c, req, MHD_HTTP_NOT_MODIFIED, r, 0);
	}
	r = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				static_content_type(real));
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (close_asked(c))
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	return http_queue(c, req, MHD_HTTP_OK, r, (size_t)sb.st_size);
}
