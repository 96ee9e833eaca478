# shellcheck shell=sh
# SPDX-License-Identifier: MIT
# sio-bench.sh: the "Socket.IO" part of make bench (issue 13), sourced by
# run-bench.sh (which sets IMLAB, BENCH, work, here and QUICK and defines
# bench_imlab, bench_run, v, f and h) and, for the peer functions alone,
# by tests/integration/test_bench.sh; both load bench-lib.sh first. The
# same load goes to
#   imlab /socket.io/   imlab-bench --transport sio (Engine.IO v4 over
#                       WebSocket, one frame per message)
#   imlab /ws           imlab-bench --transport ws (imlab's own protocol,
#                       batching {"op":"msgs"} when a reader is behind)
#   Node's Socket.IO    src/bench/sio-peer.mjs, npm socket.io 4.x with its
#                       defaults, imlab-bench --peer socket.io --transport sio
# each on a fresh server on 127.0.0.1 (a free port, stopped by PID), with
# the server's CPU per delivery from /proc (--server-pid: imlab's process,
# or node's). Rows: SIO_SUBS subscribers at SIO_RATE msg/s (the issue's
# "1000 Socket.IO subscribers receive a 200 msg/s stream"), the same
# published back to back, and SIO_SUBS idle connections (RSS per
# connection), those also started on polling and upgraded (sio-polling:
# what the upgrade costs to connect). Without node or node_modules/socket.io the peer's columns
# say why.
#
# Functions (they set the variables named):
#   sio_peer_missing         prints why the peer cannot run, "" if it can
#   sio_peer_start DIR       sio_peer_port, sio_peer_pid; 0 or 1
#   sio_peer_stop            stops it by PID, waits for it
#   sio_bench                runs the rows into $work/sio-*.tsv
#   sio_section              prints the markdown block (BEGIN/END SOCKET.IO)
# shellcheck disable=SC2154 # work, here, IMLAB, BENCH are run-bench.sh's

SIO_NODE=${SIO_NODE:-node}
SIO_PEER=${SIO_PEER:-$(dirname "$0")/../../src/bench/sio-peer.mjs}
SIO_SUBS=1000
SIO_RATE=200
SIO_MSGS=2000
SIO_THR_MSGS=1000
SIO_SIZE=64
if [ "${QUICK:-0}" != 0 ]; then
	SIO_SUBS=100
	SIO_MSGS=400
	SIO_THR_MSGS=200
fi
sio_peer_pid=
sio_peer_port=

sio_peer_missing() {
	if ! command -v "$SIO_NODE" >/dev/null 2>&1; then
		echo "node is not installed"
	elif [ ! -f "$SIO_PEER" ]; then
		echo "$SIO_PEER is missing"
	elif ! (cd "$(dirname "$SIO_PEER")" &&
		"$SIO_NODE" -e 'require.resolve("socket.io")') \
		>/dev/null 2>&1; then
		echo "the npm package socket.io is not installed (npm ci)"
	fi
}

sio_peer_start() {
	sdir=$1
	mkdir -p "$sdir" || return 1
	bl_start "$sdir/peer.out" "$sdir/peer.err" 'sio-peer: ' \
		"$SIO_NODE" "$SIO_PEER" --port 0
	sio_peer_pid=$bl_pid sio_peer_port=$bl_port
	[ -z "$sio_peer_port" ] || return 0
	echo "sio-peer: node did not start: $(tail -n 3 "$sdir/peer.err")" >&2
	return 1
}

sio_peer_stop() {
	bl_stop "$sio_peer_pid"
	sio_peer_pid=
}

# sio_node NAME ARGS...: bench_run on a fresh Node peer
sio_node() {
	sn=$1
	shift
	[ -z "$sio_skip" ] || return 0
	if ! sio_peer_start "$work/$sn"; then
		printf 'transport\tok\terror\n-\tfalse\tnode did not start\n' \
			>"$work/$sn.tsv"
		return 0
	fi
	bench_run "$sn" "$sio_peer_port" "$sio_peer_pid" --peer socket.io "$@"
	sio_peer_stop
}

sio_bench() {
	sio_skip=$(sio_peer_missing)
	[ -z "$sio_skip" ] ||
		echo "run-bench.sh: no Node Socket.IO column: $sio_skip" >&2
	sio_t0=$(date +%s)
	sio_load0=$(cut -d' ' -f1-3 /proc/loadavg)
	for row in lat thr idle; do
		case $row in
		lat) a="--subs $SIO_SUBS --rate $SIO_RATE --msgs $SIO_MSGS" ;;
		thr) a="--subs $SIO_SUBS --rate 0 --msgs $SIO_THR_MSGS" ;;
		idle) a="--subs $SIO_SUBS --msgs 0" ;;
		esac
		[ $row = idle ] || a="$a --size $SIO_SIZE"
		# shellcheck disable=SC2086
		bench_imlab "sio-$row-sio" --transport sio $a
		# shellcheck disable=SC2086
		bench_imlab "sio-$row-ws" --transport ws $a
		# shellcheck disable=SC2086
		sio_node "sio-$row-node" --transport sio $a
	done
	# shellcheck disable=SC2086
	bench_imlab sio-idle-pol --transport sio-polling $a
	# shellcheck disable=SC2086
	sio_node sio-idle-nodepol --transport sio-polling $a
	sio_elapsed=$(( $(date +%s) - sio_t0 ))
	sio_load1=$(cut -d' ' -f1-3 /proc/loadavg)
}

