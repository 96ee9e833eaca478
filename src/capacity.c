/* SPDX-License-Identifier: MIT */
/*
 * capacity: the file limit and the startup statement of how many
 * connections fit (see capacity.h).
 */
#include "autoconf.h"

#include "capacity.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "log.h"

#define TAG "capacity"

unsigned long long
capacity_raise_nofile(const struct config *cfg)
{
	rlim_t want = (rlim_t)cfg->max_connections + CAPACITY_FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur >= want)
		return rl.rlim_cur;
	if (rl.rlim_max < want) {
		struct rlimit up = { want, want };

		if (!setrlimit(RLIMIT_NOFILE, &up))
			return want;	/* allowed to raise the hard limit */
	}
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) || getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	return rl.rlim_cur;
}

/* Bytes of memory available to the process: MemAvailable, or a smaller
 * cgroup v2 limit. 0 if unknown. */
static unsigned long long
mem_available(void)
{
	unsigned long long avail = 0, kb, max;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
				avail = kb * 1024;
				break;
			}
		fclose(f);
	}
	f = fopen("/sys/fs/cgroup/memory.max", "r");
	if (f) {
		if (fscanf(f, "%llu", &max) == 1 && (!avail || max < avail))
			avail = max;
		fclose(f);
	}
	return avail;
}

void
capacity_log(const struct config *cfg, unsigned long long nofile)
{
	/* an idle SSE stream or long poll: its libmicrohttpd pool plus
	 * ~3.5 KB of the rest (doc/benchmarks.md: 7.5 KB at the default
	 * 4 KB pool); a WebSocket ~3 KB */
	unsigned long long per = (unsigned long long)cfg->conn_memory + 3584;
	unsigned long long mem = mem_available();
	unsigned long long cap = (unsigned long long)cfg->max_connections;
	unsigned long long by_fd = nofile > CAPACITY_FD_RESERVE ?
				   nofile - CAPACITY_FD_RESERVE : 0;
	unsigned long long by_mem = mem / per;
	const char *why = "--max-connections";

	/* as before: the file limit binds when it is under the option */
	if (nofile && nofile < cap) {
		cap = by_fd;
		why = "the file limit (ulimit -n; LimitNOFILE= in systemd)";
	}
	if (mem && by_mem < cap) {
		cap = by_mem;
		why = "memory";
	}
	if (strcmp(why, "--max-connections"))
		LOG_WARN(TAG, "about %llu connections, limited by %s: "
			 "--max-connections %d, %llu file descriptors (%d "
			 "kept aside), %llu MiB available at ~%llu KB per "
			 "connection; at most %d WebSocket, %d SSE, %d long "
			 "polls", cap, why, cfg->max_connections, nofile,
			 CAPACITY_FD_RESERVE, mem >> 20, per >> 10,
			 cfg->max_ws, cfg->max_sse, cfg->max_longpolls);
	else
		LOG_INFO(TAG, "up to %llu connections (--max-connections; "
			 "%llu file descriptors, %llu MiB available at ~%llu "
			 "KB per connection); at most %d WebSocket, %d SSE, "
			 "%d long polls", cap, nofile, mem >> 20, per >> 10,
			 cfg->max_ws, cfg->max_sse, cfg->max_longpolls);
}
