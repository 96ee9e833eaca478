# SPDX-License-Identifier: MIT
# nchan-peer.sh: nginx + nchan as the bench's peer, sourced by
# run-bench.sh and tests/integration/test_bench.sh (not run on its own;
# both load bench-lib.sh first).
# It writes a minimal nginx.conf into a directory of the caller's, starts
# nginx on 127.0.0.1 at a free port (in the foreground: daemon off, the
# master's PID is $!), finds its one worker and stops it by PID. The
# layout is the one imlab-bench --peer nchan speaks:
#   POST /nchan/pub?id=ROOM   nchan_publisher
#   GET  /nchan/lp?id=ROOM    nchan_subscriber longpoll
#   GET  /nchan/sse?id=ROOM   nchan_subscriber eventsource
#   GET  /nchan/ws?id=ROOM    nchan_subscriber websocket
# One worker process: imlab serves every HTTP transport on one
# libmicrohttpd thread and every WebSocket on one libwebsockets thread,
# so each transport has one event loop on one core in both servers (and
# the bench samples one PID's CPU). History: 1,000 messages per channel,
# as imlab's rooms keep. No access log: imlab logs no requests either.
#
# Functions (they set the variables named):
#   nchan_missing            prints why the peer cannot run, "" if it can
#   nchan_start DIR          nchan_port, nchan_pid (master),
#                            nchan_worker (the worker's PID); 0 or 1
#   nchan_stop               stops the master by PID, waits for it

NCHAN_NGINX=${NCHAN_NGINX:-/usr/sbin/nginx}
NCHAN_MODULE=${NCHAN_MODULE:-/usr/lib/nginx/modules/ngx_nchan_module.so}
nchan_pid=
nchan_worker=
nchan_port=

nchan_missing() {
	if [ ! -x "$NCHAN_NGINX" ]; then
		echo "$NCHAN_NGINX is not installed (apt-get install" \
			"nginx-light libnginx-mod-nchan)"
	elif [ ! -f "$NCHAN_MODULE" ]; then
		echo "$NCHAN_MODULE is not installed (apt-get install" \
			"libnginx-mod-nchan)"
	elif ! command -v curl >/dev/null 2>&1; then
		echo "curl is not installed (it checks that nginx is up)"
	fi
}

# nchan_conf DIR PORT: writes DIR/nginx.conf
nchan_conf() {
	cat >"$1/nginx.conf" <<EOF
load_module $NCHAN_MODULE;
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile $(ulimit -Hn);
pid $1/nginx.pid;
error_log $1/error.log warn;
events {
	worker_connections $(ulimit -Hn);
	use epoll;
}
http {
	access_log off;
	client_body_temp_path $1/body;
	proxy_temp_path $1/proxy;
	fastcgi_temp_path $1/fastcgi;
	uwsgi_temp_path $1/uwsgi;
	scgi_temp_path $1/scgi;
	client_body_buffer_size 1m;
	client_max_body_size 16m;
	keepalive_requests 10000000;
	keepalive_timeout 75s;
	nchan_message_buffer_length 1000;
	nchan_message_timeout 1h;
	server {
		listen 127.0.0.1:$2;
		nchan_channel_id \$arg_id;
		location = /nchan/pub { nchan_publisher; }
		location = /nchan/lp {
			nchan_subscriber longpoll;
			nchan_subscriber_timeout 30s;
		}
		location = /nchan/sse { nchan_subscriber eventsource; }
		location = /nchan/ws { nchan_subscriber websocket; }
	}
}
EOF
}

# nchan_up: 0 once the master has a worker and the port answers
nchan_up() {
	kill -0 "$nchan_pid" 2>/dev/null || return 2
	nchan_worker=$(ps -o pid= --ppid "$nchan_pid" 2>/dev/null |
		tr -d ' ' | head -n 1)
	[ -n "$nchan_worker" ] || return 1
	# a publish to a throwaway channel proves the whole path
	curl -s -o /dev/null -m 2 -w '%{http_code}' -d x \
		"http://127.0.0.1:$nchan_port/nchan/pub?id=probe" 2>/dev/null |
		grep -q '^20[012]$'
}

nchan_start() {
	dir=$1
	mkdir -p "$dir" || return 1
	# the worker runs as nobody when we are root: let it reach its dir
	# (DIR and its parent, the caller's own temporary directory)
	chmod 755 "$dir" && chmod o+x "$(dirname "$dir")"
	tries=0
	while [ $tries -lt 10 ]; do
		tries=$((tries + 1))
		# a random port in 20000-59999; taken ports fail to bind
		nchan_port=$(( ( $(od -An -N2 -tu2 /dev/urandom) % 40000 ) \
			+ 20000 ))
		nchan_conf "$dir" "$nchan_port"
		: >"$dir/error.log"
		"$NCHAN_NGINX" -p "$dir" -e "$dir/error.log" \
			-c "$dir/nginx.conf" >"$dir/nginx.out" 2>&1 &
		nchan_pid=$!
		i=0
		while [ $i -lt 50 ]; do
			nchan_up
			rc=$?
			[ $rc = 0 ] && return 0
			[ $rc = 2 ] && break
			sleep 0.1
			i=$((i + 1))
		done
		nchan_stop
		grep -q 'Address already in use' "$dir/nginx.out" \
			"$dir/error.log" 2>/dev/null || break
	done
	echo "nchan-peer: nginx did not start:" \
		"$(cat "$dir/nginx.out" "$dir/error.log" 2>/dev/null |
			tail -n 3)" >&2
	return 1
}

nchan_stop() {
	bl_stop "$nchan_pid" QUIT
	nchan_pid=
	nchan_worker=
}
