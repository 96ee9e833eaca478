#!/bin/sh
# SPDX-License-Identifier: MIT
# test_sio: imlab over Socket.IO with the real npm socket.io-client (v4):
# starts imlab on a free port and runs sio_client.mjs twice, starting on
# long-polling and upgrading, then WebSocket only (connect with auth,
# join acked before the room's messages, send to the three targets, the
# envelope of an HTTP publish identical on Socket.IO, SSE and /ws, binary
# both ways, a reserved name refused, recovery after a dropped connection
# with nothing lost or duplicated). Exit 77 (SKIP) without node or the npm
# packages. Run from the build directory (make check does).
set -u

top=${IMLAB_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
IMLAB=${IMLAB_BIN:-./src/imlab}

skip() {
	echo "SKIP: test_sio: $1"
	exit 77
}
command -v node >/dev/null 2>&1 || skip "node missing"
for p in socket.io-client eventsource ws; do
	[ -d "$top/node_modules/$p" ] ||
		skip "$top/node_modules/$p missing (npm install in $top)"
done
[ -x "$IMLAB" ] || { echo "test_sio: $IMLAB not built" >&2; exit 99; }

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

"$IMLAB" --port 0 --bind 127.0.0.1 --log-level warn \
	>"$tmp/server.out" 2>"$tmp/server.err" &
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
	echo "test_sio: imlab did not start" >&2
	cat "$tmp/server.err" >&2
	exit 99
fi

rc=0
for mode in polling websocket; do
	node "$top/tests/integration/sio_client.mjs" \
		"http://127.0.0.1:$port" "$mode" || rc=1
done
if [ $rc -ne 0 ]; then
	echo "test_sio: server log:" >&2
	cat "$tmp/server.err" >&2
fi
exit $rc
