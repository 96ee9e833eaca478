#!/bin/sh
# SPDX-License-Identifier: MIT
# check-style: the mechanical part of imlab's C style (HACKING.md) over the
# C files named on the command line (default: every .c and .h under src/
# and tests/): indentation by tabs (at most 7 spaces after the tabs, to
# align a continuation), lines of at most 80 columns with tabs 8 wide, no
# trailing white space, and an SPDX line first. Prints
# `file:line: what [check]` for each finding; exits 1 if there was one,
# else 0. POSIX sh and awk.
set -eu

if [ $# -eq 0 ]; then
	top=$(cd "$(dirname "$0")/.." && pwd)
	set -- $(find "$top/src" "$top/tests" -name '*.[ch]' | sort)
fi

LC_ALL=C awk '
FNR == 1 && $0 !~ /SPDX-License-Identifier:/ {
	printf "%s:1: no SPDX line first [spdx]\n", FILENAME; bad = 1
}
{
	line = $0
	if (line ~ /[ \t]+$/) {
		printf "%s:%d: trailing white space [trailing]\n", FILENAME, FNR
		bad = 1
	}
	match(line, /^[ \t]*/)
	lead = substr(line, 1, RLENGTH)
	if (lead ~ / \t/ || lead ~ /        /) {
		printf "%s:%d: indent with tabs [indent]\n", FILENAME, FNR
		bad = 1
	}
	col = 0
	n = length(line)
	for (i = 1; i <= n; i++) {
		c = substr(line, i, 1)
		if (c == "\t")
			col += 8 - col % 8
		else if (c < "\200" || c >= "\300")
			col++	# a UTF-8 continuation byte adds no column
	}
	if (col > 80) {
		printf "%s:%d: %d columns (80 at most) [columns]\n", \
			    FILENAME, FNR, col
		bad = 1
	}
}
END { exit bad }
' "$@"
