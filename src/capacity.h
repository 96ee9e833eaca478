/* SPDX-License-Identifier: MIT */
/*
 * capacity: how many connections this process can actually hold, and why:
 * the file limit (raised towards --max-connections first, the hard limit
 * too when the process may), the memory available (MemAvailable, and a
 * cgroup v2 memory.max below it) at an estimated cost per connection, and
 * the options. Logged once at startup, so a user learns of a limit that
 * stops connections before the hardware does from the first line, not
 * from refused clients.
 */
#ifndef IMLAB_CAPACITY_H
#define IMLAB_CAPACITY_H

#include "config.h"

/* Descriptors kept aside for everything but connections (listener, lws,
 * epoll, pipes, files served). */
#define CAPACITY_FD_RESERVE 64

/* Raises the soft file limit to --max-connections + CAPACITY_FD_RESERVE,
 * and the hard limit with it when it is lower and the process is allowed
 * (CAP_SYS_RESOURCE); otherwise to the hard limit. Returns the soft limit
 * now in force (0 if unknown). */
unsigned long long capacity_raise_nofile(const struct config *cfg);

/* Logs (info; warn when a limit other than --max-connections binds) the
 * effective connection capacity: the smallest of --max-connections, the
 * file limit nofile less the reserve and the memory estimate, naming which
 * binds, and the per-transport limits. */
void capacity_log(const struct config *cfg, unsigned long long nofile);

#endif
