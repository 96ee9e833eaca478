/* SPDX-License-Identifier: MIT */
/*
 * jbuf: appends that check the bound once each.
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jbuf.h"

void
jbuf_init(struct jbuf *b, char *mem, size_t cap)
{
	b->p = mem;
	b->len = 0;
	b->cap = cap;
	b->over = 0;
}

void
jbuf_raw(struct jbuf *b, const void *s, size_t n)
{
	if (!n)
		return;		/* s may be NULL then: no memcpy */
	if (b->over || n >= b->cap - b->len) {
		b->over = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void
jbuf_printf(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->over = 1;
	else
		b->len += (size_t)n;
}

void
jbuf_str(struct jbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	jbuf_raw(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char e[6] = { '\\', (char)*p, '0', '0', hex[*p >> 4],
			      hex[*p & 15] };

		if (*p == '"' || *p == '\\') {
			jbuf_raw(b, e, 2);
		} else if (*p < 0x20) {
			e[1] = 'u';
			jbuf_raw(b, e, 6);
		} else {
			jbuf_raw(b, p, 1);
		}
	}
	jbuf_raw(b, "\"", 1);
}

size_t
jbuf_str_len(const char *s)
{
	size_t n = 2;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += *p == '"' || *p == '\\' ? 2 : *p < 0x20 ? 6 : 1;
	return n;
}
