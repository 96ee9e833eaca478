#!/bin/sh
# SPDX-License-Identifier: MIT
# test_bench: runs imlab-bench at small scale (20 subscribers in 2 rooms,
# 50 messages) over every transport (sio and sio-polling, Socket.IO over
# WebSocket and started on polling, included) against a spawned imlab on
# a free port
# and checks the counts of its --json report: every field present, every
# subscriber registered, every message delivered once to the subscribers
# of its room, nothing lost, duplicated, misrouted or out of order; then
# the same for --transport all in --json and --tsv, and --help, --version
# and the man page of --help-man (every option of --help in it). It
# never checks a timing. A transport the server does not serve fails.
# --distinct-cids: the same counts, one cid per subscriber, and more join
# messages than with one shared cid. If nginx-light and libnginx-mod-nchan
# are installed, a tiny nchan lane (longpoll, sse, ws with --peer nchan
# against an nginx started by src/bench/nchan-peer.sh) checks the same
# counts; without them that part is skipped with a message. If node and
# the npm socket.io package are there, a tiny Node Socket.IO lane (sio
# with --peer socket.io against src/bench/sio-peer.mjs) checks them too.
# --transport takes a comma list. run-bench.sh refuses a bad --only
# (nothing is run).
# Run from the build directory (make check does); IMLAB_BIN and
# IMLAB_BENCH override the binaries.
set -u

IMLAB=${IMLAB_BIN:-./src/imlab}
BENCH=${IMLAB_BENCH:-./src/imlab-bench}
SUBS=20
ROOMS=2
MSGS=50
EXPECTED=$((SUBS / ROOMS * MSGS))

if [ ! -x "$IMLAB" ] || [ ! -x "$BENCH" ]; then
	echo "test_bench: $IMLAB or $BENCH not built" >&2
	exit 99
