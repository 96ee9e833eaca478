/* SPDX-License-Identifier: MIT */
/*
 * eio: the Engine.IO v4 session layer, between its two transports
 * (eio_poll.c: HTTP long-polling on libmicrohttpd; eio_ws.c: WebSocket on
 * libwebsockets) and the layer above (sio.c, or the echo of /engine.io/).
 * It owns the session table (by sid), each session's small bounded queue
 * of outgoing packets, the heartbeat (the server pings every
 * pingInterval; a ping unanswered for pingTimeout closes the session:
 * deadlines computed from the handshake and the last pong, checked on
 * every request and by the server's ticker), the upgrade from polling to
 * WebSocket (2probe, 3probe, 6 noop to the held GET, 5) and the close.
 *
 * Locks: one mutex, eio.lock, guards the table and every session's
 * transport state and queue; each session's app lock serialises the calls
 * into the layer above, which may publish (rooms lock) and then queue
 * packets. Order: app lock -> rooms -> eio.lock -> tp.lock / the
 * WebSocket dirty-list lock. eio_wake() is what a room notify may call.
 */
#ifndef IMLAB_EIO_H
#define IMLAB_EIO_H

#include <stddef.h>
#include <stdint.h>

#include "eio_packet.h"

struct eio;
struct eio_session;
struct msg;
struct server;
struct tp_wait;

#define EIO_SID_LEN 20		/* characters of a session id */

/* The Engine.IO error codes and their messages (the protocol's). */
enum eio_error {
	EIO_ERR_TRANSPORT = 0,	/* Transport unknown */
	EIO_ERR_SID,		/* Session ID unknown */
	EIO_ERR_METHOD,		/* Bad handshake method */
	EIO_ERR_REQUEST,	/* Bad request */
	EIO_ERR_FORBIDDEN,	/* Forbidden */
	EIO_ERR_VERSION,	/* Unsupported protocol version */
};

/* Which endpoint a session came through. */
enum eio_kind {
	EIO_KIND_SOCKETIO = 0,	/* /socket.io/: Socket.IO above */
	EIO_KIND_ENGINEIO,	/* /engine.io/: an echo (conformance) */
	EIO_KIND__COUNT
};

/* The layer above a session. Every call is made with the session's app
 * lock held and no other lock; ctx is what open returned. */
struct eio_app {
	void *cls;
	/* A session opened. Returns the layer's state for it, or NULL to
	 * refuse (out of memory). */
	void *(*open)(void *cls, struct eio_session *s);
	/* A message packet arrived: data[0..len) (borrowed) is text, or
	 * bytes when binary. Returns 0, or -1 to close the session. */
	int (*message)(void *ctx, const char *data, size_t len, int binary);
	/* The transport may write and the queue is empty: queue what the
	 * layer has (eio_queue_send, eio_queue_send_shared). May be NULL. */
	void (*pull)(void *ctx);
	/* Called by the ticker (now: monotonic ms). Returns 0, or -1 to
	 * close the session. May be NULL. */
	int (*tick)(void *ctx, int64_t now);
	/* The session closed: free ctx. No call follows. */
	void (*close)(void *ctx);
};

/* Creates the layer for srv: its options from srv->cfg, no app set.
 * Returns NULL when out of memory. */
struct eio *eio_create(struct server *srv);

/* Sets the layer above the sessions of kind (app borrowed, static);
 * NULL: that endpoint answers 404. Before the server serves. */
void eio_set_app(struct eio *e, enum eio_kind kind, const struct eio_app *app);

/* Returns 1 if kind has an app. */
int eio_served(const struct eio *e, enum eio_kind kind);

/* Closes every session and frees the layer; sets *ep to NULL. Called after
 * both transports stopped. */
void eio_destroy(struct eio **ep);

/* Returns the endpoint url (a path) names, or -1 when it is neither
 * /socket.io/ nor /engine.io/ (with or without the final slash). */
int eio_path_kind(const char *url);

/* Returns the protocol's message for code (static). */
const char *eio_error_message(enum eio_error code);

/* Opens a session of kind on transport websocket (ws 1) or polling and
 * queues its open packet. Returns a new reference, or NULL when out of
 * memory or the layer has no app for kind. */
struct eio_session *eio_open(struct eio *e, enum eio_kind kind, int ws);

/* Finds the session sid (borrowed), checking its heartbeat now (a dead
 * one is closed and not found). Returns a new reference, or NULL. */
struct eio_session *eio_find(struct eio *e, const char *sid);

/* Drops a reference; the last frees the session. Sets *sp to NULL. */
void eio_unref(struct eio_session **sp);

/* Returns s's kind. */
enum eio_kind eio_session_kind(const struct eio_session *s);

/* Returns the server s belongs to. */
struct server *eio_server(const struct eio_session *s);

