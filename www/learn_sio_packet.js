// SPDX-License-Identifier: MIT
// learn_sio_packet: reading Engine.IO v4 and Socket.IO v5 packets for the
// Learn view's Socket.IO card — splitting a polling body at the record
// separator, taking a Socket.IO packet apart (type, attachments,
// namespace, ack id, JSON), and one line saying what a packet means. The
// server's codecs are src/eio_packet.c and src/sio_packet.c; doc/socketio.md
// describes both layers.

// The byte between two packets in a polling body.
export const RS = '\x1e';

// The packets of one polling body, in order.
export function eioPackets(body) {
	return body ? String(body).split(RS) : [];
}

const enc = new TextEncoder();

// The length of s in UTF-8 bytes: what a frame or body of it carries.
export function utf8Len(s) {
	return enc.encode(s).length;
}

// The bytes of a WebSocket frame's head for a payload of n bytes (RFC 6455
// §5.2: 2, 4 from 126 bytes, 10 from 65536; a client's frames add a 4-byte
// mask).
export function wsHead(n, masked = false) {
	return (n < 126 ? 2 : n < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

// A Socket.IO packet (the data of an Engine.IO message): {type, attachments,
// nsp, ack, json, args}; nsp is "/" when the packet names none, ack null
// when it has no ack id, args the JSON array when it is one, else null.
export function sioParse(s) {
	const r = { type: Number(s[0]), attachments: 0, nsp: '/', ack: null,
		json: '', args: null, value: undefined };
	let i = 1;
	if (r.type === 5 || r.type === 6) {
		const d = s.indexOf('-', i);
		if (d > 0) {
			r.attachments = Number(s.slice(i, d));
			i = d + 1;
		}
	}
	if (s[i] === '/') {
		const c = s.indexOf(',', i);
		r.nsp = s.slice(i, c < 0 ? s.length : c);
		i = c < 0 ? s.length : c + 1;
	}
	const m = /^\d+/.exec(s.slice(i));
	if (m) {
		r.ack = Number(m[0]);
		i += m[0].length;
	}
	r.json = s.slice(i);
	try {
		r.value = r.json ? JSON.parse(r.json) : undefined;
	} catch { /* shown as it is */ }
	r.args = Array.isArray(r.value) ? r.value : null;
	return r;
}

function sioEvent(s, dir) {
	const [name, a] = s.args || [];
	const ack = s.ack === null ? 'no ack id' : `ack id ${s.ack}: the ` +
		`other side answers 43${s.ack}[…]`;
	let what = '';
	if (dir === 'out' && name === 'join')
		what = `: join room “${a && a.room}” after id ${a && a.since} ` +
			'(live from now on)';
	else if (dir === 'out' && name === 'send')
		what = ': publish into the room; the ack carries {id, ts}';
	else if (a && typeof a.id === 'number')
		what = `: message ${a.id}${name === 'join' || name === 'leave' ?
			' (presence)' : ''} — the envelope, byte for byte as every ` +
			'transport carries it, then its id as a string (the offset ' +
			'connection state recovery resumes from)';
	return `Socket.IO 2 EVENT “${name}” · namespace ${s.nsp} · ${ack}${what}`;
}

function sioAck(s) {
	const a = s.args && s.args[0];
	let what = '';
	if (a && a.error)
		what = `: error ${a.error.code}`;
	else if (a && typeof a.id === 'number')
		what = `: stored as id ${a.id} at ${a.ts}`;
	else if (a && a.last_id !== undefined)
		what = `: joined “${a.room}”; its newest id was ${a.last_id}`;
	return `Socket.IO 3 ACK · namespace ${s.nsp} · for ack id ${s.ack}${what}`;
}

// What a Socket.IO packet means, in one line (dir: 'out' from the page,
// 'in' from the server).
export function sioExplain(s, dir) {
	const v = s.value || {};
	switch (s.type) {
	case 0:
		return dir === 'out' ? `Socket.IO 0 CONNECT · namespace ${s.nsp} · ` +
			'with the auth object (imlab reads cid, private, and from, ' +
			'the display name)' : `Socket.IO 0 CONNECT accepted · namespace ` +
			`${s.nsp} · sid is Socket.IO's own id (not Engine.IO's), pid ` +
			'the recovery id';
	case 1:
		return `Socket.IO 1 DISCONNECT · namespace ${s.nsp}: leaves it`;
	case 2:
		return sioEvent(s, dir);
	case 3:
		return sioAck(s);
	case 4:
		return `Socket.IO 4 CONNECT_ERROR · namespace ${s.nsp}: ` +
			`${v.message || s.json}`;
	case 5:
	case 6:
		return `Socket.IO ${s.type} BINARY_${s.type === 5 ? 'EVENT' : 'ACK'}` +
			` · ${s.attachments} attachments follow as binary packets`;
	}
	return 'not a Socket.IO packet';
}

// What an Engine.IO packet means, in one line; hs is the handshake
// ({pingInterval, pingTimeout}) once known.
export function explain(p, dir, hs) {
	const data = p.slice(1);
	const h = hs || {};
	switch (p[0]) {
	case '0': {
		let o = {};
		try {
			o = JSON.parse(data);
		} catch { /* shown as it is */ }
		return 'Engine.IO 0 open: the handshake. sid names this session ' +
			`on every transport; upgrades ${JSON.stringify(o.upgrades)}; ` +
			`the server pings every ${o.pingInterval} ms and closes the ` +
			`session ${o.pingTimeout} ms after an unanswered ping; at most ` +
			`${o.maxPayload} bytes per body or frame`;
	}
	case '1':
		return 'Engine.IO 1 close: the session ends';
	case '2':
		return data === 'probe' ? 'Engine.IO 2 ping “probe”: does this new ' +
			'WebSocket reach the same session? (in v4 only the server ' +
			'pings; the probe is the exception)' : 'Engine.IO 2 ping: the ' +
			`server’s heartbeat, every pingInterval (${h.pingInterval} ms)`;
	case '3':
		return data === 'probe' ? 'Engine.IO 3 pong “probe”: it does. The ' +
			'page starts no new GET, waits for the held one (answered 6), ' +
			'then upgrades' : 'Engine.IO 3 pong: the page’s answer; none ' +
			`within pingTimeout (${h.pingTimeout} ms) closes the session`;
	case '4':
		return 'Engine.IO 4 message · ' + sioExplain(sioParse(data), dir);
	case '5':
		return 'Engine.IO 5 upgrade: from now on the session runs on the ' +
			'WebSocket only';
	case '6':
		return 'Engine.IO 6 noop: releases the held GET, so polling can stop';
	case 'b':
		return 'Engine.IO binary message over polling: b, then base64';
	}
	return 'not an Engine.IO packet';
}
