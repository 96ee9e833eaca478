/* SPDX-License-Identifier: MIT */
/* tp_stub: placeholder until the HTTP transports land (issue 3). */
#include "autoconf.h"

#include "tp.h"

enum MHD_Result
tp_poll_handle(struct MHD_Connection *c, struct http_req *req)
{
	return http_reply_error(c, req, 501, "not_implemented",
				"this transport is not built yet");
}

enum MHD_Result
tp_longpoll_handle(struct MHD_Connection *c, struct http_req *req)
{
	return tp_poll_handle(c, req);
}

enum MHD_Result
tp_sse_handle(struct MHD_Connection *c, struct http_req *req)
{
	return tp_poll_handle(c, req);
}

enum MHD_Result
tp_resumed(struct MHD_Connection *c, struct http_req *req)
{
	return tp_poll_handle(c, req);
}
