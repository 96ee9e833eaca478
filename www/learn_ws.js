// SPDX-License-Identifier: MIT
// learn_ws: the Learn view's WebSocket panels. The handshake as the server
// read and wrote it, with Sec-WebSocket-Accept derived here (SHA-1 of the
// key and RFC 6455's GUID, base64, with crypto.subtle) and checked against
// what the server sent; readyState 0-3 and bufferedAmount live while a
// burst of large frames drains; the four events (open, message, error,
// close) as they fire; and close codes — with what a page cannot see
// (ping and pong frames, the frames' bytes) said plainly.
import { el, tabCid, randomKey, fmtBytes } from './util.js';
import { readWire, wireView, headerOf } from './learn_wire.js';

export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const STATES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];
const SAMPLE_MS = 2;		// bufferedAmount sampling while draining
const MAX_SAMPLES = 4000;

// base64(SHA-1(key + GUID)): the Sec-WebSocket-Accept a server must
// answer key with. Resolves to {joined, sha1hex, accept}.
export async function acceptFor(key) {
	const joined = key + WS_GUID;
	const digest = new Uint8Array(await crypto.subtle.digest('SHA-1',
		new TextEncoder().encode(joined)));
	const sha1hex = Array.from(digest, (b) =>
		b.toString(16).padStart(2, '0')).join('');
	const accept = btoa(String.fromCharCode(...digest));
	return { joined, sha1hex, accept };
}

const wsUrl = (query) => (location.protocol === 'https:' ? 'wss://' :
	'ws://') + location.host + '/ws' + (query ? `?${query}` : '');

const stateText = (n) => `${n} ${STATES[n] || '?'}`;

function panel(id, title, ...body) {
	return el('article', { class: 'learn-card panel', id, 'data-tp': 'ws' },
		el('h3', {}, el('span', { class: 'via', 'data-tp': 'ws' }, 'ws'),
			title), ...body);
}

export class WsPanels {
	constructor(root, info) {
		this.info = info || {};
		root.append(this.handshakePanel(), this.bufferPanel(),
			this.closePanel());
		this.rfcExample();
	}

	// --- the handshake -------------------------------------------------
	handshakePanel() {
		this.hs = {
			out: el('pre', { class: 'wire', 'data-handshake': '' }),
			steps: el('ol', { class: 'derive mono small' }),
			verdict: el('p', { class: 'verdict', role: 'status' }, ''),
			rfc: el('p', { class: 'facts mono' }, ''),
		};
		const btn = el('button', { type: 'button', id: 'learn-hs-run',
			onclick: () => this.handshake() }, 'Open a WebSocket and check');
		this.hs.root = panel('learn-handshake', 'The handshake', btn,
			el('p', {}, 'A WebSocket starts as an HTTP/1.1 GET with ',
				el('code', {}, 'Upgrade: websocket'), ', ',
				el('code', {}, 'Connection: Upgrade'), ', ',
				el('code', {}, 'Sec-WebSocket-Version: 13'), ' and a random ',
				el('code', {}, 'Sec-WebSocket-Key'), '. The server answers ',
				el('code', {}, '101 Switching Protocols'), ' with ',
				el('code', {}, 'Sec-WebSocket-Accept'), ' = base64(SHA-1(key ',
				'+ "', WS_GUID, '")), proving it speaks WebSocket and is ',
				'not a cache replaying an old answer. From then on the TCP ',
				'connection carries frames, not HTTP.'),
			el('p', { class: 'facts' }, 'The browser hides both headers ',
				'from JavaScript; the heads below are the server’s record ',
				'(GET /api/clients/{cid}/wire), and the derivation is ',
				'computed in this page with crypto.subtle.'),
			this.hs.out, this.hs.steps, this.hs.verdict, this.hs.rfc);
		return this.hs.root;
	}

	// RFC 6455's own example, computed here: the page's SHA-1 is right.
	async rfcExample() {
		const key = 'dGhlIHNhbXBsZSBub25jZQ==';
		const want = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
		try {
			const { accept } = await acceptFor(key);
			this.hs.rfc.textContent = `RFC 6455 §1.3's example: key ${key} → ` +
				`${accept} ${accept === want ? '✓ as the RFC says' :
					'✗ (the RFC says ' + want + ')'}`;
		} catch (e) {
			this.hs.rfc.textContent = `crypto.subtle is not available ` +
				`here (${e.message}): it needs a secure context ` +
				'(https: or localhost).';
		}
	}

