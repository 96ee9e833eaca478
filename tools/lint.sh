#!/bin/sh
# SPDX-License-Identifier: MIT
# lint: imlab's static checks over every C file of src/ and tests/ (run by
# `make lint`, and by CI): the style check (tools/check-style.sh: tabs,
# 80 columns, SPDX), the include-cycle check (tools/inccycle.sh: no cycle
# among the modules of src/, nor among those of src/bench/), cppcheck
# (warning, performance, portability) and clang-tidy (.clang-tidy:
# clang-analyzer-* and a curated bugprone-* set).
# Every finding is printed as `file:line: message [check]`; exits 1 if
# there is one, 0 when clean, 2 when a tool is missing.
#
#   tools/lint.sh [SRCDIR]
#
# Environment: LINT_CFLAGS (the compiler flags clang-tidy parses with:
# include paths of the build and of the libraries; `make lint` passes
# them), CPPCHECK, CLANG_TIDY (the programs), LINT_JOBS (clang-tidy
# processes at once, default 2).
#
# A false positive is silenced where it is, with the reason beside it:
# `/* cppcheck-suppress ID: why */` on the line above, or
# `/* NOLINT(check): why */` on the line. tools/lint-pending lists the
# findings known in files that are being rewritten elsewhere (path and
# check): they are printed but do not fail; the list should be empty.
set -u

top=$(cd "${1:-$(dirname "$0")/..}" && pwd)
cppcheck=${CPPCHECK:-cppcheck}
tidy=${CLANG_TIDY:-clang-tidy}
jobs=${LINT_JOBS:-2}
cflags=${LINT_CFLAGS:-"-I$top/src -I$top -I$top/tests/lib \
$(pkg-config --cflags libmicrohttpd libwebsockets json-c check libcurl \
2>/dev/null)"}

for t in "$cppcheck" "$tidy"; do
	command -v "$t" >/dev/null 2>&1 || {
		echo "lint: $t missing (apt-get install -y cppcheck clang-tidy)" >&2
		exit 2
	}
done

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
cd "$top" || exit 2
find src tests -name '*.[ch]' | LC_ALL=C sort >"$tmp/files"
grep '\.c$' "$tmp/files" >"$tmp/cfiles"

echo "lint: style ($(wc -l <"$tmp/files") files)"
sh "$top/tools/check-style.sh" $(cat "$tmp/files") >"$tmp/style"

echo "lint: include cycles (src, src/bench)"
sh "$top/tools/inccycle.sh" src src/bench |
	sed 's/^inccycle: \([^:]*\): \(.*\)/\1: 0: include cycle \2 [inccycle]/' \
	>>"$tmp/style"

echo "lint: cppcheck"
# only the project's include paths: the libraries' headers would make it
# slow and are not ours to check
"$cppcheck" -q --std=c11 --library=posix \
	--enable=warning,performance,portability --inline-suppr \
	--suppress=missingIncludeSystem \
	-I src -I tests/lib \
	--template='{file}:{line}: {message} [{id}]' \
	$(cat "$tmp/cfiles") 2>"$tmp/cppcheck" >/dev/null

echo "lint: clang-tidy ($(wc -l <"$tmp/cfiles") files, $jobs at once)"
# shellcheck disable=SC2086 # $cflags is a list of flags
<"$tmp/cfiles" xargs -P "$jobs" -I{} "$tidy" -quiet {} -- -std=gnu11 \
	$cflags '-DIMLAB_WWWDIR="lint"' '-DIMLAB_SRCWWW="lint"' \
	'-DIMLAB_BUILDDIR="lint"' >"$tmp/tidy" 2>"$tmp/tidy.err"
grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): ' "$tmp/tidy" |
	sed -e "s|^$top/||" -e 's/^\([^:]*:[0-9]*\):[0-9]*: [a-z]*: /\1: /' \
	    -e 's/,-warnings-as-errors\]$/]/' | LC_ALL=C sort -u >"$tmp/tidy.f"

# every finding as `path:line: message [check]`, then split by the
# pending list (path and check, comments after #)
sed "s|^$top/||" "$tmp/style" "$tmp/cppcheck" | cat - "$tmp/tidy.f" |
	grep . >"$tmp/all"
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$top/tools/lint-pending" \
	2>/dev/null | awk '{ print $1 ":[0-9]*: .*\\[" $2 "\\]$" }' \
	>"$tmp/pending"
[ -s "$tmp/pending" ] || echo '^$' >"$tmp/pending"
grep -E -f "$tmp/pending" "$tmp/all" >"$tmp/known"
grep -E -v -f "$tmp/pending" "$tmp/all" >"$tmp/new"

if [ -s "$tmp/known" ]; then
	echo "lint: pending (tools/lint-pending), not failing:"
	sed 's/^/  /' "$tmp/known"
fi
if [ -s "$tmp/new" ]; then
	cat "$tmp/new"
	echo "lint: $(wc -l <"$tmp/new") finding(s)"
	exit 1
fi
echo "lint: clean"
