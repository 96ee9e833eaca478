// SPDX-License-Identifier: MIT
// base: what the four transport clients share. Each transport module
// (poll.js, longpoll.js, sse.js, ws.js — one per server file, tp_poll.c ...)
// extends BaseClient and fills in start(), stop() and, for WebSocket,
// send() and rooms changes. The interface every view uses:
//
//   const c = createClient('sse', {cid, from, rooms: ['lobby'], since: N});
//   c.on('message', env => ...);   // envelopes, in id order per room
//   c.on('status', s => ...);      // {state: 'connecting'|'open'|
//                                  //  'reconnecting'|'closed', detail, delay}
//   c.on('gap', g => ...);         // the server says history was lost
//   c.start();
//   await c.send('lobby', 'chat', {text: 'hi'}, 'room'); // → {id, ts}
//   c.setRooms(['lobby', 'dev']);
//   c.resumeCursor();              // the id a successor starts after
//   c.close();
//
// Every client also reports what it saw on the wire (wireBus) and counts
// requests and bytes (c.stats), which the learn panel and race view show.

const WIRE_KEEP = 12;

// The wire as the browser saw it: the last few requests, responses and
// frames of each transport, from whichever client made them.
export const wireBus = {
	log: { poll: [], longpoll: [], sse: [], ws: [], api: [] },
	listeners: new Set(),
	push(transport, entry) {
		const list = this.log[transport] || (this.log[transport] = []);
		entry.at = Date.now();
		list.push(entry);
		if (list.length > WIRE_KEEP)
			list.splice(0, list.length - WIRE_KEEP);
		for (const fn of this.listeners)
			fn(transport, entry);
	},
};

const MAX_SHOWN = 700;	// characters of a body kept for the wire view
export const clip = (s) => s.length > MAX_SHOWN ?
	s.slice(0, MAX_SHOWN) + ` … (${s.length - MAX_SHOWN} more)` : s;

const utf8 = new TextEncoder();
export const byteLength = (s) => (s.length < 128 && !/[^\x00-\x7f]/.test(s)) ?
	s.length : utf8.encode(s).length;

