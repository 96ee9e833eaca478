/* SPDX-License-Identifier: MIT */
/*
 * test_config: the one option table and what it drives: the defaults,
 * "--name value" and "--name=value", type and range checks at both ends
 * of every integer option, unknown options and stray arguments, --help
 * listing every option of the table, --help-md, --help-man, and
 * --version.
 */
#include "autoconf.h"

#include <check.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trun.h"
#include "config.h"

static char errbuf[256];

/* Output written to a stream, as a string the caller frees. */
struct capture {
	FILE *f;
	char *buf;
	size_t len;
};

static void
capture_open(struct capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	ck_assert_ptr_nonnull(c->f);
}

static char *
capture_close(struct capture *c)
{
	fclose(c->f);
	ck_assert_ptr_nonnull(c->buf);
	return c->buf;
}

/* Ends parse()'s argument list: a null pointer of the type va_arg reads
 * (a bare NULL may be an int 0 in a variadic call). */
#define ARGS_END ((const char *)NULL)

/* Parses the ARGS_END-terminated argument list into c (from the
 * defaults); output goes to out (NULL: discarded). */
static enum config_parse_result
parse(struct config *c, FILE *out, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	FILE *null = NULL;
	enum config_parse_result r;

	argv[argc++] = (char *)(uintptr_t)"imlab";
	va_start(ap, out);
	for (;;) {
		const char *a = va_arg(ap, const char *);

		if (!a)
			break;
		ck_assert_int_lt(argc, 31);
		argv[argc++] = (char *)(uintptr_t)a;
	}
	va_end(ap);
	argv[argc] = NULL;
	config_defaults(c);
	errbuf[0] = '\0';
	if (!out)
		out = null = fopen("/dev/null", "w");
	r = config_parse(c, argc, argv, out, errbuf, sizeof(errbuf));
	if (null)
		fclose(null);
	return r;
}

static int
int_at(const struct config *c, const struct config_opt *o)
{
	return *(const int *)(const void *)((const char *)c + o->off);
}

static const char *
str_at(const struct config *c, const struct config_opt *o)
{
	return *(const char *const *)(const void *)((const char *)c + o->off);
}

START_TEST(defaults_come_from_the_table)
{
	struct config c;

	memset(&c, 0xa5, sizeof(c));
	config_defaults(&c);
	for (const struct config_opt *o = config_opts; o->name; o++) {
		if (o->type == CONFIG_INT)
			ck_assert_int_eq(int_at(&c, o), o->def);
		else
			ck_assert_ptr_eq(str_at(&c, o), o->sdef);
	}
	/* and the documented values */
	ck_assert_int_eq(c.port, 8080);
	ck_assert_str_eq(c.bind, "127.0.0.1");
	ck_assert_ptr_null(c.www);
	ck_assert_int_eq(c.history, 1000);
	ck_assert_int_eq(c.presence_ttl, 30);
	ck_assert_int_eq(c.longpoll_timeout, 25);
	ck_assert_int_eq(c.sse_ping, 15);
	ck_assert_int_eq(c.conn_memory, 4096);
	ck_assert_str_eq(c.allow_origin, "");
	ck_assert_str_eq(c.log_level, "info");
}
END_TEST

START_TEST(table_is_consistent)
{
	size_t n = 0;

	for (const struct config_opt *o = config_opts; o->name; o++, n++) {
		ck_assert_msg(o->name[0] && strncmp(o->name, "--", 2),
			      "option %zu name", n);
		ck_assert_ptr_nonnull(o->arg);
		ck_assert_ptr_nonnull(o->help);
		ck_assert_msg(o->help[0], "--%s has no help", o->name);
		ck_assert_uint_le(o->off + (o->type == CONFIG_INT ?
			sizeof(int) : sizeof(char *)), sizeof(struct config));
		if (o->type == CONFIG_INT) {
			ck_assert_msg(o->min <= o->def && o->def <= o->max,
				      "--%s default out of range", o->name);
			ck_assert_int_ge(o->min, INT_MIN);
			ck_assert_int_le(o->max, INT_MAX);
		}
		for (const struct config_opt *p = config_opts; p != o; p++) {
			ck_assert_str_ne(p->name, o->name);
			ck_assert_uint_ne(p->off, o->off);
		}
	}
	ck_assert_uint_gt(n, 20);
}
END_TEST

