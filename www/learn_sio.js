// SPDX-License-Identifier: MIT
// learn_sio: the Learn view's Socket.IO card. The page speaks Engine.IO v4
// itself — fetch() for HTTP long-polling, then a raw WebSocket for the
// upgrade — so every packet shown is the exact text that crossed the wire
// (a polling body with its 0x1e separators, a WebSocket frame's payload),
// each labelled with what it means (learn_sio_packet.js reads them). A raw
// /ws connection joined to the same room receives the same messages, and the
// bytes of the two frames are compared. (socket.io-client's engine events
// hand out packets already decoded, and a polling body's separators never
// show there: the card does not use the library.)
import { el, tabCid, clockNow } from './util.js';
import { RS, eioPackets, explain, sioParse, wsHead, utf8Len } from
	'./learn_sio_packet.js';

const ROOM = 'learn';
const EIO_PATH = '/socket.io/?EIO=4&transport=';
const MAX_ENTRIES = 300;	// wire entries kept on screen

const wsBase = () => (location.protocol === 'https:' ? 'wss://' : 'ws://') +
	location.host;

function clock(ms) {
	const d = new Date(ms);
	return d.toTimeString().slice(0, 8) + '.' +
		String(d.getMilliseconds()).padStart(3, '0');
}

// A payload as text, each record separator shown as a visible mark.
function rsMarked(s) {
	const parts = s.split(RS);
	return parts.flatMap((p, i) => i ? [el('span', { class: 'rs',
		title: 'the record separator, byte 0x1e, between two packets' },
	'␞'), p] : [p]);
}

export class SioPanel {
	constructor(root) {
		this.btn = el('button', { type: 'button', id: 'learn-sio-run',
			onclick: () => (this.on ? this.stop() : this.start()) },
		'Connect by hand');
		this.pub = el('button', { type: 'button', id: 'learn-sio-pub',
			disabled: true, onclick: () => this.publish().catch((e) =>
				this.say(`the publish failed: ${e.message}`)) },
		'Publish one over HTTP');
		this.wire = el('pre', { class: 'wire tall', 'data-sio-wire': '' });
		this.beat = el('p', { class: 'facts', 'data-sio-beat': '' }, '');
		this.status = el('p', { class: 'verdict', role: 'status' }, '');
		this.cost = el('table', { class: 'cost mono small',
			'data-sio-cost': '' });
		this.costSum = el('p', { class: 'facts', 'data-sio-cost-sum': '' },
			'');
		this.root = el('article', { class: 'learn-card panel wide',
			id: 'learn-sio', 'data-tp': 'sio' },
		el('h3', {}, el('span', { class: 'via', 'data-tp': 'sio' }, 'sio'),
			'Socket.IO, packet by packet', this.btn),
		el('p', {}, 'Socket.IO is two protocols in one string. ',
			el('strong', {}, 'Engine.IO'), ' (the first digit) keeps a ',
			'session across transports: 0 open, 1 close, 2 ping, 3 pong, ',
			'4 message, 5 upgrade, 6 noop. Inside each 4 message, ',
			el('strong', {}, 'Socket.IO'), ' (the second digit) adds 0 ',
			'CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR, 5/6 ',
			'binary, then an optional namespace (', el('code', {}, '/chat,'),
			'; none means "/") and an optional ack id, then JSON. ',
			'So ', el('code', {}, '421["send",{…}]'), ' is an Engine.IO ',
			'message carrying a Socket.IO EVENT "send" with ack id 1, and ',
			el('code', {}, '431[{…}]'), ' is its answer.'),
		el('p', {}, 'This card does what socket.io-client does, by hand, ',
			'and shows every packet: the polling handshake, CONNECT, a ',
			'join and a send in one POST (two packets joined by 0x1e), ',
			'the upgrade probe over a new WebSocket, the heartbeat, and ',
			'every message of room “learn” as an event. ',
			el('span', { class: 'muted' }, 'The official client shows none ',
				'of this: its engine events hand out decoded packets.')),
		el('p', { class: 'facts' }, 'Code: ', el('code', {},
			'src/eio*.c · src/sio*.c · www/learn_sio.js · www/sio.js'),
		' · read on: ', el('a', { href: '#doc/socketio', 'data-doc':
			'socketio' }, '/doc/socketio.md'), ', ', el('a', {
			href: '#doc/lesson', 'data-doc': 'lesson' }, '/doc/lesson.md'),
		' “Where Socket.IO sits”'),
		el('div', { class: 'row' }, this.pub),
		this.status, this.beat,
		el('h4', { class: 'wire-label' }, 'The packets ',
			el('span', { class: 'muted' }, '(the exact text of each ' +
				'polling body and WebSocket frame, as fetch() and the ' +
				'WebSocket handed it to this page)')),
		this.wire,
		el('h4', { class: 'wire-label' }, 'What the layer costs ',
			el('span', { class: 'muted' }, '(the same message as a ' +
				'Socket.IO frame here and as a /ws frame on a raw ' +
				'WebSocket joined to the same room; payload bytes counted ' +
				'from the frames received, plus the WebSocket frame head ' +
				'RFC 6455 gives that length)')),
		this.cost, this.costSum,
		el('p', { class: 'facts' }, 'Over polling a packet shares its ',
			'body with others, but every body is a whole HTTP request and ',
			'response, heads included (which fetch() does not show); over ',
			'WebSocket Engine.IO sends one frame per message where /ws ',
			'batches a backlog into one msgs frame.'));
		root.append(this.root);
		this.idle();
	}

