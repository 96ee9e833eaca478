/* SPDX-License-Identifier: MIT */
/*
 * sio_conformance: imlab's Engine.IO and Socket.IO modules behaving as the
 * reference server of the socketio project's protocol test suites
 * (docs/engine.io-protocol/v4-test-suite, docs/socket.io-protocol/
 * v5-test-suite): pingInterval 300 ms, pingTimeout 200 ms, maxPayload
 * 1000000, connectTimeout 1000 ms, no recovery; /engine.io/ echoes, and
 * /socket.io/ answers auth, message and message-with-ack (sio_echo.h).
 *
 *     tests/sio_conformance [PORT]      (default 3000; Ctrl-C stops)
 *
 * It is the imlab server itself, started with --sio-conformance 1 and
 * those options, on 127.0.0.1; it prints its port once it listens.
 */
#include "autoconf.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "server.h"

int
main(int argc, char **argv)
{
	struct config cfg;
	struct server *srv;
	struct im_error e = { 0 };
	const char *www = getenv("IMLAB_WWW");
	sigset_t set;
	int sig = 0;

	config_defaults(&cfg);
	cfg.port = argc > 1 ? atoi(argv[1]) : 3000;
	cfg.bind = "127.0.0.1";
	if (www && *www)
		cfg.www = www;
	cfg.sio_conformance = 1;
	cfg.sio_ping_interval = 300;
	cfg.sio_ping_timeout = 200;
	cfg.sio_max_payload = 1000000;
	cfg.sio_connect_timeout = 1000;
	cfg.max_body = 1000000;
	cfg.log_level = "warn";
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (server_start(&cfg, &srv, &e) != IM_OK) {
		fprintf(stderr, "sio_conformance: %s\n", e.message);
		return 1;
	}
	printf("sio_conformance: listening on 127.0.0.1:%u\n",
	       server_port(srv));
	fflush(stdout);
	sigwait(&set, &sig);
	server_stop(&srv);
	return 0;
}
