/* SPDX-License-Identifier: MIT */
/*
 * log: imlab's one log sink. Every module logs through LOG_*() with a tag;
 * libmicrohttpd's and libwebsockets' own messages are routed here too (see
 * log_mhd() and log_lws()). Lines go to stderr as
 * "2026-11-26T11:00:00.123Z INFO  http: message".
 */
#ifndef IMLAB_LOG_H
#define IMLAB_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* The current threshold; messages above it are dropped cheaply. */
extern enum log_level log_threshold;

/* Parses "error|warn|info|debug"; returns 0 and sets *out, or -1. */
int log_level_parse(const char *s, enum log_level *out);

/* Sets the threshold (thread-safe enough: a single int store). */
void log_set_level(enum log_level lvl);

/* Writes one line if lvl passes the threshold. tag is borrowed. */
void log_write(enum log_level lvl, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, with a va_list. */
void log_vwrite(enum log_level lvl, const char *tag, const char *fmt,
		va_list ap) __attribute__((format(printf, 3, 0)));

/* libmicrohttpd's MHD_OPTION_EXTERNAL_LOGGER callback (cls unused). Its
 * lines are logged at info, except those every ordinary disconnect or
 * WebSocket hand-off produces ("Failed to send the chunked response body
 * ...", "Application reported internal error ..."), at debug; the
 * formatted line is what is matched, and is cut at 511 bytes. */
void log_mhd(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* libwebsockets' emit callback for lws_set_log_level(). */
void log_lws(int level, const char *line);

/* The lws log mask matching the current threshold. */
int log_lws_mask(void);

#define LOG_ERROR(tag, ...) log_write(LOG_LVL_ERROR, tag, __VA_ARGS__)
#define LOG_WARN(tag, ...)  do { if (log_threshold >= LOG_LVL_WARN) \
	log_write(LOG_LVL_WARN, tag, __VA_ARGS__); } while (0)
#define LOG_INFO(tag, ...)  do { if (log_threshold >= LOG_LVL_INFO) \
	log_write(LOG_LVL_INFO, tag, __VA_ARGS__); } while (0)
#define LOG_DEBUG(tag, ...) do { if (log_threshold >= LOG_LVL_DEBUG) \
	log_write(LOG_LVL_DEBUG, tag, __VA_ARGS__); } while (0)

#endif
