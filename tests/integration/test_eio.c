/* SPDX-License-Identifier: MIT */
/*
 * test_eio: Engine.IO and Socket.IO over HTTP long-polling, from C, so
 * the CI's sanitizer builds run the session layer: the handshake and its
 * options, every protocol error with its code (unknown transport, unknown
 * sid, bad handshake method, bad version), text and binary payloads
 * echoed on /engine.io/ (--sio-conformance 1), a bad packet and a client
 * close ending the session, the server's ping and the client's pong, a
 * Socket.IO CONNECT answered with its auth, the upgrade to WebSocket (with
 * packets queued, and with the client polling again during the probe);
 * then imlab's rooms over it: a
 * join acked, a message published over HTTP delivered as an event whose
 * envelope is the one history returns, and a send acked with its id.
 */
#include "autoconf.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_ctx.h"
#include "trun.h"
#include "testlib.h"
#include "wsclient.h"

#define EP "/engine.io/?EIO=4&transport=polling"
#define SP "/socket.io/?EIO=4&transport=polling"

static void
conformance(struct config *cfg)
{
	cfg->sio_conformance = 1;
	cfg->sio_ping_interval = 300;
	cfg->sio_ping_timeout = 200;
	cfg->sio_connect_timeout = 1000;
	cfg->max_body = 1000000;
}

/* GET or POST path; asserts status; returns the body (caller frees). */
static char *
req(const char *method, const char *path, const char *body, long status)
{
	struct t_resp r;
	char *b;

	ck_assert_int_eq(t_http(t_port, method, path, body, NULL, &r), 0);
	ck_assert_msg(r.status == status, "%s %s: %ld, want %ld: %s", method,
		      path, r.status, status, r.body);
	b = r.body;
	r.body = NULL;
	t_resp_free(&r);
	return b;
}

/* Opens a session on base; copies its sid to sid (21 bytes). */
static void
open_session(const char *base, char *sid)
{
	char *b = req("GET", base, NULL, 200);
	const char *p = strstr(b, "\"sid\":\"");

	ck_assert_int_eq(b[0], '0');
	ck_assert_ptr_nonnull(p);
	memcpy(sid, p + 7, 20);
	sid[20] = '\0';
	free(b);
}

static const char *
with_sid(const char *base, const char *sid)
{
	static char u[160];

	snprintf(u, sizeof(u), "%s&sid=%s", base, sid);
	return u;
}

START_TEST(handshake_gives_the_options)
{
	char *b = req("GET", EP, NULL, 200);

	ck_assert_int_eq(b[0], '0');
	ck_assert_ptr_nonnull(strstr(b, "\"upgrades\":[\"websocket\"]"));
	ck_assert_ptr_nonnull(strstr(b, "\"pingInterval\":300,"));
	ck_assert_ptr_nonnull(strstr(b, "\"pingTimeout\":200,"));
	ck_assert_ptr_nonnull(strstr(b, "\"maxPayload\":1000000}"));
	free(b);
}
END_TEST

START_TEST(errors_have_the_protocols_codes)
{
	char *b;

	b = req("GET", "/engine.io/?transport=polling", NULL, 400);
	ck_assert_str_eq(b, "{\"code\":5,\"message\":\"Unsupported protocol "
			 "version\"}");
	free(b);
	b = req("GET", "/engine.io/?EIO=4&transport=abc", NULL, 400);
	ck_assert_str_eq(b, "{\"code\":0,\"message\":\"Transport unknown\"}");
	free(b);
	b = req("POST", EP, "4x", 400);
	ck_assert_str_eq(b, "{\"code\":2,\"message\":\"Bad handshake "
			 "method\"}");
	free(b);
	b = req("GET", EP "&sid=AAAAAAAAAAAAAAAAAAAA", NULL, 400);
	ck_assert_str_eq(b, "{\"code\":1,\"message\":\"Session ID "
			 "unknown\"}");
	free(b);
	free(req("GET", "/engine.io/x", NULL, 404));
}
END_TEST

START_TEST(payloads_are_echoed)
{
	char sid[21], *b;

	open_session(EP, sid);
	b = req("POST", with_sid(EP, sid), "4hello\x1e" "bAQIDBA==\x1e" "4",
		200);
	ck_assert_str_eq(b, "ok");
	free(b);
	b = req("GET", with_sid(EP, sid), NULL, 200);
	ck_assert_str_eq(b, "4hello\x1e" "bAQIDBA==\x1e" "4");
	free(b);
}
END_TEST

