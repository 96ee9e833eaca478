/* SPDX-License-Identifier: MIT */
/*
 * config: the option table and the code it drives: the defaults, the
 * parser and its checks, --help, --help-md (doc/config.md) and --help-man
 * (the imlab(1) man page, built by make from this output).
 */
#include "autoconf.h"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define O(f) offsetof(struct config, f)

const struct config_opt config_opts[] = {
	{ "port", CONFIG_INT, O(port), 8080, NULL, 0, 65535, "N",
	  "TCP port for HTTP and WebSocket (0: any free port)" },
	{ "bind", CONFIG_STR, O(bind), 0, "127.0.0.1", 0, 0, "ADDR",
	  "IPv4 address to listen on (0.0.0.0: every interface)" },
	{ "www", CONFIG_STR, O(www), 0, NULL, 0, 0, "DIR",
	  "directory of the browser client (default: the source tree's www/ "
	  "when run from the build tree, else the installed copy)" },
	{ "history", CONFIG_INT, O(history), 1000, NULL, 1, 1000000, "N",
	  "messages kept per room for catch-up" },
	{ "max-memory", CONFIG_INT, O(max_memory), 256, NULL, 1, 1048576,
	  "MIB", "messages held at most, all rooms; over it the oldest "
	  "anywhere are dropped (readers behind them get a gap)" },
	{ "room-memory", CONFIG_INT, O(room_memory), 16384, NULL, 64,
	  16777216, "KIB", "messages one room holds at most (with --history, "
	  "whichever comes first); over it the room's oldest are dropped" },
	{ "max-rooms", CONFIG_INT, O(max_rooms), 10000, NULL, 1, 1000000,
	  "N", "rooms the server holds at most" },
	{ "rooms-per-sub", CONFIG_INT, O(rooms_per_sub), 16, NULL, 1, 64,
	  "N", "rooms one subscription or connection may join" },
	{ "presence-ttl", CONFIG_INT, O(presence_ttl), 30, NULL, 1, 3600,
	  "SEC", "a poller stays present this long after its last poll" },
	{ "room-idle", CONFIG_INT, O(room_idle), 600, NULL, 0, 86400,
	  "SEC", "a room nobody subscribes to, is a member of or writes to "
	  "is freed with its history after this (0: never; one that never "
	  "held a message is freed at once)" },
	{ "max-body", CONFIG_INT, O(max_body), 65536, NULL, 256, 16777216,
	  "BYTES", "largest publish body (HTTP) and message data" },
	{ "max-connections", CONFIG_INT, O(max_connections), 20000, NULL, 16,
	  1000000, "N", "open connections at most, all transports" },
	{ "max-longpolls", CONFIG_INT, O(max_longpolls), 15000, NULL, 1,
	  1000000, "N", "long polls held at once at most" },
	{ "max-sse", CONFIG_INT, O(max_sse), 15000, NULL, 1, 1000000, "N",
	  "SSE streams open at once at most" },
	{ "longpoll-timeout", CONFIG_INT, O(longpoll_timeout), 25, NULL, 1,
	  60, "SEC", "long-poll hold time when the request gives none" },
	{ "sse-ping", CONFIG_INT, O(sse_ping), 15, NULL, 1, 3600, "SEC",
	  "SSE heartbeat comment interval" },
	{ "coalesce", CONFIG_INT, O(coalesce), 20, NULL, 0, 1000, "MS",
	  "when busy, an SSE stream or long-poll connection writes at most "
	  "once per MS, so waiting messages leave together (0: never wait)" },
	{ "sse-retry", CONFIG_INT, O(sse_retry), 2000, NULL, 0, 600000, "MS",
	  "reconnect delay announced to SSE clients (retry: line)" },
	{ "head-timeout", CONFIG_INT, O(head_timeout), 10, NULL, 1, 300,
	  "SEC", "time a new connection has to send its whole first "
	  "request head (not per byte)" },
	{ "body-timeout", CONFIG_INT, O(body_timeout), 30, NULL, 1, 3600,
	  "SEC", "time a request has to send its whole body (not per byte)" },
	{ "max-head", CONFIG_INT, O(max_head), 16384, NULL, 1024, 65536,
	  "BYTES", "largest request head (request line and headers); "
	  "bigger: 431" },
	{ "max-per-address", CONFIG_INT, O(max_per_address), 256, NULL, 0,
	  1000000, "N", "HTTP connections one IPv4 address may hold open "
	  "(0: no limit; loopback is exempt unless --limit-loopback)" },
	{ "limit-loopback", CONFIG_INT, O(limit_loopback), 0, NULL, 0, 1,
	  "0|1", "1: --max-per-address applies to 127.0.0.0/8 too" },
	{ "admin", CONFIG_INT, O(admin), 0, NULL, 0, 1, "0|1",
	  "1: the chaos switches POST /api/admin/cut and /stall (loopback "
	  "clients only, unless --admin-remote)" },
	{ "admin-remote", CONFIG_INT, O(admin_remote), 0, NULL, 0, 1, "0|1",
	  "1: --admin's switches answer any address, not only 127.0.0.0/8" },
	{ "admin-restart", CONFIG_INT, O(admin_restart), 0, NULL, 0, 1,
	  "0|1", "1 (with --admin): POST /api/admin/restart re-executes the "
	  "server with the same arguments" },
	{ "idle-timeout", CONFIG_INT, O(idle_timeout), 60, NULL, 1, 3600,
	  "SEC", "idle HTTP keep-alive connections are closed after this" },
	{ "conn-memory", CONFIG_INT, O(conn_memory), 4096, NULL, 2048,
	  1048576, "BYTES", "libmicrohttpd memory pool per connection whose "
	  "first head is up to 1 KiB without cookies" },
	{ "conn-memory-big", CONFIG_INT, O(conn_memory_big), 65536, NULL,
	  8192, 1048576, "BYTES", "libmicrohttpd memory pool per connection "
	  "whose first head is bigger or has cookies" },
	{ "allow-origin", CONFIG_STR, O(allow_origin), 0, "", 0, 0, "ORIGINS",
	  "browser origins allowed besides the server's own host, comma-"
	  "separated (* for any): CORS on the HTTP API and the WebSocket "
	  "Origin check (--cors-origin is another name for it)" },
	{ "allow-host", CONFIG_STR, O(allow_host), 0, "", 0, 0, "NAMES",
	  "Host names served besides localhost, 127.0.0.1, [::1], the --bind "
	  "address and the hostname, comma-separated, without ports (* for "
	  "any); with --bind 0.0.0.0 and none given, any Host is served" },
	{ "ws-max-msg", CONFIG_INT, O(ws_max_msg), 65536, NULL, 256, 16777216,
	  "BYTES", "largest WebSocket message (bigger: close 1009)" },
	{ "ws-ping", CONFIG_INT, O(ws_ping), 30, NULL, 1, 3600, "SEC",
	  "idle WebSocket connections are pinged after this" },
	{ "ws-hangup", CONFIG_INT, O(ws_hangup), 45, NULL, 2, 7200, "SEC",
	  "WebSocket peers silent this long are dropped" },
	{ "log-level", CONFIG_STR, O(log_level), 0, "info", 0, 0, "LEVEL",
	  "error, warn, info or debug" },
	{ NULL, CONFIG_INT, 0, 0, NULL, 0, 0, NULL, NULL },
};

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	for (const struct config_opt *o = config_opts; o->name; o++) {
		char *p = (char *)c + o->off;

		if (o->type == CONFIG_INT)
			*(int *)(void *)p = (int)o->def;
		else
			*(const char **)(void *)p = o->sdef;
	}
}

