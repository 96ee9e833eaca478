/* SPDX-License-Identifier: MIT */
/*
 * wire_meter: a TCP socket's byte counts as the kernel keeps them
 * (TCP_INFO, SIOCINQ, SIOCOUTQ), less the FINs; no state, no lock.
 */
#ifndef IMLAB_WIRE_METER_H
#define IMLAB_WIRE_METER_H

#include <stdint.h>

/* Reads fd's counts: *up what the server read (with final, what
 * arrived), *down what it wrote. Returns 0, or -1 (not a TCP socket, or
 * closed) with *up and *down unchanged. Thread-safe. */
int wire_meter_read(int fd, uint64_t *up, uint64_t *down, int final);

#endif
