/* SPDX-License-Identifier: MIT */
/*
 * api_admin: the chaos switches under /api/admin/ (cut, stall, restart),
 * off unless the server runs with --admin, loopback clients only unless
 * --admin-remote; restart also needs --admin-restart.
 */
#ifndef IMLAB_API_ADMIN_H
#define IMLAB_API_ADMIN_H

#include <microhttpd.h>

#include "http_reply.h"

/* Answers a request under /api/admin/ (req->url, req->body). */
enum MHD_Result api_admin(struct MHD_Connection *c, struct http_req *req);

#endif
