/* SPDX-License-Identifier: MIT */
/*
 * bench_proc: what imlab-bench reads from the kernel: a process's CPU time
 * and resident memory (/proc/PID/stat and /proc/PID/status), the TCP
 * payload bytes of a socket (TCP_INFO) and its own file limit.
 */
#ifndef IMLAB_BENCH_PROC_H
#define IMLAB_BENCH_PROC_H

#include <stdint.h>
#include <sys/types.h>

struct bench_proc_sample {
	double cpu_s;		/* user + system CPU seconds */
	long rss_kb;		/* VmRSS */
};

/* Reads pid's CPU time and RSS into s. Returns 0, or -1 (s zeroed) if
 * the process cannot be read. */
int bench_proc_sample(pid_t pid, struct bench_proc_sample *s);

/* Returns this process's user + system CPU seconds. */
double bench_proc_self_cpu(void);

/* Adds the TCP payload bytes fd has received and sent (acknowledged) so
 * far to *in and *out; adds nothing if fd is not a TCP socket. */
void bench_proc_tcp_bytes(int fd, uint64_t *in, uint64_t *out);

/* Raises the soft RLIMIT_NOFILE to at least want (up to the hard limit).
 * Returns the soft limit now in force. */
long bench_proc_raise_nofile(long want);

#endif