fi
# the servers' start and stop, shared with src/bench/'s scripts
# shellcheck source=SCRIPTDIR/../../src/bench/bench-lib.sh
. "$(dirname "$0")/../../src/bench/bench-lib.sh"
tmp=$(mktemp -d) || exit 99
pid=
cleanup() {
	[ -z "${nchan_pid:-}" ] || nchan_stop
	[ -z "${sio_peer_pid:-}" ] || sio_peer_stop
	bl_stop "$pid"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' INT TERM

if ! bl_imlab "$tmp/server.out" "$tmp/server.err" "$IMLAB"; then
	echo "test_bench: imlab did not start" >&2
	cat "$tmp/server.err" >&2
	exit 99
fi
pid=$bl_pid
url=http://127.0.0.1:$bl_port

fail=0
check() {	# check MESSAGE: records a failure of transport $tp
	echo "FAIL: $tp: $1" >&2
	fail=1
}

# value KEY FILE: the value of "KEY": on a line of its own
value() {
	sed -n "s/^ *\"$1\": \(.*\)$/\1/p" "$2" | sed 's/,$//' | head -n 1
}

# usage errors, --help, --version and the man page
"$BENCH" --help >"$tmp/help" 2>&1 || { echo "FAIL: --help" >&2; fail=1; }
grep -q -- "--transport" "$tmp/help" || { echo "FAIL: help text" >&2; fail=1; }
"$BENCH" --subs 0 >/dev/null 2>&1
[ $? -eq 2 ] || { echo "FAIL: --subs 0 is not a usage error" >&2; fail=1; }
"$BENCH" --version | grep -q '^imlab-bench [0-9]' ||
	{ echo "FAIL: --version" >&2; fail=1; }
# the man page comes from the same table as --help: every option in both
"$BENCH" --help-man >"$tmp/man" || { echo "FAIL: --help-man" >&2; fail=1; }
for sect in NAME SYNOPSIS DESCRIPTION OPTIONS EXAMPLES "SEE ALSO"; do
	grep -q "^\.SH $sect\$" "$tmp/man" ||
		{ echo "FAIL: man page: no $sect" >&2; fail=1; }
done
for o in $(sed -n 's/^  --\([a-z-]*\).*/\1/p' "$tmp/help"); do
	grep -q -F ".B \\-\\-$(echo "$o" | sed 's/-/\\-/g')" "$tmp/man" ||
		{ echo "FAIL: man page: no --$o" >&2; fail=1; }
done

fields="transport ok error subs registered connect_s sent publish_errors
expected received unique lost duplicated out_of_order gaps misrouted
bad_frames other_messages errors reconnects latency_p50_ms latency_p90_ms
latency_p99_ms latency_p999_ms latency_max_ms latency_mean_ms publish_s
publish_rate publish_rtt_p50_ms publish_rtt_p99_ms publisher_connections
delivery_s deliveries_per_s http_requests requests_per_delivery ws_frames
deliveries_per_ws_frame bytes_in bytes_out bytes_per_delivery server_open
server_cpu_before_s server_cpu_connected_s server_cpu_after_s
server_cpu_run_s server_deliveries_per_cpu_s server_rss_before_kb
server_rss_connected_kb server_rss_after_kb server_idle_kb_per_conn
bench_cpu_s cids connect_all_s presence_s presence_messages
server_cpu_connect_s server_cpu_us_per_delivery"

# counts FILE KEY=VALUE...: the report FILE has each value
counts() {
	cf=$1
	shift
	for kv in "$@"; do
		k=${kv%%=*}
		want=${kv#*=}
		got=$(value "$k" "$cf")
		[ "$got" = "$want" ] || check "$k is $got, want $want"
	done
}
DELIVERED="registered=$SUBS sent=$MSGS publish_errors=0 expected=$EXPECTED
received=$EXPECTED unique=$EXPECTED lost=0 duplicated=0 out_of_order=0
gaps=0 misrouted=0 bad_frames=0 errors=0"

for tp in poll longpoll sse ws sio sio-polling; do
	f=$tmp/$tp.json
	"$BENCH" --url "$url" --transport $tp --subs $SUBS --rooms $ROOMS \
		--msgs $MSGS --rate 500 --size 100 --interval 50 \
		--server-pid "$pid" --json >"$f" 2>"$tmp/$tp.err"
	rc=$?
	[ $rc -eq 0 ] || check "exit status $rc: $(tail -n 1 "$tmp/$tp.err")"
	for k in $fields; do
		grep -q "^ *\"$k\": " "$f" || check "field $k missing"
	done
	[ "$(value transport "$f")" = "\"$tp\"" ] || check "transport"
	[ "$(value ok "$f")" = true ] || check "ok: $(value error "$f")"
	# shellcheck disable=SC2086
	counts "$f" $DELIVERED cids=1
	case $tp in
	poll | longpoll)	# streams make no request while publishing
		[ "$(value http_requests "$f")" != 0 ] || \
			check "no HTTP requests counted" ;;
	esac
	[ "$(value bytes_in "$f")" != 0 ] || check "no wire bytes counted"
	echo "test_bench: $tp: $(value unique "$f") of $EXPECTED delivered," \
	     "lost $(value lost "$f"), duplicated $(value duplicated "$f")"
done

# --distinct-cids: one cid (and join) per subscriber, the same deliveries
for tp in poll longpoll sse ws sio; do
	f=$tmp/$tp-cids.json
	"$BENCH" --url "$url" --transport $tp --subs $SUBS --rooms $ROOMS \
		--msgs $MSGS --rate 500 --size 100 --interval 50 \
		--distinct-cids --json >"$f" 2>"$tmp/$tp-cids.err"
	rc=$?
	[ $rc -eq 0 ] ||
		check "--distinct-cids: exit status $rc: $(tail -n 1 \
			"$tmp/$tp-cids.err")"
	[ "$(value ok "$f")" = true ] || check "ok: $(value error "$f")"
	[ "$(value distinct_cids "$f")" = true ] || check "distinct_cids"
	# shellcheck disable=SC2086
	counts "$f" $DELIVERED cids=$SUBS
	one=$(value presence_messages "$tmp/$tp.json")
	many=$(value presence_messages "$f")
	[ "${many:-0}" -gt "${one:-0}" ] ||
		check "--distinct-cids: $many join messages, not more than" \
			"the $one of one shared cid"
	echo "test_bench: $tp --distinct-cids: $(value unique "$f") of" \
	     "$EXPECTED delivered, $many join messages (one cid: $one)"
done
tp=nchan
"$BENCH" --peer nchan --transport poll >/dev/null 2>&1
[ $? -eq 2 ] || check "--peer nchan --transport poll is not a usage error"
tp=socket.io
"$BENCH" --peer socket.io --transport ws >/dev/null 2>&1
[ $? -eq 2 ] || check "--peer socket.io --transport ws is not a usage error"

# a comma list: ws then sio, two results
"$BENCH" --url "$url" --transport ws,sio --subs 4 --msgs 5 --rate 1000 \
	--json >"$tmp/list.json" 2>"$tmp/list.err"
rc=$?
tp=ws,sio
[ $rc -eq 0 ] || check "exit status $rc"
[ "$(sed -n 's/^ *"transport": "\(.*\)",$/\1/p' "$tmp/list.json" |
	tr '\n' ' ')" = "ws sio " ] || check "not ws then sio"
[ "$(grep -c '"lost": 0,' "$tmp/list.json")" = 2 ] || check "lost"

# --transport all reports the four in one object
"$BENCH" --url "$url" --transport all --subs 4 --msgs 5 --rate 1000 \
	--interval 50 --json >"$tmp/all.json" 2>"$tmp/all.err"
rc=$?
tp=all
[ $rc -eq 0 ] || check "exit status $rc"
[ "$(grep -c '"transport":' "$tmp/all.json")" = 4 ] || check "four results"
[ "$(grep -c '"lost": 0,' "$tmp/all.json")" = 4 ] || check "lost"

# --tsv: a header of the --json fields, then one line per transport with
# the same counts
"$BENCH" --url "$url" --transport all --subs 4 --msgs 5 --rate 1000 \
	--interval 50 --server-pid "$pid" --tsv >"$tmp/all.tsv" 2>"$tmp/tsv.err"
rc=$?
tp=tsv
[ $rc -eq 0 ] || check "exit status $rc"
[ "$(wc -l <"$tmp/all.tsv")" -eq 5 ] || check "not a header and four lines"
for k in $fields; do
	head -n 1 "$tmp/all.tsv" | tr '\t' '\n' | grep -q -x "$k" ||
		check "column $k missing"
done
# col KEY: column KEY of every line after the header
col() {
	awk -F '\t' -v k="$1" 'NR == 1 { for (i = 1; i <= NF; i++)
		if ($i == k) c = i; next } c { print $c }' "$tmp/all.tsv"
}
[ "$(col transport | tr '\n' ' ')" = "poll longpoll sse ws " ] ||
	check "transports"
