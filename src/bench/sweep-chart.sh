#!/bin/sh
# SPDX-License-Identifier: MIT
# sweep-chart.sh: draws imlab-bench --sweep's TSV (one line per transport
# and rate) as an SVG of two charts against the rate, both on log axes:
# bytes per delivered message (up + down, headers and frames included)
# and HTTP requests per delivered message (the streams make none, so
# their lines lie on the chart's floor, 0.001). Needs gnuplot.
#
#   src/bench/sweep-chart.sh SWEEP.TSV OUT.SVG
#
# run-bench.sh calls it for doc/benchmarks-sweep.svg; exit 0 when the
# chart was written, 1 when gnuplot is missing or failed, 2 on usage.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 SWEEP.TSV OUT.SVG" >&2; exit 2; }
tsv=$1
svg=$2
command -v gnuplot >/dev/null 2>&1 || exit 1
dir=$(mktemp -d "${TMPDIR:-/tmp}/imlab-sweep.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# one data file per transport: rate, bytes/msg, requests/msg (floored)
plots_b=""
plots_r=""
for tp in poll longpoll sse ws; do
	awk -F'\t' -v tp="$tp" 'NR > 1 && $1 == tp {
		r = $6 + 0; if (r < 0.001) r = 0.001
		print $2, $9, r }' "$tsv" >"$dir/$tp.dat"
	[ -s "$dir/$tp.dat" ] || continue
	plots_b="$plots_b${plots_b:+, }'$dir/$tp.dat' using 1:2 title '$tp'"
	plots_r="$plots_r${plots_r:+, }'$dir/$tp.dat' using 1:3 title '$tp'"
done
[ -n "$plots_b" ] || exit 1
gnuplot -e "
	set terminal svg size 900,380 font 'sans,11';
	set output '$svg';
	set multiplot layout 1,2 title 'imlab: cost per message against rate';
	set logscale xy; set grid; set key top right;
	set xlabel 'messages/s (log)';
	set style data linespoints;
	set ylabel 'bytes per message (log)';
	plot $plots_b;
	set ylabel 'HTTP requests per message (log; 0 drawn at 0.001)';
	plot $plots_r;
	unset multiplot
" 2>"$dir/err" || { cat "$dir/err" >&2; exit 1; }
