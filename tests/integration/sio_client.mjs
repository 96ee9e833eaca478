// SPDX-License-Identifier: MIT
// sio_client: imlab over Socket.IO with the real npm socket.io-client (v4),
// run by test_sio.sh as `node sio_client.mjs URL MODE` (MODE polling: start
// on long-polling and upgrade; websocket: WebSocket only). Two clients,
// alice and bob: CONNECT with auth {cid, from}; join acked before the
// room's messages; send acked {id, ts} to the three targets; a message
// published over HTTP reaches them with the envelope SSE and /ws carry, byte
// for byte; binary both ways; a reserved event name refused; bob's
// connection dropped and recovered with nothing lost or duplicated; a
// refused join or leave answered alike over /ws and Socket.IO. Exits 0,
// or 1 with the first failed check on stderr. No timing is asserted: the
// deadline only bounds a hang.
import { io } from "socket.io-client";
import EventSourcePkg from "eventsource";
import WebSocket from "ws";

const EventSource = EventSourcePkg.EventSource || EventSourcePkg;

const [url, mode] = process.argv.slice(2);
const transports = mode === "websocket" ? ["websocket"] :
	["polling", "websocket"];
const room = "sio-" + mode;

function fail(what) {
	console.error("sio_client (" + mode + "): " + what);
	process.exit(1);
}
function check(cond, what) {
	if (!cond)
		fail(what);
}
setTimeout(() => fail("deadline: the test hung"), 20000).unref();

function until(pred, what) {
	return new Promise((resolve) => {
		const t0 = Date.now();
		const tick = () => {
			if (pred())
				return resolve();
			if (Date.now() - t0 > 8000)
				fail("waited in vain for " + what);
			setTimeout(tick, 10);
		};
		tick();
	});
}

// one client: every event it receives, in order
function client(name, cid) {
	const s = io(url, { transports, auth: { cid, from: name },
			    reconnectionDelay: 100, reconnectionDelayMax: 200 });
	s.log = [];
	s.onAny((ev, ...args) => s.log.push({ ev, args }));
	s.on("connect_error", (e) => fail(name + " connect_error " + e.message));
	return s;
}
const ack = (s, ev, arg) => new Promise((res) => s.emit(ev, arg, res));
const msgs = (s, ev) => s.log.filter((l) => l.ev === ev &&
	l.args[0] && l.args[0].room === room).map((l) => l.args[0]);

const alice = client("alice", "cid-alice-" + mode);
const bob = client("bob", "cid-bob-" + mode);
let upgraded = false;
alice.io.on("open", () => {
	alice.io.engine.on("upgrade", () => { upgraded = true; });
});
await until(() => alice.connected && bob.connected, "both connected");
check(alice.io.engine.transport.name ===
      (mode === "websocket" ? "websocket" : alice.io.engine.transport.name),
      "transport");

// join: the ack comes before any message of the room
for (const s of [alice, bob]) {
	let before = -1;
	const a = await new Promise((res) => s.emit("join", { room, since: 0 },
		(r) => { before = msgs(s, "join").length; res(r); }));
	check(a && a.room === room && typeof a.last_id === "number",
	      "join ack " + JSON.stringify(a));
	check(before === 0, "a room message came before the join ack");
}
const e1 = await ack(alice, "join", { room });
check(e1.error && e1.error.code === "already_joined", "already_joined");
const e2 = await ack(alice, "join", { room: "bad room!" });
check(e2.error && e2.error.code === "bad_room", "bad_room");

// the three targets
const sent = {};
for (const to of ["room", "others", "self"]) {
	const r = await ack(alice, "send", { room, event: "chat", to,
					     data: { to } });
	check(r && typeof r.id === "number" && typeof r.ts === "number",
	      "send ack " + JSON.stringify(r));
	sent[to] = r.id;
}
await until(() => msgs(alice, "chat").length === 2 &&
	    msgs(bob, "chat").length === 2, "the three targets");
const ids = (s) => msgs(s, "chat").map((m) => m.id).join(",");
check(ids(alice) === sent.room + "," + sent.self, "alice got " + ids(alice));
check(ids(bob) === sent.room + "," + sent.others, "bob got " + ids(bob));
const offsetArg = alice.log.find((l) => l.ev === "chat").args[1];
check(offsetArg === String(sent.room), "the id is the last argument");

// a reserved name is refused; an unknown op is an error ack
const r1 = await ack(alice, "send", { room, event: "connect", data: 1 });
check(r1.error && r1.error.code === "reserved_event",
      "reserved name: " + JSON.stringify(r1));
const r2 = await ack(alice, "frobnicate", {});
check(r2.error && r2.error.code === "bad_op", "bad_op");