START_TEST(a_bad_packet_or_a_close_ends_the_session)
{
	char sid[21];

	open_session(EP, sid);
	free(req("POST", with_sid(EP, sid), "abc", 400));
	free(req("GET", with_sid(EP, sid), NULL, 400));
	open_session(EP, sid);
	free(req("POST", with_sid(EP, sid), "1", 200));
	free(req("GET", with_sid(EP, sid), NULL, 400));
}
END_TEST

START_TEST(the_server_pings_and_a_pong_keeps_it)
{
	char sid[21], *b;

	open_session(EP, sid);
	for (int i = 0; i < 2; i++) {
		b = req("GET", with_sid(EP, sid), NULL, 200);	/* held */
		ck_assert_str_eq(b, "2");
		free(b);
		free(req("POST", with_sid(EP, sid), "3", 200));
	}
}
END_TEST

START_TEST(socketio_connect_answers_with_auth)
{
	char sid[21], *b;

	open_session(SP, sid);
	free(req("POST", with_sid(SP, sid), "40{\"token\":\"123\"}", 200));
	b = req("GET", with_sid(SP, sid), NULL, 200);
	ck_assert_msg(!strncmp(b, "40{\"sid\":\"", 10), "%s", b);
	ck_assert_ptr_nonnull(strstr(b, "\x1e" "42[\"auth\",{\"token\":"
				     "\"123\"}]"));
	free(b);
	free(req("POST", with_sid(SP, sid), "40/nope,", 200));
	b = req("GET", with_sid(SP, sid), NULL, 200);
	ck_assert_str_eq(b, "44/nope,{\"message\":\"Invalid namespace\"}");
	free(b);
	/* an invalid Socket.IO packet closes the session */
	free(req("POST", with_sid(SP, sid), "42{}", 400));
	free(req("GET", with_sid(SP, sid), NULL, 400));
}
END_TEST

/* The WebSocket's next text message, which must be want. */
static void
ws_expect(struct t_ws *w, const char *want)
{
	char *m = NULL;
	size_t len;

	ck_assert_int_eq(t_ws_recv(w, 5000, &m, &len), 1);
	ck_assert_msg(!strcmp(m, want), "got %s, want %s", m, want);
	free(m);
}

/* Opens the upgrade's WebSocket w for session sid: "2probe", "3probe". */
static void
probe(struct t_ws *w, const char *sid)
{
	char path[160];

	snprintf(path, sizeof(path), "/socket.io/?EIO=4&transport=websocket"
		 "&sid=%s", sid);
	ck_assert_int_eq(t_ws_connect_path(w, t_port, path, NULL, 5000),
			 101);
	ck_assert_int_eq(t_ws_send(w, "2probe"), 0);
	ws_expect(w, "3probe");
}

START_TEST(upgrade_with_packets_queued)
{
	char sid[21], *b;
	struct t_ws w;

	open_session(SP, sid);
	free(req("POST", with_sid(SP, sid), "40", 200));
	/* queued for polling: the CONNECT answer, auth, and a message back;
	 * the probe's answer must not wait behind them */
	free(req("POST", with_sid(SP, sid), "42[\"message\",1]", 200));
	probe(&w, sid);
	b = req("GET", with_sid(SP, sid), NULL, 200);
	ck_assert_str_eq(b, "6");	/* the noop ends the polling side */
	free(b);
	ck_assert_int_eq(t_ws_send(&w, "5"), 0);
	/* what was queued now goes on the WebSocket, in order */
	b = NULL;
	{
		char *m = NULL;
		size_t len;

		ck_assert_int_eq(t_ws_recv(&w, 5000, &m, &len), 1);
		ck_assert_msg(!strncmp(m, "40{\"sid\":", 9), "%s", m);
		free(m);
	}
	ws_expect(&w, "42[\"auth\",{}]");
	ws_expect(&w, "42[\"message-back\",1]");
	/* a GET after the upgrade is refused, the WebSocket goes on */
	free(req("GET", with_sid(SP, sid), NULL, 400));
	ck_assert_int_eq(t_ws_send(&w, "42[\"message\",2]"), 0);
	ws_expect(&w, "42[\"message-back\",2]");
	t_ws_close(&w);
}
END_TEST

/* The client polls again after the first "6", before it reads "3probe"
 * (a slow client, or the two sockets racing): that GET too must end with a
 * "6", or it holds the upgrade up, since the client's polling can pause
 * only when its GET is answered. */
