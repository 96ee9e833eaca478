# shellcheck shell=sh
# SPDX-License-Identifier: MIT
# targets14.sh: the "Targets (issue 14)" part of make bench, sourced by
# run-bench.sh, which sets IMLAB, BENCH, work, QUICK, LAT_SUBS, THR_SUBS,
# CONN_SUBS, IDLE_CONNS, SIZE and nchan_skip, loads bench-lib.sh and
# defines bench, bench_imlab, bench_nchan, v, f, h, nc, ratio, run_ok,
# met and cpu_note. It owns the rows the rest of the matrix does not have
# and the table that compares every issue-14 figure with the issue's "today"
# (the figures of its filing), nchan's figure of the same run and the
# target:
#   t14_runs   after the throughput and idle rows (it reads thr-*):
#     lat50    SSE at 1,000 x 50 msg/s, 500 messages (~12 s with nchan)
#     lat100   WebSocket at 1,000 x 100 msg/s, 500 messages (~12 s)
#     lpmax    long poll at 1,000 subscribers, a rate search over the
#              ladder T14_LP_LADDER (thousand deliveries/s), T14_LP_SECS
#              s per rate, at most T14_LP_RUNS rates per server, starting
#              at each server's own back-to-back figure: up while p99
#              <= 100 ms, nothing lost and the rate achieved, else down
#              (~30-45 s both servers)
#     pub5k    5,000 SSE streams, 40 msg/s, 400 messages: the publisher's
#              round trip p99 and achieved rate (~25 s both servers)
#     loss90   every transport at 90% of its maximum rate from the
#              back-to-back row thr-* (the lower of its publish rate and
#              its deliveries/s per subscriber), T14_LOSS_SECS s of
#              messages, more than the 1,000-message history at the
#              higher rates (~40-60 s)
#   t14_table  the markdown table, on stdout
# The connect, SSE/WebSocket 200 msg/s and idle rows are the matrix's
# own (conn-*, lat-*, idle-*). Together about 2-3 minutes on 2 cores;
# --tiny scales every row down (100 subscribers, 1 s per rate) and the
# table says so.
# shellcheck disable=SC2154 # work, port, pid, nchan_* are run-bench.sh's

T14_LP_LADDER="25 50 75 100 150 225 300 400 500"
T14_LP_SECS=2
T14_LP_RUNS=3
T14_LP_P99=100
T14_PUB_SUBS=5000
T14_PUB_RATE=40
T14_PUB_MSGS=400
T14_LOSS_SECS=3
T14_LOSS_PCT=90
T14_POLL_BATCH=500
T14_RATE_MSGS=500
if [ "$QUICK" = 1 ]; then
	T14_PUB_SUBS=1000
	T14_PUB_MSGS=120
	T14_LOSS_SECS=2
	T14_RATE_MSGS=100
elif [ "$QUICK" = 2 ]; then
	T14_LP_SECS=1
	T14_PUB_SUBS=100
	T14_PUB_MSGS=40
	T14_LOSS_SECS=1
	T14_RATE_MSGS=100
fi

# t14_last WORDS...: the last word
t14_last() {
	for w in "$@"; do :; done
	echo "$w"
}

# t14_lp_ok NAME: 0 if long-poll run NAME kept p99 <= T14_LP_P99 ms, lost
# nothing and published at least 95% of rate $t14_rate
t14_lp_ok() {
	[ "$(v "$1" ok)" = true ] || return 1
	awk -v p="$(v "$1" latency_p99_ms)" -v l="$(v "$1" lost)" \
	    -v r="$(v "$1" publish_rate)" -v want="$t14_rate" \
	    -v lim="$T14_LP_P99" 'BEGIN {
		exit !(p != "" && p <= lim && l == 0 && r >= 0.95 * want) }'
}