// A client message id for one publish (doc/protocol.md, "Retries"):
// 24 hex digits, fresh per message.
export function newMid() {
	const b = crypto.getRandomValues(new Uint8Array(12));
	return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export class ApiError extends Error {
	constructor(status, code, message) {
		super(message || code || `HTTP ${status}`);
		this.status = status;
		this.code = code;
	}
}

export class BaseClient {
	constructor(transport, opts) {
		this.transport = transport;
		this.cid = opts.cid;
		this.from = opts.from;
		this.rooms = [...(opts.rooms || [])];
		this.cursor = Number(opts.since) || 0;	// last id seen
		this.base = opts.base || '';		// '' = this origin
		// extra query, e.g. 'delay=80&jitter=5' (emulated network)
		this.params = opts.params || '';
		this.wire = opts.wire !== false;
		this.events = new Set(['message', 'chat', 'join', 'leave',
			'presence',
			...(opts.events || [])]);
		this.handlers = { message: [], status: [], gap: [] };
		this.stats = { requests: 0, bytes: 0, polls: 0, empty: 0,
			messages: 0, gaps: 0, reconnects: 0 };
		this.state = 'idle';
		this.closed = false;
		this.attempt = 0;
		this.retryTimer = null;
	}

	on(ev, fn) {
		this.handlers[ev].push(fn);
		return this;
	}

	emit(ev, x) {
		for (const fn of this.handlers[ev])
			fn(x, this);
	}

	status(state, detail = '', delay = 0) {
		this.state = state;
		this.emit('status', { state, detail, delay,
			transport: this.transport });
	}

	// An envelope arrived: advance the cursor and pass it on. Dedupe is
	// the caller's business (the race view counts duplicates).
	deliver(env) {
		if (!env || typeof env.id !== 'number')
			return;
		if (env.id > this.cursor)
			this.cursor = env.id;
		this.stats.messages++;
		this.emit('message', env);
	}

	gap(info) {
		this.stats.gaps++;
		this.emit('gap', info);
	}

	// The connection works (again): forget the back-off.
	connected(detail = '') {
		this.attempt = 0;
		if (this.state !== 'open' || detail)
			this.status('open', detail);
	}

	// Something failed: try again after 0.5, 1, 2, 4 ... 15 s, +/-25 %.
	retry(err, fn) {
		if (this.closed)
			return;
		clearTimeout(this.retryTimer);
		const base = Math.min(15000, 500 * 2 ** this.attempt);
		const delay = Math.round(base * (0.75 + Math.random() * 0.5));
		this.attempt++;
		this.stats.reconnects++;
		const why = err && err.message ? err.message : String(err || '');
		this.status('reconnecting', why, delay);
		this.retryTimer = setTimeout(() => {
			this.retryTimer = null;
			if (!this.closed)
				fn();
		}, delay);
	}

	// The id a client that takes over should start after.
	resumeCursor() {
		return this.cursor;
	}

	roomsParam() {
		return this.rooms.map(encodeURIComponent).join(',');
	}

	// The query every HTTP transport sends.
	query(extra = '') {
		return `rooms=${this.roomsParam()}&since=${this.cursor}` +
			`&cid=${encodeURIComponent(this.cid)}` +
			`&from=${encodeURIComponent(this.from)}${extra}` +
			(this.params ? `&${this.params}` : '');
	}

	setRooms(rooms) {
		this.rooms = [...rooms];
		if (this.closed)
			return;
		this.restart();
	}

	// An extra query (the race's network presets) applies from the next
	// request or connection on.
	setParams(params) {
		this.params = params || '';
	}

	addEvent(name) {
		this.events.add(name);
	}

	restart() {
		clearTimeout(this.retryTimer);
		this.retryTimer = null;
		this.stop();
		if (this.rooms.length) {
			this.status('connecting');
			this.start();
		} else {
			this.status('idle', 'no rooms');
		}
	}

	close() {
		this.closed = true;
		clearTimeout(this.retryTimer);
		this.stop();
		this.status('closed');
	}

	start() { }
	stop() { }

	// One HTTP exchange, counted and shown on the wire. Resolves to
	// {status, json, text, res}; rejects with ApiError on a non-2xx
	// answer and with the fetch error when the network fails.
	async http(method, path, body, signal, via = this.transport) {
		const init = { method, signal, cache: 'no-store',
			headers: {} };
		if (body !== undefined) {
			init.body = JSON.stringify(body);
			init.headers['Content-Type'] = 'application/json';
		}
		const shown = this.wire;
		if (shown)
			wireBus.push(via, { dir: 'out', kind: 'request',
				head: `${method} ${path} HTTP/1.1`,
				body: init.body ? clip(init.body) : '' });
		this.stats.requests++;
		const res = await fetch(this.base + path, init);
		const buf = await res.arrayBuffer();
		const text = new TextDecoder().decode(buf);
		let hdr = `HTTP/1.1 ${res.status} ${res.statusText}\r\n`.length;
		const heads = [];
		for (const [k, v] of res.headers) {
			hdr += k.length + v.length + 4;
			heads.push(`${k}: ${v}`);
		}
		this.stats.bytes += buf.byteLength + hdr + 2;
		if (shown)
			wireBus.push(via, { dir: 'in', kind: 'response',
				head: `HTTP/1.1 ${res.status} ${res.statusText}`,
				headers: heads.join('\n'), body: clip(text) });
		let json = null;
		try {
			json = text ? JSON.parse(text) : null;
		} catch { /* not JSON */ }
		if (!res.ok) {
			const e = json && json.error;
			throw new ApiError(res.status, e && e.code,
				`HTTP ${res.status}` +
				(e ? `: ${e.code}: ${e.message}` : ''));
		}
		return { status: res.status, json, text, res };
	}

	// Publish over HTTP (poll, long poll and SSE clients send this way),
	// via = the transport in use, so receivers see how it was sent. With
	// a cid the publish carries a fresh mid, so when its answer is lost
	// (a network error, not a refusal) the one retry is stored once.
	async send(room, event, data, to = 'room') {
		const path = `/api/rooms/${encodeURIComponent(room)}/messages`;
		const body = { event, from: this.from, cid: this.cid, data, to,
			via: this.transport };
		if (this.cid)
			body.mid = newMid();
		let r;
		try {
			r = await this.http('POST', path, body);
		} catch (e) {
			if (e instanceof ApiError || !body.mid)
				throw e;
			r = await this.http('POST', path, body);
		}
		return r.json;
	}
}
