/* SPDX-License-Identifier: MIT */
/*
 * sio_echo: the behaviour of the reference server the socketio protocol
 * test suites run against (--sio-conformance 1, tests/sio_conformance):
 * /engine.io/ echoes every message (text and binary); on /socket.io/ the
 * namespaces / and /custom are served, a CONNECT is answered with an
 * "auth" event carrying its payload ({} when none), "message" with
 * "message-back" and the same arguments, "message-with-ack" with an ack of
 * its own arguments (attachments included in both).
 */
#ifndef IMLAB_SIO_ECHO_H
#define IMLAB_SIO_ECHO_H

#include "eio.h"
#include "sio.h"

/* The /engine.io/ echo (static). */
extern const struct eio_app sio_echo_eio;

/* The /socket.io/ handler (static). */
extern const struct sio_handler sio_echo_handler;

#endif