# t14_lp_search SERVER: the long-poll rate search on imlab or nchan;
# writes $work/lpmax-SERVER.tsv: a header, then "best<TAB>tried" (best
# the best passing ladder step, "" if none; tried the steps run in order,
# "K:ok" or "K:fail"). Its variables are t14_-prefixed: the bench and
# nchan functions it calls set i, dir, name, rc and others.
t14_lp_search() {
	t14_s=$1
	if [ "$t14_s" = imlab ]; then
		t14_k=$(v thr-longpoll deliveries_per_s)
	else
		t14_k=$(v nchan-thr-longpoll deliveries_per_s)
	fi
	# the highest step at or below the back-to-back figure
	t14_k=$(echo "$T14_LP_LADDER" | tr ' ' '\n' | awk -v d="${t14_k:-0}" '
		NR == 1 { k = $1 } $1 * 1000 <= d { k = $1 } END { print k }')
	t14_dir=
	t14_best=
	t14_tried=
	t14_n=0
	while [ -n "$t14_k" ] && [ $t14_n -lt "$T14_LP_RUNS" ]; do
		t14_n=$((t14_n + 1))
		t14_rate=$((t14_k * 1000 / THR_SUBS))
		set -- --transport longpoll --subs "$THR_SUBS" \
			--rate "$t14_rate" --msgs $((t14_rate * T14_LP_SECS)) \
			--size "$SIZE"
		if [ "$t14_s" = imlab ]; then
			bench_imlab "lpmax-$t14_k" "$@"
			t14_r=lpmax-$t14_k
		else
			bench_nchan "lpmax-$t14_k" "$@"
			t14_r=nchan-lpmax-$t14_k
		fi
		if t14_lp_ok "$t14_r"; then
			t14_tried="$t14_tried $t14_k:ok"
			if [ -z "$t14_best" ] || [ "$t14_k" -gt "$t14_best" ]; then
				t14_best=$t14_k
			fi
			[ "$t14_dir" = down ] && break
			t14_dir=up
			t14_k=$(echo "$T14_LP_LADDER" | tr ' ' '\n' |
				awk -v k="$t14_k" '$1 > k { print; exit }')
		else
			t14_tried="$t14_tried $t14_k:fail"
			[ "$t14_dir" = up ] && break
			t14_dir=down
			t14_k=$(echo "$T14_LP_LADDER" | tr ' ' '\n' |
				awk -v k="$t14_k" '$1 < k { p = $1 } END { print p }')
		fi
	done
	printf 'best\ttried\n%s\t%s\n' "$t14_best" "${t14_tried# }" \
		>"$work/lpmax-$t14_s.tsv"
}

# t14_max_rate SERVER TRANSPORT: the maximum sustainable rate the loss
# row takes 90% of (msg/s), from the back-to-back row thr-T (or
# nchan-thr-T): its publish rate or its deliveries/s over its
# subscribers, whichever is lower (a burst of 1,000 can be accepted far
# faster than it is delivered); for short poll, whose deliveries/s in a
# short run measure its interval rather than its capacity, the publish
# rate capped at T14_POLL_BATCH messages per answer per --interval
# (src/tp_params.h's TP_BATCH_DEFAULT), what a poller carries by design
t14_max_rate() {
	tr=thr-$2
	[ "$1" = nchan ] && tr=nchan-thr-$2
	cap=0
	d=$(v $tr deliveries_per_s)
	if [ "$2" = poll ]; then
		cap=$((T14_POLL_BATCH * 1000 / INTERVAL))
		d=
	fi
	awk -v r="$(v $tr publish_rate)" -v d="$d" \
	    -v n="$THR_SUBS" -v c="$cap" 'BEGIN {
		if (d != "" && n > 0 && (r == "" || d / n < r)) r = d / n
		if (c > 0 && (r == "" || r > c)) r = c
		printf "%.0f", r }'
}

# t14_loss_rate SERVER TRANSPORT: T14_LOSS_PCT% of t14_max_rate
t14_loss_rate() {
	awk -v r="$(t14_max_rate "$1" "$2")" -v p="$T14_LOSS_PCT" 'BEGIN {
		x = int(r * p / 100); print (x < 10) ? 10 : x }'
}

