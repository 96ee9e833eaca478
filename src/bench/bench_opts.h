/* SPDX-License-Identifier: MIT */
/*
 * bench_opts: imlab-bench's one table of options (name, type, default,
 * range, help), as the server's config.c has: it drives the parser and
 * its range checks, --help and the man page that --help-man prints (the
 * source of doc/imlab-bench.1).
 */
#ifndef IMLAB_BENCH_OPTS_H
#define IMLAB_BENCH_OPTS_H

#include "bench.h"

/* Fills o from argv (borrowed), every option not given at its default.
 * Returns 0 to run, 1 if --help, --help-man or --version was answered on
 * stdout (exit 0), or -1 on bad usage, said on stderr (exit 2). */
int bench_opts_parse(struct bench_opts *o, int argc, char **argv);

#endif