	idle() {
		this.on = false;
		this.btn.textContent = 'Connect by hand';
		this.pub.disabled = true;
		if (!this.wire.childElementCount)
			this.wire.replaceChildren(el('span', { class: 'none' },
				'Press Connect by hand: the packets appear here.'));
	}

	say(text, state) {
		this.status.textContent = text;
		if (state)
			this.root.dataset.state = state;
	}

	// --- the log ------------------------------------------------------
	// One body or frame: what carried it, its raw text, and each packet
	// in it with its meaning.
	entry(dir, head, raw, transport) {
		if (this.wire.querySelector('.none'))
			this.wire.replaceChildren();
		const packets = transport === 'polling' ? eioPackets(raw) : [raw];
		const n = utf8Len(raw);
		const e = el('div', { class: `entry dir-${dir}`,
			'data-transport': transport,
			'data-rs': raw.includes(RS) ? '1' : null },
		el('span', { class: 'when' }, clock(Date.now()) + ' '),
		el('span', { class: 'head' }, `${dir === 'out' ? '→' : '←'} ` +
			`${head} · ${n} B` + (packets.length > 1 ?
			` · ${packets.length} packets joined by 0x1e` : '')),
		packets.length > 1 ? el('div', { class: 'hdrs raw',
			'data-body': '' }, rsMarked(raw)) : null,
		el('ol', { class: 'packets' }, packets.map((p) => {
			const s = p.startsWith('4') ? sioParse(p.slice(1)) : null;
			return el('li', { 'data-dir': dir, 'data-packet': p,
				'data-eio': p[0], 'data-sio': s ? s.type : null },
			el('code', { class: 'pkt' }, p), el('span', { class: 'means' },
				explain(p, dir, this.hs)));
		})));
		const stick = this.wire.scrollHeight - this.wire.scrollTop -
			this.wire.clientHeight < 30;
		this.wire.append(e);
		while (this.wire.childElementCount > MAX_ENTRIES)
			this.wire.firstElementChild.remove();
		if (stick)
			this.wire.scrollTop = this.wire.scrollHeight;
		return packets;
	}

	// --- Engine.IO over HTTP long-polling --------------------------------
	url(transport) {
		return EIO_PATH + transport + (this.sid ? `&sid=${this.sid}` : '');
	}

	// One polling request; resolves to its body (rejects once stopped,
	// unless last: the DISCONNECT and close of stop()).
	async http(method, body, last) {
		const u = this.url('polling');
		const show = u.replace(/sid=[^&]+/, 'sid=…');
		if (method === 'POST')
			this.entry('out', `POST ${show}`, body, 'polling');
		const r = await fetch(u, { method, body, cache: 'no-store',
			signal: last ? undefined : this.abort.signal });
		const text = await r.text();
		if (method === 'GET' || !r.ok)
			this.entry('in', `${method} ${show} → ${r.status}`, text,
				'polling');
		if (!r.ok)
			throw new Error(`${method} answered ${r.status}: ${text}`);
		return text;
	}

	async pollLoop() {
		while (this.on && !this.pausing) {
			const body = await this.http('GET');
			for (const p of eioPackets(body))
				this.onPacket(p);
		}
	}

	// Packets to the server: one POST (several joined by 0x1e) while
	// polling, one frame each once upgraded.
	send(...packets) {
		if (this.upgraded && this.ws.readyState === WebSocket.OPEN) {
			for (const p of packets) {
				this.entry('out', 'WebSocket text frame', p, 'websocket');
				this.ws.send(p);
			}
			return;
		}
		if (!this.upgraded)
			this.http('POST', packets.join(RS), !this.on).catch((e) =>
				this.fail(e));
	}