[ "$(col unique | sort -u)" = 20 ] || check "unique"
[ "$(col lost | sort -u)" = 0 ] || check "lost"
[ "$(awk -F '\t' '{ print NF }' "$tmp/all.tsv" | sort -u | wc -l)" = 1 ] ||
	check "ragged lines"

if ! kill -0 "$pid" 2>/dev/null; then
	echo "FAIL: the server died" >&2
	fail=1
fi

# run-bench.sh's options (nothing run): --only takes frontends or
# backends, anything else is refused with status 2
rb=$(dirname "$0")/../../src/bench/run-bench.sh
sh "$rb" --imlab "$IMLAB" --bench "$BENCH" --only bogus 2>"$tmp/rb.err"
rc=$?
tp=run-bench
[ $rc -eq 2 ] || check "--only bogus: exit status $rc"
grep -q -- '--only frontends, backends or sio' "$tmp/rb.err" ||
	check "--only bogus: no message"

# the nchan lane: the same counts against nginx + nchan, if installed
# shellcheck source=SCRIPTDIR/../../src/bench/nchan-peer.sh
. "$(dirname "$0")/../../src/bench/nchan-peer.sh"
why=$(nchan_missing)
if [ -n "$why" ]; then
	echo "test_bench: nchan lane skipped: $why"
elif ! nchan_start "$tmp/nginx"; then
	echo "FAIL: nchan: nginx did not start" >&2
	fail=1
else
	for tp in longpoll sse ws; do
		f=$tmp/nchan-$tp.json
		"$BENCH" --url "http://127.0.0.1:$nchan_port" --peer nchan \
			--transport $tp --subs $SUBS --rooms $ROOMS \
			--msgs $MSGS --rate 500 --size 100 \
			--server-pid "$nchan_worker" --json >"$f" \
			2>"$tmp/nchan-$tp.err"
		rc=$?
		tp=nchan-$tp
		[ $rc -eq 0 ] || check "exit status $rc: $(tail -n 1 \
			"$tmp/$tp.err")"
		[ "$(value ok "$f")" = true ] || check "ok: $(value error "$f")"
		[ "$(value peer "$f")" = '"nchan"' ] || check "peer"
		# shellcheck disable=SC2086
		counts "$f" $DELIVERED
		echo "test_bench: $tp: $(value unique "$f") of $EXPECTED" \
		     "delivered, lost $(value lost "$f")"
	done
	nchan_stop
fi

# the Node Socket.IO lane: the same counts against sio-peer.mjs
# shellcheck source=SCRIPTDIR/../../src/bench/sio-bench.sh
. "$(dirname "$0")/../../src/bench/sio-bench.sh"
why=$(sio_peer_missing)
if [ -n "$why" ]; then
	echo "test_bench: Node Socket.IO lane skipped: $why"
elif ! sio_peer_start "$tmp/sio-peer"; then
	echo "FAIL: socket.io: node did not start" >&2
	fail=1
else
	for tp in sio sio-polling; do
		f=$tmp/node-$tp.json
		"$BENCH" --url "http://127.0.0.1:$sio_peer_port" \
			--peer socket.io --transport $tp --subs $SUBS \
			--rooms $ROOMS --msgs $MSGS --rate 500 --size 100 \
			--server-pid "$sio_peer_pid" --json >"$f" \
			2>"$tmp/node-$tp.err"
		rc=$?
		[ $rc -eq 0 ] || check "exit status $rc: $(tail -n 1 \
			"$tmp/node-$tp.err")"
		tp=node-$tp
		[ "$(value ok "$f")" = true ] || check "ok: $(value error "$f")"
		[ "$(value peer "$f")" = '"socket.io"' ] || check "peer"
		# shellcheck disable=SC2086
		counts "$f" $DELIVERED
		echo "test_bench: $tp: $(value unique "$f") of $EXPECTED" \
		     "delivered, lost $(value lost "$f"), duplicated" \
		     "$(value duplicated "$f")"
	done
	sio_peer_stop
fi
exit $fail
