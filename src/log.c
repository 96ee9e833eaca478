/* SPDX-License-Identifier: MIT */
/*
 * log: the one sink. Formats a UTC timestamp, level and tag, and writes the
 * whole line with a single write(2) so lines from different threads never
 * interleave.
 */
#include "autoconf.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "log.h"

enum log_level log_threshold = LOG_LVL_INFO;

static const char *const level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

int
log_level_parse(const char *s, enum log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (int i = 0; i < 4; i++)
		if (!strcasecmp(s, names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

void
log_set_level(enum log_level lvl)
{
	log_threshold = lvl;
}

void
log_vwrite(enum log_level lvl, const char *tag, const char *fmt, va_list ap)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	int n, m;

	if (lvl > log_threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
		     level_names[lvl], tag);
	if (n < 0)
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	if ((size_t)n + (size_t)m >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;	/* vsnprintf cut it short */
	else
		n += m;
	/* strip trailing newlines the libraries add, then add exactly one */
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}

void
log_write(enum log_level lvl, const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(lvl, tag, fmt, ap);
	va_end(ap);
}

/*
 * libmicrohttpd's lines that every ordinary disconnect produces (an SSE
 * client that leaves makes the chunked send fail): logged at debug, so an
 * info log is not one line per departed subscriber (issue 10 item 7).
 */
static const char *const mhd_quiet[] = {
	"Failed to send the chunked response body",
	/* every WebSocket upgrade leaves libmicrohttpd this way
	 * (http_request.c) */
	"Application reported internal error",
};

static enum log_level
mhd_level(const char *line)
{
	for (size_t i = 0; i < sizeof(mhd_quiet) / sizeof(mhd_quiet[0]); i++)
		if (!strncmp(line, mhd_quiet[i], strlen(mhd_quiet[i])))
			return LOG_LVL_DEBUG;
	/* mostly peers that went away: not worth a warning */
	return LOG_LVL_INFO;
}

void
log_mhd(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	/* matched on the formatted line: libmicrohttpd passes some messages
	 * as "%s\n" with the text as the argument */
	if (vsnprintf(line, sizeof(line), fmt, ap) < 0)
		return;
	log_write(mhd_level(line), "mhd", "%s", line);
}

void
log_lws(int level, const char *line)
{
	enum log_level lvl = LOG_LVL_DEBUG;

	if (level & LLL_ERR)
		lvl = LOG_LVL_ERROR;
	else if (level & LLL_WARN)
		lvl = LOG_LVL_WARN;
	else if (level & (LLL_NOTICE | LLL_USER))
		lvl = LOG_LVL_INFO;
	/* lws 4.1.6 logs every adoption with a read buffer (each WebSocket
	 * upgrade, http_upgrade.c) at error level: it is not one */
	if (!strncmp(line, "adopt_socket_readbuf: ", 22))
		lvl = LOG_LVL_DEBUG;
	log_write(lvl, "lws", "%s", line);
}

int
log_lws_mask(void)
{
	switch (log_threshold) {
	case LOG_LVL_ERROR:	return LLL_ERR;
	case LOG_LVL_WARN:	return LLL_ERR | LLL_WARN;
	case LOG_LVL_INFO:	return LLL_ERR | LLL_WARN | LLL_USER;
	case LOG_LVL_DEBUG:	return LLL_ERR | LLL_WARN | LLL_NOTICE |
				       LLL_USER | LLL_INFO;
	}
	return LLL_ERR;
}
