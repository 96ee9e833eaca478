/* SPDX-License-Identifier: MIT */
/*
 * bench_opts: the option table and what it drives (see bench_opts.h). An
 * option is parsed by getopt_long, so a long name may be abbreviated and
 * its value given as --name=value or --name value.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_opts.h"

#define SEEN_MAX_BYTES (512ull << 20)	/* subs x msgs bitmap at most */

enum type {
	T_INT,		/* an int field, in [min, max] */
	T_STR,		/* parsed by set() */
	T_FLAG,		/* stores def into its int field */
	T_HELP,		/* answered here: --help, --help-man, --version */
};

struct opt {
	const char *name;
	enum type type;
	size_t off;		/* of the int field in struct bench_opts */
	long long def, min, max;
	const char *sdef;	/* the default shown, if not def */
	int (*set)(struct bench_opts *o, const char *v);	/* T_STR */
	const char *arg;	/* the value's placeholder */
	const char *help;
};

static int set_url(struct bench_opts *o, const char *s);
static int set_pub_url(struct bench_opts *o, const char *s);
static int set_transport(struct bench_opts *o, const char *s);
static int set_peer(struct bench_opts *o, const char *s);
static int set_sweep_rates(struct bench_opts *o, const char *s);
static void usage(FILE *f);
static void man(FILE *f);

#define O(f) offsetof(struct bench_opts, f)