	async handshake() {
		const hs = this.hs;
		const cid = `${tabCid().slice(0, 16)}hs${randomKey(6)}`;
		hs.root.dataset.verified = '';
		hs.steps.replaceChildren();
		hs.verdict.textContent = 'connecting…';
		const ws = new WebSocket(wsUrl(`cid=${cid}`));
		await new Promise((resolve) => {
			ws.onopen = resolve;
			ws.onerror = resolve;
		});
		if (ws.readyState !== WebSocket.OPEN) {
			hs.verdict.textContent = 'The connection failed.';
			return;
		}
		ws.send(JSON.stringify({ op: 'hello', cid, from: 'learn' }));
		let rec = null;
		for (let i = 0; i < 10 && !rec; i++) {
			await new Promise((r) => setTimeout(r, 150));
			const recs = await readWire(cid);
			if (!recs)
				break;
			rec = recs.find((r) => headerOf(r.request, 'Sec-WebSocket-Key'));
		}
		ws.close(1000);
		const extra = `The browser shows JavaScript only: protocol ` +
			`“${ws.protocol}”, extensions “${ws.extensions}”, URL ${ws.url}.`;
		if (!rec) {
			hs.out.replaceChildren(el('span', { class: 'none' },
				'This server keeps no record of the handshake, and the ' +
				'browser never shows a page the Sec-WebSocket-Key it sent: ' +
				'nothing to check. ' + extra));
			hs.verdict.textContent = 'not checked';
			hs.root.dataset.verified = 'unavailable';
			return;
		}
		hs.out.replaceChildren(...wireView([rec]));
		const key = headerOf(rec.request, 'Sec-WebSocket-Key');
		const got = headerOf(rec.response, 'Sec-WebSocket-Accept');
		const { joined, sha1hex, accept } = await acceptFor(key);
		const li = (...c) => el('li', {}, ...c);
		hs.steps.replaceChildren(
			li('key (request): ', el('code', { 'data-key': '' }, key)),
			li('key + GUID: ', el('code', {}, joined)),
			li('SHA-1: ', el('code', {}, sha1hex)),
			li('base64: ', el('code', { 'data-computed': '' }, accept)),
			li('Sec-WebSocket-Accept (response): ',
				el('code', { 'data-accept': '' }, got || '(none)')));
		const ok = got === accept;
		hs.root.dataset.verified = ok ? 'yes' : 'no';
		hs.verdict.textContent = (ok ? '✓ verified: the server’s ' +
			'Sec-WebSocket-Accept is the one derived from the key here.' :
			'✗ mismatch: the server’s accept is not derived from this ' +
			'key.') + ' The browser checked the real header too: with a ' +
			'wrong one the connection fails (close 1006) and open never ' +
			'fires. ' + extra;
		hs.verdict.classList.toggle('bad', !ok);
	}

	// --- readyState, bufferedAmount, events --------------------------
	bufferPanel() {
		const b = this.buf = {
			state: el('output', { class: 'big mono', 'data-ready-state': '' },
				'–'),
			amount: el('output', { class: 'big mono', 'data-buffered': '' },
				'–'),
			count: el('input', { type: 'number', min: 1, max: 200,
				value: 40, id: 'learn-burst-n' }),
			size: el('input', { type: 'number', min: 1, max: 60, value: 60,
				id: 'learn-burst-kb' }),
			spark: el('div', { class: 'spark' }),
			log: el('ol', { class: 'events mono small', 'data-events': '' }),
			summary: el('p', { class: 'facts', role: 'status' }, ''),
		};
		b.root = panel('learn-buffered', 'readyState, bufferedAmount and ' +
			'the four events',
		el('p', {}, el('code', {}, 'readyState'), ' is 0 CONNECTING until ',
			'the 101 arrives, 1 OPEN while frames flow, 2 CLOSING after ',
			'close() until the close handshake ends, 3 CLOSED. ',
			el('code', {}, 'send()'), ' never blocks: it queues the frame ',
			'and adds its bytes to ', el('code', {}, 'bufferedAmount'),
			', which falls as the browser hands them to TCP. A sender ',
			'that keeps sending while it grows is filling memory, not ',
			'the network.'),
		el('div', { class: 'row' },
			el('label', { class: 'field' }, 'frames ', b.count),
			el('label', { class: 'field' }, 'of ', b.size, ' KB'),
			el('button', { type: 'button', id: 'learn-burst',
				onclick: () => this.burst() }, 'Connect and burst'),
			el('span', { class: 'field' }, 'readyState ', b.state),
			el('span', { class: 'field' }, 'bufferedAmount ', b.amount)),
		b.spark, b.summary,
		el('h4', { class: 'wire-label' }, 'Events, as they fired'), b.log);
		return b.root;
	}

