/* SPDX-License-Identifier: MIT */
/*
 * testlib: what the integration tests share: an in-process imlab on
 * 127.0.0.1 port 0 and the one server fixture built on it, HTTP requests
 * with libcurl, and raw sockets for the requests libcurl will not make
 * (traversal, bare upgrades).
 */
#ifndef IMLAB_TESTLIB_H
#define IMLAB_TESTLIB_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "server.h"

/* Fills cfg with test defaults: port 0, 127.0.0.1, IMLAB_WWW, log warn. */
void t_config(struct config *cfg);

/* Starts a server on cfg (NULL: t_config defaults); aborts the test on
 * failure. */
struct server *t_server_start(const struct config *cfg);

/* The fixture's server: the one the running test talks to (NULL outside
 * a test) and its port. Owned by the fixture: a test borrows them, never
 * stops t_srv itself, and calls t_restart() for other options. */
extern struct server *t_srv;
extern uint16_t t_port;

/* Adjusts the t_config() defaults of every server the fixture starts. */
typedef void t_tune_fn(struct config *cfg);

/* Adds the server fixture to tc as a Check checked fixture: before each
 * test a server on the t_config() defaults changed by tune (NULL: none),
 * after it server_stop(). tune is remembered for the whole program. */
void t_fixture(TCase *tc, t_tune_fn *tune);

/* Stops the fixture's server and starts one on cfg (copied by the server;
 * NULL: the t_config() defaults changed by the fixture's tune function);
 * sets t_srv and t_port. Aborts the test on failure. */
void t_restart(const struct config *cfg);

/* A response read with libcurl. */
struct t_resp {
	long status;
	char *body;		/* NUL-terminated, owned */
	size_t len;
	char *headers;		/* raw header block, owned */
};

/* GET (body NULL) or POST (body given, application/json) of
 * http://127.0.0.1:port/path. extra_header may be NULL. Returns 0 when
 * the transfer completed, else -1 (r->status 0). */
int t_http(uint16_t port, const char *method, const char *path,
	   const char *body, const char *extra_header, struct t_resp *r);

/* Frees r's buffers. */
void t_resp_free(struct t_resp *r);

/* Returns the value of header name in r (case-insensitive) in a static
 * buffer, or NULL. */
const char *t_header(const struct t_resp *r, const char *name);

/* Sends raw bytes to 127.0.0.1:port and reads the reply until the peer
 * closes, or about timeout_ms passed in all. Returns a malloc'd
 * NUL-terminated string (the caller frees it), or NULL if the connection
 * failed. */
char *t_raw(uint16_t port, const char *request, int timeout_ms);

/* Connects to 127.0.0.1:port; returns the fd or -1. */
int t_connect(uint16_t port);

#endif
