/* SPDX-License-Identifier: MIT */
/*
 * http_guard: the first checks of every HTTP request and WebSocket
 * upgrade, against other web sites acting through a visitor's browser.
 *
 *  - Host (DNS rebinding: a page of evil.example whose name now resolves
 *    to the server's address sends Host: evil.example and is same-origin
 *    with itself): only the names the server is reachable as are served,
 *    the rest get 421 bad_host. Those are localhost, 127.0.0.1, [::1],
 *    the --bind address, the machine's hostname and the --allow-host
 *    list. With --bind 0.0.0.0 the server cannot know its names: then any
 *    Host is served unless --allow-host is given (a warning at startup).
 *  - Origin: a POST, PUT, PATCH or DELETE sent with an Origin header must
 *    come from the server's own origin or one in --allow-origin (the
 *    WebSocket rule, ws_origin.h), else 403 foreign_origin.
 *  - Content-Type: a request body must be declared application/json
 *    (parameters allowed), else 415 bad_content_type. A plain HTML form
 *    can send only form and text/plain bodies, so a cross-site write then
 *    needs a CORS preflight, which only --allow-origin passes.
 */
#include "autoconf.h"

#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "http_guard.h"
#include "http_reply.h"
#include "log.h"
#include "origin.h"
#include "server_ctx.h"
#include "ws_origin.h"

#define TAG "http"

static const char *
header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Copies the name of a Host value (no port; brackets of an IPv6 literal
 * kept; no trailing dot) into out. Returns 0, or -1 if it does not fit. */
static int
host_name(const char *host, char *out, size_t cap)
{
	const char *end;
	size_t n;

	if (*host == '[') {
		end = strchr(host, ']');
		end = end ? end + 1 : host + strlen(host);
	} else {
		end = strchr(host, ':');
		if (!end)
			end = host + strlen(host);
	}
	n = (size_t)(end - host);
	if (n && host[n - 1] == '.')
		n--;
	if (n >= cap)
		return -1;
	memcpy(out, host, n);
	out[n] = '\0';
	return 0;
}

static int
any_bind(const struct config *cfg)
{
	return !cfg->bind || !strcmp(cfg->bind, "0.0.0.0");
}

int
http_guard_host_ok(const struct config *cfg, const char *host)
{
	char name[256], me[256];
	const char *allow = cfg->allow_host ? cfg->allow_host : "";

	if (!host)
		return 1;	/* HTTP/1.0 without Host: not a browser */
	if (host_name(host, name, sizeof(name)))
		return 0;
	if (!strcasecmp(name, "localhost") || !strcmp(name, "127.0.0.1") ||
	    !strcmp(name, "[::1]"))
		return 1;
	if (origin_listed(name, allow))
		return 1;
	if (any_bind(cfg))
		return !*allow;
	if (!strcmp(name, cfg->bind))
		return 1;
	if (!gethostname(me, sizeof(me))) {
		me[sizeof(me) - 1] = '\0';
		if (*me && !strcasecmp(name, me))
			return 1;
	}
	return 0;
}

void
http_guard_warn(const struct config *cfg)
{
	if (any_bind(cfg) && !(cfg->allow_host && *cfg->allow_host))
		LOG_WARN(TAG, "--bind %s without --allow-host: requests "
			 "naming any Host are served, which lets a DNS-"
			 "rebinding page reach the server; list the names "
			 "it is reachable as with --allow-host",
			 cfg->bind ? cfg->bind : "0.0.0.0");
}

static int
state_changing(const char *m)
{
	return !strcmp(m, MHD_HTTP_METHOD_POST) ||
	       !strcmp(m, MHD_HTTP_METHOD_PUT) ||
	       !strcmp(m, MHD_HTTP_METHOD_PATCH) ||
	       !strcmp(m, MHD_HTTP_METHOD_DELETE);
}

/* Returns 1 if the request on c announces a body. */
static int
has_body(struct MHD_Connection *c)
{
	const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return 1;
	if (!cl)
		return 0;
	while (*cl == ' ' || *cl == '0')
		cl++;
	return *cl != '\0';
}

/* Returns 1 if the Content-Type value t is application/json. */
static int
is_json(const char *t)
{
	size_t n = sizeof("application/json") - 1;

	if (!t)
		return 0;
	while (*t == ' ' || *t == '\t')
		t++;
	if (strncasecmp(t, "application/json", n))
		return 0;
	t += n;
	return !*t || *t == ';' || *t == ' ' || *t == '\t';
}

int
http_guard_check(struct MHD_Connection *c, struct http_req *req,
		 enum MHD_Result *ret)
{
	const struct config *cfg = &req->srv->cfg;
	const char *host = header(c, MHD_HTTP_HEADER_HOST);
	const char *origin = header(c, MHD_HTTP_HEADER_ORIGIN);
	const char *type;

	if (!http_guard_host_ok(cfg, host)) {
		LOG_WARN(TAG, "%s %.100s refused: Host %.100s is not a name "
			 "this server is reachable as; add it with "
			 "--allow-host", req->method, req->url, host);
		*ret = http_reply_error(c, req, 421, "bad_host", "Host %.100s "
					"is not a name of this server; it "
					"allows others with --allow-host",
					host);
		return 1;
	}
	if (!state_changing(req->method))
		return 0;
	if (!ws_origin_match(origin, host, cfg->allow_origin)) {
		LOG_WARN(TAG, "%s %.100s refused: Origin %.100s is not the "
			 "Host %.100s and not in --allow-origin; add it with "
			 "--allow-origin %.100s", req->method, req->url,
			 origin, host ? host : "(none)", origin);
		*ret = http_reply_error(c, req, MHD_HTTP_FORBIDDEN,
					"foreign_origin", "Origin %.100s does "
					"not match Host %.100s; the server "
					"allows others with --allow-origin",
					origin, host ? host : "(none)");
		return 1;
	}
	type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
	/* Engine.IO's POSTs carry its own payload format, not JSON */
	if (has_body(c) && !is_json(type) && req->via != VIA_SIO) {
		*ret = http_reply_error(c, req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
					"bad_content_type", "a request body "
					"must be sent with Content-Type: "
					"application/json, not %.100s",
					type ? type : "none");
		return 1;
	}
	return 0;
}