START_TEST(a_poll_during_the_probe_is_ended_too)
{
	char sid[21], *b;
	struct t_ws w;

	open_session(SP, sid);
	free(req("POST", with_sid(SP, sid), "40", 200));
	free(req("GET", with_sid(SP, sid), NULL, 200));
	probe(&w, sid);
	for (int i = 0; i < 3; i++) {
		b = req("GET", with_sid(SP, sid), NULL, 200);
		ck_assert_str_eq(b, "6");
		free(b);
	}
	ck_assert_int_eq(t_ws_send(&w, "5"), 0);
	ck_assert_int_eq(t_ws_send(&w, "42[\"message\",3]"), 0);
	ws_expect(&w, "42[\"message-back\",3]");
	t_ws_close(&w);
}
END_TEST

/* Reads GETs until the body has want; returns it (caller frees). */
static char *
get_until(const char *sid, const char *want)
{
	for (int i = 0; i < 20; i++) {
		char *b = req("GET", with_sid(SP, sid), NULL, 200);

		if (strstr(b, want))
			return b;
		free(b);
	}
	ck_abort_msg("never got %s", want);
	return NULL;
}

START_TEST(rooms_over_socketio)
{
	char sid[21], *b, want[64], hist[4096], *e, *end;
	struct config cfg;
	struct t_resp r;
	long long id;

	t_config(&cfg);		/* imlab's rooms, not the echo */
	t_restart(&cfg);
	open_session(SP, sid);
	free(req("POST", with_sid(SP, sid),
		 "40{\"cid\":\"cid-eio-test-1\",\"from\":\"eve\"}", 200));
	b = get_until(sid, "40{");
	ck_assert_ptr_nonnull(strstr(b, "\"pid\":\""));
	free(b);
	free(req("POST", with_sid(SP, sid), "421[\"join\",{\"room\":\"eio\"}]",
		 200));
	b = get_until(sid, "431[{\"room\":\"eio\",\"last_id\":");
	free(b);
	ck_assert_int_eq(t_http(t_port, "POST", "/api/rooms/eio/messages",
				"{\"event\":\"chat\",\"from\":\"h\","
				"\"data\":{\"n\":1}}", NULL, &r), 0);
	ck_assert_int_lt(r.status, 300);
	id = strtoll(strstr(r.body, "\"id\":") + 5, NULL, 10);
	t_resp_free(&r);
	snprintf(want, sizeof(want), "42[\"chat\",{\"id\":%lld,", id);
	b = get_until(sid, want);
	/* the envelope is the one history returns, byte for byte */
	ck_assert_int_eq(t_http(t_port, "GET", "/api/rooms/eio/messages",
				NULL, NULL, &r), 0);
	snprintf(want, sizeof(want), "{\"id\":%lld,", id);
	e = strstr(r.body, want);
	ck_assert_ptr_nonnull(e);
	end = strchr(strstr(e, "\"ts\":"), '}');
	ck_assert_ptr_nonnull(end);
	snprintf(hist, sizeof(hist), "%.*s", (int)(end + 1 - e), e);
	t_resp_free(&r);
	ck_assert_msg(strstr(b, hist), "%s not in %s", hist, b);
	free(b);
	free(req("POST", with_sid(SP, sid), "422[\"send\",{\"room\":\"eio\","
		 "\"event\":\"chat\",\"data\":\"x\"}]", 200));
	b = get_until(sid, "432[{\"id\":");
	free(b);
	free(req("POST", with_sid(SP, sid), "423[\"send\",{\"room\":\"eio\","
		 "\"event\":\"connect\",\"data\":1}]", 200));
	b = get_until(sid, "433[{\"error\":{\"code\":\"reserved_event\"");
	free(b);
	ck_assert_int_gt(atomic_load(&t_srv->stats.tp[VIA_SIO].delivered), 0);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("eio");
	TCase *tc = tcase_create("conformance");

	t_fixture(tc, conformance);
	tcase_add_test(tc, handshake_gives_the_options);
	tcase_add_test(tc, errors_have_the_protocols_codes);
	tcase_add_test(tc, payloads_are_echoed);
	tcase_add_test(tc, a_bad_packet_or_a_close_ends_the_session);
	tcase_add_test(tc, the_server_pings_and_a_pong_keeps_it);
	tcase_add_test(tc, socketio_connect_answers_with_auth);
	tcase_add_test(tc, upgrade_with_packets_queued);
	tcase_add_test(tc, a_poll_during_the_probe_is_ended_too);
	suite_add_tcase(s, tc);

	tc = tcase_create("imlab");
	t_fixture(tc, conformance);	/* one tune per program: restarts */
	tcase_add_test(tc, rooms_over_socketio);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
