/* SPDX-License-Identifier: MIT */
/*
 * ws_rx: what a /ws client sends, until it runs: reassembly, the size
 * and UTF-8 rules, and holding messages behind an emulated delay
 * (ws_netem.h). Service thread only.
 */
#ifndef IMLAB_WS_RX_H
#define IMLAB_WS_RX_H

#include <stddef.h>

struct per_session_data__chat;

/* Feeds one RECEIVE callback's bytes (borrowed) into pss: reassembles
 * fragments, enforces cfg.ws_max_msg and runs every complete message
 * (ws_proto_run()), or holds it when pss's link emulates a delay.
 * Returns 0, or -1 when the connection must close (the close reason is
 * already set). */
int ws_rx_receive(struct per_session_data__chat *pss, const void *in,
		  size_t len);

/* Frees pss's reassembly buffer, held messages and timer (it closes). */
void ws_rx_free(struct per_session_data__chat *pss);

#endif