	event(t0, ws, type, detail = '') {
		const ms = (performance.now() - t0).toFixed(1);
		this.buf.log.append(el('li', { 'data-event': type },
			`+${ms} ms  ${type.padEnd(7)} readyState ${stateText(ws.readyState)}` +
			(detail ? `  ${detail}` : '')));
	}

	async burst() {
		const b = this.buf;
		if (b.ws && b.ws.readyState < 2)
			b.ws.close(1000);
		b.root.dataset.drained = '';
		b.log.replaceChildren();
		b.spark.replaceChildren();
		const n = Math.min(200, Math.max(1, Number(b.count.value) || 40));
		const kb = Math.min(60, Math.max(1, Number(b.size.value) || 60));
		const t0 = performance.now();
		const ws = b.ws = new WebSocket(wsUrl(''));
		let pongs = 0;
		const live = () => {
			b.state.textContent = stateText(ws.readyState);
			b.amount.textContent = fmtBytes(ws.bufferedAmount);
			if (ws.readyState < 3)
				requestAnimationFrame(live);
		};
		live();
		this.event(t0, ws, 'created', 'new WebSocket(url)');
		ws.onerror = () => this.event(t0, ws, 'error',
			'(the event carries no reason; a close follows)');
		ws.onmessage = (e) => {
			pongs++;
			if (pongs <= 2 || pongs === n)
				this.event(t0, ws, 'message', `${e.data.length} B: ` +
					e.data.slice(0, 60) + (pongs === 2 && n > 3 ? ' …' : ''));
		};
		ws.onclose = (e) => {
			this.event(t0, ws, 'close', `code ${e.code}` +
				(e.reason ? ` “${e.reason}”` : '') +
				` wasClean ${e.wasClean}`);
			b.state.textContent = stateText(ws.readyState);
		};
		await new Promise((r) => {
			ws.onopen = r;
			ws.addEventListener('close', r);
		});
		if (ws.readyState !== WebSocket.OPEN)
			return;
		this.event(t0, ws, 'open');
		const pad = 'x'.repeat(Math.min(kb * 1000, this.maxMsg()) - 60);
		const samples = [];
		const tb = performance.now();
		for (let i = 1; i <= n; i++) {
			ws.send(JSON.stringify({ op: 'ping', ref: i, t: 0, pad }));
			samples.push([performance.now() - tb, ws.bufferedAmount]);
		}
		const peak = ws.bufferedAmount;
		b.root.dataset.peak = String(peak);
		this.event(t0, ws, 'sent', `${n} × ${kb} KB queued by send(); ` +
			`bufferedAmount ${fmtBytes(peak)}`);
		while (ws.bufferedAmount > 0 && ws.readyState === WebSocket.OPEN &&
		       samples.length < MAX_SAMPLES) {
			await new Promise((r) => setTimeout(r, SAMPLE_MS));
			samples.push([performance.now() - tb, ws.bufferedAmount]);
		}
		const drainMs = performance.now() - tb;
		b.root.dataset.drained = ws.bufferedAmount === 0 ? '1' : '0';
		this.spark(samples, peak);
		b.summary.textContent = `Peak ${fmtBytes(peak)} right after the ` +
			`${n} send() calls; drained to ${fmtBytes(ws.bufferedAmount)} ` +
			`${drainMs.toFixed(1)} ms later (${samples.length} samples). ` +
			'The server answers each ping with a pong frame.';
		// Wait for the pongs, then close: readyState 2, then 3.
		const until = performance.now() + 5000;
		while (pongs < n && performance.now() < until &&
		       ws.readyState === WebSocket.OPEN)
			await new Promise((r) => setTimeout(r, 20));
		ws.close(1000, 'done');
		this.event(t0, ws, 'close()', 'called: readyState is now 2 ' +
			'until the server’s close frame arrives');
	}