START_TEST(parse_takes_separate_and_joined_values)
{
	struct config c;

	ck_assert_int_eq(parse(&c, NULL, "--port", "9000", "--history=5",
			       "--bind=0.0.0.0", "--www", "/srv/www",
			       "--cors-origin=https://a.example",
			       "--log-level", "debug", ARGS_END),
			 CONFIG_PARSE_OK);
	ck_assert_int_eq(c.port, 9000);
	ck_assert_int_eq(c.history, 5);
	ck_assert_str_eq(c.bind, "0.0.0.0");
	ck_assert_str_eq(c.www, "/srv/www");
	/* --cors-origin is another name of --allow-origin */
	ck_assert_str_eq(c.allow_origin, "https://a.example");
	ck_assert_str_eq(c.log_level, "debug");
	/* the rest keep their defaults */
	ck_assert_int_eq(c.max_rooms, 10000);
	ck_assert_int_eq(c.sse_retry, 2000);
}
END_TEST

START_TEST(parse_of_no_arguments_keeps_defaults)
{
	struct config c, d;

	ck_assert_int_eq(parse(&c, NULL, ARGS_END), CONFIG_PARSE_OK);
	config_defaults(&d);
	ck_assert_mem_eq(&c, &d, sizeof(c));
}
END_TEST

START_TEST(later_options_win_and_values_are_borrowed)
{
	struct config c;
	char *argv[] = {
		(char *)(uintptr_t)"imlab",
		(char *)(uintptr_t)"--port=1",
		(char *)(uintptr_t)"--port", (char *)(uintptr_t)"2",
		(char *)(uintptr_t)"--bind", (char *)(uintptr_t)"10.0.0.1",
		NULL,
	};

	config_defaults(&c);
	ck_assert_int_eq(config_parse(&c, 6, argv, stdout, errbuf,
				      sizeof(errbuf)), CONFIG_PARSE_OK);
	ck_assert_int_eq(c.port, 2);
	ck_assert_ptr_eq(c.bind, argv[5]);
}
END_TEST

START_TEST(values_may_contain_equals_and_be_empty)
{
	struct config c;

	ck_assert_int_eq(parse(&c, NULL, "--cors-origin=http://h/?a=b",
			       ARGS_END), CONFIG_PARSE_OK);
	ck_assert_str_eq(c.allow_origin, "http://h/?a=b");
	ck_assert_int_eq(parse(&c, NULL, "--allow-origin=http://h/?a=b",
			       "--cors-origin=", ARGS_END), CONFIG_PARSE_OK);
	ck_assert_str_eq(c.allow_origin, "");
}
END_TEST

START_TEST(int_options_take_their_range_and_refuse_beyond)
{
	for (const struct config_opt *o = config_opts; o->name; o++) {
		struct config c;
		char v[32];

		if (o->type != CONFIG_INT)
			continue;
		config_defaults(&c);
		snprintf(v, sizeof(v), "%lld", o->min);
		ck_assert_msg(!config_set(&c, o->name, v, errbuf,
					  sizeof(errbuf)), "%s", errbuf);
		ck_assert_int_eq(int_at(&c, o), o->min);
		snprintf(v, sizeof(v), "%lld", o->max);
		ck_assert_msg(!config_set(&c, o->name, v, errbuf,
					  sizeof(errbuf)), "%s", errbuf);
		ck_assert_int_eq(int_at(&c, o), o->max);

		snprintf(v, sizeof(v), "%lld", o->min - 1);
		errbuf[0] = '\0';
		ck_assert_int_eq(config_set(&c, o->name, v, errbuf,
					    sizeof(errbuf)), -1);
		ck_assert_msg(strstr(errbuf, o->name) &&
			      strstr(errbuf, "out of range"), "%s", errbuf);
		snprintf(v, sizeof(v), "%lld", o->max + 1);
		ck_assert_int_eq(config_set(&c, o->name, v, errbuf,
					    sizeof(errbuf)), -1);
		ck_assert_msg(strstr(errbuf, "out of range"), "%s", errbuf);
		/* a refused value leaves the option as it was */
		ck_assert_int_eq(int_at(&c, o), o->max);
	}
}
END_TEST