	// --- the session ----------------------------------------------------
	async start() {
		this.stop();
		this.on = true;
		this.btn.textContent = 'Stop';
		this.wire.replaceChildren();
		this.cost.replaceChildren(el('tr', {}, ['id', 'event',
			'Socket.IO frame', '/ws frame', 'Socket.IO − /ws'].map((h) =>
			el('th', {}, h))));
		Object.assign(this, { sid: '', hs: null, upgraded: false,
			pausing: false, ws: null, cmp: null, acks: {}, pings: 0,
			sizes: { sio: new Map(), ws: new Map() },
			abort: new AbortController() });
		this.root.dataset.sid = '';
		this.say('handshake…', 'polling');
		try {
			const info = await (await fetch('/api/info',
				{ cache: 'no-store', signal: this.abort.signal })).json();
			this.since = info.last_id || 0;
			await this.compare();
			const first = eioPackets(await this.http('GET'))[0] || '';
			if (first[0] !== '0')
				throw new Error(`no open packet: ${first}`);
			this.hs = JSON.parse(first.slice(1));
			this.sid = this.hs.sid;
			this.root.dataset.sid = this.sid;
			this.t0 = Date.now();
			this.expectPing('the handshake');
			this.send('40' + JSON.stringify({ cid: this.cid(),
				from: 'learner (sio card)' }));
			this.pollDone = this.pollLoop().catch((e) => this.fail(e));
		} catch (e) {
			this.fail(e);
		}
	}

	cid() {
		return `${tabCid().slice(0, 40)}-learn-sio`;
	}

	fail(e) {
		if (!this.on || e.name === 'AbortError')
			return;
		this.say(`stopped: ${e.message}`, 'failed');
		this.stop();
	}

	stop() {
		if (!this.on)
			return;
		this.on = false;
		if (this.sid && this.hs)
			this.send('41', '1');	// DISCONNECT, then close
		if (this.abort)
			this.abort.abort();
		for (const w of [this.ws, this.cmp])
			if (w)
				w.close(1000);
		if (this.root.dataset.state !== 'failed')
			this.say('closed: 41 DISCONNECT and 1 close sent.', 'closed');
		this.idle();
	}

	onPacket(p) {
		if (!this.on)
			return;
		if (p === '2') {
			this.pings++;
			this.beat.dataset.pings = String(this.pings);
			this.beat.textContent = `Ping ${this.pings} came at ` +
				`${clock(Date.now())}, ${Date.now() - this.t0} ms after ` +
				`${this.since0}; answered 3 at once.`;
			this.send('3');
			this.t0 = Date.now();
			this.expectPing('that pong', true);
		} else if (p === '3probe') {
			this.upgrade2().catch((e) => this.fail(e));
		} else if (p[0] === '1') {
			this.say('the server closed the session (1).', 'closed');
			this.hs = null;		// nothing left to close
			this.stop();
		} else if (p[0] === '4') {
			this.onSio(sioParse(p.slice(1)), p);
		}
	}

	expectPing(since, again) {
		this.since0 = since;
		const at = this.t0 + this.hs.pingInterval;
		const text = `pingInterval ${this.hs.pingInterval} ms: the server ` +
			`pings about ${clock(at)} (pingInterval after ${since}); no ` +
			`pong within pingTimeout ${this.hs.pingTimeout} ms and it ` +
			'closes the session.';
		if (again)
			this.beat.append(' Next: ' + text);
		else
			this.beat.textContent = text;
	}

	onSio(s, raw) {
		if (s.type === 0) {
			this.say('connected to namespace "/": joining room “learn” ' +
				'and sending a hello in one POST…', this.root.dataset.state);
			this.send(`420${JSON.stringify(['join', { room: ROOM,
				since: this.since }])}`, `421${JSON.stringify(['send', {
				room: ROOM, event: 'chat', data: { text: 'hello, by hand, ' +
					'over Engine.IO', t: clockNow() } }])}`);
		} else if (s.type === 3) {
			this.acks[s.ack] = s.args && s.args[0];
			if (0 in this.acks && 1 in this.acks && !this.ws)
				this.upgrade1();
		} else if (s.type === 2 && s.args && s.args[1] &&
			   typeof s.args[1].id === 'number') {
			this.sizes.sio.set(s.args[1].id, { event: s.args[0],
				bytes: utf8Len(raw), upgraded: this.upgraded });
			this.costRow(s.args[1].id);
		} else if (s.type === 4) {
			this.fail(new Error(`CONNECT_ERROR ${s.json}`));
		}
	}

