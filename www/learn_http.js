// SPDX-License-Identifier: MIT
// learn_http: the Learn view's HTTP panels. The raw bytes of an SSE stream
// read with fetch() streaming (so the `retry:` line, `id:`/`data:` lines
// and `: ping` comments show as sent, which EventSource hides), and
// HTTP keep-alive against Connection: close: the same ten requests on one
// reused TCP connection, then with the server closing after each answer
// (a page cannot send Connection: close; the server's static files honour
// ?close=1 for this lesson), counting connections and bytes with the
// server's /api/stats and the browser's Resource Timing.
import { el, tabCid, randomKey, fmtBytes } from './util.js';

const SSE_MAX_MS = 120000;	// a raw stream is read at most this long
const SHOW_LINES = 400;		// lines of it kept on screen
const RUNS = 10;		// requests per keep-alive run

function panel(id, tp, title, ...body) {
	return el('article', { class: 'learn-card panel', id, 'data-tp': tp },
		el('h3', {}, el('span', { class: 'via', 'data-tp': tp },
			tp === 'sse' ? 'sse' : 'http'), title), ...body);
}

// One line of an event stream, classified for colour.
function sseLine(line) {
	const kind = line.startsWith(':') ? 'comment' :
		/^(retry|id|data|event):/.exec(line)?.[1] || (line ? 'other' : 'blank');
	return el('div', { class: `sse-${kind}`, 'data-line': kind },
		line === '' ? '↵ (blank line: end of event)' : line + '↵');
}

// The server's totals over every transport in /api/stats: {conns, up,
// down} (null for a counter it does not keep).
async function serverTotals() {
	const sum = { conns: null, up: null, down: null };
	try {
		const j = await (await fetch('/api/stats', { cache: 'no-store' }))
			.json();
		const add = (k, v) => {
			if (typeof v === 'number')
				sum[k] = (sum[k] || 0) + v;
		};
		for (const x of Object.values(j.transports || {})) {
			add('conns', x.connections);
			add('up', x.bytes_received);
			add('down', x.bytes_sent);
		}
	} catch { /* the server is away */ }
	return sum;
}

export class HttpPanels {
	constructor(root, info) {
		this.info = info || {};
		root.append(this.ssePanel(), this.keepAlivePanel());
	}

	// --- raw SSE ----------------------------------------------------
	ssePanel() {
		const ping = (this.info.limits && this.info.limits.sse_ping) || 15;
		const s = this.sse = {
			head: el('pre', { class: 'wire short', 'data-sse-head': '' }),
			raw: el('pre', { class: 'wire', 'data-sse-raw': '' }),
			facts: el('p', { class: 'facts', role: 'status' }, ''),
			btn: el('button', { type: 'button', id: 'learn-sse-raw',
				onclick: () => this.toggleSse() }, 'Read /sse raw'),
			send: el('button', { type: 'button', id: 'learn-sse-send',
				onclick: () => this.sseSend() }, 'Publish one'),
		};
		s.root = panel('learn-sse-bytes', 'sse', 'Raw SSE bytes',
			el('p', {}, 'EventSource hands a page parsed events; here the ',
				'same stream is read with fetch() and a stream reader, ',
				'byte for byte as the server wrote it (less the chunked ',
				'framing — the hex chunk sizes — which fetch removes). ',
				'First a ', el('code', {}, 'retry:'), ' line (how long ',
				'EventSource waits before reconnecting), then per message ',
				el('code', {}, 'id:'), ' and ', el('code', {}, 'data:'),
				' lines and a blank line, and every ', String(ping),
				' s a ', el('code', {}, ': ping'), ' comment that keeps ',
				'proxies from closing a quiet stream.'),
			el('div', { class: 'row' }, s.btn, s.send),
			s.head, s.raw, s.facts);
		return s.root;
	}