t14_runs() {
	t14_t0=$(date +%s)
	n=$(t14_last $LAT_SUBS)
	bench "lat50-sse-$n" --transport sse --subs "$n" --rate 50 \
		--msgs "$T14_RATE_MSGS" --size "$SIZE"
	bench "lat100-ws-$n" --transport ws --subs "$n" --rate 100 \
		--msgs "$T14_RATE_MSGS" --size "$SIZE"
	t14_lp_search imlab
	[ -n "$nchan_skip" ] || t14_lp_search nchan
	bench "pub5k-sse" --transport sse --subs "$T14_PUB_SUBS" \
		--rate "$T14_PUB_RATE" --msgs "$T14_PUB_MSGS" --size "$SIZE"
	for tp in $TRANSPORTS; do
		rate=$(t14_loss_rate imlab "$tp")
		bench_imlab "loss-$tp" --transport "$tp" --subs "$THR_SUBS" \
			--rate "$rate" --msgs $((rate * T14_LOSS_SECS)) \
			--size "$SIZE" --interval "$INTERVAL"
		[ "$tp" = poll ] && continue
		[ -n "$nchan_skip" ] && continue
		[ "$(v nchan-thr-$tp ok)" = true ] || continue
		rate=$(t14_loss_rate nchan "$tp")
		bench_nchan "loss-$tp" --transport "$tp" --subs "$THR_SUBS" \
			--rate "$rate" --msgs $((rate * T14_LOSS_SECS)) \
			--size "$SIZE"
	done
	t14_secs=$(( $(date +%s) - t14_t0 ))
}

# ---- the table ------------------------------------------------------------

# t14_row WORDS...: one table row; an argument "|" ends a cell (seven:
# figure, before, imlab, nchan, target, result, what limits it)
t14_row() {
	printf '|'
	for w in "$@"; do
		if [ "$w" = "|" ]; then printf ' |'; else printf ' %s' "$w"; fi
	done
	echo ' |'
}

# t14_fail NAME: "the run failed: ERROR" if run NAME did not complete
t14_fail() {
	[ "$(v "$1" ok)" = true ] && return 1
	echo "the run failed: $(v "$1" error)"
}

# t14_ticks NAME: a warning when run NAME's server CPU is too few ticks
t14_ticks() {
	awk -v s="$(v "$1" server_cpu_run_s)" 'BEGIN {
		if (s != "" && s < 0.3)
			printf "; only %.2f CPU-s in 10 ms ticks: the ratio" \
			       " is coarse", s }'
}

