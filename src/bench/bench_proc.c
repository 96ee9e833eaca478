/* SPDX-License-Identifier: MIT */
/*
 * bench_proc: /proc, TCP_INFO and RLIMIT_NOFILE. glibc's struct tcp_info
 * lacks the byte counters, so the kernel's <linux/tcp.h> is used here.
 */
#include "autoconf.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tcp.h>
#include <netinet/in.h>

#include "bench_proc.h"

int
bench_proc_sample(pid_t pid, struct bench_proc_sample *s)
{
	char path[64], line[512], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	int ok = 0;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(line, sizeof(line), f)) {
		/* skip "pid (comm) ": comm may hold spaces and ')' */
		p = strrchr(line, ')');
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
				"%*u %*u %lu %lu", &ut, &st) == 2)
			ok = 1;
	}
	fclose(f);
	if (!ok)
		return -1;
	s->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			sscanf(line + 6, "%ld", &s->rss_kb);
	fclose(f);
	return 0;
}

double
bench_proc_self_cpu(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void
bench_proc_tcp_bytes(int fd, uint64_t *in, uint64_t *out)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return;
	if (len < offsetof(struct tcp_info, tcpi_bytes_received) +
		  sizeof(ti.tcpi_bytes_received))
		return;
	*in += ti.tcpi_bytes_received;
	*out += ti.tcpi_bytes_acked;
}

long
bench_proc_raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_cur == RLIM_INFINITY || (long)rl.rlim_cur >= want)
		return rl.rlim_cur == RLIM_INFINITY ? want : (long)rl.rlim_cur;
	rl.rlim_cur = (rl.rlim_max != RLIM_INFINITY &&
		       (long)rl.rlim_max < want) ? rl.rlim_max : (rlim_t)want;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	return (long)rl.rlim_cur;
}
