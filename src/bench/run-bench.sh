#!/bin/sh
# SPDX-License-Identifier: MIT
# run-bench.sh: the standard imlab benchmark matrix, run by `make bench`.
# Every measurement gets a fresh imlab on a free loopback port (so one
# run's freed memory never hides the next one's), then the measured part
# of doc/benchmarks.md (between the BEGIN/END MEASURED markers) is
# rewritten: the machine, the command, the tables, the targets with
# met / not met, and a chart when gnuplot is installed.
#
# The matrix (each part with its nchan rows; the times are estimates for
# an otherwise idle 2-core machine, the doc records each run's total):
#   connect    ws and sse: 1,000 and 10,000 subscribers with distinct
#              cids (--distinct-cids) joining one room, nothing published:
#              first connect to the last registered, and to the last join
#              (~30 s)
#   latency    each transport at 100 and 1,000 subscribers, 1,000 messages
#              of 64 B at 200 msg/s (~1.5 minutes)
#   throughput each transport at 1,000 subscribers, 1,000 messages
#              published back to back (~30 s)
#   idle       each transport at 1,000 and 10,000 connections, nothing
#              published: server RSS delta / connections (~40 s)
#   issue 14   (src/bench/targets14.sh) SSE at 1,000 x 50 msg/s,
#              WebSocket at 1,000 x 100 msg/s, long poll's maximum rate
#              (a search of at most 3 rates per server), publishing with
#              5,000 SSE streams, every transport at 90% of its
#              maximum rate from the throughput rows; then the "Targets
#              (issue 14)" table, which says how long these took (about
#              2-3 minutes; --tiny about 30 s)
#   sweep      imlab-bench --sweep: every transport at 0.1-30 msg/s,
#              requests and bytes up/down per message (about 4 minutes)
#   back ends  (src/bench/bench-backends.sh) SQLite --history-db: writer
#              and process CPU per message, the durable-ack latency;
#              Redis (redis-bench.sh): cross-node against single-node
#              delivery latency and CPU per delivery, Redis memory per
#              message; each skipped with a note without redis-server
#              or the build's SQLite / hiredis support (about 1 minute)
#   socket.io  (src/bench/sio-bench.sh) imlab's /socket.io/, imlab's /ws
#              and Node's Socket.IO 4.x (src/bench/sio-peer.mjs) under
#              the same load: 1,000 subscribers at 200 msg/s, back to
#              back, idle; CPU per delivery, RSS per connection (about
#              1.5 minutes; Node's rows skipped without node or the npm
#              socket.io package)
# Every row but short poll's runs again against nginx + nchan (a fresh
# nginx per row, from nchan-peer.sh, the nginx.conf in the temp dir) for
# the nchan columns, unless nginx-light or libnginx-mod-nchan is missing
# (then those columns say so) or --no-nchan is given.
#
# Usage: run-bench.sh [--imlab PATH] [--bench PATH] [--doc FILE]
#                     [--keep DIR] [--quick | --tiny] [--no-nchan]
#                     [--only frontends | backends | sio]
# --quick runs a small matrix (for trying the script, not for the doc);
# --tiny one with at most 100 subscribers (a shared machine).
# --only backends runs the back ends alone and rewrites only their block
# of the doc (BEGIN/END BACK ENDS); --only sio the Socket.IO rows alone
# (BEGIN/END SOCKET.IO); --only frontends everything else.
# A quick check of the back ends (about 20 s):
#   src/bench/run-bench.sh --only backends --tiny
set -u

IMLAB=./src/imlab
BENCH=./src/imlab-bench
DOC=
KEEP=
QUICK=0
NCHAN_OFF=0
ONLY=all
while [ $# -gt 0 ]; do
	case $1 in
	--imlab) IMLAB=$2; shift 2 ;;
	--bench) BENCH=$2; shift 2 ;;
	--doc) DOC=$2; shift 2 ;;
	--keep) KEEP=$2; shift 2 ;;
	--quick) QUICK=1; shift ;;
	--tiny) QUICK=2; shift ;;
	--no-nchan) NCHAN_OFF=1; shift ;;
	--only)
		case ${2:-} in
		frontends | backends | sio) ONLY=$2 ;;
		*) echo "run-bench.sh: --only frontends, backends or sio" >&2
		   exit 2 ;;
		esac
		shift 2 ;;
	*) echo "run-bench.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
