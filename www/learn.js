// SPDX-License-Identifier: MIT
// learn: what each transport does, in a few sentences, beside two views of
// its wire: the last requests, responses and frames as this page saw them
// (fetch shows status and response headers; EventSource and WebSocket only
// what they parse: events and frames), and the heads the server really read
// and wrote for the demo's client id (GET /api/clients/{cid}/wire). Below
// the cards, learn_sio.js shows Socket.IO packet by packet, and
// learn_ws.js and learn_http.js add the WebSocket handshake, readyState
// and bufferedAmount, the events and close codes, the raw SSE bytes and
// keep-alive against Connection: close.
import { createClient, wireBus } from './client.js';
import { el, $, TRANSPORTS, LABEL, tabCid, clockNow, fmtBytes } from './util.js';
import { readWire, wireView } from './learn_wire.js';
import { WsPanels } from './learn_ws.js';
import { HttpPanels } from './learn_http.js';
import { SioPanel } from './learn_sio.js';

const STATS_EVERY = 2000;	// ms between /api/stats reads while shown

const TEXT = {
	poll: [
		'Short polling asks the server “anything after id N in these ' +
		'rooms?” and gets an answer at once — usually an empty one. The ' +
		'client waits a fixed interval and asks again.',
		'It works through every proxy and needs nothing but HTTP, but a ' +
		'message waits up to one interval, and every empty answer costs a ' +
		'full request and response with headers.',
	],
	longpoll: [
		'Long polling asks the same question, but the server holds the ' +
		'request until a newer message exists or the timeout (1–60 s) ' +
		'passes; the client asks again as soon as the answer arrives.',
		'Messages arrive almost at once over plain HTTP, at one request ' +
		'per batch — and a held request keeps a connection busy nearly ' +
		'all the time.',
	],
	sse: [
		'Server-Sent Events: one HTTP response that never ends. The server ' +
		'writes an id: and a data: line per message and a comment as ' +
		'heartbeat; the browser’s EventSource parses the stream and hands ' +
		'each message to onmessage (named=1 adds event: lines instead).',
		'EventSource reconnects by itself and sends the last id it saw as ' +
		'Last-Event-ID, so the stream resumes without loss. It flows one ' +
		'way: sending is a separate POST. A lost stretch of history comes ' +
		'as the named event gap.',
	],
	ws: [
		'WebSocket upgrades one HTTP request into a two-way channel of ' +
		'frames. The client says hello, joins each room after a cursor and ' +
		'sends with a ref the server acknowledges.',
		'The server pushes msg frames — one msgs frame when several are ' +
		'pending — with no HTTP headers per message in either direction. ' +
		'A dropped connection is re-opened and each room rejoined after ' +
		'the last id seen in it.',
	],
};

const FILES = {
	poll: 'src/tp_poll.c · www/poll.js',
	longpoll: 'src/tp_longpoll.c · www/longpoll.js',
	sse: 'src/tp_sse.c · www/sse.js',
	ws: 'src/ws.c · www/ws.js',
};

// Where to read on: pages the server serves under /doc/, shown in the
// page (#doc/NAME), and the section.
const DOCS = {
	poll: [['lesson', 'Short polling'], ['transports', 'Short polling'],
		['protocol', 'Short poll']],
	longpoll: [['lesson', 'Long polling'], ['transports', 'Long polling'],
		['protocol', 'Long poll']],
	sse: [['lesson', 'Server-Sent Events'],
		['transports', 'Server-Sent Events'],
		['protocol', 'Server-Sent Events']],
	ws: [['lesson', 'WebSocket'], ['transports', 'WebSocket'],
		['websocket', '']],
};

const WIRE_EVERY = 1500;	// ms between reads of the server's record

const arrow = { out: '→', in: '←' };

function clock(ms) {
	const d = new Date(ms);
	return d.toTimeString().slice(0, 8) + '.' +
		String(d.getMilliseconds()).padStart(3, '0');
}

export class Learn {
	constructor(root, info, chat) {
		this.root = root;
		this.chat = chat;
		this.demos = {};
		this.wires = {};
		this.dirty = new Set();
		const cards = $('#learn-cards', root);
		for (const t of TRANSPORTS) {
			const btn = el('button', { type: 'button', 'data-try': t,
				title: `connect a ${LABEL[t]} client to room "learn" and send ` +
					'one message', onclick: () => this.toggle(t) }, 'Try it');
			const wire = el('pre', { class: 'wire', 'data-wire': t,
				'aria-label': `${LABEL[t]} wire` });
			const stats = el('p', { class: 'facts server-stats',
				'data-stats': t }, '');
			const srv = el('pre', { class: 'wire server', 'data-server-wire': t,
				'aria-label': `${LABEL[t]} wire as the server recorded it` });
			this.wires[t] = { wire, btn, stats, srv };
			cards.append(el('article', { class: 'learn-card', 'data-tp': t,
				'data-transport': t },
			el('h3', {}, el('span', { class: 'via', 'data-tp': t }, t),
				LABEL[t], btn),
			TEXT[t].map((p) => el('p', {}, p)),
			el('p', { class: 'facts' }, 'Code: ', el('code', {}, FILES[t]),
				' · read on: ', DOCS[t].map(([f, sec], i) => [
					i ? ', ' : '', el('a', { href: `#doc/${f}`,
						'data-doc': f }, `/doc/${f}.md`),
					sec ? ` “${sec}”` : ''])),
			el('h4', { class: 'wire-label' }, 'As this page saw it ',
				el('span', { class: 'muted' }, '(JavaScript’s view: ' +
					'request lines as the page wrote them, response ' +
					'headers as fetch() exposes them)')),
			wire,
			el('h4', { class: 'wire-label' }, 'As the server recorded it ',
				el('span', { class: 'muted' }, '(the heads it read and ' +
					'wrote for this demo’s cid)')),
			srv, stats));
			srv.replaceChildren(el('span', { class: 'none' },
				'Press Try it: the server’s record of the demo appears here.'));
			this.render(t);
		}
		this.sio = new SioPanel(cards);
		const panels = $('#learn-panels', root);
		this.ws = new WsPanels(panels, info);
		this.http = new HttpPanels(panels, info);
		wireBus.listeners.add((t) => {
			if (!this.wires[t])
				return;
			this.dirty.add(t);
			if (!this.raf)
				this.raf = requestAnimationFrame(() => this.flush());
		});
	}