/* Old names that mean an option of the table (kept working, documented
 * in the option's help). */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{ "cors-origin", "allow-origin" },
};

static const struct config_opt *
find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strlen(aliases[i].alias) == len &&
		    !strncmp(aliases[i].alias, name, len)) {
			name = aliases[i].name;
			len = strlen(name);
			break;
		}
	for (const struct config_opt *o = config_opts; o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	return NULL;
}

static int
bind_ok(const char *v)
{
	struct in_addr a;

	return inet_pton(AF_INET, v, &a) == 1;
}

static int
level_ok(const char *v)
{
	enum log_level lvl;

	return !log_level_parse(v, &lvl);
}

/* String options whose value has a form, checked at parse time so a bad
 * value is bad usage (exit 2) like an out-of-range number. */
static const struct {
	const char *name;
	int (*ok)(const char *v);
	const char *want;
} str_checks[] = {
	{ "bind", bind_ok, "an IPv4 address such as 127.0.0.1 or 0.0.0.0" },
	{ "log-level", level_ok, "error, warn, info or debug" },
};

static int
set_opt(struct config *c, const struct config_opt *o, const char *value,
	char *err, size_t errlen)
{
	char *p = (char *)c + o->off;
	long long v;
	char *end;

	if (o->type == CONFIG_STR) {
		for (size_t i = 0; i < sizeof(str_checks) /
		     sizeof(str_checks[0]); i++)
			if (!strcmp(o->name, str_checks[i].name) &&
			    !str_checks[i].ok(value)) {
				snprintf(err, errlen, "--%s: \"%s\" is not %s",
					 o->name, value, str_checks[i].want);
				return -1;
			}
		*(const char **)(void *)p = value;
		return 0;
	}
	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno || end == value || *end) {
		snprintf(err, errlen, "--%s: \"%s\" is not a whole number",
			 o->name, value);
		return -1;
	}
	if (v < o->min || v > o->max) {
		snprintf(err, errlen, "--%s: %lld is out of range %lld-%lld",
			 o->name, v, o->min, o->max);
		return -1;
	}
	*(int *)(void *)p = (int)v;
	return 0;
}

