/* SPDX-License-Identifier: MIT */
/*
 * static: serves the browser client from the www directory: content types,
 * ETag/If-None-Match revalidation, index.html for directories, and no way
 * out of the directory (.. segments, symlinks leading outside).
 */
#ifndef IMLAB_STATIC_H
#define IMLAB_STATIC_H

#include <microhttpd.h>

#include "http_reply.h"

/* Answers GET/HEAD req->url from the client directory (404 JSON when
 * absent, 403 when it would leave the directory). */
enum MHD_Result static_serve(struct MHD_Connection *c, struct http_req *req);

/* Returns the content type for path's extension (a static string). */
const char *static_content_type(const char *path);

#endif