# t14_cap: imlab's own startup warning about its capacity, if any row's
# server printed one
t14_cap() {
	grep -h 'limited by' "$work"/*.server.err 2>/dev/null | head -n 1 |
		sed 's/^.*capacity[^:]*: //'
}

t14_table() {
	n=$(t14_last $LAT_SUBS)
	cn=$(t14_last $CONN_SUBS)
	t14_in=$(t14_last $IDLE_CONNS)
	need=$(printf '%s\n' "$cn" "$t14_in" "$T14_PUB_SUBS" | sort -n |
		tail -n 1)
	echo "### Targets (issue 14)"
	echo
	echo "*Before* is the issue's \"today\" column, fixed text from its" \
		"filing (not measured by this run); imlab's and nchan's" \
		"figures are this run's, nchan on a fresh nginx per row." \
		"*What limits it* is worked out from the same run, as for" \
		"issue 6. The rows of their own (everything but connect," \
		"SSE and WebSocket at $LAT_RATE msg/s and idle) took" \
		"${t14_secs:-?} s of this run."
	if [ "$QUICK" != 0 ]; then
		echo
		echo "**Scaled down** (--quick / --tiny): $cn connecting," \
			"$n subscribers, $THR_SUBS for long poll and loss," \
			"$T14_PUB_SUBS streams publishing, $t14_in idle; the" \
			"targets are for the full counts, so met / not met here" \
			"says nothing about them."
	fi
	# shellcheck disable=SC3045 # dash and bash have ulimit -H
	hard=$(ulimit -Hn)
	if [ "$hard" != unlimited ] && [ "$hard" -lt $((need + 256)) ]; then
		echo
		echo "**File limit**: \`ulimit -Hn\` is $hard, below the" \
			"$need connections a row holds (plus the bench's and" \
			"the server's own files); raise it (LimitNOFILE=, or" \
			"\`ulimit -Hn\` as root) or the big rows fail."
	fi
	cap=$(t14_cap)
	[ -z "$cap" ] || printf '\nimlab said at startup: %s.\n' "$cap"
	echo
	bl_thead 7 "| figure | before (issue 14's filing) | imlab | nchan |" \
		"target | result | what limits it |"
	t14_connect_rows
	t14_sse_rows
	t14_ws_rows
	t14_lp_row
	t14_pub_row
	t14_loss_rows
	t14_idle_rows
	echo
}

t14_connect_rows() {
	for tp in $CONN_TRANSPORTS; do
		r=conn-$tp-$cn
		x=$(v $r presence_s)
		nx=$(nc $r connect_all_s 3)
		res=$(met "$x" 'x <= 1')
		why=
		case $nx in
		[0-9]*)	[ "$res" = '**met**' ] &&
				res=$(met "$x" "x <= 2 * $nx") ;;
		*)	why="(the 2x nchan part not checked: nchan $nx) " ;;
		esac
		if why2=$(t14_fail $r); then
			res='**not met**'
			why=$why2
		elif [ "$res" != '**met**' ]; then
			why="$why$(awk -v m="$(v $r presence_messages)" \
			    -v n="$cn" -v c="$(v $r server_cpu_connect_s)" \
			    -v t="$x" 'BEGIN {
				printf "%.0f join messages for %d subscribers" \
				    " (%.1f per subscriber; every join to every" \
				    " member would be %d each): ", m, n, m / n,
				    n;
				if (m > 0.25 * n * n)
					printf "presence grows as N x N; ";
				else
					printf "not N x N (%.0f): the joins" \
					    " are batched; ", n * n;
				printf "%.2f s of server CPU in %.2f s", c, t;
				if (c >= 0.85 * t)
					printf " (the server was CPU-bound)";
				else
					printf " (the server was not" \
					    " CPU-bound: waiting on the" \
					    " bench or the join pacing)" }')"
		fi
		t14_row "connect $cn distinct-cid subscribers to one room," \
			"$tp" "|" "~9 s" "|" \
			"$(f $r presence_s 2) s to the last join" \
			"($(f $r connect_all_s 2) s registered," \
			"$(h $r presence_messages) joins," \
			"$(f $r server_cpu_connect_s 2) CPU-s)" "|" \
			"$nx s ($(nc $r server_cpu_connect_s 2) CPU-s);" \
			"imlab $(ratio "$x" "$nx")" "|" \
			"<= 1 s and <= 2x nchan" "|" "$res" "|" "$why"
	done
}

# t14_lat_why NAME: why latency run NAME missed: the CPU, the publisher,
# and WebSocket's p50 at the same load (the transport's own share)
t14_lat_why() {
	echo "$(cpu_note "$1"); published $(f "$1" publish_rate 0) msg/s" \
		"(nchan's publisher $(nc "$1" publish_rate 0))"
}

t14_sse_rows() {
	r=lat50-sse-$n
	np50=$(nc $r latency_p50_ms 3)
	np99=$(nc $r latency_p99_ms 3)
	case $np50$np99 in
	*[!0-9.]* | '') res="not measured (no nchan figure)" ;;
	*) res=$(met "$(v $r latency_p50_ms)" "x <= $np50")
	   [ "$res" = '**met**' ] &&
		res=$(met "$(v $r latency_p99_ms)" "x <= $np99") ;;
	esac
	if run_ok $r && [ "$res" = '**not met**' ]; then
		why="$(t14_lat_why $r); lost $(v $r lost) / $(nc $r lost 0)"
	fi
	t14_row "SSE p50 / p99 at $n x 50 msg/s" "|" "not yet measured" "|" \
		"$(f $r latency_p50_ms 2) / $(f $r latency_p99_ms 2) ms" "|" \
		"$(nc $r latency_p50_ms 2) / $(nc $r latency_p99_ms 2) ms" "|" \
		"<= nchan's p50 and p99" "|" "$res" "|" "$why"

	r=lat-sse-$n
	cr=$(ratio "$(v $r server_cpu_us_per_delivery)" \
		"$(nc $r server_cpu_us_per_delivery 3)")
	res=$(met "$(v $r latency_p50_ms)" 'x <= 7')
	p50=$res
	case $cr in
	[0-9]*) [ "$res" = '**met**' ] && res=$(met "${cr%x}" 'x <= 0.5') ;;
	*) [ "$res" = '**met**' ] && res="p50 met; CPU not measured" ;;
	esac
	if run_ok $r && [ "$res" = '**not met**' ]; then
		if [ "$p50" != '**met**' ]; then
			why="p50: $(t14_lat_why $r); WebSocket's p50 at the"
			why="$why same load $(f lat-ws-$n latency_p50_ms 2) ms"
			why="$why (what the shared cores and the publish path"
			why="$why cost; the rest is SSE's own write path:"
			why="$why coalescing, chunked writes); "
		fi
		why="${why}CPU/delivery $cr nchan"
		why="$why ($(f $r bytes_per_delivery 0) wire B/delivery)"
		why="$why$(t14_ticks $r)"
	fi
	t14_row "SSE p50 and CPU/delivery at $n x $LAT_RATE msg/s" \
		"|" "14 ms, 0.27x nchan" "|" \
		"p50 $(f $r latency_p50_ms 2) ms," \
		"$(f $r server_cpu_us_per_delivery 2) us/delivery ($cr)" "|" \
		"p50 $(nc $r latency_p50_ms 2) ms," \
		"$(nc $r server_cpu_us_per_delivery 2) us/delivery" "|" \
		"p50 <= 7 ms, CPU/delivery <= 0.5x nchan" "|" "$res" "|" \
		"$why"
}

t14_ws_rows() {
	for rr in lat100-ws-$n:100:"1.05-1.08x nchan" \
	    lat-ws-$n:$LAT_RATE:"0.97x nchan"; do
		r=${rr%%:*}
		rt=${rr#*:}
		before=${rt#*:}
		rt=${rt%%:*}
		cr=$(ratio "$(v $r server_cpu_us_per_delivery)" \
			"$(nc $r server_cpu_us_per_delivery 3)")
		case $cr in
		[0-9]*) res=$(met "${cr%x}" 'x <= 0.6') ;;
		*) res="not measured (no nchan figure)" ;;
		esac
		if run_ok $r && [ "$res" = '**not met**' ]; then
			why="$(cpu_note $r);"
			why="$why $(f $r deliveries_per_ws_frame 2) deliveries"
			why="$why per frame: one frame (a send) per subscriber"
			why="$why per message at this rate, which is nchan's"
			why="$why cost too; server"
			why="$why $(h $r server_deliveries_per_cpu_s)"
			why="$why deliveries per CPU-s$(t14_ticks $r)"
		fi
		t14_row "WebSocket server CPU/delivery at $n x $rt msg/s" \
			"|" "$before" "|" \
			"$(f $r server_cpu_us_per_delivery 2) us ($cr)," \
			"$(f $r deliveries_per_ws_frame 2) per frame" "|" \
			"$(nc $r server_cpu_us_per_delivery 2) us" "|" \
			"<= 0.6x nchan" "|" "$res" "|" "$why"
	done
}

# t14_lp_fig SERVER: "BEST/s (step Kk; tried Kk: ...)" from the search
t14_lp_fig() {
	pre=
	[ "$1" = nchan ] && pre=nchan-
	[ -s "$work/lpmax-$1.tsv" ] || { echo "-"; return; }
	best=$(v "lpmax-$1" best)
	if [ -n "$best" ]; then
		printf '%s/s (the %sk step)' \
			"$(h "${pre}lpmax-$best" deliveries_per_s)" "$best"
	else
		printf 'none passed'
	fi
	printf '; tried'
	for t in $(v "lpmax-$1" tried); do
		k=${t%%:*}
		printf ' %sk %s: p99 %s ms, lost %s, %s msg/s;' "$k" "${t#*:}" \
			"$(f "${pre}lpmax-$k" latency_p99_ms 0)" \
			"$(v "${pre}lpmax-$k" lost)" \
			"$(f "${pre}lpmax-$k" publish_rate 0)"
	done
}

t14_lp_row() {
	best=$(v lpmax-imlab best)
	res='**not met**'
	why=
	[ -n "$best" ] && [ "$best" -ge 300 ] && res='**met**'
	# the first failing step above the best: why it failed
	fail=$(v lpmax-imlab tried | tr ' ' '\n' |
		awk -F: -v b="${best:-0}" '$2 == "fail" && $1 > b {
			print $1; exit }')
	if [ -n "$fail" ]; then
		r=lpmax-$fail
		if ! why=$(t14_fail $r); then
			why="at the ${fail}k step: $(cpu_note $r);"
			why="$why $(f $r requests_per_delivery 2) requests"
			why="$why per delivery, publish round trip p99"
			why="$why $(f $r publish_rtt_p99_ms 1) ms"
		fi
	elif [ "$res" = '**met**' ]; then
		why="the ladder's top step passed: the maximum is higher"
	fi
	nf=$(t14_lp_fig nchan)
	[ -n "$nchan_skip" ] && nf="-"
	t14_row "long poll max deliveries/s, p99 <= $T14_LP_P99 ms, no loss," \
		"$THR_SUBS subs" "|" "123k (2.45x nchan)" "|" \
		"$(t14_lp_fig imlab)" "|" "$nf" "|" ">= 300k" "|" "$res" "|" \
		"$why"
}

t14_pub_row() {
	r=pub5k-sse
	res=$(met "$(v $r publish_rtt_p99_ms)" 'x <= 50')
	[ "$res" = '**met**' ] && res=$(met "$(v $r publish_rate)" \
		"x >= 0.95 * $T14_PUB_RATE")
	if run_ok $r && [ "$res" = '**not met**' ]; then
		why="$(cpu_note $r); publish round trip p50"
		why="$why $(f $r publish_rtt_p50_ms 1) ms: the POSTs wait"
		why="$why behind the streams' writes"
	fi
	t14_row "publish p99 with $T14_PUB_SUBS SSE streams at" \
		"$T14_PUB_RATE msg/s" "|" "188 ms, 22 msg/s achieved" "|" \
		"p99 $(f $r publish_rtt_p99_ms 1) ms," \
		"$(f $r publish_rate 1) msg/s (delivery p99" \
		"$(f $r latency_p99_ms 1) ms)" "|" \
		"p99 $(nc $r publish_rtt_p99_ms 1) ms," \
		"$(nc $r publish_rate 1) msg/s" "|" \
		"<= 50 ms, $T14_PUB_RATE msg/s achieved" "|" "$res" "|" "$why"
}

t14_loss_rows() {
	for tp in $TRANSPORTS; do
		r=loss-$tp
		before=-
		[ "$tp" = ws ] && before="loss above ~2.7k msg/s"
		res=$(met "$(v $r lost)" 'x == 0')
		if run_ok $r && [ "$res" = '**not met**' ]; then
			if [ "$(v $r gaps)" = 0 ]; then
				why="no gap announced: the subscribers were"
				why="$why still behind when the bench stopped"
				why="$why waiting (5 s after the last publish);"
			else
				why="$(v $r gaps) gaps announced (subscribers"
				why="$why behind the room's history);"
			fi
			why="$why $(cpu_note $r);"
			why="$why delivery took $(f $r delivery_s 1) s for"
			why="$why $(f $r publish_s 1) s of publishing"
		fi
		nf=$(nc $r lost 0)
		case $nf in
		[0-9]*) nf="lost $nf at $(f nchan-$r publish_rate 0) of"
			nf="$nf $(t14_loss_rate nchan "$tp") msg/s asked"
			nf="$nf ($T14_LOSS_PCT% of its"
			nf="$nf $(t14_max_rate nchan "$tp"))" ;;
		esac
		t14_row "loss at $T14_LOSS_PCT% of the maximum rate, $tp," \
			"$THR_SUBS subs, ${T14_LOSS_SECS} s" "|" "$before" "|" \
			"lost $(v $r lost) of $(h $r expected) at" \
			"$(f $r publish_rate 0) of $(t14_loss_rate imlab "$tp")" \
			"msg/s asked ($T14_LOSS_PCT% of" \
			"$(t14_max_rate imlab $tp)), p99" \
			"$(f $r latency_p99_ms 1) ms" "|" \
			"$nf" "|" "zero" "|" "$res" "|" "$why"
	done
}

t14_idle_rows() {
	for tl in ws:3.1 sse:7.5 longpoll:5.9; do
		tp=${tl%%:*}
		lim=${tl#*:}
		r=idle-$tp-$t14_in
		res=$(met "$(v $r server_idle_kb_per_conn)" "x <= $lim")
		if run_ok $r && [ "$res" = '**not met**' ]; then
			case $tp in
			ws) why="libwebsockets' per-connection state" ;;
			*) why="libmicrohttpd's per-connection pool"
			   why="$why (--conn-memory) and the subscriber's"
			   why="$why state" ;;
			esac
		fi
		t14_row "idle memory per connection at $t14_in, $tp" "|" \
			"$lim KB" "|" "$(f $r server_idle_kb_per_conn 2) KB" "|" \
			"$(nc $r server_idle_kb_per_conn 2) KB" "|" \
			"<= $lim KB (no worse)" "|" "$res" "|" "$why"
	done
}