	shown() {
		for (const t of TRANSPORTS)
			this.render(t);
		this.readStats();
	}

	// The server's own counters for each transport (GET /api/stats),
	// every few seconds while this view is shown.
	async readStats() {
		clearTimeout(this.statsTimer);
		if (this.root.hidden)
			return;
		try {
			const r = await fetch('/api/stats', { cache: 'no-store' });
			const st = (await r.json()).transports || {};
			for (const t of TRANSPORTS) {
				const x = st[t];
				if (!x)
					continue;
				const empty = x.requests && (t === 'poll' || t === 'longpoll') ?
					` · ${Math.round(100 * x.empty / x.requests)} % empty` : '';
				this.wires[t].stats.textContent = 'Server, all clients ' +
					`(GET /api/stats): ${x.open} open · ${x.requests} ` +
					`requests · ${x.delivered} delivered${empty} · ` +
					`${fmtBytes(x.bytes_sent)} sent`;
			}
		} catch { /* the server is away: try again later */ }
		this.statsTimer = setTimeout(() => this.readStats(), STATS_EVERY);
	}

	flush() {
		this.raf = 0;
		if (this.root.hidden) {
			this.dirty.clear();
			return;
		}
		for (const t of this.dirty)
			this.render(t);
		this.dirty.clear();
	}

	render(t) {
		const { wire } = this.wires[t];
		const log = wireBus.log[t];
		if (!log.length) {
			wire.replaceChildren(el('span', { class: 'none' },
				`Nothing on ${LABEL[t]} yet: chat over it, start the race, ` +
				'or press Try it.'));
			return;
		}
		const stick = wire.scrollHeight - wire.scrollTop - wire.clientHeight < 30;
		// EventSource and WebSocket expose neither the request nor the
		// response head: those entries are the page's reconstruction.
		const made = (e) => (t === 'sse' || t === 'ws') &&
			(e.kind === 'request' || e.kind === 'response');
		wire.replaceChildren(...log.map((e) => el('div',
			{ class: `entry dir-${e.dir}`, 'data-made': made(e) ? '1' : null },
			el('span', { class: 'when' }, clock(e.at) + ' '),
			made(e) ? el('span', { class: 'tag', title: 'the browser does ' +
				'not show this to JavaScript: the page wrote it from what ' +
				'it asked for; the server’s record below is the real one' },
			'[reconstructed by the page] ') : null,
			el('span', { class: 'head' }, `${arrow[e.dir]} ` +
				(e.head || e.kind)),
			e.headers ? el('div', { class: 'hdrs' }, e.headers) : null,
			e.body ? el('div', { class: 'body' }, e.body) : null)));
		if (stick)
			wire.scrollTop = wire.scrollHeight;
	}

	// The server's record of the demo client's exchanges, every few
	// seconds while it runs (and once after it stops).
	async readServerWire(t) {
		const w = this.wires[t];
		clearTimeout(w.timer);
		const c = this.demos[t];
		const cid = c ? c.cid : w.cid;
		if (!cid)
			return;
		const recs = await readWire(cid);
		if (recs)
			w.srv.replaceChildren(...wireView(recs.filter((r) =>
				!r.transport || r.transport === t).slice(-8)));
		else
			w.srv.replaceChildren(el('span', { class: 'none' },
				'This server keeps no record of the wire ' +
				'(GET /api/clients/{cid}/wire answered no).'));
		if (this.demos[t])
			w.timer = setTimeout(() => this.readServerWire(t), WIRE_EVERY);
	}

	toggle(t) {
		const { btn } = this.wires[t];
		const demo = this.demos[t];
		if (demo) {
			demo.close();
			delete this.demos[t];
			btn.textContent = 'Try it';
			setTimeout(() => this.readServerWire(t), 300);
			return;
		}
		const name = (this.chat && this.chat.name) || 'learner';
		const cid = this.wires[t].cid = `${tabCid()}-learn-${t}`;
		setTimeout(() => this.readServerWire(t), 800);
		const c = this.demos[t] = createClient(t, {
			cid, from: `${name} (learn)`.slice(0, 32),
			rooms: ['learn'],
			since: (this.chat && this.chat.client && this.chat.client.cursor) || 0,
		});
		btn.textContent = 'Stop';
		let sent = false;
		c.on('status', (s) => {
			if (s.state === 'open' && !sent) {
				sent = true;
				c.send('learn', 'chat', { text: `hello over ${LABEL[t]}`,
					t: clockNow() }).catch(() => { });
			}
		});
		c.start();
	}
}
