/* SPDX-License-Identifier: MIT */
/*
 * wsclient: RFC 6455 framing over a blocking socket, read with
 * MSG_DONTWAIT and poll() so one thread can serve many connections.
 */
#include "autoconf.h"

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "testlib.h"
#include "wsclient.h"

static int
reserve(unsigned char **p, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 4096;
	unsigned char *np;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	np = realloc(*p, ncap);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

static int
send_all(int fd, const void *p, size_t len)
{
	const char *s = p;

	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int
t_ws_connect_path(struct t_ws *c, uint16_t port, const char *path,
		  const char *extra, int timeout_ms)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char raw[16], sha[20];
	char key[32], accept[64], want[64], req[2048], cat[128];
	const char *end, *a;
	int status;

	memset(c, 0, sizeof(*c));
	c->fd = t_connect(port);
	if (c->fd < 0)
		return -1;
	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		memset(raw, 7, sizeof(raw));
	lws_b64_encode_string((const char *)raw, sizeof(raw), key, sizeof(key));
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
		 "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
		 "%s\r\n", path, port, key, extra ? extra : "");
	if (send_all(c->fd, req, strlen(req)))
		goto fail;
	/* read the answer's head; what follows it stays in the buffer */
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t n;

		if (reserve(&c->buf, &c->cap, c->len + 4097))
			goto fail;
		c->buf[c->len] = '\0';
		end = strstr((const char *)c->buf, "\r\n\r\n");
		if (end)
			break;
		if (poll(&p, 1, timeout_ms) <= 0)
			goto fail;
		n = recv(c->fd, c->buf + c->len, 4096, 0);
		if (n <= 0)
			goto fail;
		c->len += (size_t)n;
	}
	if (sscanf((const char *)c->buf, "HTTP/1.%*d %d", &status) != 1)
		goto fail;
	if (status != 101) {
		t_ws_drop(c);
		return status;
	}
	snprintf(cat, sizeof(cat), "%s%s", key, guid);
	lws_SHA1((const unsigned char *)cat, strlen(cat), sha);
	lws_b64_encode_string((const char *)sha, sizeof(sha), want,
			      sizeof(want));
	a = strcasestr((const char *)c->buf, "\r\nSec-WebSocket-Accept:");
	if (!a || sscanf(a + 23, " %63s", accept) != 1 || strcmp(accept, want))
		goto fail;
	end += 4;
	c->len -= (size_t)(end - (const char *)c->buf);
	memmove(c->buf, end, c->len);
	return 101;
fail:
	t_ws_drop(c);
	return -1;
}

int
t_ws_connect(struct t_ws *c, uint16_t port, const char *extra,
	     int timeout_ms)
{
	return t_ws_connect_path(c, port, "/ws", extra, timeout_ms);
}