static const struct opt opts[] = {
	{ "url", T_STR, 0, 0, 0, 0, "http://127.0.0.1:8080", set_url, "URL",
	  "server base URL, http:// only" },
	{ "pub-url", T_STR, 0, 0, 0, 0, "the --url", set_pub_url, "URL",
	  "publish to this server instead (another node sharing the same "
	  "Redis: cross-node delivery), http:// only" },
	{ "transport", T_STR, 0, 0, 0, 0, "all", set_transport, "T",
	  "poll, longpoll, sse, ws, sio (Socket.IO: Engine.IO v4 over "
	  "WebSocket at /socket.io/), sio-polling (the same started on "
	  "polling and upgraded) or all, or a comma list of them; they run "
	  "one after another, each with new subscribers; all is imlab's own "
	  "four, poll to ws" },
	{ "subs", T_INT, O(subs), 100, 1, 100000, NULL, NULL, "N",
	  "subscribers (connections)" },
	{ "rate", T_INT, O(rate), 100, 0, 1000000, NULL, NULL, "R",
	  "messages published per second; 0: back to back" },
	{ "msgs", T_INT, O(msgs), 500, 0, 10000000, NULL, NULL, "M",
	  "messages to publish; 0: only connect, measure the idle server "
	  "and disconnect" },
	{ "size", T_INT, O(size), 64, 0, 16 << 20, NULL, NULL, "B",
	  "bytes of each message's data value, padded" },
	{ "rooms", T_INT, O(rooms), 1, 1, 100000, NULL, NULL, "K",
	  "spread subscribers over K rooms (subscriber i joins room i % K, "
	  "message n goes to room n % K)" },
	{ "interval", T_INT, O(interval_ms), 500, 1, 60000, NULL, NULL, "MS",
	  "short-poll interval (poll transport only)" },
	{ "distinct-cids", T_FLAG, O(distinct_cids), 1, 0, 0, NULL, NULL,
	  NULL, "give every subscriber its own cid and from, as real clients "
	  "have, so the server publishes a join per subscriber to the members "
	  "already there (the cost of presence); the default is one cid for "
	  "all, which the server counts as one member" },
	{ "peer", T_STR, 0, 0, 0, 0, "imlab", set_peer, "P",
	  "imlab; nchan: an nginx with the nchan module laid out as "
	  "run-bench.sh configures it (longpoll, sse and ws only); or "
	  "socket.io: Node's Socket.IO server running src/bench/sio-peer.mjs "
	  "(sio and sio-polling only)" },
	{ "server-pid", T_INT, O(server_pid), 0, 1, INT_MAX, "none", NULL,
	  "PID", "read the server's CPU time and RSS from /proc before "
	  "connecting, once connected and after the run" },
	{ "sweep", T_FLAG, O(sweep), 1, 0, 0, NULL, NULL, NULL,
	  "run every transport at each rate of --sweep-rates (--msgs "
	  "messages each, at least 3) and print one TSV line per transport "
	  "and rate: requests, bytes up and down per delivery, TCP "
	  "connections, latency p50" },
	{ "sweep-rates", T_STR, 0, 0, 0, 0, "0.1,0.3,1,3,10,30",
	  set_sweep_rates, "LIST", "the rates of --sweep, messages/s, comma "
	  "separated (decimals allowed, at least 0.001)" },
	{ "json", T_FLAG, O(format), BENCH_OUT_JSON, 0, 0, NULL, NULL, NULL,
	  "print one JSON object instead of the table" },
	{ "tsv", T_FLAG, O(format), BENCH_OUT_TSV, 0, 0, NULL, NULL, NULL,
	  "print tab-separated values instead of the table: a header line, "
	  "then one line per transport, the fields of --json" },
	{ "help", T_HELP, 0, 0, 0, 0, NULL, NULL, NULL,
	  "print this help and exit" },
	{ "help-man", T_HELP, 0, 1, 0, 0, NULL, NULL, NULL,
	  "print the man page (roff) and exit" },
	{ "version", T_HELP, 0, 2, 0, 0, NULL, NULL, NULL,
	  "print the version and exit" },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const char summary[] =
	"Load a running imlab server over one or all transports and report "
	"what each costs: latency percentiles, deliveries/s, lost/duplicated/"
	"out-of-order messages, HTTP requests and wire bytes per delivery, "
	"server CPU and RSS.";

static const char *const description[] = {
	"Every subscriber starts from the server's last_id (GET /api/info), "
	"so no message is missed between connecting and the first poll; the "
	"publisher starts once all are registered (poll: first answer, "
	"longpoll: request sent, sse: response headers, ws: \"joined\", sio: "
	"the join's ack). "
	"Messages are POSTed over one keep-alive connection to "
	"/api/rooms/ROOM/messages with data {\"t\":<CLOCK_MONOTONIC ns>,"
	"\"seq\":n,\"pad\":\"xx..\"}; latency is the time from that send "
	"until the subscriber parsed the message. Wire bytes are TCP payload "
	"bytes of the subscriber sockets (TCP_INFO), both directions, during "
	"the publish phase. All subscribers of a run share one cid, so the "
	"server publishes one join message, not one per subscriber; with "
	"--distinct-cids each has its own, the run reports the time from the "
	"first connect to the last registration (connect_all_s) and to the "
	"last join message received (presence_s), and waits for the joins "
	"to stop before it publishes. A run ends when every acknowledged "
	"message reached every subscriber of "
	"its room, or 5 s (3 poll intervals if longer) after the last "
	"publish; what is missing then is lost. The soft file limit is "
	"raised as far as --subs needs. A progress line goes to stderr.",
	"With --peer nchan the same runs go to nginx + nchan: messages are "
	"POSTed to /nchan/pub?id=ROOM with the bench's envelope as the body "
	"(its id is seq + 1), which nchan hands on verbatim; subscribers use "
	"/nchan/lp?id=ROOM (nchan's long poll, resumed with If-Modified-"
	"Since and If-None-Match from the last answer's Last-Modified and "
	"Etag), /nchan/sse?id=ROOM (EventSource, registered at its headers) "
	"and /nchan/ws?id=ROOM (WebSocket, registered at 101). nchan has no "
	"short poll that answers every message since a cursor in one "
	"response, so poll is left out.",
	"The sio transport speaks Engine.IO v4 over WebSocket from the start "
	"(GET /socket.io/?EIO=4&transport=websocket): it answers the open "
	"packet with the CONNECT 40{\"cid\",\"from\"}, emits "
	"420[\"join\",{\"room\",\"since\"}] at the server's 40 and is "
	"registered at the ack; every 42[\"bench\",ENVELOPE,...] is one "
	"delivery in one WebSocket frame, and a server ping 2 is answered 3. "
	"sio-polling starts on HTTP long-polling as the default client does, "
	"on one keep-alive connection: the handshake GET, the CONNECT "
	"POSTed, GETs until the server's 40, then the upgrade to WebSocket "
	"on the same socket (2probe, 3probe, 5) and the join over it; its "
	"connect time is what the upgrade costs. "
	"With --peer socket.io the same run goes to Node's Socket.IO server "
	"started by src/bench/sio-peer.mjs, which serves that protocol, the "
	"bench's publish (POST /api/rooms/ROOM/messages, emitted to the room "
	"with an increasing id), /api/info and /api/stats; it keeps no "
	"history, so since is not honoured there.",
	NULL
};

static const char exit_status[] =
	"0 all delivered, 1 something lost, duplicated or failed, 2 bad "
	"usage, 3 a transport could not register every subscriber.";

static const char *const examples[] = {
	"imlab --port 8080 &",
	"imlab-bench --url http://127.0.0.1:8080 --transport ws \\",
	"    --subs 1000 --rate 200 --msgs 1000 --size 64 --server-pid $!",
	"imlab-bench --transport all --subs 20 --msgs 50 --tsv",
	"imlab-bench --transport sse --subs 1000 --msgs 0 --distinct-cids",
	"imlab-bench --url http://127.0.0.1:8081 --peer nchan --transport ws",
	"imlab-bench --transport ws,sio --subs 1000 --rate 200 --msgs 2000",
	"node src/bench/sio-peer.mjs --port 8082 &",
	"imlab-bench --url http://127.0.0.1:8082 --peer socket.io \\",
	"    --transport sio --subs 1000 --rate 200 --msgs 2000 \\",
	"    --server-pid $!",
	NULL
};

/* ---- parsing ------------------------------------------------------------ */

static int
parse_int(const char *name, const char *s, long long min, long long max,
	  int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "imlab-bench: --%s: \"%s\" is not a number in "
			"%lld-%lld\n", name, s, min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int
set_pub_url(struct bench_opts *o, const char *s)
{
	size_t n = strlen(s);

	if (!strcmp(s, "the --url")) {	/* the default */
		o->pub_url[0] = '\0';
		return 0;
	}
	if (strncmp(s, "http://", 7) || n <= 7 || n >= sizeof(o->pub_url) ||
	    s[n - 1] == '/') {
		fprintf(stderr, "imlab-bench: --pub-url: \"%s\" is not "
			"http://HOST:PORT\n", s);
		return -1;
	}
	memcpy(o->pub_url, s, n + 1);
	return 0;
}

static int
set_url(struct bench_opts *o, const char *s)
{
	const char *h = s + 7, *colon, *slash;
	size_t hl;

	if (strncmp(s, "http://", 7)) {
		fprintf(stderr, "imlab-bench: --url must start with http://\n");
		return -1;
	}
	slash = strchr(h, '/');
	hl = slash ? (size_t)(slash - h) : strlen(h);
	colon = memchr(h, ':', hl);
	o->port = 80;
	if (colon) {
		char port[8];
		size_t pl = hl - (size_t)(colon + 1 - h);

		if (pl == 0 || pl >= sizeof(port))
			goto bad;
		memcpy(port, colon + 1, pl);
		port[pl] = '\0';
		if (parse_int("url port", port, 1, 65535, &o->port))
			return -1;
		hl = (size_t)(colon - h);
	}
	if (!hl || hl >= sizeof(o->host) || (slash && slash[1]))
		goto bad;
	memcpy(o->host, h, hl);
	o->host[hl] = '\0';
	snprintf(o->url, sizeof(o->url), "http://%s:%d", o->host, o->port);
	return 0;
bad:
	fprintf(stderr, "imlab-bench: --url: \"%s\" is not http://HOST:PORT\n",
		s);
	return -1;
}

/* One name of the --transport list, n bytes at s: its bits, or 0. */
static unsigned
transport_bits(const char *s, size_t n)
{
	if (n == 3 && !memcmp(s, "all", 3))
		return BENCH_TPS_ALL;
	for (int t = 0; t < BENCH__COUNT; t++) {
		const char *name = bench_tp_name((enum bench_tp)t);

		if (strlen(name) == n && !memcmp(s, name, n))
			return 1u << t;
	}
	return 0;
}

static int
set_transport(struct bench_opts *o, const char *s)
{
	unsigned bits;

	o->tps = 0;
	for (;;) {
		size_t n = strcspn(s, ",");

		bits = transport_bits(s, n);
		if (!bits) {
			fprintf(stderr, "imlab-bench: --transport: poll, "
				"longpoll, sse, ws, sio, sio-polling or all, "
				"or a comma list of them\n");
			return -1;
		}
		o->tps |= bits;
		if (!s[n])
			return 0;
		s += n + 1;
	}
}

static int
set_peer(struct bench_opts *o, const char *s)
{
	if (!strcmp(s, "imlab"))
		o->peer = BENCH_PEER_IMLAB;
	else if (!strcmp(s, "nchan"))
		o->peer = BENCH_PEER_NCHAN;
	else if (!strcmp(s, "socket.io"))
		o->peer = BENCH_PEER_SOCKETIO;
	else {
		fprintf(stderr, "imlab-bench: --peer: imlab, nchan or "
			"socket.io\n");
		return -1;
	}
	return 0;
}

static int
set_sweep_rates(struct bench_opts *o, const char *s)
{
	const char *p = s;

	if (strlen(s) >= sizeof(o->sweep_rates))
		goto bad;
	while (*p) {
		char *end;
		double v = strtod(p, &end);

		if (end == p || v < 0.001 || v > 1e6 || (*end && *end != ','))
			goto bad;
		p = *end ? end + 1 : end;
	}
	snprintf(o->sweep_rates, sizeof(o->sweep_rates), "%s", s);
	return 0;
bad:
	fprintf(stderr, "imlab-bench: --sweep-rates: a comma list of rates "
		"from 0.001 to 1000000 msg/s\n");
	return -1;
}

static int *
field(struct bench_opts *o, const struct opt *d)
{
	return (int *)(void *)((char *)o + d->off);
}

/* Sets option d from its value v (NULL for flags). 0, 1 (answered), -1. */
static int
apply(struct bench_opts *o, const struct opt *d, const char *v)
{
	switch (d->type) {
	case T_INT:
		return parse_int(d->name, v, d->min, d->max, field(o, d));
	case T_STR:
		return d->set(o, v);
	case T_FLAG:
		*field(o, d) = (int)d->def;
		return 0;
	case T_HELP:
		if (d->def == 0)
			usage(stdout);
		else if (d->def == 1)
			man(stdout);
		else
			printf("imlab-bench %s\n", PACKAGE_VERSION);
		return 1;
	}
	return -1;
}

int
bench_opts_parse(struct bench_opts *o, int argc, char **argv)
{
	struct option lo[NOPTS + 1];
	int c, rc;

	memset(o, 0, sizeof(*o));
	memset(lo, 0, sizeof(lo));
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *d = &opts[i];

		if (d->type == T_INT)
			*field(o, d) = (int)d->def;
		else if (d->type == T_STR)
			d->set(o, d->sdef);
		lo[i].name = d->name;
		lo[i].has_arg = d->arg ? required_argument : no_argument;
		lo[i].val = 256 + (int)i;
	}
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c < 256) {
			fprintf(stderr, "Try 'imlab-bench --help'.\n");
			return -1;
		}
		rc = apply(o, &opts[c - 256], optarg);
		if (rc)
			return rc;
	}
	if (optind < argc) {
		fprintf(stderr, "imlab-bench: unexpected argument \"%s\"\n",
			argv[optind]);
		return -1;
	}
	if (o->peer == BENCH_PEER_NCHAN) {
		o->tps &= ~(1u << BENCH_POLL | 1u << BENCH_SIO |
			    1u << BENCH_SIO_POLLING);
		if (!o->tps) {
			fprintf(stderr, "imlab-bench: --peer nchan: no short "
				"poll and no sio (use longpoll, sse or ws)\n");
			return -1;
		}
	}
	if (o->peer == BENCH_PEER_SOCKETIO) {
		if (o->tps & ~(1u << BENCH_SIO | 1u << BENCH_SIO_POLLING)) {
			fprintf(stderr, "imlab-bench: --peer socket.io: "
				"--transport sio or sio-polling only\n");
			return -1;
		}
	}
	o->rate_milli = o->rate * 1000;
	if (o->rooms > o->subs) {
		fprintf(stderr,
			"imlab-bench: --rooms must not exceed --subs\n");
		return -1;
	}
	if ((uint64_t)o->subs * (((uint64_t)o->msgs + 7) / 8) >
	    SEEN_MAX_BYTES) {
		fprintf(stderr, "imlab-bench: --subs x --msgs is too large "
			"(at most %llu million)\n",
			(unsigned long long)(SEEN_MAX_BYTES * 8 / 1000000));
		return -1;
	}
	return 0;
}