for b in "$IMLAB" "$BENCH"; do
	if [ ! -x "$b" ]; then
		echo "run-bench.sh: $b is not built (run make first)" >&2
		exit 2
	fi
done

here=$(dirname "$0")
# shellcheck source=SCRIPTDIR/bench-lib.sh
. "$here/bench-lib.sh"
# shellcheck source=SCRIPTDIR/nchan-peer.sh
. "$here/nchan-peer.sh"
# shellcheck source=SCRIPTDIR/bench-backends.sh
. "$here/bench-backends.sh"
# shellcheck source=SCRIPTDIR/sio-bench.sh
. "$here/sio-bench.sh"
SIO_PEER=$here/sio-peer.mjs
# shellcheck source=SCRIPTDIR/targets14.sh
. "$here/targets14.sh"
[ "$ONLY" = backends ] || [ "$ONLY" = sio ] && NCHAN_OFF=1
if [ $NCHAN_OFF = 1 ]; then
	nchan_skip="skipped (--no-nchan)"
else
	nchan_skip=$(nchan_missing)
fi
if [ -n "$nchan_skip" ] && [ "$ONLY" != backends ] && [ "$ONLY" != sio ]
then
	echo "run-bench.sh: no nchan column: $nchan_skip" >&2
fi

TRANSPORTS="poll longpoll sse ws"
CONN_TRANSPORTS="ws sse"
CONN_SUBS="1000 10000"
LAT_SUBS="100 1000"
LAT_RATE=200
LAT_MSGS=1000
THR_SUBS=1000
THR_MSGS=1000
IDLE_CONNS="1000 10000"
SIZE=64
INTERVAL=500
if [ $QUICK = 1 ]; then
	CONN_SUBS="1000"
	LAT_SUBS="20 100"
	LAT_MSGS=100
	THR_SUBS=100
	THR_MSGS=200
	IDLE_CONNS="100 500"
elif [ $QUICK = 2 ]; then
	CONN_SUBS="50 100"
	LAT_SUBS="20 100"
	LAT_MSGS=100
	THR_SUBS=100
	THR_MSGS=200
	IDLE_CONNS="50 100"
fi

