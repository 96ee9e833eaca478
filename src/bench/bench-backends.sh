# shellcheck shell=sh
# SPDX-License-Identifier: MIT
# bench-backends.sh: the "Back ends" part of make bench (issue 15, item 5),
# sourced by run-bench.sh, which sets IMLAB, BENCH, work and QUICK, loads
# bench-lib.sh and defines v, f and failed. It owns two measurements and
# the markdown they become:
#   durable  SQLite (--history-db): a fresh imlab per row (memory only,
#            --history-db-sync 1, --history-db-sync 0), imlab-bench ws
#            with one subscriber at a fixed rate, then the
#            imlab_history_db_* series of /metrics: writer CPU and
#            process CPU per message, commits, the durable-ack latency
#            (queued to committed), file bytes per message
#   redis    src/bench/redis-bench.sh with bounded counts: delivery
#            latency and CPU per delivery alone / same-node / cross-node,
#            Redis memory per message
# Each is skipped with a note in the doc when redis-server or the build's
# SQLite / hiredis support is missing. Servers listen on 127.0.0.1 free
# ports and are stopped by PID.
# shellcheck disable=SC2154 # work and here are run-bench.sh's

BE_SUBS=10
BE_MSGS=2000
BE_RATE=400
BE_MEM_MSGS=10000
BE_DB_MSGS=10000
BE_DB_RATE=1000
if [ "$QUICK" != 0 ]; then
	BE_SUBS=5
	BE_MSGS=300
	BE_RATE=300
	BE_MEM_MSGS=1000
	BE_DB_MSGS=1000
	BE_DB_RATE=500
fi
be_pid=

# be_start NAME ARGS...: a fresh imlab with ARGS; sets be_pid, be_port;
# fails (its stderr in $work/NAME.be.err) if it did not start
be_start() {
	bn=$1
	shift
	bl_imlab "$work/$bn.be.out" "$work/$bn.be.err" "$IMLAB" "$@"
	be_pid=$bl_pid be_port=$bl_port
	[ -n "$be_port" ]
}

be_stop() {
	bl_stop "$be_pid"
	be_pid=
}

# be_metric NAME KEY: the value of series KEY in $work/NAME.metrics
be_metric() {
	awk -v k="$2" '$1 == k { print $2; exit }' "$work/$1.metrics" \
		2>/dev/null
}

# be_db_run NAME ARGS...: one durable row: imlab ARGS, the bench, /metrics
be_db_run() {
	bn=$1
	shift
	if ! be_start "$bn" "$@"; then
		echo "run-bench.sh: $bn: imlab $*:" \
			"$(tail -n 1 "$work/$bn.be.err")" >&2
		return 1
	fi
	echo "== $bn: imlab $*; imlab-bench ws 1 x $BE_DB_MSGS" \
		"at $BE_DB_RATE msg/s" >&2
	"$BENCH" --url "http://127.0.0.1:$be_port" --server-pid "$be_pid" \
		--transport ws --subs 1 --rate "$BE_DB_RATE" \
		--msgs "$BE_DB_MSGS" --size 64 --tsv >"$work/$bn.tsv" \
		2>"$work/$bn.err"
	# let the writer commit the last batch before reading its meters
	sleep 0.5
	curl -s --max-time 5 "http://127.0.0.1:$be_port/metrics" \
		>"$work/$bn.metrics" 2>/dev/null
	be_stop
	return 0
}