// SSE and /ws subscribers of the same room, to compare the envelopes
const sseData = [];
const es = new EventSource(url + "/sse?rooms=" + room + "&since=" + sent.self);
es.onmessage = (ev) => sseData.push(ev.data);
const wsData = [];
const ws = new WebSocket(url.replace("http", "ws") + "/ws");
ws.on("message", (d) => {
	const o = JSON.parse(d.toString());
	if (o.op === "msg")
		wsData.push(JSON.stringify(o.msg));
	if (o.op === "msgs")
		for (const m of o.msgs)
			wsData.push(JSON.stringify(m));
});
await new Promise((res) => ws.on("open", res));
// a /ws request and its reply (or error), matched by ref
let refs = 0;
const wsReply = (req) => new Promise((res) => {
	const ref = "r" + ++refs;
	const on = (d) => {
		const o = JSON.parse(d.toString());
		if (o.ref === ref) {
			ws.off("message", on);
			res(o);
		}
	};
	ws.on("message", on);
	ws.send(JSON.stringify({ ...req, ref }));
});
const wj = await wsReply({ op: "join", room, since: sent.self });
check(wj.op === "joined", "/ws join " + JSON.stringify(wj));

// a refused join or leave: the same code and message over /ws and
// Socket.IO (one set of checks, src/joins.c)
for (const [op, arg] of [["join", { room }], ["join", {}],
			 ["join", { room: "bad room!" }],
			 ["join", { room, since: -1 }],
			 ["leave", { room: "never-joined" }]]) {
	const w = await wsReply({ op, ...arg });
	const a = (await ack(alice, op, arg)).error;
	check(w.op === "error" && a && w.code === a.code &&
	      w.message === a.message, op + " " + JSON.stringify(arg) +
	      ": /ws " + JSON.stringify(w) + ", Socket.IO " +
	      JSON.stringify(a));
}
await until(() => es.readyState === 1, "the SSE stream");
await new Promise((r) => setTimeout(r, 100));

// published over HTTP: the same envelope on every transport
const pr = await fetch(url + "/api/rooms/" + room + "/messages", {
	method: "POST", headers: { "Content-Type": "application/json" },
	body: JSON.stringify({ event: "chat", from: "http",
			       data: { over: "http", n: [1, 2.5, "x"] } }) });
check(pr.status === 200 || pr.status === 201, "HTTP publish " + pr.status);
const hid = (await pr.json()).id;
await until(() => msgs(bob, "chat").some((m) => m.id === hid) &&
	    sseData.length >= 1 && wsData.length >= 1, "the HTTP message");
const viaSio = JSON.stringify(msgs(bob, "chat").find((m) => m.id === hid));
check(sseData[0] === viaSio, "SSE " + sseData[0] + " != " + viaSio);
check(wsData[0] === viaSio, "/ws " + wsData[0] + " != " + viaSio);
es.close();
ws.close();

// binary both ways: bytes in, bytes out; {"_binary"} for the others
const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
const rb = await ack(alice, "send", { room, event: "pic",
				       data: { name: "x.png", img: bytes } });
check(typeof rb.id === "number", "binary send " + JSON.stringify(rb));
await until(() => msgs(bob, "pic").length === 1, "the binary message");
const got = msgs(bob, "pic")[0].data.img;
check(Buffer.isBuffer(got) && got.equals(bytes), "binary bytes");
const hist = await (await fetch(url + "/api/rooms/" + room +
				"/messages?since=" + (rb.id - 1))).json();
const stored = hist.messages.find((m) => m.id === rb.id);
check(stored && stored.data.img._binary === bytes.toString("base64"),
      "stored as _binary: " + JSON.stringify(stored));

// recovery: bob drops, alice sends 3, bob comes back with exactly those
await until(() => bob.log.some((l) => l.ev === "pic"), "bob's offset");
const before = msgs(bob, "chat").length;
bob.io.engine.close();
await until(() => !bob.connected, "bob disconnected");
const lost = [];
for (let i = 0; i < 3; i++)
	lost.push((await ack(alice, "send", { room, event: "chat",
					      data: { i } })).id);
await until(() => bob.connected, "bob reconnected");
check(bob.recovered === true, "bob not recovered");
await until(() => msgs(bob, "chat").length >= before + 3, "the missed 3");
await new Promise((r) => setTimeout(r, 200));
const after = msgs(bob, "chat").slice(before).map((m) => m.id);
check(after.join(",") === lost.join(","),
      "recovered " + after.join(",") + ", sent " + lost.join(","));
const all = msgs(bob, "chat").map((m) => m.id);
check(new Set(all).size === all.length, "a duplicate after recovery");

if (mode !== "websocket")
	check(upgraded || alice.io.engine.transport.name === "websocket",
	      "polling never upgraded");
alice.close();
bob.close();
console.log("sio_client (" + mode + "): ok");
process.exit(0);
