// SPDX-License-Identifier: MIT
// ws: WebSocket (server side: src/ws.c). One upgraded TCP connection
// carries JSON frames both ways: hello, join/leave per room with a cursor,
// send with an ack, ping/pong. No HTTP request per message in either
// direction; the server batches pending messages into one `msgs` frame.
// The server sends a connection's messages in id order across all its
// rooms (the connection is one cursor over the store), so one cursor —
// the last id seen — is all a reconnect or a successor needs.
import { BaseClient, ApiError, wireBus, clip, byteLength, newMid }
	from './base.js';

const SEND_TIMEOUT = 10000;	// ms to wait for an ack

export class WsClient extends BaseClient {
	constructor(opts) {
		super('ws', opts);
		this.ws = null;
		this.ref = 0;
		this.pending = new Map();	// ref → {resolve, reject, timer}
		this.pid = null;		// our public id, from hello
	}

	url() {
		const base = this.base ? new URL(this.base) : location;
		return (base.protocol === 'https:' ? 'wss://' : 'ws://') +
			base.host + '/ws' + (this.params ? `?${this.params}` : '');
	}

	frame(obj) {
		const s = JSON.stringify(obj);
		if (this.wire)
			wireBus.push('ws', { dir: 'out', kind: 'frame',
				body: clip(s) });
		this.ws.send(s);
	}

	start() {
		const ws = this.ws = new WebSocket(this.url());
		this.stats.requests++;	// the upgrade request
		if (this.wire)
			wireBus.push('ws', { dir: 'out', kind: 'request',
				head: 'GET /ws HTTP/1.1',
				headers: 'Upgrade: websocket\nConnection: Upgrade' });
		ws.onopen = () => {
			if (ws !== this.ws)
				return;
			if (this.wire)
				wireBus.push('ws', { dir: 'in', kind: 'response',
					head: 'HTTP/1.1 101 Switching Protocols',
					headers: 'Upgrade: websocket' });
			this.frame({ op: 'hello', cid: this.cid, from: this.from });
			// (Re)join every room after the last id seen: a
			// reconnect loses nothing.
			for (const room of this.rooms)
				this.join(room, this.cursor);
			this.connected();
		};
		ws.onmessage = (e) => {
			if (ws !== this.ws)
				return;
			this.receive(e.data);
		};
		ws.onclose = (e) => {
			if (ws !== this.ws)
				return;
			this.ws = null;
			this.failPending(new Error('connection closed'));
			if (this.wire)
				wireBus.push('ws', { dir: 'in', kind: 'close',
					head: `close ${e.code}${e.reason ? ' ' + e.reason : ''}` });
			this.retry(new Error(`connection closed, code ${e.code}`),
				() => this.start());
		};
	}

	join(room, since) {
		this.frame({ op: 'join', room, since });
	}

	receive(text) {
		this.stats.bytes += byteLength(text) + (text.length < 126 ? 2 : 4);
		if (this.wire)
			wireBus.push('ws', { dir: 'in', kind: 'frame', body: clip(text) });
		let f;
		try {
			f = JSON.parse(text);
		} catch {
			return;
		}
		switch (f.op) {
		case 'msg':
			this.deliver(f.msg);
			break;
		case 'msgs':
			for (const m of f.msgs || [])
				this.deliver(m);
			break;
		case 'gap':
			this.gap(f);
			break;
		case 'ack':
		case 'error': {
			const p = this.pending.get(f.ref);
			if (p) {
				this.pending.delete(f.ref);
				clearTimeout(p.timer);
				if (f.op === 'ack')
					p.resolve({ id: f.id, ts: f.ts });
				else
					p.reject(new ApiError(0, f.code,
						`${f.code}: ${f.message}`));
			} else if (f.op === 'error') {
				this.status('open', `server: ${f.code}: ${f.message}`);
			}
			break;
		}
		case 'hello':	// the server's answer: our public id
			this.pid = f.pid;
			break;
		default:	/* joined, left, pong */
			break;
		}
	}

	setRooms(rooms) {
		const next = [...rooms];
		const open = this.ws && this.ws.readyState === WebSocket.OPEN;
		if (!this.closed && open) {
			for (const room of this.rooms)
				if (!next.includes(room))
					this.frame({ op: 'leave', room });
			for (const room of next)
				if (!this.rooms.includes(room))
					this.join(room, this.cursor);
		}
		this.rooms = next;
		if (!this.closed && !this.ws && !this.retryTimer && next.length)
			this.start();
	}

	send(room, event, data, to = 'room') {
		if (!this.ws || this.ws.readyState !== WebSocket.OPEN)
			return Promise.reject(new Error('WebSocket not connected'));
		const ref = ++this.ref;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(ref);
				reject(new Error('no ack within 10 s'));
			}, SEND_TIMEOUT);
			this.pending.set(ref, { resolve, reject, timer });
			// a mid (with a cid) lets a resend be stored once
			this.frame({ op: 'send', room, event, data, to, ref,
				mid: this.cid ? newMid() : undefined });
		});
	}

	failPending(err) {
		for (const p of this.pending.values()) {
			clearTimeout(p.timer);
			p.reject(err);
		}
		this.pending.clear();
	}

	stop() {
		const ws = this.ws;
		this.ws = null;
		this.failPending(new Error('closed'));
		if (ws) {
			ws.onclose = null;
			ws.close(1000);
		}
	}
}