int
config_set(struct config *c, const char *name, const char *value, char *err,
	   size_t errlen)
{
	const struct config_opt *o = find(name, strlen(name));

	if (!o) {
		snprintf(err, errlen, "unknown option --%s", name);
		return -1;
	}
	return set_opt(c, o, value, err, errlen);
}

enum config_parse_result
config_parse(struct config *c, int argc, char **argv, FILE *out, char *err,
	     size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *val;
		const struct config_opt *o;
		size_t len;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			config_usage(out);
			return CONFIG_PARSE_HELP;
		}
		if (!strcmp(a, "--help-md")) {
			config_markdown(out);
			return CONFIG_PARSE_HELP_MD;
		}
		if (!strcmp(a, "--help-man")) {
			config_man(out);
			return CONFIG_PARSE_HELP_MAN;
		}
		if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			fprintf(out, "%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return CONFIG_PARSE_VERSION;
		}
		if (strncmp(a, "--", 2)) {
			snprintf(err, errlen, "unexpected argument \"%s\"", a);
			return CONFIG_PARSE_ERROR;
		}
		a += 2;
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		o = find(a, len);
		if (!o) {
			snprintf(err, errlen, "unknown option --%.*s",
				 (int)len, a);
			return CONFIG_PARSE_ERROR;
		}
		if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			snprintf(err, errlen, "--%s needs a value %s",
				 o->name, o->arg);
			return CONFIG_PARSE_ERROR;
		}
		if (set_opt(c, o, val, err, errlen))
			return CONFIG_PARSE_ERROR;
	}
	return CONFIG_PARSE_OK;
}

