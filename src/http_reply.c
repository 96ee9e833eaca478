/* SPDX-License-Identifier: MIT */
/*
 * http_reply: how every HTTP handler answers. Each response leaves
 * through http_queue(), which adds the CORS headers and counts the body
 * bytes for the request's transport.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "cursor.h"
#include "http_reply.h"
#include "origin.h"
#include "server_ctx.h"
#include "wire_head.h"

struct http_conn *
http_conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

int
http_has_token(const char *v, const char *token)
{
	size_t n = strlen(token);

	while (v && *v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		if (!strncasecmp(v, token, n) &&
		    (!v[n] || v[n] == ',' || v[n] == ' ' || v[n] == '\t'))
			return 1;
		v = strchr(v, ',');
	}
	return 0;
}

int
http_is_get(const char *method)
{
	return !strcmp(method, MHD_HTTP_METHOD_GET) ||
	       !strcmp(method, MHD_HTTP_METHOD_HEAD);
}

void
http_add_cors(struct MHD_Connection *c, struct server *srv,
	      struct MHD_Response *r)
{
	const char *allow = srv->cfg.allow_origin, *origin;

	if (!allow || !*allow)
		return;
	MHD_add_response_header(r, "Vary", "Origin");
	origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	if (!origin || !origin_listed(origin, allow))
		return;
	MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(r, "Access-Control-Expose-Headers",
				"Retry-After");
}

enum MHD_Result
http_queue(struct MHD_Connection *c, struct http_req *req, unsigned status,
	   struct MHD_Response *r, size_t body_len)
{
	struct http_conn *hc;
	enum MHD_Result ret;

	http_add_cors(c, req->srv, r);
	if (req->close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	hc = http_conn_of(c);
	wire_head_queued(hc ? hc->wc : NULL, &req->wire_head, req->wire_exact,
			 status, r, body_len, req->via != VIA_SSE);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	STATS_ADD(&req->srv->stats, req->via, bytes_out, body_len);
	return ret;
}

enum MHD_Result
http_reply(struct MHD_Connection *c, struct http_req *req, unsigned status,
	   const char *ctype, const char *body, size_t len,
	   enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
					    mode);
	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free((void *)(uintptr_t)body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	return http_queue(c, req, status, r, len);
}

enum MHD_Result
http_reply_json(struct MHD_Connection *c, struct http_req *req,
		unsigned status, struct json_object *o)
{
	size_t len;
	const char *s = json_object_to_json_string_length(o,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	enum MHD_Result ret = http_reply(c, req, status, "application/json",
					 s, len, MHD_RESPMEM_MUST_COPY);

	json_object_put(o);
	return ret;
}

enum MHD_Result
http_reply_error(struct MHD_Connection *c, struct http_req *req,
		 unsigned status, const char *code, const char *fmt, ...)
{
	struct json_object *o, *err;
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_object_new_object();
	err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", err);
	return http_reply_json(c, req, status, o);
}

enum MHD_Result
http_reply_im_error(struct MHD_Connection *c, struct http_req *req,
		    const struct im_error *e)
{
	return http_reply_error(c, req, im_err_http_status(e->err),
				e->code ? e->code : "error", "%s",
				e->message);
}

enum MHD_Result
http_reply_busy(struct MHD_Connection *c, struct http_req *req, int n,
		const char *what)
{
	return http_reply_error(c, req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
				"%d %s: the limit; retry later", n, what);
}

enum MHD_Result
http_not_allowed(struct MHD_Connection *c, struct http_req *req,
		 const char *allow)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "method not allowed; use %s", allow);
	return http_reply_error_with(c, req, MHD_HTTP_METHOD_NOT_ALLOWED,
				     "bad_method", msg, MHD_HTTP_HEADER_ALLOW,
				     allow);
}

enum MHD_Result
http_reply_batch(struct MHD_Connection *c, struct http_req *req,
		 struct cursor *cur, size_t limit)
{
	struct server *srv = req->srv;
	struct msg **out = malloc(limit * sizeof(*out));
	struct cursor_batch b;
	char *body;
	size_t len;
	int gap;

	if (!out)
		return MHD_NO;
	/* a gap comes alone: flag it in this answer and read on */
	b = cursor_read(cur, out, limit, SIZE_MAX);
	gap = b.gap;
	if (gap)
		b = cursor_read(cur, out, limit, SIZE_MAX);
	body = msg_batch_json(out, b.n, cursor_pos(cur), gap, &len);
	for (size_t i = 0; i < b.n; i++)
		msg_unref(&out[i]);
	free(out);
	if (!body)
		return MHD_NO;
	STATS_ADD(&srv->stats, req->via, delivered, b.n);
	if (!b.n)
		STATS_ADD(&srv->stats, req->via, empty, 1);
	return http_reply(c, req, MHD_HTTP_OK, "application/json", body, len,
			  MHD_RESPMEM_MUST_FREE);
}

enum MHD_Result
http_reply_error_with(struct MHD_Connection *c, struct http_req *req,
		      unsigned status, const char *code, const char *message,
		      const char *name, const char *value)
{
	struct MHD_Response *r;
	char body[320];
	int n = snprintf(body, sizeof(body),
			 "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
			 code, message);

	r = MHD_create_response_from_buffer((size_t)n, body,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (name)
		MHD_add_response_header(r, name, value);
	return http_queue(c, req, status, r, (size_t)n);
}
