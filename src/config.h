/* SPDX-License-Identifier: MIT */
/*
 * config: imlab's one table of options (name, type, default, range, help).
 * The table drives --help, the defaults, the range checks,
 * doc/config.md (imlab --help-md prints it as markdown) and the imlab(1)
 * man page (imlab --help-man prints it as roff).
 */
#ifndef IMLAB_CONFIG_H
#define IMLAB_CONFIG_H

#include <stddef.h>
#include <stdio.h>

struct config {
	int port;
	const char *bind;
	const char *www;		/* NULL: the built-in default */
	int history;
	int max_memory;			/* MiB of messages, all rooms */
	int room_memory;		/* KiB of messages per room */
	int max_rooms;
	int rooms_per_sub;
	int presence_ttl;		/* s */
	int room_idle;			/* s an unused room is kept */
	int max_body;			/* bytes */
	int max_connections;
	int max_longpolls;
	int max_sse;
	int longpoll_timeout;		/* s, default for requests */
	int sse_ping;			/* s */
	int sse_retry;			/* ms, the SSE retry: line */
	int coalesce;			/* ms between writes when busy */
	int head_timeout;		/* s */
	int idle_timeout;		/* s */
	int body_timeout;		/* s, for a whole request body */
	int conn_memory;		/* bytes per HTTP connection */
	int conn_memory_big;		/* the same, big-head daemon */
	int max_head;			/* bytes of a request head */
	int max_per_address;		/* HTTP connections per IP, 0 any */
	int limit_loopback;		/* 1: max_per_address for 127/8 */
	int admin;			/* 1: /api/admin/ (api_admin.c) */
	int admin_remote;		/* 1: admin from any address */
	int admin_restart;		/* 1: /api/admin/restart re-execs */
	const char *allow_origin;	/* origins allowed cross-site (CORS and
					 * WebSocket), comma list; "" none */
	const char *allow_host;		/* Host names served besides ours,
					 * comma list; "" none, "*" any */
	int ws_max_msg;			/* bytes */
	int ws_ping;			/* s */
	int ws_hangup;			/* s */
	const char *log_level;
};

enum config_type { CONFIG_INT, CONFIG_STR };

struct config_opt {
	const char *name;		/* --name */
	enum config_type type;
	size_t off;			/* offset in struct config */
	long long def;			/* CONFIG_INT default */
	const char *sdef;		/* CONFIG_STR default (NULL allowed) */
	long long min, max;		/* CONFIG_INT range */
	const char *arg;		/* placeholder in --help */
	const char *help;
};

/* The option table, terminated by an entry whose name is NULL. */
extern const struct config_opt config_opts[];

/* Fills c with every default. */
void config_defaults(struct config *c);

/* Sets option name (without "--") from the string value, checking type and
 * range (and the form of --bind and --log-level). value is borrowed and
 * must outlive c. Returns 0, or -1 with a message for the user in err. */
int config_set(struct config *c, const char *name, const char *value,
	       char *err, size_t errlen);

enum config_parse_result {
	CONFIG_PARSE_OK = 0,
	CONFIG_PARSE_HELP,		/* --help: usage printed */
	CONFIG_PARSE_HELP_MD,		/* --help-md: markdown printed */
	CONFIG_PARSE_HELP_MAN,		/* --help-man: roff printed */
	CONFIG_PARSE_VERSION,		/* --version printed */
	CONFIG_PARSE_ERROR,		/* err says what is wrong */
};

/* Parses argv ("--name value" or "--name=value") into c, which should hold
 * the defaults. argv strings are borrowed. Prints --help, --help-md,
 * --help-man and --version output to out. */
enum config_parse_result config_parse(struct config *c, int argc,
				      char **argv, FILE *out, char *err,
				      size_t errlen);

/* Checks what parsing cannot: that --www, when given, names a directory
 * imlab can read. Returns 0, or -1 with a message for the user in err (a
 * bad value: exit status 2, like every other bad option). */
int config_check(const struct config *c, char *err, size_t errlen);

/* Prints the --help text. */
void config_usage(FILE *out);

/* Prints the options as a markdown table (doc/config.md). */
void config_markdown(FILE *out);

/* Prints the imlab(1) man page as roff: every option of the table with
 * its default and range, then the signals, exit status and files. */
void config_man(FILE *out);

#endif