# be_durable: the SQLite rows into $work/backends-db.md
be_durable() {

	echo "#### Durable history (SQLite)"
	if ! be_db_run db-mem; then
		echo
		echo "**Skipped**: imlab did not start."
		return
	fi
	cpu_mem=$(v db-mem server_cpu_run_s)
	if ! be_db_run db-sync1 --history-db "$work/h1.db" \
		--history-db-keep "$BE_DB_MSGS"; then
		echo
		echo "**Skipped**: this imlab has no SQLite history:" \
			"\`$(tail -n 1 "$work/db-sync1.be.err")\`" \
			"(install libsqlite3-dev, then ./configure again)."
		return
	fi
	be_db_run db-sync0 --history-db "$work/h0.db" \
		--history-db-keep "$BE_DB_MSGS" --history-db-sync 0
	echo
	echo "A fresh imlab per row, then \`imlab-bench --transport ws" \
		"--subs 1 --rate $BE_DB_RATE --msgs $BE_DB_MSGS --size 64" \
		"--server-pid PID --tsv\` and its \`/metrics\`" \
		"(\`imlab_history_db_*\`). \`--history-db-keep $BE_DB_MSGS\`:" \
		"no retention deletes during the run. Process CPU is the" \
		"server's during the publish phase; the writer's is its own" \
		"thread's; durable is from queued (just before the publish is" \
		"answered) to committed, a histogram (the shares are bucket" \
		"bounds); file bytes per message is the database file after" \
		"the server stopped (its WAL checkpointed) over the messages" \
		"written; the publish ack is imlab-bench's publish round trip" \
		"(POST to its answer), sent once the message is queued for" \
		"the writer, not once it is durable. CPU times come in 10 ms" \
		"ticks, coarse at small counts."
	echo
	bl_thead 1 "| server | process CPU us/msg | over memory us/msg |" \
		"writer CPU us/msg | commits (msgs/commit) | durable mean ms |" \
		"<= 1 ms | <= 10 ms | <= 50 ms | durable max ms |" \
		"file bytes/msg | publish ack p50 / p99 ms |" \
		"delivery p50 / p99 ms | lost |"
	for r in db-mem db-sync1 db-sync0; do
		case $r in
		db-mem) label="memory only"; db= ;;
		db-sync1) label="\`--history-db-sync 1\` (default)"
			db=$work/h1.db ;;
		*) label="\`--history-db-sync 0\`"; db=$work/h0.db ;;
		esac
		failed $r 13 "$label" && continue
		w=$(be_metric $r imlab_history_db_written_total)
		size=
		[ -z "$db" ] || size=$(stat -c %s "$db" 2>/dev/null)
		hs=imlab_history_db_durable_seconds
		awk -v label="$label" -v cpu="$(v $r server_cpu_run_s)" \
		    -v cpu0="$cpu_mem" -v n="$BE_DB_MSGS" -v w="$w" \
		    -v wcpu="$(be_metric $r \
			imlab_history_db_writer_cpu_seconds_total)" \
		    -v commits="$(be_metric $r imlab_history_db_commits_total)" \
		    -v sum="$(be_metric $r ${hs}_sum)" \
		    -v cnt="$(be_metric $r ${hs}_count)" \
		    -v b1="$(be_metric $r "${hs}_bucket{le=\"0.001\"}")" \
		    -v b10="$(be_metric $r "${hs}_bucket{le=\"0.01\"}")" \
		    -v b50="$(be_metric $r "${hs}_bucket{le=\"0.05\"}")" \
		    -v max="$(be_metric $r \
			imlab_history_db_durable_max_microseconds)" \
		    -v size="$size" -v p50="$(f $r latency_p50_ms 2)" \
		    -v p99="$(f $r latency_p99_ms 2)" -v lost="$(v $r lost)" \
		    -v a50="$(f $r publish_rtt_p50_ms 2)" \
		    -v a99="$(f $r publish_rtt_p99_ms 2)" '
		function pct(x) {
			return (cnt > 0 && x != "") ? \
				sprintf("%.1f%%", 100 * x / cnt) : "-" }
		BEGIN {
			pc = (cpu != "") ? sprintf("%.0f", cpu * 1e6 / n) : "-"
			over = (w == "" || cpu == "" || cpu0 == "") ? "-" : \
				sprintf("%+.0f", (cpu - cpu0) * 1e6 / n)
			if (w == "" || w == 0) {
				printf "| %s | %s | - | - | - | - | - | - | - |" \
				    " - | - | %s / %s | %s / %s | %s |\n", label,
				    pc, a50, a99, p50, p99, lost
				exit
			}
			printf "| %s | %s | %s | %.1f | %d (%.1f) | %.2f |" \
			    " %s | %s | %s | %.1f | %s | %s / %s | %s / %s |" \
			    " %s |\n",
			    label, pc, over, wcpu * 1e6 / w, commits,
			    commits ? w / commits : 0,
			    cnt ? sum * 1000 / cnt : 0, pct(b1), pct(b10),
			    pct(b50), max / 1000,
			    size != "" ? sprintf("%.0f", size / w) : "-",
			    a50, a99, p50, p99, lost }'
	done
}