int
config_check(const struct config *c, char *err, size_t errlen)
{
	struct stat st;

	if (!c->www || !*c->www)
		return 0;
	if (stat(c->www, &st)) {
		snprintf(err, errlen, "--www %s: %s", c->www, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--www %s: not a directory", c->www);
		return -1;
	}
	if (access(c->www, R_OK | X_OK)) {
		snprintf(err, errlen, "--www %s: %s", c->www, strerror(errno));
		return -1;
	}
	return 0;
}

void
config_usage(FILE *out)
{
	fprintf(out,
		"Usage: imlab [OPTION]...\n"
		"Serve one chat over short polling, long polling, Server-Sent "
		"Events\nand WebSocket on one port (the browser client at "
		"http://ADDR:PORT/).\n\nOptions:\n");
	for (const struct config_opt *o = config_opts; o->name; o++) {
		char head[48];

		snprintf(head, sizeof(head), "--%s %s", o->name, o->arg);
		fprintf(out, "  %-26s %s", head, o->help);
		if (o->type == CONFIG_INT)
			fprintf(out, " [%lld; %lld-%lld]\n", o->def, o->min,
				o->max);
		else if (o->sdef && *o->sdef)
			fprintf(out, " [%s]\n", o->sdef);
		else
			fprintf(out, "\n");
	}
	fprintf(out,
		"  %-26s %s\n  %-26s %s\n  %-26s %s\n  %-26s %s\n\n"
		"SIGINT or SIGTERM stops the server cleanly. Exit status: 0 "
		"after a clean stop,\n1 when the server cannot start, 2 for "
		"bad usage.\n"
		"Report bugs to: <%s>\nHome page: <%s>\n",
		"--help", "print this help and exit",
		"--help-md", "print the options as a markdown table and exit",
		"--help-man", "print the imlab(1) man page (roff) and exit",
		"--version", "print the version and exit",
		PACKAGE_BUGREPORT, PACKAGE_URL);
}

void
config_markdown(FILE *out)
{
	fprintf(out, "| option | default | range | meaning |\n"
		     "|---|---|---|---|\n");
	for (const struct config_opt *o = config_opts; o->name; o++) {
		if (o->type == CONFIG_INT)
			fprintf(out, "| `--%s %s` | %lld | %lld-%lld | %s |\n",
				o->name, o->arg, o->def, o->min, o->max,
				o->help);
		else
			fprintf(out, "| `--%s %s` | %s | | %s |\n", o->name,
				o->arg,
				o->sdef && *o->sdef ? o->sdef : "(none)",
				o->help);
	}
}

/* Writes s as roff text: a backslash is \e, a leading dot or quote is
 * protected with \&, and with dash set every '-' is \- (option names). */
static void
roff(FILE *out, const char *s, int dash)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-' && dash)
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

/* One .TP entry: the option in bold, its placeholder in italics, and its
 * help as a sentence. */
static void
man_item(FILE *out, const char *name, const char *arg, const char *help)
{
	size_t n = strlen(help);

	fputs(".TP\n.B \\-\\-", out);
	roff(out, name, 1);
	if (arg) {
		fputs(" \\fI", out);
		roff(out, arg, 1);
		fputs("\\fR", out);
	}
	fputc('\n', out);
	roff(out, help, 1);	/* an option named in it: \-\- */
	fputs(n && help[n - 1] == '.' ? "\n" : ".\n", out);
}

void
config_man(FILE *out)
{
	fprintf(out,
		".\\\" SPDX-License-Identifier: MIT\n"
		".\\\" Generated by 'imlab --help-man' from the option table "
		"in src/config.c.\n"
		".TH IMLAB 1 \"\" \"%s %s\" \"User Commands\"\n"
		".SH NAME\n"
		"imlab \\- instant-messaging server: one chat over short "
		"polling, long polling, Server-Sent Events and WebSocket\n"
		".SH SYNOPSIS\n"
		".B imlab\n[\\fIOPTION\\fR]...\n"
		".SH DESCRIPTION\n"
		".B imlab\n"
		"serves one chat over the four ways a browser can receive "
		"real-time data \\- short polling, held long polling, "
		"Server-Sent Events and WebSocket \\- on one TCP port, from "
		"one message store and one room layer, and serves its browser "
		"client at\n.IR http://ADDR:PORT/ .\n"
		"A message published over any transport reaches the "
		"subscribers of every transport in the same order with the "
		"same id; a client that reconnects resumes from its last id.\n"
		".PP\n"
		"Every option but the last four below takes a value, as\n"
		".B \\-\\-name value\nor\n.BR \\-\\-name=value .\n"
		"Integer options are range-checked.\n"
		".SH OPTIONS\n", PACKAGE_NAME, PACKAGE_VERSION);
	for (const struct config_opt *o = config_opts; o->name; o++) {
		man_item(out, o->name, o->arg, o->help);
		if (o->type == CONFIG_INT)
			fprintf(out, "Default %lld, range %lld\\(en%lld.\n",
				o->def, o->min, o->max);
		else if (o->sdef && *o->sdef) {
			fputs("Default ", out);
			roff(out, o->sdef, 0);
			fputs(".\n", out);
		}
	}
	man_item(out, "help", NULL, "print a summary of the options and "
		 "exit");
	man_item(out, "help-md", NULL, "print the options as a markdown "
		 "table (doc/config.md) and exit");
	man_item(out, "help-man", NULL, "print this man page (roff) and "
		 "exit");
	man_item(out, "version", NULL, "print the version and exit");
	fprintf(out,
		".SH SIGNALS\n"
		"SIGINT or SIGTERM stops the server cleanly.\n"
		".SH EXIT STATUS\n"
		".TP\n.B 0\nThe server stopped cleanly, or help or the "
		"version was printed.\n"
		".TP\n.B 1\nThe server could not start (for example the port "
		"is in use).\n"
		".TP\n.B 2\nBad usage: an unknown option, a missing or bad "
		"value, an out-of-range number.\n"
		".SH FILES\n"
		".TP\n.I %s\n"
		"The installed browser client, served unless\n"
		".B \\-\\-www\nnames another directory.\n"
		".SH EXAMPLES\n"
		"Listen on every interface, port 9000:\n"
		".PP\n.RS\n.B imlab \\-\\-bind 0.0.0.0 \\-\\-port 9000\n.RE\n"
		".PP\n"
		"Follow a room over Server-Sent Events with curl:\n"
		".PP\n.RS\n"
		".B curl \\-N 'http://localhost:8080/sse?rooms=lobby'\n.RE\n"
		".SH SEE ALSO\n"
		".BR imlab-bench (1).\n"
		"The protocol, the transports and the options are described in "
		"the documents installed in\n.IR %s .\n"
		".SH BUGS\n"
		"Report bugs at\n.IR %s .\n",
		IMLAB_WWWDIR, IMLAB_DOCDIR, PACKAGE_BUGREPORT);
}
