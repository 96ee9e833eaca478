/* SPDX-License-Identifier: MIT */
/*
 * msg: the immutable, refcounted message envelope. Its JSON is serialised
 * once, at creation, into the WebSocket frame {"op":"msg","msg":E} (with
 * headroom for libwebsockets in front); the plain envelope E is a slice of
 * it, and every other transport writes E (tp_sse.c writes its own lines
 * around it). Nothing is copied per subscriber, and E is held once.
 */
#ifndef IMLAB_MSG_H
#define IMLAB_MSG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "jbuf.h"

/* Headroom kept before every WebSocket frame; ws.c checks LWS_PRE fits. */
#define MSG_WS_PRE 16

#define MSG_ROOM_MAX 64		/* bytes of a room name */
#define MSG_EVENT_MAX 32	/* bytes of an event name */
#define MSG_CID_MAX 64		/* bytes of a client id */
#define MSG_MID_MAX 64		/* bytes of a client message id */
#define MSG_FROM_MAX 32		/* UTF-8 characters of a display name */
#define MSG_PID_LEN 32		/* hex digits of a public id (128 bits) */

/* The transports, also used as the "via" of a message and in statistics. */
enum via {
	VIA_POLL = 0,
	VIA_LONGPOLL,
	VIA_SSE,
	VIA_WS,
	VIA_SIO,	/* Engine.IO / Socket.IO (eio.c, sio.c) */
	VIA_API,
	VIA__COUNT
};

/* Socket.IO's three emits: who may see a message. */
enum msg_target {
	MSG_TO_ROOM = 0,	/* everyone in the room, sender included */
	MSG_TO_OTHERS,		/* everyone but the sender's cid */
	MSG_TO_SELF,		/* the sender's cid alone */
	MSG_TO_PID,		/* a direct message: the sender's cid and
				 * the recipient's (to_cid), no one else */
};

struct msg {
	atomic_uint refs;
	uint64_t id;		/* server-wide sequence, strictly increasing */
	int64_t ts;		/* publish time, ms since the Unix epoch */
	enum msg_target to;
	enum via via;
	char room[MSG_ROOM_MAX + 1];
	char event[MSG_EVENT_MAX + 1];
	char cid[MSG_CID_MAX + 1];	/* sender's private id; "" if none */
	char to_cid[MSG_CID_MAX + 1];	/* MSG_TO_PID: the recipient's
					 * private id; "" otherwise */
	const char *json;	/* envelope E, not NUL-terminated, in ws */
	size_t json_len;
	char *ws;		/* MSG_WS_PRE headroom + {"op":"msg","msg":E} */
	size_t ws_len;		/* bytes after the headroom */
	size_t size;		/* bytes allocated: what the store's budget
				 * counts */
	void *_Atomic sio;	/* the Socket.IO form, built once on first
				 * use (sio_frame.c), freed with m */
};

/* The parts of a new message. All strings are borrowed and must already be
 * valid (hub.c validates); data_json is the serialised "data" value. */
struct msg_parts {
	uint64_t id;
	int64_t ts;
	const char *room;
	const char *event;
	const char *from;	/* display name, JSON-escaped here */
	const char *pid;	/* public id of the sender */
	const char *cid;	/* private id of the sender, or NULL */
	enum via via;
	enum msg_target to;
	const char *to_pid;	/* MSG_TO_PID: the recipient's public id */
	const char *to_cid;	/* MSG_TO_PID: the recipient's private id */
	const char *data_json;
	size_t data_len;
};

/* Builds a message with one reference, serialising every wire form once.
 * A direct message (MSG_TO_PID) carries "to":"pid:<to_pid>" in its
 * envelope, after "pid"; no other target is written. Returns NULL (and
 * allocates nothing) on failure, also for MSG_TO_PID without to_pid and
 * to_cid. */
struct msg *msg_create(const struct msg_parts *p);

/* Rebuilds a message kept elsewhere (histdb): id, ts, room, event, cid,
 * via, to and (MSG_TO_PID) to_cid from p (from, pid, to_pid and data are
 * ignored), and env[0..env_len)
 * the envelope msg_create() wrote, copied byte for byte (borrowed), so
 * every wire form is the original's. Returns a message with one
 * reference, or NULL (nothing allocated) when out of memory or a name is
 * over its limit. */
struct msg *msg_restore(const struct msg_parts *p, const char *env,
			size_t env_len);

/* Takes another reference; returns m. Thread-safe. */
struct msg *msg_ref(struct msg *m);

/* Drops the caller's reference and sets *mp to NULL; frees the message
 * when it was the last one. Accepts *mp == NULL. Thread-safe. */
void msg_unref(struct msg **mp);

/* Returns 1 if the subscriber with private id cid may see m, else 0.
 * cid may be NULL or "" for an anonymous reader. */
int msg_visible(const struct msg *m, const char *cid);

/* Returns the static name of a transport ("poll", ..., "api"). */
const char *via_name(enum via v);

/* Returns the current time in ms since the Unix epoch. */
int64_t im_now_ms(void);

/* Returns a monotonic clock reading in ms (for deadlines). */
int64_t im_mono_ms(void);

/* Appends the envelopes of the n borrowed messages, comma-separated, to
 * b: the body of a JSON array (poll answers, WebSocket msgs frames). */
void msg_json_list(struct jbuf *b, struct msg *const *m, size_t n);

/* Serialises {"messages":[E,...],"last_id":N,"gap":false} from n borrowed
 * messages into a new malloc'd buffer (the caller frees it) and sets *len.
 * Returns NULL when out of memory. */
char *msg_batch_json(struct msg *const *m, size_t n, uint64_t last_id,
		     int gap, size_t *len);

#endif