/* ---- --help ---------------------------------------------------------- */

/* Prints s wrapped at 79 columns, col already used on the first line,
 * continuation lines indented by ind; a [bracketed part] is not cut. */
static void
wrap(FILE *f, const char *s, int col, int ind)
{
	while (*s) {
		const char *close = *s == '[' ? strchr(s, ']') : NULL;
		int n = close ? (int)(close + 1 - s) : (int)strcspn(s, " ");

		if (col > ind && col + 1 + n > 79) {
			fprintf(f, "\n%*s", ind, "");
			col = ind;
		} else if (col > ind) {
			fputc(' ', f);
			col++;
		}
		col += fprintf(f, "%.*s", n, s);
		s += n;
		s += strspn(s, " ");
	}
	fputc('\n', f);
}

/* Writes the default and range of d, as "[def; min-max]", into buf. */
static const char *
limits(const struct opt *d, char *buf, size_t len)
{
	char def[32];

	if (d->sdef)
		snprintf(def, sizeof(def), "%s", d->sdef);
	else
		snprintf(def, sizeof(def), "%lld", d->def);
	if (d->type == T_INT)
		snprintf(buf, len, "[%s; %lld-%lld]", def, d->min, d->max);
	else if (d->type == T_STR)
		snprintf(buf, len, "[%s]", def);
	else
		buf[0] = '\0';
	return buf;
}