	async toggleSse() {
		const s = this.sse;
		if (s.ctl) {
			s.ctl.abort();
			return;
		}
		const cid = `${tabCid().slice(0, 16)}raw${randomKey(5)}`;
		let since = 0;
		try {
			since = (await (await fetch('/api/info', { cache: 'no-store' }))
				.json()).last_id || 0;
		} catch { /* from the start */ }
		const url = `/sse?rooms=learn&since=${since}&cid=${cid}&from=raw`;
		const ctl = s.ctl = new AbortController();
		const timer = setTimeout(() => ctl.abort(), SSE_MAX_MS);
		s.btn.textContent = 'Stop';
		s.raw.replaceChildren();
		s.root.dataset.retry = '';
		s.root.dataset.ping = '';
		s.root.dataset.data = '';
		const t0 = performance.now();
		let bytes = 0, pending = '';
		try {
			const res = await fetch(url, { signal: ctl.signal,
				cache: 'no-store', headers: { Accept: 'text/event-stream' } });
			s.head.textContent = `GET ${url} HTTP/1.1\n\n` +
				`HTTP/1.1 ${res.status} ${res.statusText}\n` +
				[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n') +
				'\n(fetch shows the response headers, not the request’s)';
			const reader = res.body.getReader();
			const dec = new TextDecoder();
			for (;;) {
				const { value, done } = await reader.read();
				if (done)
					break;
				bytes += value.byteLength;
				pending += dec.decode(value, { stream: true });
				const lines = pending.split('\n');
				pending = lines.pop();
				for (const line of lines) {
					if (line.startsWith('retry:'))
						s.root.dataset.retry = '1';
					else if (line.startsWith(':'))
						s.root.dataset.ping = '1';
					else if (line.startsWith('data:'))
						s.root.dataset.data = '1';
					s.raw.append(sseLine(line));
				}
				while (s.raw.childNodes.length > SHOW_LINES)
					s.raw.firstChild.remove();
				s.raw.scrollTop = s.raw.scrollHeight;
				s.facts.textContent = `${fmtBytes(bytes)} of body in ` +
					`${((performance.now() - t0) / 1000).toFixed(1)} s`;
			}
		} catch (e) {
			if (e.name !== 'AbortError')
				s.facts.textContent = `stream failed: ${e.message}`;
		} finally {
			clearTimeout(timer);
			s.ctl = null;
			s.btn.textContent = 'Read /sse raw';
		}
	}

	async sseSend() {
		try {
			await fetch('/api/rooms/learn/messages', { method: 'POST',
				headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ event: 'chat', from: 'learn (raw)',
					data: { text: 'hello, raw stream' } }) });
		} catch { /* the stream panel shows what arrived */ }
	}

	// --- keep-alive against Connection: close -------------------------
	keepAlivePanel() {
		const k = this.ka = {
			table: el('table', { class: 'race-table', 'data-keepalive': '' }),
			facts: el('p', { class: 'facts', role: 'status' }, ''),
		};
		k.root = panel('learn-keepalive', 'api', 'Keep-alive versus ' +
			'Connection: close',
		el('p', {}, 'HTTP is the waybill, TCP the road: a request needs ',
			'a TCP connection, and opening one costs a round trip (SYN, ',
			'SYN-ACK) before the request can leave, plus the segments ',
			'that close it. HTTP/1.1 keeps a connection open for the next ',
			'request by default (keep-alive); ', el('code', {},
				'Connection: close'), ' ends it after one answer — a short ',
			'connection. Both runs below fetch the same small file ', String(RUNS),
			' times in a row; in the second the server answers with ',
			el('code', {}, 'Connection: close'), ' (asked for with ',
			el('code', {}, '?close=1'), ': a page may not send that header ',
			'itself).'),
		el('div', { class: 'row' }, el('button', { type: 'button',
			id: 'learn-ka-run', onclick: () => this.keepAlive() },
		'Run both')), k.table, k.facts);
		return k.root;
	}

	// RUNS fetches of a small file; resolves to {bytes, ms, wait, server}:
	// response bytes as the browser counts them, the time the run took,
	// the time requests waited before they could be sent (a new
	// connection's connect is in it) and the change of the server's
	// connection counters. (Resource Timing's connect phase is not used
	// to count connections: Chromium reports it as 0 for most fresh
	// loopback connections.)
	async run(close) {
		const before = await serverTotals();
		const tag = randomKey(6);
		let bytes = 0, wait = 0;
		const t0 = performance.now();
		for (let i = 0; i < RUNS; i++) {
			const url = `${location.origin}/client.js?${close ? 'close=1&' : ''}` +
				`ka=${tag}${i}`;
			const r = await fetch(url, { cache: 'no-store' });
			await r.arrayBuffer();
			const e = performance.getEntriesByName(url).pop();
			if (e) {
				bytes += e.transferSize || 0;
				wait += Math.max(0, e.requestStart - e.fetchStart);
			}
		}
		const ms = performance.now() - t0;
		const after = await serverTotals();
		const d = (k) => before[k] === null || after[k] === null ? null :
			after[k] - before[k];
		return { bytes, ms, wait, server: d('conns'), up: d('up'),
			down: d('down') };
	}

	async keepAlive() {
		const k = this.ka;
		k.root.dataset.done = '';
		k.facts.textContent = 'running…';
		performance.setResourceTimingBufferSize(1000);
		const ka = await this.run(false);
		const cl = await this.run(true);
		const row = (name, r, key) => el('tr', { 'data-run': key },
			el('td', {}, name),
			el('td', { 'data-metric': 'server' },
				r.server === null ? 'n/a' : String(r.server)),
			el('td', { 'data-metric': 'bytes' }, fmtBytes(r.bytes)),
			el('td', { 'data-metric': 'up' }, r.up ? fmtBytes(r.up) : 'n/a'),
			el('td', { 'data-metric': 'down' }, r.down ? fmtBytes(r.down) :
				'n/a'),
			el('td', { 'data-metric': 'wait' }, `${r.wait.toFixed(1)} ms`),
			el('td', { 'data-metric': 'ms' }, `${r.ms.toFixed(1)} ms`));
		k.table.replaceChildren(el('thead', {}, el('tr', {},
			el('th', {}, `${RUNS} requests`),
			el('th', { title: 'change of the server’s TCP connection ' +
				'counters (/api/stats, all clients, so other tabs add to it)' },
			'TCP connections opened'),
			el('th', { title: 'response bytes as the browser counts them ' +
				'(transferSize: headers and body)' }, 'received (browser)'),
			el('th', { title: 'bytes the server read, all clients ' +
				'(/api/stats bytes_received)' }, 'up (server)'),
			el('th', { title: 'bytes the server wrote, all clients ' +
				'(/api/stats bytes_sent)' }, 'down (server)'),
			el('th', { title: 'Resource Timing: requestStart − fetchStart, ' +
				'summed (a new connection’s connect is in it)' },
			'waited to send'),
			el('th', {}, 'took'))),
		el('tbody', {}, row('keep-alive', ka, 'keepalive'),
			row('Connection: close', cl, 'close')));
		k.root.dataset.done = '1';
		k.root.dataset.conns = ka.server === null ? '' :
			`${ka.server},${cl.server}`;
		k.facts.textContent = (ka.server === null ? 'This server does ' +
			'not count connections (/api/stats has no “connections”). ' :
			'') + 'Each short connection repeats the TCP ' +
			'handshake (on loopback a fraction of a millisecond; on a real ' +
			'network one round trip) and the server sets up and tears down ' +
			'a connection per request. The bytes HTTP counts barely change: ' +
			'the cost is in round trips, packets and work.';
	}
}
