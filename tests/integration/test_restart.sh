#!/bin/sh
# SPDX-License-Identifier: MIT
# test_restart: POST /api/admin/restart with --admin 1 --admin-restart 1
# re-executes the same imlab (same PID, same arguments: --port 0 gives the
# new run a new port, read from its second start line); the new run's
# /api/info "started" is later and its first message id is above the
# old run's last (the restart rule of store.h). Run from the build
# directory (make check does); IMLAB_BIN overrides the binary.
set -u

IMLAB=${IMLAB_BIN:-./src/imlab}
[ -x "$IMLAB" ] || { echo "test_restart: $IMLAB not built" >&2; exit 99; }
command -v curl >/dev/null || { echo "test_restart: no curl" >&2; exit 77; }
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
fail() {
	echo "test_restart: $*" >&2
	cat "$tmp/out" "$tmp/err" >&2
	exit 1
}

# the port of the n-th start line of the server's stdout
port_of() {
	for _ in $(seq 1 100); do
		p=$(sed -n 's|^imlab .*http://[^:]*:\([0-9][0-9]*\)/.*|\1|p' \
			"$tmp/out" | sed -n "$1p")
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.1
	done
	return 1
}

post() {
	curl -s -o "$tmp/body" -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' --data "$2" \
		"http://127.0.0.1:$1$3"
}

"$IMLAB" --port 0 --log-level warn --admin 1 --admin-restart 1 \
	>"$tmp/out" 2>"$tmp/err" &
pid=$!
p1=$(port_of 1) || fail "imlab did not start"
st=$(post "$p1" '{"event":"ev","from":"t","data":1}' \
	/api/rooms/lobby/messages)
[ "$st" = 201 ] || fail "publish: $st"
id1=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$tmp/body")
s1=$(curl -s "http://127.0.0.1:$p1/api/info" |
	sed -n 's/.*"started":\([0-9]*\).*/\1/p')
st=$(post "$p1" '{}' /api/admin/restart)
[ "$st" = 202 ] || fail "restart: $st $(cat "$tmp/body")"
p2=$(port_of 2) || fail "no second start"
kill -0 "$pid" || fail "the process is gone"
s2=$(curl -s "http://127.0.0.1:$p2/api/info" |
	sed -n 's/.*"started":\([0-9]*\).*/\1/p')
[ "$s2" -gt "$s1" ] || fail "started $s1 then $s2"
st=$(post "$p2" '{"event":"ev","from":"t","data":2}' \
	/api/rooms/lobby/messages)
[ "$st" = 201 ] || fail "publish after: $st"
id2=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$tmp/body")
[ "$id2" -gt "$id1" ] || fail "id $id1 then $id2"
echo "test_restart: restarted (port $p1 -> $p2), id $id1 -> $id2"
exit 0
