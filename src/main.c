/* SPDX-License-Identifier: MIT */
/*
 * main: the imlab command. Parses the options, starts the server, waits
 * for SIGINT or SIGTERM (blocked in every thread, taken with sigwait) and
 * stops the server cleanly.
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "server.h"

/* Raises the soft file limit towards what --max-connections needs. */
static void
raise_nofile(const struct config *cfg)
{
	rlim_t want = (rlim_t)cfg->max_connections + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < (rlim_t)cfg->max_connections)
		LOG_WARN("main", "only %llu file descriptors allowed (ulimit "
			 "-n): fewer than --max-connections %d; raise the "
			 "limit or lower the option",
			 (unsigned long long)rl.rlim_cur,
			 cfg->max_connections);
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct server *srv;
	struct im_error e = { 0 };
	char err[256];
	sigset_t set;
	int sig = 0;

	config_defaults(&cfg);
	switch (config_parse(&cfg, argc, argv, stdout, err, sizeof(err))) {
	case CONFIG_PARSE_OK:
		break;
	case CONFIG_PARSE_HELP:
	case CONFIG_PARSE_HELP_MD:
	case CONFIG_PARSE_HELP_MAN:
	case CONFIG_PARSE_VERSION:
		return 0;
	case CONFIG_PARSE_ERROR:
		fprintf(stderr, "imlab: %s\nTry 'imlab --help'.\n", err);
		return 2;
	}
	if (config_check(&cfg, err, sizeof(err))) {
		fprintf(stderr, "imlab: %s\nTry 'imlab --help'.\n", err);
		return 2;
	}
	/* every thread inherits this mask; only sigwait() takes them */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);	/* --admin-restart: re-execute */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile(&cfg);

	if (server_start(&cfg, &srv, &e) != IM_OK) {
		fprintf(stderr, "imlab: %s\n", e.message);
		return 1;
	}
	printf("imlab %s: open http://%s:%u/ (Ctrl-C stops)\n",
	       PACKAGE_VERSION,
	       strcmp(cfg.bind, "0.0.0.0") ? cfg.bind : "localhost",
	       server_port(srv));
	fflush(stdout);
	sigwait(&set, &sig);
	LOG_INFO("main", "%s: shutting down", strsignal(sig));
	server_stop(&srv);
	if (sig == SIGHUP && cfg.admin && cfg.admin_restart) {
		/* POST /api/admin/restart (api_admin.c): the same argv, a
		 * new run (its ids start above this one's, store.h) */
		execv("/proc/self/exe", argv);
		fprintf(stderr, "imlab: restart: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
