#!/bin/sh
# SPDX-License-Identifier: MIT
# test_py_interop: imlab against third-party Python clients (Debian's
# python3-aiohttp and python3-websockets): runs py_interop.py beside this
# script against a spawned imlab on a free port: aiohttp upgrading to /ws
# on a reused keep-alive connection, websockets with and without a
# subprotocol, resuming by since on WebSocket, SSE and long poll. Skipped
# (exit 77) when no python3 has both modules. Run from the build
# directory (make check does); IMLAB_BIN overrides the binary, PYTHON the
# interpreter.
set -u

IMLAB=${IMLAB_BIN:-./src/imlab}
here=$(dirname "$0")
srcdir=${IMLAB_TOP_SRCDIR:-.}
script=$srcdir/tests/integration/py_interop.py
[ -f "$script" ] || script=$here/py_interop.py

if [ ! -x "$IMLAB" ]; then
	echo "test_py_interop: $IMLAB not built" >&2
	exit 99
fi
# the first interpreter with both modules (a pyenv python3 on PATH may
# lack Debian's packages, which /usr/bin/python3 has)
py=
for p in ${PYTHON:-} python3 /usr/bin/python3; do
	if "$p" -c 'import aiohttp, websockets' >/dev/null 2>&1; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	echo "test_py_interop: SKIP: no python3 with aiohttp and websockets" \
		"(apt-get install python3-aiohttp python3-websockets)" >&2
	exit 77
fi

tmp=$(mktemp -d) || exit 99
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' INT TERM

"$IMLAB" --port 0 --log-level warn >"$tmp/server.out" 2>"$tmp/server.err" &
pid=$!
port=
i=0
while [ $i -lt 100 ]; do
	port=$(sed -n 's|^imlab .*http://[^:]*:\([0-9][0-9]*\)/.*|\1|p' \
		"$tmp/server.out" 2>/dev/null | head -n 1)
	[ -n "$port" ] && break
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$port" ]; then
	echo "test_py_interop: imlab did not start" >&2
	cat "$tmp/server.err" >&2
	exit 99
fi

timeout 120 "$py" "$script" "http://127.0.0.1:$port"
rc=$?
if [ $rc -ne 0 ]; then
	echo "test_py_interop: FAIL ($py, exit $rc); server log:" >&2
	cat "$tmp/server.err" >&2
	exit 1
fi
kill -0 "$pid" 2>/dev/null || { echo "test_py_interop: server died" >&2
	exit 1; }
exit 0