int
t_ws_send_frame(struct t_ws *c, int opcode, int fin, const void *p,
		size_t len)
{
	unsigned char head[14], mask[4], *f;
	size_t h = 0;
	int rc;

	if (c->fd < 0)
		return -1;
	head[h++] = (unsigned char)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (len < 126) {
		head[h++] = (unsigned char)(0x80 | len);
	} else if (len < 65536) {
		head[h++] = 0x80 | 126;
		head[h++] = (unsigned char)(len >> 8);
		head[h++] = (unsigned char)len;
	} else {
		head[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			head[h++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	if (getrandom(mask, sizeof(mask), 0) != sizeof(mask))
		memcpy(mask, "\x12\x34\x56\x78", 4);
	memcpy(head + h, mask, 4);
	h += 4;
	f = malloc(h + len + 1);
	if (!f)
		return -1;
	memcpy(f, head, h);
	for (size_t i = 0; i < len; i++)
		f[h + i] = ((const unsigned char *)p)[i] ^ mask[i & 3];
	rc = send_all(c->fd, f, h + len);
	free(f);
	return rc;
}

int
t_ws_send(struct t_ws *c, const char *text)
{
	return t_ws_send_frame(c, T_WS_TEXT, 1, text, strlen(text));
}

int
t_ws_sendf(struct t_ws *c, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return t_ws_send_frame(c, T_WS_TEXT, 1, buf, (size_t)n);
}

int
t_ws_fill(struct t_ws *c)
{
	for (;;) {
		ssize_t n;

		if (c->fd < 0)
			return -1;
		if (reserve(&c->buf, &c->cap, c->len + 16384))
			return -1;
		n = recv(c->fd, c->buf + c->len, c->cap - c->len,
			 MSG_DONTWAIT);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0)
			c->closed = 1;
		return n == 0 ? -1 : 0;
	}
}

int
t_ws_next(struct t_ws *c, char **out, size_t *len)
{
	for (;;) {
		unsigned char *b = c->buf;
		size_t h = 2, plen;
		int fin, op;

		if (c->len < 2)
			return c->closed ? -1 : 0;
		fin = b[0] & 0x80;
		op = b[0] & 0x0f;
		plen = b[1] & 0x7f;
		if (b[1] & 0x80)
			return -1;	/* servers must not mask */
		if (plen == 126) {
			if (c->len < 4)
				return 0;
			plen = (size_t)b[2] << 8 | b[3];
			h = 4;
		} else if (plen == 127) {
			if (c->len < 10)
				return 0;
			plen = 0;
			for (int i = 0; i < 8; i++)
				plen = plen << 8 | b[2 + i];
			h = 10;
		}
		if (c->len < h + plen)
			return c->closed ? -1 : 0;
		if (op == T_WS_PING) {
			t_ws_send_frame(c, T_WS_PONG, 1, b + h, plen);
		} else if (op == T_WS_CLOSE) {
			c->closed = 1;
			if (plen >= 2)
				c->close_code = (unsigned)b[h] << 8 | b[h + 1];
			c->len = 0;
			return -1;
		} else if (op == 0 || op == T_WS_TEXT || op == T_WS_BINARY) {
			if (op)
				c->msg_op = op;
			if (c->mlen + plen + 1 > c->mcap) {
				char *nm = realloc(c->msg, c->mlen + plen + 1);

				if (!nm)
					return -1;
				c->msg = nm;
				c->mcap = c->mlen + plen + 1;
			}
			memcpy(c->msg + c->mlen, b + h, plen);
			c->mlen += plen;
		}
		c->len -= h + plen;
		memmove(c->buf, c->buf + h + plen, c->len);
		if (fin && (op == 0 || op == T_WS_TEXT || op == T_WS_BINARY)) {
			c->msg[c->mlen] = '\0';
			c->binary = c->msg_op == T_WS_BINARY;
			*out = c->msg;
			*len = c->mlen;
			c->msg = NULL;
			c->mlen = c->mcap = 0;
			return 1;
		}
	}
}

int
t_ws_recv(struct t_ws *c, int timeout_ms, char **out, size_t *len)
{
	int64_t deadline = im_mono_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int64_t left;
		int rc = t_ws_next(c, out, len);

		if (rc)
			return rc;
		left = deadline - im_mono_ms();
		if (left <= 0 || c->fd < 0)
			return 0;
		if (poll(&p, 1, (int)left) > 0 && t_ws_fill(c) < 0)
			c->closed = 1;
	}
}

char *
t_ws_wait_op(struct t_ws *c, const char *op, int timeout_ms)
{
	int64_t deadline = im_mono_ms() + timeout_ms;
	char want[64];
	size_t wlen;

	wlen = (size_t)snprintf(want, sizeof(want), "{\"op\":\"%s\"", op);
	for (;;) {
		int64_t left = deadline - im_mono_ms();
		char *m;
		size_t len;

		if (left <= 0 || t_ws_recv(c, (int)left, &m, &len) != 1)
			return NULL;
		if (len >= wlen && !memcmp(m, want, wlen))
			return m;
		free(m);
	}
}

void
t_ws_drop(struct t_ws *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	free(c->msg);
	c->buf = NULL;
	c->msg = NULL;
	c->len = c->cap = c->mlen = c->mcap = 0;
}

void
t_ws_close(struct t_ws *c)
{
	static const unsigned char bye[2] = { 0x03, 0xe8 };	/* 1000 */

	if (c->fd >= 0 && !c->closed)
		t_ws_send_frame(c, T_WS_CLOSE, 1, bye, sizeof(bye));
	t_ws_drop(c);
}

int
t_ws_closed(struct t_ws *c, int timeout_ms)
{
	char *m;
	size_t n;
	int rc;

	while ((rc = t_ws_recv(c, timeout_ms, &m, &n)) == 1)
		free(m);
	return rc == -1 ? (int)c->close_code : -1;
}