	// bufferedAmount over time as an SVG line.
	spark(samples, peak) {
		const W = 560, H = 80;
		const tmax = Math.max(1, samples[samples.length - 1][0]);
		const pts = samples.map(([t, v]) =>
			`${(t / tmax * W).toFixed(1)},${(H - v / Math.max(1, peak) *
				(H - 4)).toFixed(1)}`).join(' ');
		const ns = 'http://www.w3.org/2000/svg';
		const svg = document.createElementNS(ns, 'svg');
		svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
		svg.setAttribute('class', 'sparkline');
		const line = document.createElementNS(ns, 'polyline');
		line.setAttribute('points', pts);
		svg.append(line);
		this.buf.spark.replaceChildren(svg, el('span', { class: 'small muted' },
			`bufferedAmount, 0 to ${tmax.toFixed(1)} ms`));
	}

	// --- control frames and close codes ------------------------------
	closePanel() {
		const log = el('ol', { class: 'events mono small', 'data-closes': '' });
		const run = (what) => () => this.closeDemo(what, log);
		return panel('learn-close', 'Control frames and close codes',
			el('p', {}, 'Ping (0x9), pong (0xA) and close (0x8) are ',
				'control frames. A page sees none of them as frames: the ',
				'browser answers the server’s pings by itself, has no ',
				'ping() method, and shows a close only as the close ',
				'event’s code, reason and wasClean. imlab pings a ',
				'WebSocket idle for --ws-ping s; the race’s idle row counts ',
				'those bytes from the server’s side. 1006 is never on the ',
				'wire: the browser reports it when the TCP connection ',
				'ended without a close frame. To see every frame, capture ',
				'the loopback interface (tcpdump -i lo port PORT); ',
				'DevTools shows data frames only.'),
			el('div', { class: 'row' },
				el('button', { type: 'button', 'data-close': '1000',
					onclick: run('1000') }, 'close(1000)'),
				el('button', { type: 'button', 'data-close': '4000',
					onclick: run('4000') }, 'close(4000, "bye")'),
				el('button', { type: 'button', 'data-close': '1006',
					title: 'new WebSocket() on a path that is not a ' +
						'WebSocket endpoint: the server answers 404',
					onclick: run('1006') }, 'connect to /nope'),
				el('button', { type: 'button', 'data-close': '1009',
					onclick: run('1009') },
				`send ${fmtBytes(this.maxMsg() + 1024)} (over the limit)`)),
			log);
	}

	// The server's largest WebSocket message (bytes).
	maxMsg() {
		return (this.info.limits && this.info.limits.ws_max_msg) || 65536;
	}

	async closeDemo(what, log) {
		const ws = what === '1006' ? new WebSocket(wsUrl('').replace(/\/ws$/,
			'/nope')) : new WebSocket(wsUrl(''));
		const t0 = performance.now();
		let errored = false;
		ws.addEventListener('error', () => {
			errored = true;
		});
		const closed = new Promise((r) => ws.addEventListener('close', r));
		await Promise.race([closed, new Promise((r) =>
			ws.addEventListener('open', r))]);
		if (ws.readyState === WebSocket.OPEN) {
			if (what === '1000')
				ws.close(1000);
			else if (what === '4000')
				ws.close(4000, 'bye');
			else
				ws.send(JSON.stringify({ op: 'ping', ref: 1,
					pad: 'x'.repeat(this.maxMsg() + 1024) }));
		}
		const e = await closed;
		const who = what === '1009' ? 'the server closed: ' :
			what === '1006' ? `${errored ? 'error, then ' : ''}close ` +
				'without any frame (the handshake got a 404): ' :
				'we closed, the server echoed: ';
		const how = { 1009: 'send(too big)', 1006: 'new WebSocket(/nope)' };
		log.append(el('li', { 'data-close-code': String(e.code) },
			`${how[what] || `close(${what})`} → ${who}` +
			`code ${e.code}${e.reason ? ` “${e.reason}”` : ''}, wasClean ` +
			`${e.wasClean}, after ${(performance.now() - t0).toFixed(1)} ms`));
	}
}
