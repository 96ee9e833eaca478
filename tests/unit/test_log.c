/* SPDX-License-Identifier: MIT */
/*
 * test_log: the log sink's routing of libmicrohttpd's lines: the line
 * every departed SSE client produces ("Failed to send the chunked response
 * body") is debug, not info, and so is the line every WebSocket hand-off
 * produces (passed as "%s\n" with the text as the argument); other
 * libmicrohttpd lines stay at info. The
 * sink writes to stderr, so each test points stderr at a pipe and reads
 * back what one call wrote.
 */
#include "autoconf.h"

#include <check.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "trun.h"
#include "log.h"

static void
mhd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
mhd(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_mhd(NULL, fmt, ap);
	va_end(ap);
}

/* libmicrohttpd 0.9.75's own format strings */
#define CHUNKED "Failed to send the chunked response body for the request " \
	"for `%s'. Error: %s\n"
#define HEADERS "Failed to send the response headers for the request " \
	"for `%s'. Error: %s\n"
#define INTERNAL "Application reported internal error, closing connection."

/* Logs one libmicrohttpd line (chunked: 1 CHUNKED, 2 INTERNAL, else
 * HEADERS) at
 * threshold lvl; returns the bytes that reached stderr (NUL-terminated in
 * buf). */
static size_t
logged(enum log_level lvl, int chunked, char *buf, size_t cap)
{
	int p[2], saved;
	ssize_t n;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	saved = dup(STDERR_FILENO);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_ge(dup2(p[1], STDERR_FILENO), 0);
	log_set_level(lvl);
	if (chunked == 2)
		mhd("%s\n", INTERNAL);
	else if (chunked)
		mhd(CHUNKED, "/sse", "Broken pipe");
	else
		mhd(HEADERS, "/sse", "Broken pipe");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, cap - 1);
	close(p[0]);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return (size_t)n;
}

START_TEST(chunked_send_failure_is_debug)
{
	char buf[2048];

	ck_assert_uint_eq(logged(LOG_LVL_INFO, 1, buf,
				 sizeof(buf)), 0);
	ck_assert_uint_gt(logged(LOG_LVL_DEBUG, 1, buf,
				 sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "DEBUG mhd: Failed to send the "
				     "chunked response body"));
}
END_TEST

START_TEST(websocket_handoff_is_debug)
{
	char buf[2048];

	ck_assert_uint_eq(logged(LOG_LVL_INFO, 2, buf,
				 sizeof(buf)), 0);
	ck_assert_uint_gt(logged(LOG_LVL_DEBUG, 2, buf,
				 sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "DEBUG mhd: " INTERNAL "\n"));
}
END_TEST

START_TEST(other_mhd_lines_stay_info)
{
	char buf[2048];

	ck_assert_uint_gt(logged(LOG_LVL_INFO, 0, buf,
				 sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "INFO  mhd: Failed to send the "
				     "response headers"));
	ck_assert_uint_eq(logged(LOG_LVL_WARN, 0, buf,
				 sizeof(buf)), 0);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("mhd");

	tcase_add_test(tc, chunked_send_failure_is_debug);
	tcase_add_test(tc, websocket_handoff_is_debug);
	tcase_add_test(tc, other_mhd_lines_stay_info);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return trun(log_suite());
}
