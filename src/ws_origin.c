/* SPDX-License-Identifier: MIT */
/*
 * ws_origin: the Origin check of WebSocket upgrades, the one defence a
 * browser gives against other sites opening connections with its user's
 * cookies. Non-browser clients send no Origin and are let in; a browser
 * page may connect when it was served by the host it connects to (the
 * Host header, ports compared with the scheme's default filled in) or
 * when its origin is listed in --allow-origin.
 */
#include "autoconf.h"

#include <string.h>
#include <strings.h>

#include "log.h"
#include "origin.h"
#include "ws_origin.h"

/* Compares the host[:port] of an origin with a Host header value. */
static int
same_host(const char *origin, const char *host)
{
	const char *o = strstr(origin, "://"), *oport, *hport;
	size_t olen, hlen;
	int https;

	if (!o)
		return 0;
	https = (size_t)(o - origin) == 5 && !strncasecmp(origin, "https", 5);
	o += 3;
	if (strchr(o, '/'))
		return 0;	/* an origin has no path */
	oport = strrchr(o, ':');
	hport = strrchr(host, ':');
	/* IPv6 literals: the last colon is inside the brackets */
	if (oport && strchr(oport, ']'))
		oport = NULL;
	if (hport && strchr(hport, ']'))
		hport = NULL;
	olen = oport ? (size_t)(oport - o) : strlen(o);
	hlen = hport ? (size_t)(hport - host) : strlen(host);
	if (olen != hlen || !olen || strncasecmp(o, host, olen))
		return 0;
	if (oport && hport)
		return !strcmp(oport, hport);
	if (oport)	/* Host without a port: the origin's must be default */
		return !strcmp(oport, https ? ":443" : ":80");
	if (hport)
		return !strcmp(hport, https ? ":443" : ":80");
	return 1;
}

int
ws_origin_match(const char *origin, const char *host, const char *allow)
{
	if (!origin)
		return 1;	/* not a browser: nothing to protect */
	if (origin_listed(origin, allow))
		return 1;
	return host && *host && same_host(origin, host);
}

int
ws_origin_ok(struct lws *wsi, const char *allow)
{
	char origin[256], host[256];
	int olen = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN);

	if (olen <= 0)
		return 1;	/* not a browser: nothing to protect */
	if (olen >= (int)sizeof(origin) ||
	    lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) < 0)
		return 0;
	if (lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		host[0] = '\0';
	return ws_origin_match(origin, host, allow);
}
