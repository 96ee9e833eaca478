/* SPDX-License-Identifier: MIT */
/*
 * wsclient: a small RFC 6455 client for the tests, written on plain
 * sockets rather than on libwebsockets' client so the tests control every
 * byte (fragmentation, oversize messages, Origin headers, close codes)
 * and can drive a thousand connections from one thread with poll(). It
 * masks what it sends, reassembles fragmented messages, answers pings, and
 * checks the server's Sec-WebSocket-Accept (SHA-1 and base64 come from
 * libwebsockets' helpers).
 */
#ifndef IMLAB_WSCLIENT_H
#define IMLAB_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#define T_WS_TEXT 0x1
#define T_WS_BINARY 0x2
#define T_WS_CLOSE 0x8
#define T_WS_PING 0x9
#define T_WS_PONG 0xa

struct t_ws {
	int fd;
	unsigned char *buf;	/* received bytes not parsed yet */
	size_t len, cap;
	char *msg;		/* a fragmented message being reassembled */
	size_t mlen, mcap;
	int closed;		/* a close frame arrived or the peer left */
	unsigned close_code;	/* from the close frame, 0 if none */
	int msg_op;		/* opcode of the message being reassembled */
	int binary;		/* 1: the last message t_ws_next() returned
				 * came in binary frames */
};

/* Connects to 127.0.0.1:port and upgrades GET /ws; extra holds more
 * request header lines, each ending in "\r\n" (NULL: none). Returns the
 * HTTP status of the answer (101 when c is open), or -1 when the
 * connection failed or closed without an answer (c is closed then). */
int t_ws_connect(struct t_ws *c, uint16_t port, const char *extra,
		 int timeout_ms);

/* The same for the request target path (e.g. "/socket.io/?EIO=4&..."). */
int t_ws_connect_path(struct t_ws *c, uint16_t port, const char *path,
		      const char *extra, int timeout_ms);

/* Sends one masked frame. Returns 0 or -1. */
int t_ws_send_frame(struct t_ws *c, int opcode, int fin, const void *p,
		    size_t len);

/* Sends text as one text frame; the printf form formats it first.
 * Return 0 or -1. */
int t_ws_send(struct t_ws *c, const char *text);
int t_ws_sendf(struct t_ws *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reads whatever the socket holds now without blocking. Returns 0, or -1
 * when the peer closed. */
int t_ws_fill(struct t_ws *c);

/* Takes the next complete message from what was read, answering pings on
 * the way. Returns 1 with *out a malloc'd NUL-terminated copy (the caller
 * frees it) and *len its length, 0 when no whole message is buffered, -1
 * when the connection is closed (close_code says why, if it was said). */
int t_ws_next(struct t_ws *c, char **out, size_t *len);

/* t_ws_next(), waiting up to timeout_ms for the socket. Same returns. */
int t_ws_recv(struct t_ws *c, int timeout_ms, char **out, size_t *len);

/* Reads and drops messages until the connection closes, waiting up to
 * timeout_ms for each read. Returns the close code (0: closed without a
 * close frame), or -1 if the connection was still open at the timeout. */
int t_ws_closed(struct t_ws *c, int timeout_ms);

/* Waits up to timeout_ms for a message whose op is op, dropping others.
 * Returns it (malloc'd; the caller frees it) or NULL. */
char *t_ws_wait_op(struct t_ws *c, const char *op, int timeout_ms);

/* Sends a close frame (1000) and closes the socket; c may be half-open. */
void t_ws_close(struct t_ws *c);

/* Closes the socket without a close frame (a vanished peer). */
void t_ws_drop(struct t_ws *c);

#endif
