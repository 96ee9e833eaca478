#!/bin/sh
# SPDX-License-Identifier: MIT
# redis-bench: a short, bounded measurement of nodes sharing Redis
# (doc/benchmarks.md, "Nodes sharing Redis"): delivery latency and CPU per
# delivery for a node alone, a node with --redis (publisher and
# subscribers on it) and across nodes (publish on A, subscribers on B),
# and Redis's memory per message (INFO memory). Everything runs on
# 127.0.0.1 with its own redis-server (--save '' --appendonly no) and
# imlab processes, stopped by pid.
#
#   src/bench/redis-bench.sh [--imlab src/imlab] [--bench src/imlab-bench]
#                            [--subs 10] [--msgs 2000] [--rate 400]
#                            [--mem-msgs 10000]
# An imlab that does not start (say, built without hiredis) is an error
# (exit status 3) with its message on stderr.
set -eu
# shellcheck source=SCRIPTDIR/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
imlab=src/imlab
bench=src/imlab-bench
subs=10
msgs=2000
rate=400
memmsgs=10000
while [ $# -gt 0 ]; do
	case $1 in
	--imlab) imlab=$2; shift 2 ;;
	--bench) bench=$2; shift 2 ;;
	--subs) subs=$2; shift 2 ;;
	--msgs) msgs=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--mem-msgs) memmsgs=$2; shift 2 ;;
	*) echo "redis-bench: unknown option $1" >&2; exit 2 ;;
	esac
done
redis_server=$(command -v redis-server || echo /usr/bin/redis-server)
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_node NAME ARGS...: an imlab on a free port; sets NAME_pid, NAME_port
start_node() {
	name=$1; shift
	if ! bl_imlab "$tmp/$name.out" "$tmp/$name.err" "$imlab" "$@"; then
		echo "redis-bench: imlab $*: $(tail -n 1 "$tmp/$name.err")" >&2
		exit 3
	fi
	pids="$pids $bl_pid"
	eval "${name}_pid=$bl_pid ${name}_port=$bl_port"
}

# cpu_ms PID: user + system CPU time of PID in ms
cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' \
		"/proc/$1/stat"
}

rport=$(free_port)
"$redis_server" --port "$rport" --bind 127.0.0.1 --save '' \
	--appendonly no --daemonize no --loglevel warning >"$tmp/redis.out" &
redis_pid=$!
pids="$pids $redis_pid"
for _ in $(seq 100); do
	redis-cli -p "$rport" ping >/dev/null 2>&1 && break
	sleep 0.05
done
start_node alone
start_node a --redis "redis://127.0.0.1:$rport"
start_node b --redis "redis://127.0.0.1:$rport"

# run LABEL TRANSPORT SUBURL PUBURL: one bench run; prints a TSV line
run() {
	label=$1 tp=$2 sub=$3 pub=$4
	c0a=$(cpu_ms "$alone_pid") c0A=$(cpu_ms "$a_pid")
	c0B=$(cpu_ms "$b_pid") c0r=$(cpu_ms "$redis_pid")
	"$bench" --url "$sub" --pub-url "$pub" --transport "$tp" \
		--subs "$subs" --msgs "$msgs" --rate "$rate" --tsv \
		>"$tmp/run.tsv" 2>/dev/null
	c1a=$(cpu_ms "$alone_pid") c1A=$(cpu_ms "$a_pid")
	c1B=$(cpu_ms "$b_pid") c1r=$(cpu_ms "$redis_pid")
	awk -F'\t' -v label="$label" -v d="$subs*$msgs" \
	    -v imlab="$(echo "$c1a - $c0a + $c1A - $c0A + $c1B - $c0B" | bc)" \
	    -v redis="$(echo "$c1r - $c0r" | bc)" '
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{
		split(d, f, "*"); n = f[1] * f[2]
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%.1f\n", label,
		    $col["transport"], $col["latency_p50_ms"], $col["latency_p99_ms"],
		    $col["lost"], $col["duplicated"], imlab * 1000 / n, redis * 1000 / n
	}' "$tmp/run.tsv"
}

printf 'setup\ttransport\tp50_ms\tp99_ms\tlost\tduplicated\timlab_cpu_us_per_delivery\tredis_cpu_us_per_delivery\n'
for tp in sse ws; do
	run alone "$tp" "http://127.0.0.1:$alone_port" \
		"http://127.0.0.1:$alone_port"
	run same-node "$tp" "http://127.0.0.1:$a_port" \
		"http://127.0.0.1:$a_port"
	run cross-node "$tp" "http://127.0.0.1:$b_port" \
		"http://127.0.0.1:$a_port"
done

# Redis memory per message: $memmsgs messages of 64 B data, back to back
m0=$(redis-cli -p "$rport" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
l0=$(redis-cli -p "$rport" xlen imlab:log)
"$bench" --url "http://127.0.0.1:$b_port" \
	--pub-url "http://127.0.0.1:$a_port" --transport sse --subs 1 \
	--msgs "$memmsgs" --rate 0 --tsv >/dev/null 2>&1
m1=$(redis-cli -p "$rport" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
l1=$(redis-cli -p "$rport" xlen imlab:log)
echo
printf 'redis used_memory: %s -> %s bytes for %s entries: %s bytes per message (64 B data)\n' \
	"$m0" "$m1" "$((l1 - l0))" "$(( (m1 - m0) / (l1 - l0) ))"
