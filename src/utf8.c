/* SPDX-License-Identifier: MIT */
/*
 * utf8: decoding by the table of RFC 3629 section 4: the lead byte gives
 * the length, each continuation byte is 10xxxxxx, and the value must be
 * the shortest form of a scalar value.
 */
#include "autoconf.h"

#include "utf8.h"

size_t
utf8_decode(const unsigned char *p, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t c = p[0];

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3;
		c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return n;
}

int
utf8_valid(const void *buf, size_t len)
{
	const unsigned char *p = buf, *end = p + len;
	uint32_t cp;

	while (p < end) {
		size_t n;

		if (*p < 0x80) {
			p++;	/* the common case, kept cheap */
			continue;
		}
		n = utf8_decode(p, (size_t)(end - p), &cp);
		if (!n)
			return 0;
		p += n;
	}
	return 1;
}