# sio_cell NAME KEY DIGITS: f, or the reason the row has no figures
sio_cell() {
	case $1 in
	*-node | *-nodepol) [ -z "$sio_skip" ] || { echo "-"; return; } ;;
	esac
	if [ "$(v "$1" ok)" != true ]; then
		echo "failed: $(v "$1" error)"
	else
		f "$1" "$2" "$3"
	fi
}

sio_section() {
	echo "<!-- BEGIN SOCKET.IO: written by make bench (src/bench/sio-bench.sh)"
	echo "     on $(date -u '+%Y-%m-%d %H:%M UTC'); edits here are" \
		"overwritten -->"
	echo
	echo "### Socket.IO: imlab against Node's Socket.IO 4.x"
	echo
	echo "- machine: $(nproc) CPUs, shared; load average $sio_load0" \
		"before, $sio_load1 after; $sio_elapsed s for these rows"
	echo "- command: \`src/bench/run-bench.sh --only sio\` (also part" \
		"of \`make bench\`); every row is \`imlab-bench --url" \
		"http://127.0.0.1:PORT --server-pid PID --tsv\` with the" \
		"options shown, on a fresh server"
	if [ -n "$sio_skip" ]; then
		echo "- peer: **no Node Socket.IO rows**: $sio_skip"
	else
		echo "- peer: Node $("$SIO_NODE" --version), npm socket.io" \
			"$(sed -n 's/.*(socket.io \(.*\))$/\1/p' \
			"$work/sio-lat-node/peer.out" 2>/dev/null)" \
			"running src/bench/sio-peer.mjs (its defaults: no" \
			"compression, in-memory adapter), \`--peer socket.io" \
			"--server-pid NODE\`; server CPU is node's process"
	fi
	echo
	echo "imlab sio: Engine.IO v4 over WebSocket at /socket.io/, one" \
		"\`42[\"bench\",ENVELOPE,\"ID\"]\` frame per message;" \
		"imlab ws: the same messages over imlab's /ws, which batches" \
		"a reader's backlog into one \`{\"op\":\"msgs\"}\` frame; Node:" \
		"the same frames as imlab sio, from \`io.to(room).emit\`."
	echo
	bl_thead 2 "| load | server | lost | dup | p50 ms | p99 ms |" \
		"deliveries/s | deliveries/frame | wire bytes/delivery |" \
		"server CPU s | CPU us/delivery |"
	for row in lat thr; do
		case $row in
		lat) load="$SIO_SUBS subs x $SIO_RATE msg/s, $SIO_MSGS msgs" ;;
		thr) load="$SIO_SUBS subs, $SIO_THR_MSGS msgs back to back" ;;
		esac
		for s in sio:"imlab sio" ws:"imlab ws" node:"Node Socket.IO"; do
			r=sio-$row-${s%%:*}
			case $(sio_cell "$r" lost 0) in
			failed* | -)
				echo "| $load | ${s#*:} | $(sio_cell "$r" lost \
					0) | | | | | | | | |"
				continue ;;
			esac
			echo "| $load | ${s#*:} | $(v "$r" lost) |" \
				"$(v "$r" duplicated) |" \
				"$(f "$r" latency_p50_ms 2) |" \
				"$(f "$r" latency_p99_ms 2) |" \
				"$(h "$r" deliveries_per_s) |" \
				"$(f "$r" deliveries_per_ws_frame 2) |" \
				"$(f "$r" bytes_per_delivery 0) |" \
				"$(f "$r" server_cpu_run_s 2) |" \
				"$(f "$r" server_cpu_us_per_delivery 2) |"
		done
	done
	echo
	echo "Idle: \`--subs $SIO_SUBS --msgs 0\`, server RSS once all are" \
		"registered minus RSS before connecting, per connection;" \
		"connect s is the first connect to the last registered," \
		"server CPU connect s the server's CPU over it. sio-polling" \
		"starts on polling and upgrades (handshake GET, CONNECT POST," \
		"GET, upgrade, 2probe/3probe, 5, on one connection)."
	echo
	bl_thead 2 "| server | transport | connections | registered |" \
		"connect s | server CPU connect s | RSS before KB | RSS connected KB |" \
		"KB per connection |"
	for s in sio:"imlab|sio" ws:"imlab|ws" node:"Node Socket.IO|sio" \
		pol:"imlab|sio-polling" nodepol:"Node Socket.IO|sio-polling"
	do
		r=sio-idle-${s%%:*}
		who=$(echo "${s#*:}" | sed 's/|/ | /')
		case $(sio_cell "$r" registered 0) in
		failed* | -)
			echo "| $who | $(sio_cell "$r" registered 0) |" \
				"| | | | | |"
			continue ;;
		esac
		echo "| $who | $SIO_SUBS | $(v "$r" registered) |" \
			"$(f "$r" connect_all_s 2) |" \
			"$(f "$r" server_cpu_connect_s 2) |" \
			"$(v "$r" server_rss_before_kb) |" \
			"$(v "$r" server_rss_connected_kb) |" \
			"$(f "$r" server_idle_kb_per_conn 2) |"
	done
	echo
	echo "<!-- END SOCKET.IO -->"
}