/* Prints the --help text to f. */
static void
usage(FILE *f)
{
	char head[48], lim[64], text[512];

	fprintf(f, "Usage: imlab-bench [OPTION]...\n");
	wrap(f, summary, 0, 0);
	fputc('\n', f);
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *d = &opts[i];

		snprintf(head, sizeof(head), "  --%s%s%s", d->name,
			 d->arg ? " " : "", d->arg ? d->arg : "");
		snprintf(text, sizeof(text), "%s %s", d->help,
			 limits(d, lim, sizeof(lim)));
		fprintf(f, "%-23s", head);
		wrap(f, text, 23, 23);
	}
	for (int i = 0; description[i]; i++) {
		fputc('\n', f);
		wrap(f, description[i], 0, 0);
	}
	snprintf(text, sizeof(text), "Exit status: %s", exit_status);
	fputc('\n', f);
	wrap(f, text, 0, 0);
}

/* ---- --help-man -------------------------------------------------------- */

/* Prints s as roff text: backslashes and hyphens escaped, a leading
 * control character defused. */
static void
roff(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

/* Prints the man page imlab-bench(1), in roff, to f. */
static void
man(FILE *f)
{
	fprintf(f, ".\\\" SPDX-License-Identifier: MIT\n"
		".\\\" Written by imlab-bench --help-man: edit src/bench/"
		"bench_opts.c, not this.\n"
		".TH IMLAB\\-BENCH 1 \"\" \"imlab %s\" \"User Commands\"\n"
		".SH NAME\nimlab\\-bench \\- load an imlab server and measure "
		"each transport\n.SH SYNOPSIS\n.B imlab\\-bench\n"
		"[\\fIOPTION\\fR]...\n.SH DESCRIPTION\n", PACKAGE_VERSION);
	roff(f, summary);
	for (int i = 0; description[i]; i++) {
		fputs("\n.PP\n", f);
		roff(f, description[i]);
	}
	fputs("\n.SH OPTIONS\n", f);
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *d = &opts[i];

		fputs(".TP\n.B \\-\\-", f);
		roff(f, d->name);
		if (d->arg)
			fprintf(f, " \\fI%s\\fR", d->arg);
		fputc('\n', f);
		roff(f, d->help);
		if (d->type == T_INT || d->type == T_STR) {
			fputs(".\nDefault: ", f);
			if (d->sdef)
				roff(f, d->sdef);
			else
				fprintf(f, "%lld", d->def);
		}
		if (d->type == T_INT)
			fprintf(f, "; range %lld\\-%lld", d->min, d->max);
		fputs(".\n", f);
	}
	fputs(".SH EXIT STATUS\n", f);
	roff(f, exit_status);
	fputs("\n.SH EXAMPLES\n.nf\n", f);
	for (int i = 0; examples[i]; i++) {
		roff(f, examples[i]);
		fputc('\n', f);
	}
	fputs(".fi\n.SH SEE ALSO\n.BR imlab (1),\n"
	      ".I doc/benchmarks.md\nin the imlab sources\n", f);
}