# be_redis: the Redis rows (from redis-bench.sh)
be_redis() {
	echo "#### Nodes sharing Redis"
	echo
	if ! command -v redis-server >/dev/null 2>&1 ||
	   ! command -v redis-cli >/dev/null 2>&1; then
		echo "**Skipped**: redis-server / redis-cli are not installed" \
			"(Debian redis-server)."
		return
	fi
	echo "== redis: redis-bench.sh --subs $BE_SUBS --msgs $BE_MSGS" \
		"--rate $BE_RATE --mem-msgs $BE_MEM_MSGS" >&2
	if ! sh "$here/redis-bench.sh" --imlab "$IMLAB" \
		--bench "$BENCH" --subs "$BE_SUBS" --msgs "$BE_MSGS" \
		--rate "$BE_RATE" --mem-msgs "$BE_MEM_MSGS" \
		>"$work/redis.tsv" 2>"$work/redis.err"; then
		echo "**Skipped / failed**: \`src/bench/redis-bench.sh\`:" \
			"\`$(grep -v '^$' "$work/redis.err" | tail -n 1)\`" \
			"(an imlab built without hiredis cannot --redis:" \
			"install libhiredis-dev, then ./configure again)."
		return
	fi
	echo "\`src/bench/redis-bench.sh --subs $BE_SUBS --msgs $BE_MSGS" \
		"--rate $BE_RATE --mem-msgs $BE_MEM_MSGS\`: its own" \
		"redis-server ($(redis-server --version | sed -n \
		's/.* v=\([^ ]*\).*/\1/p'), \`--save '' --appendonly no\`)," \
		"a node alone, nodes A and B on the Redis; **alone**:" \
		"publisher and subscribers on the lone node; **same-node**:" \
		"both on A; **cross-node**: publisher on A, subscribers on B." \
		"CPU per delivery: the three imlab processes together, and" \
		"redis-server, over the $((BE_SUBS * BE_MSGS)) deliveries of" \
		"a run (10 ms ticks: coarse at small counts); CPU vs alone is" \
		"imlab + Redis over the lone node's."
	echo
	bl_thead 2 "| setup | transport | p50 ms | p99 ms | lost / dup |" \
		"imlab CPU us/delivery | Redis CPU us/delivery |" \
		"p50 vs alone | CPU vs alone |"
	awk -F'\t' '
		NR == 1 || NF < 8 { next }
		{
			if ($1 == "alone") { base[$2] = $3; cpu[$2] = $7 }
			r = (base[$2] > 0) ? sprintf("%.2fx", $3 / base[$2]) : "-"
			c = (cpu[$2] > 0) ? \
				sprintf("%.2fx", ($7 + $8) / cpu[$2]) : "-"
			printf "| %s | %s | %.2f | %.2f | %s / %s | %s | %s |" \
			    " %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, r, c
		}' "$work/redis.tsv"
	echo
	# shellcheck disable=SC2016 # the backquotes are markdown
	sed -n 's/^redis used_memory: \(.*\)$/Redis \`used_memory\` (INFO memory): \1./p' \
		"$work/redis.tsv"
}

# backends_section: the whole block, markers included, on stdout
backends_section() {
	echo "<!-- BEGIN BACK ENDS: written by make bench" \
		"(src/bench/run-bench.sh)"
	echo "     on $(date -u '+%Y-%m-%d %H:%M UTC'); edits here are" \
		"overwritten -->"
	echo
	echo "### Back ends"
	echo
	echo "- machine: $(nproc) CPUs, load average" \
		"$(cut -d' ' -f1-3 /proc/loadavg) at the end (anything above 0" \
		"is other work competing for the cores)"
	if [ "$QUICK" != 0 ]; then
		echo "- **quick counts** (--quick or --tiny), not the standard" \
			"ones"
	fi
	echo
	be_durable
	echo
	be_redis
	echo
	echo "<!-- END BACK ENDS -->"
}
