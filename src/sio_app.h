/* SPDX-License-Identifier: MIT */
/*
 * sio_app: imlab's application protocol over Socket.IO, mirroring the
 * /ws ops (doc/websocket.md) as events with acks, on the same rooms,
 * store, cursors and ids: the identity from the CONNECT auth ({cid,
 * from}), "join" {room, since} acked {room, last_id} before that room's
 * messages, "leave" {room}, "send" {room, event, data, to, mid} acked {id,
 * ts} (binary attachments stored as {"_binary":"<base64>"}), errors as
 * acks {error:{code, message}} with the codes of /ws. Every stored message
 * is emitted as an event named after its "event" with the envelope and
 * its id (the recovery offset) as arguments, in its shared form
 * (sio_frame.h). Connection state recovery: the CONNECT answer carries a
 * recovery pid; a client that reconnects with it and an offset (the last
 * id it had) gets its rooms back and everything after the offset, unless
 * a room's history lost some of it (a gap: then it is not recovered).
 */
#ifndef IMLAB_SIO_APP_H
#define IMLAB_SIO_APP_H

#include "sio.h"

struct server;
struct sio_imlab;

/* How long a closed connection's rooms are kept for recovery (ms). */
#define SIO_RECOVERY_MS (2 * 60 * 1000)

/* Creates the handler's state for srv. Returns NULL when out of memory. */
struct sio_imlab *sio_imlab_create(struct server *srv);

/* Returns the handler (owned by im). */
const struct sio_handler *sio_imlab_handler(struct sio_imlab *im);

/* Frees im (every connection closed already); sets *imp to NULL. */
void sio_imlab_destroy(struct sio_imlab **imp);

#endif
