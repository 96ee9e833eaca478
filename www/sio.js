// SPDX-License-Identifier: MIT
// sio: Socket.IO (server side: src/eio*.c, src/sio*.c; doc/socketio.md),
// with the official client from npm, served under /vendor/. It starts on
// HTTP long-polling and upgrades to a WebSocket by itself; over it,
// imlab's ops are events with acks: join {room, since}, leave {room},
// send {room, event, data, to}; every message arrives as an event named
// after its `event`, the envelope and its id as arguments. A reconnect
// is recovered by the server (the rooms and everything after the last
// id), or, when it is not, the rooms are joined again after the cursor.
// The library is loaded on the first start(), so a page that never uses
// this transport never fetches it.
import { BaseClient, ApiError, wireBus, clip, newMid } from './base.js';

const SEND_TIMEOUT = 10000;	// ms to wait for an ack
const LIB = '/vendor/socket.io-client/dist/socket.io.esm.min.js';
let lib = null;			// the import, once

// Binary values arrive as ArrayBuffers; the views read every transport's
// envelope alike, so they get imlab's JSON form back: {"_binary": base64}.
function toJsonForm(v, depth = 0) {
	if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
		const b = v instanceof ArrayBuffer ? new Uint8Array(v) :
			new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
		let s = '';
		for (let i = 0; i < b.length; i += 0x8000)
			s += String.fromCharCode(...b.subarray(i, i + 0x8000));
		return { _binary: btoa(s) };
	}
	if (v && typeof v === 'object' && depth < 32)
		for (const k of Object.keys(v))
			v[k] = toJsonForm(v[k], depth + 1);
	return v;
}

export class SioClient extends BaseClient {
	constructor(opts) {
		super('sio', opts);
		this.socket = null;
		this.joined = new Set();
	}

	wirePush(dir, kind, body) {
		if (this.wire)
			wireBus.push('sio', { dir, kind, body: clip(body) });
	}

	start() {
		lib = lib || import(LIB);
		lib.then(({ io }) => {
			if (!this.closed && !this.socket)
				this.open(io);
		}, (e) => this.status('closed', `no Socket.IO client: ${e}`));
	}

	open(io) {
		const s = this.socket = io(this.base || undefined, {
			auth: { cid: this.cid, from: this.from },
			reconnectionDelay: 500, reconnectionDelayMax: 15000,
		});
		this.stats.requests++;
		s.io.on('open', () => {
			const eng = s.io.engine;
			// the real Engine.IO packets, as the learn view shows them
			eng.on('packetCreate', (p) => this.wirePush('out', 'packet',
				`${'0123456'[['open', 'close', 'ping', 'pong',
				'message', 'upgrade', 'noop'].indexOf(p.type)]}` +
				(typeof p.data === 'string' ? p.data : '')));
			eng.on('packet', (p) => {
				const d = typeof p.data === 'string' ? p.data : '';
				this.stats.bytes += d.length + 1;
				this.wirePush('in', 'packet', `${'0123456'[['open',
					'close', 'ping', 'pong', 'message', 'upgrade',
					'noop'].indexOf(p.type)]}${d}`);
			});
			eng.on('upgrade', (t) => this.status('open',
				`upgraded to ${t.name}`));
		});
		s.on('connect', () => {
			if (s !== this.socket)
				return;
			if (!s.recovered) {
				this.joined.clear();
				for (const room of this.rooms)
					this.join(room, this.cursor);
			}
			this.connected(s.io.engine ?
				s.io.engine.transport.name : '');
		});
		s.on('disconnect', (why) => {
			if (s === this.socket && !this.closed)
				this.status('reconnecting', why, 0);
		});
		s.on('connect_error', (e) => {
			if (s === this.socket)
				this.status('reconnecting', e.message, 0);
		});
		s.on('gap', (g) => this.gap(g));
		s.onAny((ev, env) => {
			if (ev !== 'gap' && env && typeof env.id === 'number' &&
			    this.rooms.includes(env.room)) {
				env.data = toJsonForm(env.data);
				this.deliver(env);
			}
		});
	}

	join(room, since) {
		this.joined.add(room);
		this.socket.emit('join', { room, since }, () => { });
	}

	setRooms(rooms) {
		const next = [...rooms];
		const s = this.socket;
		if (!this.closed && s && s.connected) {
			for (const room of this.rooms)
				if (!next.includes(room)) {
					this.joined.delete(room);
					s.emit('leave', { room }, () => { });
				}
			for (const room of next)
				if (!this.joined.has(room))
					this.join(room, this.cursor);
		}
		this.rooms = next;
		if (!this.closed && !this.socket && next.length)
			this.start();
	}

	send(room, event, data, to = 'room') {
		const s = this.socket;
		if (!s || !s.connected)
			return Promise.reject(new Error('Socket.IO not connected'));
		return new Promise((resolve, reject) => {
			s.timeout(SEND_TIMEOUT).emit('send', { room, event, data, to,
				mid: this.cid ? newMid() : undefined }, (err, a) => {
				if (err)
					return reject(new Error('no ack within 10 s'));
				if (a && a.error)
					return reject(new ApiError(0, a.error.code,
						`${a.error.code}: ${a.error.message}`));
				resolve({ id: a.id, ts: a.ts });
			});
		});
	}

	stop() {
		const s = this.socket;
		this.socket = null;
		this.joined.clear();
		if (s)
			s.close();
	}
}
