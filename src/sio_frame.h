/* SPDX-License-Identifier: MIT */
/*
 * sio_frame: a stored message's Socket.IO form, built once per message on
 * first use and shared by every Socket.IO recipient (as msg.c's WebSocket
 * frame is): the Engine.IO packet 42["EVENT",E,"ID"] (the envelope E, and
 * its id as the offset connection state recovery reads), or, when E holds
 * binary values ({"_binary":"<base64>"}, binary.h), the BINARY_EVENT
 * 45N-["EVENT",E',"ID"] with each such value replaced by a placeholder
 * and its bytes as N attachments. Every part has MSG_WS_PRE bytes of
 * headroom for libwebsockets.
 */
#ifndef IMLAB_SIO_FRAME_H
#define IMLAB_SIO_FRAME_H

#include <stddef.h>

#include "msg.h"
#include "sio_packet.h"

struct sio_frame {
	const char *text;	/* the Engine.IO packet, "4" first */
	size_t len;
	unsigned natt;		/* attachments after it */
	const char *att[SIO_MAX_ATTACH];
	size_t att_len[SIO_MAX_ATTACH];
};

/* Returns m's Socket.IO form (owned by m, freed with it), building it on
 * the first call; thread-safe (two racing builders keep one). Returns
 * NULL when out of memory. */
const struct sio_frame *sio_frame_of(struct msg *m);

#endif