START_TEST(range_errors_are_reported)
{
	struct config c;

	ck_assert_int_eq(parse(&c, NULL, "--port", "65536", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_str_eq(errbuf, "--port: 65536 is out of range 0-65535");
	ck_assert_int_eq(parse(&c, NULL, "--port=-1", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_ptr_nonnull(strstr(errbuf, "out of range"));
	ck_assert_int_eq(parse(&c, NULL, "--history", "0", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_ptr_nonnull(strstr(errbuf, "--history"));
	ck_assert_int_eq(parse(&c, NULL, "--longpoll-timeout=61", ARGS_END),
			 CONFIG_PARSE_ERROR);
	/* a value that would wrap an int */
	ck_assert_int_eq(parse(&c, NULL, "--max-rooms=4294967297", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_int_eq(c.max_rooms, 10000);
}
END_TEST

START_TEST(non_numbers_are_refused)
{
	static const char *const bad[] = {
		"", "abc", "12x", "1.5", "0x10", "1e3", "99999999999999999999",
		"-99999999999999999999", "8080 ",
	};
	struct config c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(&c, NULL, "--port", bad[i], ARGS_END) ==
			      CONFIG_PARSE_ERROR, "\"%s\" taken", bad[i]);
		ck_assert_ptr_nonnull(strstr(errbuf, "--port"));
		ck_assert_int_eq(c.port, 8080);
	}
	ck_assert_int_eq(parse(&c, NULL, "--port=abc", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_str_eq(errbuf, "--port: \"abc\" is not a whole number");
}
END_TEST

START_TEST(unknown_options_are_refused)
{
	struct config c;

	ck_assert_int_eq(parse(&c, NULL, "--nope", "1", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_str_eq(errbuf, "unknown option --nope");
	ck_assert_int_eq(parse(&c, NULL, "--nope=1", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_str_eq(errbuf, "unknown option --nope");
	/* a prefix of a name is not the name */
	ck_assert_int_eq(parse(&c, NULL, "--por", "1", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_int_eq(parse(&c, NULL, "--port-x=1", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_int_eq(parse(&c, NULL, "--PORT=1", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_int_eq(parse(&c, NULL, "--", ARGS_END), CONFIG_PARSE_ERROR);
	ck_assert_int_eq(parse(&c, NULL, "--=1", ARGS_END), CONFIG_PARSE_ERROR);
	ck_assert_int_eq(config_set(&c, "nope", "1", errbuf,
				    sizeof(errbuf)), -1);
	ck_assert_str_eq(errbuf, "unknown option --nope");
}
END_TEST

START_TEST(stray_arguments_are_refused)
{
	struct config c;

	ck_assert_int_eq(parse(&c, NULL, "port", "1", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_str_eq(errbuf, "unexpected argument \"port\"");
	ck_assert_int_eq(parse(&c, NULL, "-p", "1", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_int_eq(parse(&c, NULL, "--port", "1", "2", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_int_eq(parse(&c, NULL, "", ARGS_END), CONFIG_PARSE_ERROR);
}
END_TEST

START_TEST(missing_value_is_refused)
{
	struct config c;

	ck_assert_int_eq(parse(&c, NULL, "--port", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_str_eq(errbuf, "--port needs a value N");
	ck_assert_int_eq(parse(&c, NULL, "--history=1", "--bind", ARGS_END),
			 CONFIG_PARSE_ERROR);
	ck_assert_ptr_nonnull(strstr(errbuf, "--bind needs a value"));
}
END_TEST

START_TEST(bind_and_log_level_must_have_their_form)
{
	static const char *const bad[][2] = {
		{ "--bind", "localhost" }, { "--bind", "1.2.3" },
		{ "--bind", "256.0.0.1" }, { "--bind", "" },
		{ "--log-level", "loud" }, { "--log-level", "" },
	};
	struct config c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(parse(&c, NULL, bad[i][0], bad[i][1],
				       ARGS_END),
				 CONFIG_PARSE_ERROR);
		ck_assert_msg(strstr(errbuf, bad[i][0]), "%s", errbuf);
		/* the refused value is not kept */
		ck_assert_str_eq(c.bind, "127.0.0.1");
		ck_assert_str_eq(c.log_level, "info");
	}
	ck_assert_int_eq(parse(&c, NULL, "--bind", "0.0.0.0", "--log-level",
			       "WARN", ARGS_END), CONFIG_PARSE_OK);
}
END_TEST

START_TEST(check_wants_www_to_be_a_directory)
{
	struct config c;

	config_defaults(&c);
	ck_assert_int_eq(config_check(&c, errbuf, sizeof(errbuf)), 0);
	c.www = "/";
	ck_assert_int_eq(config_check(&c, errbuf, sizeof(errbuf)), 0);
	c.www = "/nonexistent-imlab-www";
	ck_assert_int_eq(config_check(&c, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "--www /nonexistent-imlab-www"));
	c.www = "/dev/null";
	ck_assert_int_eq(config_check(&c, errbuf, sizeof(errbuf)), -1);
	ck_assert_ptr_nonnull(strstr(errbuf, "not a directory"));
}
END_TEST

START_TEST(help_lists_every_option)
{
	static const char *const flags[] = { "--help", "-h" };

	for (size_t i = 0; i < 2; i++) {
		struct config c;
		struct capture cap;
		char *text;

		capture_open(&cap);
		ck_assert_int_eq(parse(&c, cap.f, flags[i], ARGS_END),
				 CONFIG_PARSE_HELP);
		text = capture_close(&cap);
		ck_assert_ptr_nonnull(strstr(text, "Usage: imlab"));
		for (const struct config_opt *o = config_opts; o->name; o++) {
			char want[128];

			snprintf(want, sizeof(want), "--%s %s ", o->name,
				 o->arg);
			ck_assert_msg(strstr(text, want), "no %s", want);
			ck_assert_msg(strstr(text, o->help), "no help of %s",
				      o->name);
		}
		ck_assert_ptr_nonnull(strstr(text, "--help "));
		ck_assert_ptr_nonnull(strstr(text, "--help-md "));
		ck_assert_ptr_nonnull(strstr(text, "--help-man "));
		ck_assert_ptr_nonnull(strstr(text, "--version "));
		/* defaults and ranges are shown */
		ck_assert_ptr_nonnull(strstr(text, "[8080; 0-65535]"));
		ck_assert_ptr_nonnull(strstr(text, "[127.0.0.1]"));
		free(text);
	}
}
END_TEST

START_TEST(help_stops_parsing)
{
	struct config c;

	ck_assert_int_eq(parse(&c, NULL, "--port=1", "--help", "--nope",
			       ARGS_END), CONFIG_PARSE_HELP);
}
END_TEST

#define MD_HEAD "| option | default | range | meaning |\n|---|---|---|---|\n"

START_TEST(help_md_is_a_table_row_per_option)
{
	struct config c;
	struct capture cap;
	char *text, *line;
	size_t rows = 0, opts = 0;

	capture_open(&cap);
	ck_assert_int_eq(parse(&c, cap.f, "--help-md", ARGS_END),
			 CONFIG_PARSE_HELP_MD);
	text = capture_close(&cap);
	ck_assert_int_eq(strncmp(text, MD_HEAD, strlen(MD_HEAD)), 0);
	for (line = text; (line = strstr(line, "\n| `--")); line++)
		rows++;
	for (const struct config_opt *o = config_opts; o->name; o++) {
		char want[64];

		snprintf(want, sizeof(want), "| `--%s %s` |", o->name, o->arg);
		ck_assert_msg(strstr(text, want), "no row for %s", o->name);
		opts++;
	}
	ck_assert_uint_eq(rows, opts);
	ck_assert_ptr_nonnull(strstr(text, "| `--port N` | 8080 | 0-65535 |"));
	ck_assert_ptr_nonnull(strstr(text, "| `--www DIR` | (none) | |"));
	free(text);
}
END_TEST

START_TEST(help_man_has_an_entry_per_option)
{
	struct config c;
	struct capture cap;
	char *text;

	capture_open(&cap);
	ck_assert_int_eq(parse(&c, cap.f, "--help-man", ARGS_END),
			 CONFIG_PARSE_HELP_MAN);
	text = capture_close(&cap);
	ck_assert_ptr_nonnull(strstr(text, "\n.TH IMLAB 1 "));
	for (const struct config_opt *o = config_opts; o->name; o++) {
		char want[96];
		size_t n;

		/* ".TP\n.B \-\-max\-rooms \fIN\fR" */
		n = (size_t)snprintf(want, sizeof(want), ".TP\n.B \\-\\-");
		for (const char *p = o->name; *p && n + 2 < 48; p++) {
			if (*p == '-')
				want[n++] = '\\';
			want[n++] = *p;
		}
		snprintf(want + n, sizeof(want) - n, " \\fI%s\\fR\n",
			 o->arg);
		ck_assert_msg(strstr(text, want), "no entry %s", want);
	}
	ck_assert_ptr_nonnull(strstr(text,
				     "Default 8080, range 0\\(en65535."));
	ck_assert_ptr_nonnull(strstr(text, ".SH EXIT STATUS\n"));
	free(text);
}
END_TEST

START_TEST(version_prints_name_and_version)
{
	static const char *const flags[] = { "--version", "-V" };

	for (size_t i = 0; i < 2; i++) {
		struct config c;
		struct capture cap;
		char *text;

		capture_open(&cap);
		ck_assert_int_eq(parse(&c, cap.f, flags[i], ARGS_END),
				 CONFIG_PARSE_VERSION);
		text = capture_close(&cap);
		ck_assert_str_eq(text, PACKAGE_NAME " " PACKAGE_VERSION "\n");
		ck_assert_int_eq(strncmp(text, "imlab ", 6), 0);
		free(text);
	}
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("table");

	tcase_add_test(tc, defaults_come_from_the_table);
	tcase_add_test(tc, table_is_consistent);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, parse_takes_separate_and_joined_values);
	tcase_add_test(tc, parse_of_no_arguments_keeps_defaults);
	tcase_add_test(tc, later_options_win_and_values_are_borrowed);
	tcase_add_test(tc, values_may_contain_equals_and_be_empty);
	tcase_add_test(tc, int_options_take_their_range_and_refuse_beyond);
	tcase_add_test(tc, range_errors_are_reported);
	tcase_add_test(tc, non_numbers_are_refused);
	tcase_add_test(tc, unknown_options_are_refused);
	tcase_add_test(tc, stray_arguments_are_refused);
	tcase_add_test(tc, missing_value_is_refused);
	tcase_add_test(tc, bind_and_log_level_must_have_their_form);
	tcase_add_test(tc, check_wants_www_to_be_a_directory);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_test(tc, help_lists_every_option);
	tcase_add_test(tc, help_stops_parsing);
	tcase_add_test(tc, help_md_is_a_table_row_per_option);
	tcase_add_test(tc, help_man_has_an_entry_per_option);
	tcase_add_test(tc, version_prints_name_and_version);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(suite());
}
