# shellcheck shell=sh
# SPDX-License-Identifier: MIT
# bench-lib.sh: what the benchmark scripts share, sourced (never run) by
# run-bench.sh and redis-bench.sh, which find it beside themselves as
# "$(dirname "$0")/bench-lib.sh" (in the source tree, from a build tree
# through $(srcdir), in a dist tarball), and by
# tests/integration/test_bench.sh from ../../src/bench/. The parts that
# run-bench.sh sources (bench-backends.sh, nchan-peer.sh, sio-bench.sh,
# targets14.sh) use it as their caller loaded it.
# It owns the servers' lifecycle: a server started in the background on
# a free 127.0.0.1 port of its own choosing (--port 0), waited for until
# it prints the URL it listens on, and stopped by PID; and the header of
# the markdown tables the results become. Its variables are bl_-prefixed;
# the functions set the ones named.

# bl_start OUT ERR WHO CMD...: runs CMD in the background (stdout into
# OUT, stderr into ERR) and waits up to 10 s for its line "WHO...
# http://HOST:PORT/" in OUT; sets bl_pid and bl_port, or stops it, clears
# both and fails if it exited first or the line did not come
bl_start() {
	bl_out=$1 bl_err=$2 bl_who=$3
	shift 3
	"$@" >"$bl_out" 2>"$bl_err" &
	bl_pid=$!
	bl_i=0
	while [ $bl_i -lt 100 ]; do
		bl_port=$(sed -n \
		    "s|^$bl_who.*http://[^:]*:\([0-9][0-9]*\)/.*|\1|p" \
		    "$bl_out" 2>/dev/null | head -n 1)
		[ -z "$bl_port" ] || return 0
		kill -0 "$bl_pid" 2>/dev/null || break
		sleep 0.1
		bl_i=$((bl_i + 1))
	done
	bl_stop "$bl_pid"
	bl_pid=
	bl_port=
	return 1
}

# bl_imlab OUT ERR IMLAB ARGS...: bl_start of the imlab binary IMLAB with
# --port 0 --log-level warn ARGS
bl_imlab() {
	bl_out=$1 bl_err=$2 bl_bin=$3
	shift 3
	bl_start "$bl_out" "$bl_err" 'imlab ' "$bl_bin" --port 0 \
		--log-level warn "$@"
}

# bl_stop PID [SIGNAL]: sends PID SIGNAL (default TERM) and waits for it;
# nothing if PID is ""; always succeeds (safe under set -e)
bl_stop() {
	[ -n "$1" ] || return 0
	kill -"${2:-TERM}" "$1" 2>/dev/null || :
	wait "$1" 2>/dev/null || :
}

# bl_thead N HEADER...: a markdown table's header line (the HEADER words
# joined as by echo: "| a | b |") and its rule, the first N columns
# left-aligned and the others right-aligned
bl_thead() {
	bl_n=$1
	shift
	echo "$*"
	echo "$*" | awk -F '|' -v n="$bl_n" '{
		r = "|"
		for (i = 1; i <= NF - 2; i++) r = r (i <= n ? "---|" : "---:|")
		print r }'
}