	// --- the upgrade: probe, pause polling, 5 ----------------------------
	upgrade1() {
		this.say('joined and sent over polling; probing a WebSocket for ' +
			'the same session…', 'probing');
		const ws = this.ws = new WebSocket(wsBase() + this.url('websocket'));
		ws.onopen = () => {
			this.pausing = true;	// no new GET: the held one ends with 6
			this.entry('out', 'WebSocket text frame', '2probe', 'websocket');
			ws.send('2probe');
		};
		ws.onmessage = (m) => {
			const p = String(m.data);
			this.entry('in', 'WebSocket text frame', p, 'websocket');
			this.onPacket(p);
		};
		ws.onclose = (e) => {
			if (this.on && this.ws === ws)
				this.fail(new Error(`the WebSocket closed (${e.code})`));
		};
	}

	async upgrade2() {
		await this.pollDone;		// the held GET has its 6
		if (!this.on)
			return;
		this.entry('out', 'WebSocket text frame', '5', 'websocket');
		this.ws.send('5');
		this.upgraded = true;
		this.t0 = Date.now();
		this.expectPing('the upgrade, which restarts the clock');
		this.pub.disabled = false;
		this.say('upgraded: the session now runs on the WebSocket. ' +
			'Publish a message over HTTP and watch it arrive as 42.',
		'websocket');
	}

	async publish() {
		const r = await fetch(`/api/rooms/${ROOM}/messages`, {
			method: 'POST', headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ event: 'chat', from: 'learner (HTTP)',
				data: { text: 'published with POST /api/rooms/learn/' +
					'messages', t: clockNow() } }) });
		const a = await r.json();
		this.say(`published over HTTP as id ${a.id}: it comes as 42 ` +
			'here and as {"op":"msg"} on the raw /ws.', 'websocket');
	}

	// --- the same messages over imlab's own /ws ---------------------------
	compare() {
		const ws = this.cmp = new WebSocket(wsBase() + '/ws');
		ws.onmessage = (m) => {
			const text = String(m.data);
			let f;
			try {
				f = JSON.parse(text);
			} catch {
				return;
			}
			if (f.op === 'joined' || f.op === 'error')
				this.joinedWs();
			const msgs = f.op === 'msg' ? [f.msg] : f.op === 'msgs' ?
				f.msgs : [];
			for (const e of msgs) {
				this.sizes.ws.set(e.id, { bytes: utf8Len(text),
					batch: msgs.length });
				this.costRow(e.id);
			}
		};
		// resolves once joined (or failed: the card runs without it)
		return new Promise((resolve) => {
			this.joinedWs = resolve;
			ws.onopen = () => ws.send(JSON.stringify({ op: 'join',
				room: ROOM, since: this.since }));
			ws.onclose = () => resolve();
		});
	}

	costRow(id) {
		const a = this.sizes.sio.get(id), b = this.sizes.ws.get(id);
		if (!a || !b || this.cost.querySelector(`[data-id="${id}"]`))
			return;
		// over polling a packet costs its bytes and one separator, and
		// shares the body and the HTTP heads with the others
		const sio = a.bytes + (a.upgraded ? wsHead(a.bytes) : 1);
		const raw = b.bytes + wsHead(b.bytes);
		this.cost.append(el('tr', { 'data-id': String(id),
			'data-sio-bytes': String(a.bytes),
			'data-ws-bytes': b.batch === 1 ? String(b.bytes) : null },
		el('td', {}, String(id)), el('td', {}, a.event),
		el('td', {}, `${a.bytes} B + ` + (a.upgraded ?
			`${wsHead(a.bytes)} B head` : '1 B 0x1e in a polling body')),
		el('td', {}, b.batch === 1 ? `${b.bytes} B + ${wsHead(b.bytes)} ` +
			'B head' : `in a msgs batch of ${b.batch} (${b.bytes} B)`),
		el('td', {}, b.batch === 1 ? `${sio - raw > 0 ? '+' : ''}` +
			`${sio - raw} B` : '–')));
		if (b.batch === 1 && a.upgraded)
			this.costWhy(id, a, b);
	}

	// Where the difference comes from, for one message both sides got in
	// a frame of its own: the wrapper around the same envelope bytes.
	costWhy(id, a, b) {
		const env = b.bytes - utf8Len('{"op":"msg","msg":}');
		const wrap = a.bytes - env;
		this.costSum.textContent = `Message ${id}: the envelope is ` +
			`${env} B on both. Socket.IO wraps it in ` +
			`42["${a.event}", … ,"${id}"] (${wrap} B: the two type ` +
			'digits, the event name as the first argument, and the id ' +
			`again as a string, the recovery offset); /ws in ` +
			`{"op":"msg","msg": … } (${b.bytes - env} B).`;
	}
}
