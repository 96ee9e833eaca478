#!/bin/sh
# SPDX-License-Identifier: MIT
# test_docs: doc/config.md must list exactly what `imlab --help-md` prints
# (the option table is the single source; regenerate the table with
# `src/imlab --help-md` when an option changes), and --help must name
# every option.
set -eu
top=${IMLAB_TOP_SRCDIR:-$(dirname "$0")/../..}
bin=${IMLAB_BIN:-src/imlab}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
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
"$bin" --port 70000 >/dev/null 2>&1 && { echo "FAIL: bad port accepted"; exit 1; }
"$bin" --nope >/dev/null 2>&1 && { echo "FAIL: unknown option accepted"; exit 1; }
echo "1 passed, 0 failed"