work=$(mktemp -d) || exit 1
pid=
cleanup() {
	stop_server
	be_stop
	nchan_stop
	sio_peer_stop
	if [ -n "$KEEP" ]; then
		mkdir -p "$KEEP" && cp "$work"/*.tsv "$KEEP"/ 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The server and the bench may each hold 10,000+ sockets.
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# start_server NAME: a fresh imlab; sets pid and port
start_server() {
	bl_imlab "$work/$1.server.out" "$work/$1.server.err" "$IMLAB" && {
		pid=$bl_pid port=$bl_port
		return 0
	}
	echo "run-bench.sh: imlab did not start:" >&2
	cat "$work/$1.server.err" >&2
	exit 1
}

stop_server() {
	bl_stop "$pid"
	pid=
}

# bench_run NAME PORT PID ARGS...: imlab-bench ARGS against the server
# PID on 127.0.0.1:PORT, --tsv into $work/NAME.tsv; prints "== NAME: ..."
# and the run's last words (and an exit status above 1) on stderr
bench_run() {
	name=$1 b_port=$2 b_pid=$3
	shift 3
	echo "== $name: imlab-bench $*" >&2
	"$BENCH" --url "http://127.0.0.1:$b_port" --server-pid "$b_pid" \
		--tsv "$@" >"$work/$name.tsv" 2>"$work/$name.err"
	rc=$?
	tr '\r' '\n' <"$work/$name.err" | grep -v '^$' | tail -n 2 >&2
	[ $rc -le 1 ] || echo "   (exit status $rc)" >&2
}

# bench_imlab NAME ARGS...: bench_run on a fresh imlab, stopped after
bench_imlab() {
	start_server "$1"
	b_name=$1
	shift
	bench_run "$b_name" "$port" "$pid" "$@"
	stop_server
}

# bench NAME ARGS...: bench_imlab, then bench_nchan
bench() {
	bench_imlab "$@"
	bench_nchan "$@"
}

# bench_nchan NAME ARGS...: the same run on a fresh nginx + nchan, into
# $work/nchan-NAME.tsv (none for short poll or without nchan)
bench_nchan() {
	name=nchan-$1
	shift
	[ -z "$nchan_skip" ] || return 0
	case " $* " in *" --transport poll "*) return 0 ;; esac
	if ! nchan_start "$work/$name"; then
		printf 'transport\tok\terror\n-\tfalse\tnginx did not start\n' \
			>"$work/$name.tsv"
		return 0
	fi
	bench_run "$name" "$nchan_port" "$nchan_worker" --peer nchan "$@"
	nchan_stop
}

# v NAME KEY: column KEY of the first row of $work/NAME.tsv ("" if absent),
# with | made / for the markdown tables
v() {
	awk -F '\t' -v k="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i; next }
		c { gsub(/\|/, "/", $c); print $c; exit }' "$work/$1.tsv" \
		2>/dev/null
}

# f NAME KEY DIGITS: a number of NAME.tsv rounded, "-" if absent
f() {
	x=$(v "$1" "$2")
	if [ -z "$x" ]; then
		echo "-"
	else
		awk -v x="$x" -v d="$3" 'BEGIN { printf "%.*f", d, x }'
	fi
}

# Human-sized counts: 1234567 -> 1.23M
h() {
	x=$(v "$1" "$2")
	if [ -z "$x" ]; then
		echo "-"
	else
		awk -v x="$x" 'BEGIN {
			if (x >= 1e6) printf "%.2fM", x / 1e6;
			else if (x >= 1e4) printf "%.0fk", x / 1e3;
			else printf "%.0f", x }'
	fi
}

# failed NAME CELLS LEAD...: the table row of a run that did not complete:
# the LEAD cells, its error, then "-" in the other CELLS cells; fails
# (prints nothing) if it did complete
failed() {
	[ "$(v $1 ok)" = true ] && return 1
	fr=$1 fc=$2
	shift 2
	printf '| %s ' "$@"
	printf '| **failed**: %s |' "$(v $fr error)"
	i=1
	while [ $i -lt $fc ]; do printf ' - |'; i=$((i + 1)); done
	echo
}

# run_ok NAME: succeeds, why="", if run NAME completed; else sets res to
# '**not met**' and why to "the run failed: ERROR"
run_ok() {
	why=
	[ "$(v "$1" ok)" = true ] && return 0
	res='**not met**'
	why="the run failed: $(v "$1" error)"
	return 1
}

# nc NAME KEY DIGITS: the nchan run's figure for the row NAME: "n/a" for
# short poll, "-" without nchan, "failed" if that run failed
nc() {
	case $1 in
	*-poll | *-poll-*) echo "n/a"; return ;;
	esac
	if [ -n "$nchan_skip" ]; then
		echo "-"
	elif [ "$(v nchan-$1 ok)" != true ]; then
		echo "failed"
	else
		f nchan-$1 "$2" "$3"
	fi
}

# nh NAME KEY: as nc, human-sized
nh() {
	x=$(nc "$1" "$2" 0)
	case $x in
	[0-9]*) h nchan-$1 "$2" ;;
	*) echo "$x" ;;
	esac
}

# ratio A B: A / B with 2 decimals, "-" if either is not a number or 0
# (a CPU time below the 10 ms tick reads 0)
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || a + 0 == 0 ||
		    b + 0 == 0)
			print "-";
		else
			printf "%.2fx", a / b }'
}

# replace_block DOC BEGIN END FILE: the lines of DOC from the one starting
# with BEGIN to the one that is END become FILE (appended if absent)
replace_block() {
	if grep -q "^$2" "$1" 2>/dev/null && grep -qx "$3" "$1"; then
		awk -v f="$4" -v b="$2" -v e="$3" '
			index($0, b) == 1 {
				while ((getline l < f) > 0) print l
				skip = 1; next }
			$0 == e { skip = 0; next }
			!skip { print }' "$1" >"$work/doc.md" &&
		cat "$work/doc.md" >"$1"
	else
		{ echo; cat "$4"; } >>"$1"
	fi
}

# write_block FUNC NAME MARK WHAT: the block FUNC prints (from "<!-- BEGIN
# MARK" to "<!-- END MARK -->"), via $work/NAME.md into DOC or on stdout;
# WHAT names it in the message
write_block() {
	"$1" >"$work/$2.md"
	if [ -n "$DOC" ]; then
		replace_block "$DOC" "<!-- BEGIN $3" "<!-- END $3 -->" \
			"$work/$2.md"
		echo "run-bench.sh: wrote the $4 section of $DOC" >&2
	else
		cat "$work/$2.md"
	fi
}

# write_backends, write_sio: the back ends' and the Socket.IO block
write_backends() {
	write_block backends_section backends "BACK ENDS" "back ends'"
}
write_sio() {
	write_block sio_section sio SOCKET.IO Socket.IO
}

if [ "$ONLY" = backends ]; then
	write_backends
	exit 0
fi
if [ "$ONLY" = sio ]; then
	sio_bench
	write_sio
	exit 0
fi

load0=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$(date +%s)
for tp in $CONN_TRANSPORTS; do
	for n in $CONN_SUBS; do
		bench "conn-$tp-$n" --transport $tp --subs $n --msgs 0 \
			--distinct-cids
	done
done
for tp in $TRANSPORTS; do
	for n in $LAT_SUBS; do
		bench "lat-$tp-$n" --transport $tp --subs $n --rate $LAT_RATE \
			--msgs $LAT_MSGS --size $SIZE --interval $INTERVAL
	done
done
for tp in $TRANSPORTS; do
	bench "thr-$tp" --transport $tp --subs $THR_SUBS --rate 0 \
		--msgs $THR_MSGS --size $SIZE --interval $INTERVAL
done
for tp in $TRANSPORTS; do
	for n in $IDLE_CONNS; do
		bench "idle-$tp-$n" --transport $tp --subs $n --msgs 0 \
			--interval $INTERVAL
	done
done
# issue 14's own rows (targets14.sh), after the throughput rows they read
t14_runs
# the cost-versus-rate sweep (issue 12): one fresh server, every transport
# at each rate, SWEEP_MSGS messages per rate and transport (at 0.1 msg/s
# that is 30 s each), the short poll at its default 1 s interval
SWEEP_RATES=0.1,0.3,1,3,10,30
SWEEP_MSGS=4
SWEEP_SUBS=10
[ "$QUICK" = 0 ] || { SWEEP_RATES=1,10; SWEEP_MSGS=3; SWEEP_SUBS=4; }
start_server sweep
"$BENCH" --url "http://127.0.0.1:$port" --sweep --sweep-rates $SWEEP_RATES \
	--msgs $SWEEP_MSGS --subs $SWEEP_SUBS --interval 1000 \
	>"$work/sweep.tsv" 2>"$work/sweep.err" ||
	echo "run-bench.sh: the sweep failed: $(tail -1 "$work/sweep.err")" >&2
stop_server
elapsed=$(( $(date +%s) - t0 ))
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the measured section ---------------------------------------------
n_max=
for n in $LAT_SUBS; do n_max=$n; done
n_min=${LAT_SUBS%% *}
i_max=
for n in $IDLE_CONNS; do i_max=$n; done

out=$work/measured.md
{
echo "<!-- BEGIN MEASURED: written by make bench (src/bench/run-bench.sh)"
echo "     on $(date -u '+%Y-%m-%d %H:%M UTC'); edits here are overwritten -->"
echo
echo "### Machine and command"
echo
echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' \
	/proc/cpuinfo | head -n 1), $(uname -sr)," \
	"$(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' \
		/proc/meminfo);" \
	"load average $load0 before, $load1 after (anything above 0 is" \
	"other work competing for the cores)"
echo "- server: \`$IMLAB --port 0 --log-level warn\` ($("$IMLAB" --version \
	2>/dev/null | head -n 1)), fresh for every row, on 127.0.0.1;" \
	"the bench runs on the same machine"
echo "- command: \`make bench\`; each row is" \
	"\`imlab-bench --url http://127.0.0.1:PORT --server-pid PID --tsv\`" \
	"with the options shown; $elapsed s for the whole matrix"
if [ -n "$nchan_skip" ]; then
	echo "- peer: **no nchan columns**: $nchan_skip"
else
	echo "- peer: nginx + nchan ($("$NCHAN_NGINX" -v 2>&1 | sed 's/.*: //')," \
		"libnginx-mod-nchan $(dpkg-query -W -f '${Version}' \
		libnginx-mod-nchan 2>/dev/null)), a fresh nginx per row on" \
		"127.0.0.1 with the nginx.conf of src/bench/nchan-peer.sh" \
		"(one worker process, 1,000 messages per channel, no access" \
		"log); the same \`imlab-bench\` row with \`--peer nchan" \
		"--server-pid WORKER\`, right after imlab's; server CPU is the" \
		"nginx worker's"
fi
if [ $QUICK != 0 ]; then
	echo "- **quick matrix** (--quick or --tiny): small counts, not the" \
		"standard one"
fi
echo
echo "Server CPU per delivery (us) is the server's CPU time during the" \
	"publish phase divided by the deliveries; nchan's column is nginx's" \
	"worker. nchan has no short poll that answers every message since a" \
	"cursor in one response (its \`intervalpoll\` returns one message" \
	"per request), so short-poll rows have no nchan figures (n/a)."
echo
echo "### Connecting distinct-cid subscribers to one room"
echo
echo "\`--transport T --subs N --msgs 0 --distinct-cids\`: every" \
	"subscriber has its own cid, so imlab publishes a join per" \
	"subscriber to the room. *registered*: first connect to the last" \
	"subscriber registered; *presence settled*: to the last join" \
	"message the bench received; nchan has no presence, so its" \
	"figure is the registration time alone."
echo
bl_thead 1 "| transport | subs | registered s | presence settled s |" \
	"join messages | server CPU s | nchan registered s |" \
	"nchan server CPU s | settled / nchan |"
for tp in $CONN_TRANSPORTS; do
	for n in $CONN_SUBS; do
		r=conn-$tp-$n
		failed $r 7 $tp $n && continue
		echo "| $tp | $n | $(f $r connect_all_s 2) |" \
			"$(f $r presence_s 2) |" \
			"$(h $r presence_messages) |" \
			"$(f $r server_cpu_connect_s 2) |" \
			"$(nc $r connect_all_s 2) |" \
			"$(nc $r server_cpu_connect_s 2) |" \
			"$(ratio "$(v $r presence_s)" \
				"$(nc $r connect_all_s 3)") |"
	done
done
echo
echo "### Latency at $LAT_RATE msg/s"
echo
echo "\`--transport T --subs N --rate $LAT_RATE --msgs $LAT_MSGS" \
	"--size $SIZE --interval $INTERVAL\`"
echo
bl_thead 1 "| transport | subs | connect s | p50 ms | p90 ms | p99 ms |" \
	"p99.9 ms | max ms | lost | dup | out of order | requests/delivery |" \
	"wire bytes/delivery | server CPU s | CPU us/delivery |" \
	"nchan p50 ms | nchan p99 ms | nchan lost |" \
	"nchan CPU us/delivery |"
for tp in $TRANSPORTS; do
	for n in $LAT_SUBS; do
		r=lat-$tp-$n
		failed $r 17 $tp $n && continue
		echo "| $tp | $n | $(f $r connect_s 2) |" \
			"$(f $r latency_p50_ms 2) |" \
			"$(f $r latency_p90_ms 2) |" \
			"$(f $r latency_p99_ms 2) |" \
			"$(f $r latency_p999_ms 2) |" \
			"$(f $r latency_max_ms 2) | $(v $r lost) |" \
			"$(v $r duplicated) | $(v $r out_of_order) |" \
			"$(f $r requests_per_delivery 3) |" \
			"$(f $r bytes_per_delivery 0) |" \
			"$(f $r server_cpu_run_s 2) |" \
			"$(f $r server_cpu_us_per_delivery 2) |" \
			"$(nc $r latency_p50_ms 2) |" \
			"$(nc $r latency_p99_ms 2) |" \
			"$(nc $r lost 0) |" \
			"$(nc $r server_cpu_us_per_delivery 2) |"
	done
done
echo
echo "### Throughput: $THR_MSGS messages back to back to $THR_SUBS subscribers"
echo
echo "\`--transport T --subs $THR_SUBS --rate 0 --msgs $THR_MSGS" \
	"--size $SIZE\`"
echo
bl_thead 1 "| transport | publish msg/s | deliveries/s | server CPU s |" \
	"server deliveries per CPU-s | bench CPU s | p50 ms | p99 ms |" \
	"lost | dup | deliveries/WS frame | wire bytes/delivery |" \
	"CPU us/delivery | nchan publish msg/s | nchan deliveries/s |" \
	"nchan p99 ms | nchan lost | nchan CPU us/delivery |" \
	"CPU/delivery vs nchan |"
for tp in $TRANSPORTS; do
	r=thr-$tp
	failed $r 18 $tp && continue
	echo "| $tp | $(f $r publish_rate 0) | $(h $r deliveries_per_s) |" \
		"$(f $r server_cpu_run_s 2) |" \
		"$(h $r server_deliveries_per_cpu_s) |" \
		"$(f $r bench_cpu_s 2) | $(f $r latency_p50_ms 1) |" \
		"$(f $r latency_p99_ms 1) | $(v $r lost) |" \
		"$(v $r duplicated) |" \
		"$(f $r deliveries_per_ws_frame 1) |" \
		"$(f $r bytes_per_delivery 0) |" \
		"$(f $r server_cpu_us_per_delivery 2) |" \
		"$(nc $r publish_rate 0) | $(nh $r deliveries_per_s) |" \
		"$(nc $r latency_p99_ms 1) | $(nc $r lost 0) |" \
		"$(nc $r server_cpu_us_per_delivery 2) |" \
		"$(ratio "$(v $r server_cpu_us_per_delivery)" \
			"$(nc $r server_cpu_us_per_delivery 3)") |"
done
echo
echo "### Idle memory per connection"
echo
echo "\`--transport T --subs N --msgs 0\`: server RSS once every" \
	"subscriber is registered minus RSS before connecting, divided by N."
echo
bl_thead 1 "| transport | connections | registered | server open |" \
	"connect s | RSS before KB | RSS connected KB | KB per connection |" \
	"nchan connect s | nchan KB per connection |"
for tp in $TRANSPORTS; do
	for n in $IDLE_CONNS; do
		r=idle-$tp-$n
		failed $r 8 $tp $n && continue
		echo "| $tp | $n | $(v $r registered) | $(v $r server_open) |" \
			"$(f $r connect_s 2) | $(v $r server_rss_before_kb) |" \
			"$(v $r server_rss_connected_kb) |" \
			"$(f $r server_idle_kb_per_conn 2) |" \
			"$(nc $r connect_s 2) |" \
			"$(nc $r server_idle_kb_per_conn 2) |"
	done
done
echo
echo "nchan's KB per connection is its worker's RSS; the channel and" \
	"message store is in shared memory, counted as far as the worker" \
	"touched it."

echo
echo
echo "### Cost versus rate"
echo
echo "\`imlab-bench --sweep --sweep-rates $SWEEP_RATES --msgs $SWEEP_MSGS" \
	"--subs $SWEEP_SUBS --interval 1000\`: per delivered message, the" \
	"HTTP requests and the bytes the subscribers' own sockets sent (up)" \
	"and received (down), headers and frames included; TCP connections" \
	"opened by the subscribers in the run (the WebSocket upgrade is not" \
	"an HTTP request here). Short polling's cost per message falls as" \
	"the rate rises towards one message per interval; the streams' stays" \
	"flat."
echo
bl_thead 1 "| transport | msg/s | requests/msg | bytes up/msg |" \
	"bytes down/msg | connections | p50 ms |"
awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s |\n",
	$1, $2, $6, $7, $8, $10, $11 }' "$work/sweep.tsv" 2>/dev/null
echo
if [ -n "$DOC" ] && [ -s "$work/sweep.tsv" ] &&
	sh "$(dirname "$0")/sweep-chart.sh" "$work/sweep.tsv" \
		"$(dirname "$DOC")/benchmarks-sweep.svg"; then
	alt="bytes and requests per message against the rate"
	echo "![$alt](benchmarks-sweep.svg)"
	echo
else
	echo "(No sweep chart: it needs gnuplot, \`apt-get install" \
		"gnuplot-nox\`.)"
	echo
fi

# ---- targets ------------------------------------------------------------
# met X: "met" if the awk condition on x holds
met() {
	if [ -z "$1" ]; then
		echo "not measured"
	elif awk -v x="$1" "BEGIN { exit !($2) }"; then
		echo "**met**"
	else
		echo "**not met**"
	fi
}
echo "### Targets (issue 6)"
echo
echo "*What limits it* is worked out from the same run: who used the CPU"
echo "(server, bench, or both while the cores were full) and how."
echo
bl_thead 4 "| target | measured | result | what limits it |"
ncpu=$(nproc)

# cpu_note NAME: who used the CPU during run NAME
cpu_note() {
	awk -v b="$(v $1 bench_cpu_s)" -v s="$(v $1 server_cpu_run_s)" \
	    -v d="$(v $1 delivery_s)" -v p="$(v $1 publish_s)" -v n="$ncpu" \
	    'BEGIN {
		if (p > d) d = p;
		if (d <= 0) { print "-"; exit }
		printf "in %.1f s the bench used %.1f CPU-s and the server " \
		       "%.1f of the %d cores (%.0f%% of them, other load " \
		       "not counted): ", d, b, s, n, 100 * (b + s) / (d * n);
		if (b >= 0.85 * d)
			printf "the bench (one thread) was saturated";
		else if (b >= 0.7 * d)
			printf "the bench (one thread) was nearly saturated";
		else if (b + s >= 0.85 * d * n)
			printf "the cores were full";
		else
			printf "neither was CPU-bound, so the time went in " \
			       "waiting (wake-ups, coalescing, queues)" }'
}

lost_all=0
lost_txt=
gap_txt=
for tp in $TRANSPORTS; do
	l1=$(v lat-$tp-$n_max lost)
	l2=$(v thr-$tp lost)
	ok1=$(v lat-$tp-$n_max ok)
	ok2=$(v thr-$tp ok)
	[ "${l1:-1}" = 0 ] && [ "${l2:-1}" = 0 ] || lost_all=1
	if [ "$ok1" = true ] && [ "$ok2" = true ]; then
		lost_txt="$lost_txt $tp ${l1:--}+${l2:--},"
	else
		lost_all=1
		lost_txt="$lost_txt $tp: a run failed ($(v lat-$tp-$n_max \
			error) $(v thr-$tp error)),"
	fi
	gap_txt="$gap_txt $tp $(v lat-$tp-$n_max gaps)+$(v thr-$tp gaps),"
done
if [ $lost_all = 0 ]; then
	res='**met**'
	why=
else
	res='**not met**'
	why="gaps announced by the server:${gap_txt%,}; a loss without a gap"
	why="$why is a server bug (errors: see the TSV of the run)"
fi
echo "| zero loss at $n_max subscribers, every transport | lost" \
	"(latency + throughput run):${lost_txt%,} | $res | $why |"

x=$(v thr-ws deliveries_per_s)
res=$(met "$x" 'x >= 1000000')
why=
if [ "$(v thr-ws ok)" != true ]; then
	why="the run failed: $(v thr-ws error)"
elif [ "$res" != '**met**' ]; then
	why="$(cpu_note thr-ws); the server's own cost is"
	why="$why $(h thr-ws server_deliveries_per_cpu_s) deliveries per"
	why="$why CPU-second; the bench's WebSocket client (a recv per"
	why="$why readable socket, a scan per envelope) needs the rest"
fi
echo "| WebSocket >= 1,000,000 deliveries/s (batching) |" \
	"$(h thr-ws deliveries_per_s)/s at $(f thr-ws publish_rate 0)" \
	"msg/s published, $(f thr-ws deliveries_per_ws_frame 1)" \
	"deliveries per frame | $res | $why |"
for tp in sse longpoll; do
	x=$(v thr-$tp deliveries_per_s)
	res=$(met "$x" 'x >= 400000')
	why=
	if [ "$(v thr-$tp ok)" != true ]; then
		why="the run failed: $(v thr-$tp error)"
	elif [ "$res" != '**met**' ]; then
		why="$(cpu_note thr-$tp); server"
		why="$why $(h thr-$tp server_deliveries_per_cpu_s) deliveries"
		why="$why per CPU-second; publishing slowed to"
		why="$why $(f thr-$tp publish_rate 0) msg/s (publish round trip"
		why="$why p99 $(f thr-$tp publish_rtt_p99_ms 1) ms): the"
		why="$why fan-out holds up the publisher"
	fi
	echo "| $tp >= 400,000 deliveries/s |" \
		"$(h thr-$tp deliveries_per_s)/s at" \
		"$(f thr-$tp publish_rate 0) msg/s published | $res | $why |"
done
for tp in $TRANSPORTS; do
	r=lat-$tp-$n_max
	x=$(v $r latency_p99_ms)
	res=$(met "$x" 'x < 50')
	if run_ok $r && [ "$res" != '**met**' ]; then
		if [ $tp = poll ]; then
			why="the poll interval: a short poll waits up to"
			why="$why --interval ($INTERVAL ms) by design"
		else
			why="$(cpu_note $r); at $LAT_RATE msg/s x $n_max"
			why="$why subscribers every message is a TCP segment"
			why="$why per subscriber, received by the bench and"
			why="$why sent by the server on the same cores; p99 at"
			why="$why $n_min subscribers:"
			why="$why $(f lat-$tp-$n_min latency_p99_ms 2) ms"
		fi
	fi
	echo "| p99 < 50 ms at $LAT_RATE msg/s, $tp, $n_max subs |" \
		"$(f $r latency_p99_ms 2) ms (p50 $(f $r latency_p50_ms 2))" \
		"| $res | $why |"
done
for tp in ws:6 longpoll:6 sse:10; do
	t=${tp%%:*}
	lim=${tp#*:}
	r=idle-$t-$i_max
	x=$(v $r server_idle_kb_per_conn)
	res=$(met "$x" "x <= $lim")
	if run_ok $r && [ "$res" != '**met**' ]; then
		case $t in
		ws) why="libwebsockets' per-connection state and buffers" ;;
		*) why="libmicrohttpd's per-connection memory pool"
		   why="$why (--conn-memory) plus the subscriber's own"
		   why="$why state" ;;
		esac
	fi
	echo "| idle memory <= $lim KB per connection, $t |" \
		"$(f $r server_idle_kb_per_conn 2) KB at $i_max connections" \
		"| $res | $why |"
done
for tp in $TRANSPORTS; do
	r=idle-$tp-$i_max
	reg=$(v $r registered)
	open=$(v $r server_open)
	why=
	if [ "$reg" = "$i_max" ]; then
		res='**met**'
	else
		res='**not met**'
		why="$(v $r error)"
	fi
	[ $tp = poll ] && open="$open (polls are not held)"
	echo "| $i_max connections held, $tp | $reg registered in" \
		"$(f $r connect_s 1) s, server reports $open open |" \
		"$res | $why |"
done
echo

# the issue-14 table (targets14.sh)
t14_table

# ---- chart -------------------------------------------------------------
if command -v gnuplot >/dev/null 2>&1 && [ -n "$DOC" ]; then
	dat=$work/chart.dat
	: >"$dat"
	for tp in $TRANSPORTS; do
		echo "$tp $(v lat-$tp-$n_max latency_p50_ms)" \
		     "$(v lat-$tp-$n_max latency_p99_ms)" \
		     "$(v lat-$tp-$n_max latency_p999_ms)" >>"$dat"
	done
	svg=$(dirname "$DOC")/benchmarks-latency.svg
	if gnuplot -e "
		set terminal svg size 720,400 font 'sans,11';
		set output '$svg';
		set title 'imlab: delivery latency, $n_max subscribers,\
 $LAT_RATE msg/s';
		set ylabel 'ms (log scale)'; set logscale y;
		set style data histograms; set style histogram clustered;
		set style fill solid 0.8 border -1; set boxwidth 0.9;
		set key top right; set grid ytics;
		plot '$dat' using 2:xtic(1) title 'p50',
		     '' using 3 title 'p99', '' using 4 title 'p99.9'
	" 2>"$work/gnuplot.err"; then
		echo "![delivery latency per transport]($(basename "$svg"))"
		echo
	else
		echo "run-bench.sh: gnuplot failed:" \
			"$(cat "$work/gnuplot.err")" >&2
	fi
else
	echo "(No chart: gnuplot is not installed; \`apt-get install" \
		"gnuplot-nox\` and run \`make bench\` again for one.)"
	echo
fi
echo "<!-- END MEASURED -->"
} >"$out"

if [ -n "$DOC" ]; then
	replace_block "$DOC" "<!-- BEGIN MEASURED:" "<!-- END MEASURED -->" \
		"$out"
	echo "run-bench.sh: wrote the measured section of $DOC" \
		"($elapsed s)" >&2
else
	cat "$out"
fi
if [ "$ONLY" != frontends ]; then
	sio_bench
	write_sio
	write_backends
fi
