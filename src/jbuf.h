/* SPDX-License-Identifier: MIT */
/*
 * jbuf: the one bounded JSON builder and string escaper. It writes into
 * a buffer the caller owns and never past its end: an append that does
 * not fit marks the builder over (and writes nothing more), so a caller
 * checks once, at the end. Escaping is JSON's minimum: \" \\ and \u00XX
 * for control characters; other bytes (UTF-8) go as they are.
 */
#ifndef IMLAB_JBUF_H
#define IMLAB_JBUF_H

#include <stddef.h>
#include <string.h>

struct jbuf {
	char *p;	/* borrowed: cap bytes */
	size_t len;	/* bytes written */
	size_t cap;	/* one byte always stays free (for a NUL) */
	int over;	/* an append did not fit */
};

/* Starts an empty builder over mem[0..cap) (borrowed). */
void jbuf_init(struct jbuf *b, char *mem, size_t cap);

/* Appends n bytes of s as they are. */
void jbuf_raw(struct jbuf *b, const void *s, size_t n);

/* Appends the C string s as it is. */
static inline void
jbuf_puts(struct jbuf *b, const char *s)
{
	jbuf_raw(b, s, strlen(s));
}

/* Appends printf-formatted text. */
void jbuf_printf(struct jbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends the C string s as a JSON string, quotes included. */
void jbuf_str(struct jbuf *b, const char *s);

/* Returns how many bytes jbuf_str() writes for s, quotes included. */
size_t jbuf_str_len(const char *s);

#endif
