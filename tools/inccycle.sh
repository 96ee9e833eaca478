#!/bin/sh
# SPDX-License-Identifier: MIT
# inccycle: fails on any include cycle among the modules of a source
# directory (run by `make lint` through tools/lint.sh, and so by CI). A
# module is x.c with x.h (or a header alone); module x depends on module
# y when x.c or x.h includes "y.h" and y.h is in the same directory. The
# graph must have no cycle: a cycle means two modules cannot be read,
# tested or replaced one without the other (split out the shared part,
# as server_ctx.h is split out of server.h).
# Prints each cycle found as `inccycle: DIR: a -> b -> a`; exits 1 if
# there is one, 0 when the graph is acyclic.
#
#   tools/inccycle.sh [DIR...]	(default: src)
set -u

[ $# -gt 0 ] || set -- src
rc=0
for dir in "$@"; do
	for f in "$dir"/*.[ch]; do
		[ -f "$f" ] || continue
		m=${f##*/}
		m=${m%.?}
		sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' \
			"$f" | while read -r inc; do
			[ -f "$dir/$inc" ] || continue
			t=${inc%.h}
			[ "$t" = "$m" ] || echo "$m $t"
		done
	done | LC_ALL=C sort -u | awk -v dir="$dir" '
	{ adj[$1] = adj[$1] " " $2; node[$1] = 1; node[$2] = 1 }
	# depth-first search; state: 0 unseen, 1 on the path, 2 done
	function visit(v, depth,   n, i, nb, k, s) {
		state[v] = 1
		path[depth] = v
		n = split(adj[v], nb, " ")
		for (i = 1; i <= n; i++) {
			if (state[nb[i]] == 1) {
				s = ""
				for (k = depth; path[k] != nb[i]; k--)
					;
				for (; k <= depth; k++)
					s = s path[k] " -> "
				print "inccycle: " dir ": " s nb[i]
				found = 1
			} else if (state[nb[i]] == 0) {
				visit(nb[i], depth + 1)
			}
		}
		state[v] = 2
	}
	END {
		for (v in node)
			if (state[v] == 0)
				visit(v, 0)
		exit found
	}' || rc=1
done
exit $rc
