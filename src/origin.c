/* SPDX-License-Identifier: MIT */
/*
 * origin: matching an Origin against the --allow-origin list.
 */
#include "autoconf.h"

#include <string.h>
#include <strings.h>

#include "origin.h"

int
origin_listed(const char *origin, const char *allow)
{
	size_t olen = strlen(origin);

	while (allow && *allow) {
		const char *end = strchr(allow, ',');
		size_t n;

		while (*allow == ' ')
			allow++;
		n = end ? (size_t)(end - allow) : strlen(allow);
		while (n && allow[n - 1] == ' ')
			n--;
		if ((n == 1 && *allow == '*') ||
		    (n == olen && !strncasecmp(allow, origin, n)))
			return 1;
		allow = end ? end + 1 : NULL;
	}
	return 0;
}
