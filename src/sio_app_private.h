/* SPDX-License-Identifier: MIT */
/*
 * sio_app_private: a Socket.IO connection of imlab's rooms, struct sa,
 * shared by sio_app.c (its life, recovery, pull) and sio_app_ops.c (the
 * events it sends) and by no one else. Include it after sio_app.h (it
 * does not include it, so the two form no include cycle).
 */
#ifndef IMLAB_SIO_APP_PRIVATE_H
#define IMLAB_SIO_APP_PRIVATE_H

#include <stdint.h>

#include "cursor.h"
#include "err.h"
#include "msg.h"
#include "sub.h"

struct sio_bin;
struct sio_conn;
struct sio_imlab;
struct sio_pkt;

/* One Socket.IO connection. */
struct sa {
	struct sio_imlab *im;
	struct sio_conn *c;
	struct server *srv;
	struct sub sub;
	struct cursor cur;
	int connected;
	char pid[MSG_PID_LEN + 1];	/* the recovery id */
	char err[256];			/* the last CONNECT_ERROR message */
};

/* sio_app_ops.c: the handler's event callback (h: the struct sa): runs
 * join, leave or send and sends its ack. Returns 0, or -1 when the
 * connection should close. */
int sio_app_ops_event(void *h, int n, const struct sio_pkt *p,
		      const struct sio_bin *att, unsigned natt, int is_ack);

#endif
