/* SPDX-License-Identifier: MIT */
/*
 * utf8: the one UTF-8 decoder. Well-formed means what RFC 3629 says: no
 * overlong forms, no surrogates, nothing past U+10FFFF, no truncated
 * sequence. jparse checks every input with it, names counts the
 * characters of a display name with it.
 */
#ifndef IMLAB_UTF8_H
#define IMLAB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the sequence at p[0..len) (len > 0). Returns its length (1-4)
 * and sets *cp, or returns 0 when it is malformed. */
size_t utf8_decode(const unsigned char *p, size_t len, uint32_t *cp);

/* Returns 1 if p[0..len) is well-formed UTF-8, else 0. */
int utf8_valid(const void *p, size_t len);

#endif
