#!/bin/sh
# SPDX-License-Identifier: MIT
# test_unit: contrib/imlab.service is a unit systemd accepts (checked with
# `systemd-analyze verify`, its ExecStart pointed at the built imlab and
# its man: link at the built imlab(1)) and keeps what the packaging
# promises: a transient user, a file limit for 20000 connections, and the
# hardening of a network daemon. SKIP (77) without systemd-analyze.
set -eu
top=${IMLAB_TOP_SRCDIR:-$(dirname "$0")/../..}
build=${IMLAB_TOP_BUILDDIR:-.}
unit="$top/contrib/imlab.service.in"

for want in DynamicUser=yes LimitNOFILE=65536 NoNewPrivileges=yes \
	    ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	    'ExecStart=@bindir@/imlab '; do
	grep -q -F -- "$want" "$unit" ||
		{ echo "FAIL: imlab.service lacks $want"; exit 1; }
done
command -v systemd-analyze >/dev/null 2>&1 ||
	{ echo "SKIP: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/man/man1"
cp "$build/doc/imlab.1" "$tmp/man/man1/"
sed -e "s|@bindir@|$build/src|g" "$unit" > "$tmp/imlab.service"
if ! MANPATH="$tmp/man" systemd-analyze verify "$tmp/imlab.service" \
	> "$tmp/out" 2>&1 || [ -s "$tmp/out" ]; then
	echo "FAIL: systemd-analyze verify imlab.service:"
	cat "$tmp/out"
	exit 1
fi
echo "1 passed, 0 failed"