/* Queues one message packet: text data[0..len) (copied; "4" is added) or
 * binary bytes, and wakes the transport. Returns 0, or -1 when the queue
 * is over its bound (the session is then closed) or out of memory. */
int eio_queue_send(struct eio_session *s, const char *data, size_t len,
		   int binary);

/* Queues a packet that m's shared Socket.IO form holds: text[0..len),
 * the whole packet ("42[...]"), or with binary an attachment's bytes;
 * MSG_WS_PRE bytes of headroom precede it (lws writes its frame head
 * there). The queue holds a reference to m until it is written; nothing
 * is copied. Returns 0 or -1, as eio_queue_send. */
int eio_queue_send_shared(struct eio_session *s, struct msg *m,
			  const char *text, size_t len, int binary);

/* Wakes s's transport to write (a held GET, the WebSocket). Safe from a
 * room notify; s must be alive (its app not yet closed). */
void eio_wake(struct eio_session *s);

/* Closes s (idempotent): the layer above is closed, the held GET answered
 * with a close packet ("1"; client 1: a noop, "6"), the WebSocket closed.
 * Must not be called with s's app lock held. */
void eio_close(struct eio_session *s, int by_client);

/* Called by the server's ticker: pings due, dead sessions closed, the
 * layer's tick. */
void eio_beat_tick(struct eio *e, int64_t now);

/*
 * For the transports (eio_poll.c, eio_ws.c).
 */

/* Handles one packet received from s's client (on the transport's
 * thread): pings, pongs, messages (to the layer above), close, upgrade.
 * ws is 1 for the WebSocket. Returns 0, or -1 when the session is closed
 * (a bad packet closes it). */
int eio_input(struct eio_session *s, const struct eio_pkt *p, int ws);

/* One outgoing packet taken from the queue. */
struct eio_out {
	struct eio_out *next;
	struct msg *m;		/* shared frame's message, or NULL */
	const char *p;		/* the packet text (type digit first) or
				 * binary bytes; MSG_WS_PRE bytes of
				 * headroom before it */
	size_t len;
	int binary;
	char buf[];		/* headroom + bytes, when m is NULL */
};

/* Frees o (and its reference). */
void eio_queue_out_free(struct eio_out *o);

/* What a transport may do now. */
enum eio_take {
	EIO_TAKE_NONE = 0,	/* nothing to write: wait */
	EIO_TAKE_PACKETS,	/* *out: the packets to write, in order */
	EIO_TAKE_NOOP,		/* polling: answer "6" (upgrade, or closed
				 * by the client) */
	EIO_TAKE_CLOSE,		/* polling: answer "1"; WebSocket: close */
};

/* Takes packets for a write: a GET (ws 0, up to max_bytes of payload,
 * at least one packet) or WebSocket frames (ws 1: one packet if
 * max_bytes is 0, else up to max_bytes, at least one). Asks
 * the layer above (pull) when the queue is empty. Sets *out (free each
 * with eio_queue_out_free). */
enum eio_take eio_queue_take(struct eio_session *s, int ws,
			     size_t max_bytes, struct eio_out **out);

/* Registers the held GET w for s: returns 0, -1 when one is held already
 * (the overlap the protocol forbids), -2 when s is upgraded or closed.
 * eio_wake() then wakes w through tp_wait. */
int eio_hold(struct eio_session *s, struct tp_wait *w);

/* Forgets the held GET (its request ended). */
void eio_unhold(struct eio_session *s, struct tp_wait *w);

/* Starts or refuses a POST: returns -1 when another POST of s is under
 * way (then s is closed) or s is upgraded or closed. */
int eio_post_begin(struct eio_session *s);

/* Ends the POST eio_post_begin() started. */
void eio_post_end(struct eio_session *s);

/* Attaches the WebSocket conn (eio_ws.c's, opaque here) to s: for a new
 * WebSocket session, or to probe an upgrade of a polling one. Returns -1
 * when s is closed, already upgraded or probing. */
int eio_attach_ws(struct eio_session *s, void *conn);

/* Detaches conn (its connection closed): a session on the WebSocket is
 * closed, a probe forgotten. */
void eio_detach_ws(struct eio_session *s, void *conn);

/* Returns 1 if s is closed. */
int eio_closed(struct eio_session *s);

/* The open packet's JSON ("0" and {"sid",...}) for s into out (cap
 * bytes); ws: no upgrades. Returns its length. */
size_t eio_open_packet(const struct eio_session *s, int ws, char *out,
		       size_t cap);

/* The largest payload a client may send (bytes). */
long eio_max_payload(const struct eio *e);

/* The WebSocket side's wake-up for conn (eio_ws.c). */
void eio_ws_wake(void *conn);

#endif
