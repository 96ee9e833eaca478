#!/bin/sh
# SPDX-License-Identifier: MIT
# test_docs: doc/config.md must list exactly what `imlab --help-md` prints
# (the option table is the single source; regenerate the table with
# `src/imlab --help-md` when an option changes), --help must name every
# option, the built man pages (doc/imlab.1, doc/imlab-bench.1) must be
# what the programs print now and name every option of their --help, and
# every bad option value must exit 2 (bad usage, as the docs say).
set -eu
top=${IMLAB_TOP_SRCDIR:-$(dirname "$0")/../..}
bin=${IMLAB_BIN:-src/imlab}
build=${IMLAB_TOP_BUILDDIR:-$(dirname "$bin")/..}
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.man"' EXIT
"$bin" --help-md > "$tmp"
if ! grep -F -x -f "$tmp" "$top/doc/config.md" | cmp -s - "$tmp"; then
	echo "FAIL: doc/config.md is not in step with 'imlab --help-md':"
	grep -F -x -v -f "$top/doc/config.md" "$tmp" || true
	exit 1
fi
for opt in $(sed -n 's/^| `--\([a-z-]*\) .*/\1/p' "$tmp"); do
	"$bin" --help | grep -q -- "--$opt " ||
		{ echo "FAIL: --help does not mention --$opt"; exit 1; }
done

# The options a man page names: every \-\-word in it, unescaped.
man_opts() {
	grep -o '\\-\\-[a-z][a-z\\-]*' "$1" | sed 's/\\-/-/g' | sort -u
}
# check_man PAGE PROGRAM: PAGE names every --option of PROGRAM --help.
check_man() {
	[ -f "$1" ] || { echo "FAIL: $1 was not built"; exit 1; }
	man_opts "$1" > "$tmp.man"
	for opt in $("$2" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -q -x -- "$opt" "$tmp.man" ||
			{ echo "FAIL: $1 does not mention $opt"; exit 1; }
	done
	rm -f "$tmp.man"
}
"$bin" --help-man | cmp -s - "$build/doc/imlab.1" ||
	{ echo "FAIL: doc/imlab.1 differs from 'imlab --help-man'"; exit 1; }
check_man "$build/doc/imlab.1" "$bin"
if [ -x "$build/src/imlab-bench" ]; then
	check_man "$build/doc/imlab-bench.1" "$build/src/imlab-bench"
fi

# bad usage exits 2, whatever the option
for bad in "--port 70000" "--port x" "--nope" "stray" "--history" \
	   "--bind 1.2.3" "--bind localhost" "--log-level loud" \
	   "--www /nonexistent-imlab-www" "--www $top/README"; do
	# shellcheck disable=SC2086 # word splitting wanted
	if timeout 10 "$bin" $bad >/dev/null 2>&1; then rc=0; else rc=$?; fi
	[ "$rc" -eq 2 ] || { echo "FAIL: imlab $bad exited $rc, not 2"; exit 1; }
done

echo "1 passed, 0 failed"
