// SPDX-License-Identifier: MIT
// sio-peer.mjs: Node's Socket.IO 4.x server as imlab-bench's peer
// (imlab-bench --peer socket.io --transport sio), started by
// src/bench/sio-bench.sh (make bench) or by hand:
//
//   node src/bench/sio-peer.mjs [--port N] [--host 127.0.0.1]
//
// It listens on 127.0.0.1 (port 0: a free one), prints one line
// "sio-peer: http://HOST:PORT/ (socket.io VERSION)" once it does, and
// runs until it gets SIGTERM or SIGINT. It speaks the part of imlab's
// protocol over Socket.IO the bench uses, on the npm socket.io package
// with its defaults (WebSocket and polling, no compression, the in-memory
// adapter, pingInterval 25 s):
//   CONNECT auth {cid, from}; emit("join", {room}, ack) -> socket.join,
//   ack {room, last_id}; emit("leave", {room}, ack); any other event is
//   acked {error: {code: "bad_op"}}
//   POST /api/rooms/ROOM/messages {event, from, cid, data} -> 201
//   {id, ts}: id is one more than the last, ts Date.now(); the envelope
//   {id, room, event, from, pid, via, data, ts} (imlab's members, in its
//   order) goes to the room as io.to(room).emit(event, envelope, "ID"),
//   the frame imlab sends: 42["EVENT",ENVELOPE,"ID"], encoded once per
//   emit and shared by the room's sockets, as imlab does
//   GET /api/info -> {last_id}; GET /api/stats ->
//   {transports: {sio: {open}}}: the bench's control requests
// No history, no presence, no recovery: a join's since is not honoured
// (a reconnecting bench subscriber loses what it missed), and no join
// message is published. Nothing here is a product: it is the bench's
// yardstick, as nchan-peer.sh's nginx is.
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { Server } from "socket.io";

const require = createRequire(import.meta.url);
const version = require("socket.io/package.json").version;

let port = 0;
let host = "127.0.0.1";
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i];
	if (a === "--port")
		port = Number(process.argv[++i]);
	else if (a === "--host")
		host = process.argv[++i];
	else {
		console.error(`sio-peer: unknown argument ${a}`);
		process.exit(2);
	}
}

const MAX_BODY = 65536;
let lastId = 0;

function pidOf(cid) {
	return createHash("sha256").update(String(cid)).digest("hex")
		.slice(0, 32);
}

function reply(res, status, obj) {
	const body = JSON.stringify(obj);
	res.writeHead(status, {
		"Content-Type": "application/json",
		"Content-Length": Buffer.byteLength(body),
	});
	res.end(body);
}

function publish(room, body, res) {
	let p;
	try {
		p = JSON.parse(body);
	} catch {
		return reply(res, 400, { error: { code: "bad_json" } });
	}
	if (!p || typeof p.event !== "string" || !p.event)
		return reply(res, 400, { error: { code: "bad_event" } });
	const id = ++lastId;
	const ts = Date.now();
	const env = {
		id, room, event: p.event,
		from: typeof p.from === "string" ? p.from : "anonymous",
		pid: pidOf(p.cid || ""), via: "api", data: p.data ?? null, ts,
	};
	io.to(room).emit(p.event, env, String(id));
	reply(res, 201, { id, ts });
}

const http = createServer((req, res) => {
	const url = new URL(req.url, "http://x");
	const m = /^\/api\/rooms\/([^/]+)\/messages$/.exec(url.pathname);
	if (req.method === "POST" && m) {
		const chunks = [];
		let len = 0;
		req.on("data", (c) => {
			len += c.length;
			if (len <= MAX_BODY)
				chunks.push(c);
		});
		req.on("end", () => {
			if (len > MAX_BODY)
				return reply(res, 413,
					{ error: { code: "too_large" } });
			publish(decodeURIComponent(m[1]),
				Buffer.concat(chunks).toString(), res);
		});
		return;
	}
	if (req.method === "GET" && url.pathname === "/api/info")
		return reply(res, 200, { last_id: lastId, version });
	if (req.method === "GET" && url.pathname === "/api/stats")
		return reply(res, 200, { transports: {
			sio: { open: io.engine.clientsCount } } });
	reply(res, 404, { error: { code: "not_found" } });
});
http.keepAliveTimeout = 75000;

const io = new Server(http, { serveClient: false });

io.on("connection", (socket) => {
	const auth = socket.handshake.auth || {};
	socket.data.from = typeof auth.from === "string" ? auth.from :
		"anonymous";
	socket.on("join", (arg, ack) => {
		if (typeof ack !== "function")
			return;
		if (!arg || typeof arg.room !== "string" || !arg.room)
			return ack({ error: { code: "bad_room" } });
		socket.join(arg.room);
		ack({ room: arg.room, last_id: lastId });
	});
	socket.on("leave", (arg, ack) => {
		if (arg && typeof arg.room === "string")
			socket.leave(arg.room);
		if (typeof ack === "function")
			ack({ room: arg && arg.room });
	});
	socket.onAny((name, ...args) => {
		const ack = args[args.length - 1];
		if (name !== "join" && name !== "leave" &&
		    typeof ack === "function")
			ack({ error: { code: "bad_op" } });
	});
});

http.listen(port, host, () => {
	const a = http.address();
	console.log(`sio-peer: http://${a.address}:${a.port}/ ` +
		`(socket.io ${version})`);
});

for (const sig of ["SIGTERM", "SIGINT"])
	process.on(sig, () => {
		io.close();
		process.exit(0);
	});
