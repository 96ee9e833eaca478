/* SPDX-License-Identifier: MIT */
/*
 * wire_http: the HTTP side's hooks into the wire meters (wire.h). A
 * libmicrohttpd connection gets its meter when it starts and charges it
 * when it closes; each request is begun (transport, the cid query
 * parameter) and ended around its handler. For the records of
 * /api/clients/{cid}/wire the request head is the one the listener read
 * (exact) on a connection's first request, else rebuilt from what
 * libmicrohttpd parsed; the response head is rebuilt from the response's
 * headers (libmicrohttpd adds its own Date, Content-Length or
 * Transfer-Encoding). The WebSocket upgrade's record has the 101 that
 * libwebsockets writes, with Sec-WebSocket-Accept derived here the same
 * way (SHA-1 of the key and the RFC 6455 GUID, base64).
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "http_reply.h"
#include "names.h"
#include "server_ctx.h"
#include "wire.h"
#include "wire_head.h"
#include "wire_http.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/* Returns req's cid query parameter if it is a valid cid, else NULL. */
static const char *
cid_of(struct MHD_Connection *c)
{
	const char *cid = MHD_lookup_connection_value(c,
			MHD_GET_ARGUMENT_KIND, "cid");
	struct im_error e;

	if (!cid || names_check(NAME_CID, cid, strlen(cid), &e) != IM_OK)
		return NULL;
	return cid;
}

void
wire_http_open(struct server *srv, struct MHD_Connection *c,
	       struct http_conn *hc)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (hc && ci)
		hc->wc = wire_conn_open(srv->wire, ci->connect_fd);
}

void
wire_http_close(struct http_conn *hc)
{
	if (hc)
		wire_conn_close(&hc->wc);
}

void
wire_http_begin(struct MHD_Connection *c, struct http_req *req,
		const char *version)
{
	struct http_conn *hc = http_conn_of(c);
	const char *cid = cid_of(c);
	char *raw;

	if (!hc || !hc->wc)
		return;
	wire_req_begin(hc->wc, req->via, cid);
	raw = wire_take_head(hc->wc);
	if (!cid) {
		free(raw);
		return;
	}
	req->wire_exact = raw != NULL;
	req->wire_head = raw ? raw : wire_head_request(c, req->method,
						     req->url, version);
}

void
wire_http_end(struct MHD_Connection *c, struct http_req *req)
{
	struct http_conn *hc = http_conn_of(c);

	free(req->wire_head);
	req->wire_head = NULL;
	if (hc)
		wire_req_end(hc->wc);
}

void
wire_http_upgrade(struct MHD_Connection *c, struct http_req *req,
		  const char *version, const char *key, int imlab, int fd)
{
	struct http_conn *hc = http_conn_of(c);
	unsigned char sha[20];
	char in[128], acc[64], *resp, *head;
	size_t n;

	if (!hc || !hc->wc)
		return;
	head = req->wire_head;
	req->wire_head = NULL;
	if (!head) {	/* no cid on the URL: it may come with the hello */
		head = wire_take_head(hc->wc);
		req->wire_exact = head != NULL;
		if (!head)
			head = wire_head_request(c, req->method, req->url,
					       version);
	}
	n = (size_t)snprintf(in, sizeof(in), "%.60s%s", key, WS_GUID);
	lws_SHA1((const unsigned char *)in, n, sha);
	lws_b64_encode_string((const char *)sha, 20, acc, sizeof(acc));
	if (asprintf(&resp, "HTTP/1.1 101 Switching Protocols\r\n"
		     "Upgrade: WebSocket\r\nConnection: Upgrade\r\n"
		     "Sec-WebSocket-Accept: %s\r\n%s\r\n", acc,
		     imlab ? "Sec-WebSocket-Protocol: imlab\r\n" : "") < 0)
		resp = NULL;
	wire_record(hc->wc, head, resp, req->wire_exact);
	free(resp);
	free(head);
	wire_conn_handoff(hc->wc, fd);
	hc->wc = NULL;
}
