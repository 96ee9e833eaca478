/* SPDX-License-Identifier: MIT */
/*
 * ws_binary: binary frames from a /ws client. A `send` op may announce
 * "binary":N (1-WS_BINARY_MAX); the next N messages of the connection are
 * then binary frames, and each {"_placeholder":true,"num":i} in its data
 * is replaced by attachment i in the JSON form {"_binary":"<base64>"}
 * (binary.h) before the send runs as if the client had written that.
 * The other way, for a connection whose hello asked for "binary":true, a
 * message holding binary values is sent as the text frame
 * {"op":"msg","msg":E,"binary":N}, E with each {"_binary":"<base64>"}
 * replaced by {"_placeholder":true,"num":i}, then its N values as binary
 * frames, in order (struct ws_btx). Runs on the lws service thread only,
 * like the rest of ws_proto.
 */
#ifndef IMLAB_WS_BINARY_H
#define IMLAB_WS_BINARY_H

#include <stddef.h>

#include <json-c/json.h>

#include "err.h"

#define WS_BINARY_MAX 16	/* binary frames one send may announce */
#define WS_BINARY_OUT_MAX 64	/* binary frames one message is split in;
				 * one with more values stays JSON */

/* A send waiting for its binary frames (opaque). */
struct ws_binary;

/* Reads the "binary" member of the send op o: returns 0 when absent, N
 * (1..WS_BINARY_MAX) when a send announces N frames, or -1 with e filled
 * (bad_binary) when it is anything else. */
int ws_binary_count(struct json_object *o, struct im_error *e);

/* Starts waiting for n frames for the send op text[0..len) (copied, with
 * its "binary" member to be dropped) whose serialised ref is ref (NULL:
 * none; copied), the frames holding max bytes in all. Returns the new
 * waiting send, or NULL when out of memory. */
struct ws_binary *ws_binary_start(const char *text, size_t len,
				  const char *ref, int n, size_t max);

/* The serialised ref of the waiting send (borrowed from b), or NULL. */
const char *ws_binary_ref(const struct ws_binary *b);

/* Adds one binary frame buf[0..len) (borrowed, copied) to b. Returns 1
 * when it was the last one announced, 0 when more are due, or -1 with e
 * filled (too_large over the limit, no_memory). */
int ws_binary_add(struct ws_binary *b, const void *buf, size_t len,
		  struct im_error *e);

/* Builds the send op as the client would have written it without binary
 * frames: each placeholder replaced by {"_binary":"<base64>"}, "binary"
 * removed, serialised by json-c (so the data is not byte for byte the
 * client's: numbers, escapes and spacing are json-c's). Returns a new
 * malloc'd NUL-terminated text (the caller frees it) and sets *len, or
 * NULL with e filled: bad_binary for a placeholder whose num is not one
 * of the frames, a frame no placeholder names, or JSON the op text no
 * longer parses as; no_memory. */
char *ws_binary_build(struct ws_binary *b, size_t *len, struct im_error *e);

/* Frees b and its frames; sets *bp to NULL (NULL: a no-op). */
void ws_binary_free(struct ws_binary **bp);

/* A message split into frames for a binary-frame client (opaque). */
struct ws_btx;

/* Splits the envelope json[0..len) (borrowed) when it holds binary values
 * written {"_binary":"..."}: returns 1 and *out, the new split (its first
 * frame the text frame, each frame with pre bytes of headroom for
 * lws_write); 0 when there is nothing to split (no binary value, more
 * than WS_BINARY_OUT_MAX, or one whose key the sender escaped: the
 * message goes as it is); -1 when out of memory. */
int ws_binary_split(const char *json, size_t len, size_t pre,
		    struct ws_btx **out);

/* The next frame of t: sets *buf (pre bytes of headroom before it, which
 * lws_write() may use), *len and *binary (0 for the first, text frame).
 * Returns 0, or -1 when every frame was taken. */
int ws_binary_next(struct ws_btx *t, unsigned char **buf, size_t *len,
		   int *binary);

/* Frees t and its frames; sets *tp to NULL (NULL: a no-op). */
void ws_btx_free(struct ws_btx **tp);

#endif
