// SPDX-License-Identifier: MIT
// race: four clients in this page, one per transport, subscribed to one
// fresh room; a sender publishes at a chosen rate and size with the page's
// performance.now() in the data. Each client subtracts it from its own at
// receipt — one clock, no offset — and counts what it costs (requests,
// bytes, empty polls) and what went wrong (lost, duplicated, out of order,
// all judged by the message ids).
import { createClient } from './client.js';
import { BaseClient } from './base.js';
import { el, $, TRANSPORTS, LABEL, randomKey, tabCid, percentile, fmtMs,
	fmtBytes } from './util.js';

const WINDOW = 10000;		// ms of samples the percentiles cover
const CHART_SPAN = 60;		// s of history a chart shows
const CHART_POINTS = 6000;	// at most, newest first
const MAX_SAMPLES = 200000;	// per transport, then the oldest go
const COLOR = { poll: '#c26a00', longpoll: '#7b3fd1', sse: '#0a85a8',
	ws: '#1c8a3f' };

const COLUMNS = [
	['state', 'state', 'connection state'],
	['delivered', 'delivered', 'race messages received (without duplicates)'],
	['p50', 'p50', 'median latency over the last 10 s'],
	['p90', 'p90', '90th percentile latency over the last 10 s'],
	['p99', 'p99', '99th percentile latency over the last 10 s'],
	['reqPerMsg', 'req / msg', 'HTTP requests (or WebSocket upgrades) per delivered message'],
	['bytesPerMsg', 'bytes / msg', 'bytes received (headers, bodies, frames) per delivered message'],
	['empty', 'empty polls', 'share of poll answers that carried no message'],
	['lost', 'lost', 'acknowledged by the server but not received within a few seconds'],
	['dup', 'dup', 'the same id received again'],
	['ooo', 'out of order', 'an id lower than one already received'],
	['gaps', 'gaps', 'times the server said history was lost'],
];

class Lane {
	constructor(transport) {
		this.t = transport;
		this.reset();
	}

	reset() {
		this.client = null;
		this.state = 'idle';
		this.seen = new Set();
		this.maxId = 0;
		this.delivered = 0;
		this.dup = 0;
		this.ooo = 0;
		this.gaps = 0;
		this.missing = new Set();
		this.checked = 0;	// acked[] entries judged lost or not
		this.xs = [];		// s since start, at receipt
		this.ys = [];		// latency, ms
		this.lastAt = 0;
	}
}

export class Race {
	constructor(root, info) {
		this.root = root;
		this.info = info || {};
		this.lanes = Object.fromEntries(TRANSPORTS.map((t) => [t, new Lane(t)]));
		this.charts = {};
		this.running = false;
		this.sender = null;
		this.acked = [];
		this.build();
		this.setState('idle');
		this.loadCharts();
		this.refresh();
	}

	$(sel) {
		return $(sel, this.root);
	}

	setState(s) {
		this.state = s;
		this.root.dataset.state = s;
	}

	build() {
		const pollIn = this.$('#race-poll'), lptIn = this.$('#race-lpt');
		pollIn.addEventListener('input', () => {
			this.$('#race-poll-out').textContent = `${pollIn.value} ms`;
			const c = this.lanes.poll.client;
			if (c)
				c.setInterval(Number(pollIn.value));
		});
		lptIn.addEventListener('input', () => {
			this.$('#race-lpt-out').textContent = `${lptIn.value} s`;
		});
		lptIn.addEventListener('change', () => {
			const c = this.lanes.longpoll.client;
			if (c && !c.closed) {
				// Re-issue the held request so the new timeout
				// applies now; the cursor makes this lossless.
				c.setTimeoutSec(Number(lptIn.value));
				c.restart();
			}
		});
		this.$('#race-rate').addEventListener('change', () => this.rebase());
		this.$('#race-start').addEventListener('click', () => this.start());
		this.$('#race-stop').addEventListener('click', () => this.stop());

		const table = this.$('#race-table');
		table.append(el('thead', {}, el('tr', {}, el('th', {}, 'transport'),
			COLUMNS.map(([, head, title]) => el('th', { title }, head)))));
		this.cells = {};
		table.append(el('tbody', {}, TRANSPORTS.map((t) => {
			const row = el('tr', { 'data-tp': t, 'data-transport': t },
				el('td', {}, el('span', { class: 'tpname' }, LABEL[t])));
			this.cells[t] = {};
			for (const [key] of COLUMNS) {
				const td = el('td', { 'data-transport': t,
					'data-metric': key }, '–');
				this.cells[t][key] = td;
				row.append(td);
			}
			return row;
		})));

		const charts = this.$('#race-charts');
		this.cards = {};
		for (const t of TRANSPORTS) {
			const pct = el('span', { class: 'pct' }, '');
			const box = el('div', { class: 'chart-box' });
			const card = el('div', { class: 'chart-card', 'data-tp': t,
				'data-transport': t },
			el('h3', {}, LABEL[t], pct), box);
			this.cards[t] = { card, box, pct };
			charts.append(card);
		}
	}

	async loadCharts() {
		let uPlot;
		try {
			uPlot = (await import('/vendor/uplot/dist/uPlot.esm.js')).default;
		} catch {
			for (const t of TRANSPORTS)
				this.cards[t].box.replaceChildren(el('p', { class: 'muted' },
					'Charts need uPlot: run `npm install` in the imlab ' +
					'source tree (the server serves it from node_modules).'));
			return;
		}
		for (const t of TRANSPORTS) {
			const { box } = this.cards[t];
			const opts = {
				width: Math.max(200, box.clientWidth || 400),
				height: 190,
				legend: { show: false },
				cursor: { drag: { x: false, y: false } },
				scales: {
					x: { time: false },
					y: { range: (u, min, max) => [0, Math.max(5, max * 1.1)] },
				},
				axes: [
					{ label: 's since start', labelSize: 18, size: 30,
						font: '11px system-ui', labelFont: '11px system-ui' },
					{ size: 58, font: '11px system-ui',
						values: (u, v) => v.map((x) => x >= 1000 ?
							`${+(x / 1000).toFixed(2)} s` : `${x} ms`) },
				],
				series: [
					{},
					{ label: 'latency', stroke: COLOR[t] + '55',
						width: 0, paths: () => null,
						points: { show: true, size: 4, width: 0,
							fill: COLOR[t] + '99', stroke: COLOR[t] + '99' } },
					{ label: 'median per second', stroke: COLOR[t],
						width: 2, points: { show: false },
						paths: uPlot.paths.stepped({ align: 1 }) },
				],
			};
			this.charts[t] = new uPlot(opts, [[], [], []], box);
		}
		const ro = new ResizeObserver(() => {
			for (const t of TRANSPORTS) {
				const w = this.cards[t].box.clientWidth;
				if (w > 0 && this.charts[t])
					this.charts[t].setSize({ width: w, height: 190 });
			}
		});
		for (const t of TRANSPORTS)
			ro.observe(this.cards[t].box);
	}

	shown() {
		this.refresh();
	}

	rate() {
		return Math.min(1000, Math.max(1, Number(this.$('#race-rate').value) || 1));
	}

	// Rate changed: count from now on at the new rate.
	rebase() {
		this.sendStart = performance.now();
		this.scheduled = 0;
	}

	async start() {
		if (this.running)
			return;
		clearTimeout(this.drainTimer);
		this.closeAll();
		this.running = true;
		this.setState('starting');
		this.$('#race-start').disabled = true;
		this.$('#race-stop').disabled = false;
		this.$('#race-sender').disabled = true;
		this.room = 'race-' + randomKey(8);
		let since = 0;
		try {
			since = (await (await fetch('/api/info', { cache: 'no-store' }))
				.json()).last_id || 0;
		} catch { /* start from 0: a gap at worst */ }
		const cid = tabCid();
		this.acked = [];
		this.seq = 0;
		this.sentCount = 0;
		this.skipped = 0;
		this.sendErrors = 0;
		this.inflight = 0;
		this.lastError = '';
		this.t0 = performance.now();
		for (const t of TRANSPORTS) {
			const lane = this.lanes[t];
			lane.reset();
			const c = lane.client = createClient(t, {
				cid: `${cid}-race-${t}`, from: `race-${t}`,
				rooms: [this.room], since, events: ['race'],
				pollInterval: Number(this.$('#race-poll').value),
				longpollTimeout: Number(this.$('#race-lpt').value),
			});
			c.on('message', (env) => this.receive(lane, env));
			c.on('gap', () => lane.gaps++);
			c.on('status', (s) => {
				lane.state = s.state;
				lane.detail = s.detail;
			});
			c.start();
		}
		const via = this.$('#race-sender').value;
		const sender = this.sender = via === 'ws' ?
			createClient('ws', { cid: `${cid}-race-send`, from: 'race-sender',
				rooms: [] }) :
			new BaseClient('api', { cid: `${cid}-race-send`,
				from: 'race-sender' });
		sender.on('status', (s) => {
			this.senderState = s.state;
		});
		this.maxInflight = via === 'ws' ? 256 : 4;
		sender.start();
		// Give the subscribers a moment to connect (nothing is lost if
		// they are late: they all start from the same cursor).
		await new Promise((r) => setTimeout(r, 400));
		if (!this.running)
			return;
		this.setState('running');
		this.rebase();
		this.tickTimer = setInterval(() => this.tick(), 10);
		this.refreshTimer = setInterval(() => this.refresh(), 250);
	}

	tick() {
		if (!this.running)
			return;
		const rate = this.rate();
		const target = Math.floor((performance.now() - this.sendStart) *
			rate / 1000);
		let due = target - this.scheduled;
		if (due > Math.max(5, rate)) {
			// More than a second behind: drop, do not burst.
			this.skipped += due - rate;
			this.scheduled += due - rate;
			due = rate;
		}
		while (due > 0 && this.inflight < this.maxInflight) {
			this.sendOne();
			this.scheduled++;
			due--;
		}
	}

	sendOne() {
		const size = Number(this.$('#race-size').value);
		const data = { seq: ++this.seq, t: performance.now(),
			pad: 'x'.repeat(Math.max(0, size - 40)) };
		this.inflight++;
		this.sentCount++;
		this.sender.send(this.room, 'race', data, 'room').then((ack) => {
			this.acked.push({ id: ack.id, t: data.t });
		}).catch((e) => {
			this.sendErrors++;
			this.lastError = e.message;
		}).finally(() => {
			this.inflight--;
		});
	}

	receive(lane, env) {
		if (env.room !== this.room || env.event !== 'race' || !env.data)
			return;
		const now = performance.now();
		if (lane.seen.has(env.id)) {
			lane.dup++;
			return;
		}
		lane.seen.add(env.id);
		lane.missing.delete(env.id);	// late, but here
		if (env.id < lane.maxId)
			lane.ooo++;
		else
			lane.maxId = env.id;
		lane.delivered++;
		lane.lastAt = now;
		lane.xs.push((now - this.t0) / 1000);
		lane.ys.push(now - env.data.t);
		if (lane.xs.length > MAX_SAMPLES) {
			lane.xs.splice(0, 10000);
			lane.ys.splice(0, 10000);
		}
	}

	// Ids acknowledged more than `after` ms ago and still not received
	// are lost.
	judge(after) {
		const horizon = performance.now() - after;
		for (const lane of Object.values(this.lanes)) {
			while (lane.checked < this.acked.length &&
			       this.acked[lane.checked].t < horizon) {
				const id = this.acked[lane.checked].id;
				if (!lane.seen.has(id))
					lane.missing.add(id);
				lane.checked++;
			}
		}
	}

	lostAfter() {
		return Math.max(3000, 2 * Number(this.$('#race-poll').value) + 1500);
	}

	stop() {
		if (!this.running)
			return;
		this.running = false;
		clearInterval(this.tickTimer);
		this.setState('draining');
		this.$('#race-stop').disabled = true;
		// Let the slowest transport deliver what is in flight, then judge
		// every id and close.
		const wait = Number(this.$('#race-poll').value) + 1500;
		this.drainTimer = setTimeout(() => {
			this.judge(-Infinity);
			this.closeAll();
			clearInterval(this.refreshTimer);
			this.setState('stopped');
			this.refresh();
			this.$('#race-start').disabled = false;
			this.$('#race-sender').disabled = false;
		}, wait);
	}

	closeAll() {
		for (const lane of Object.values(this.lanes))
			if (lane.client) {
				lane.client.close();
				lane.state = 'closed';
			}
		if (this.sender)
			this.sender.close();
	}

	refresh() {
		if (this.running)
			this.judge(this.lostAfter());
		for (const t of TRANSPORTS)
			this.refreshLane(this.lanes[t]);
		const st = this.$('#race-status');
		if (this.state === 'idle') {
			st.textContent = 'Press Start: four clients join a fresh room and ' +
				'the sender starts publishing.';
			return;
		}
		const elapsed = this.t0 ? (performance.now() - this.t0) / 1000 : 0;
		st.textContent = `${this.state} · room ${this.room} · sent ` +
			`${this.sentCount} · acked ${this.acked.length} · in flight ` +
			`${this.inflight}` + (this.skipped ? ` · skipped ${this.skipped} ` +
			'(sender saturated)' : '') + (this.sendErrors ?
			` · send errors ${this.sendErrors} (${this.lastError})` : '') +
			` · ${elapsed.toFixed(0)} s`;
	}

	refreshLane(lane) {
		const c = this.cells[lane.t];
		const set = (k, v, bad = false) => {
			c[k].textContent = v;
			c[k].classList.toggle('bad', bad);
		};
		set('state', lane.state, lane.state === 'reconnecting');
		c.state.title = lane.detail || '';
		set('delivered', String(lane.delivered));
		// Percentiles over the last 10 s of receipts.
		let i = lane.xs.length;
		const from = (lane.lastAt - this.t0 - WINDOW) / 1000;
		while (i > 0 && lane.xs[i - 1] >= from)
			i--;
		const recent = lane.ys.slice(i).sort((a, b) => a - b);
		const p = [50, 90, 99].map((q) => percentile(recent, q));
		set('p50', fmtMs(p[0]));
		set('p90', fmtMs(p[1]));
		set('p99', fmtMs(p[2]));
		this.cards[lane.t].pct.textContent = recent.length ?
			`p50 ${fmtMs(p[0])} · p90 ${fmtMs(p[1])} · p99 ${fmtMs(p[2])}` : '';
		const st = lane.client ? lane.client.stats : null;
		const d = lane.delivered;
		const rq = st && d ? st.requests / d : NaN;
		set('reqPerMsg', !Number.isFinite(rq) ? '–' :
			rq >= 1 || rq === 0 ? rq.toFixed(2) : rq.toPrecision(2));
		set('bytesPerMsg', st && d ? fmtBytes(st.bytes / d) : '–');
		set('empty', st && st.polls ?
			`${Math.round(100 * st.empty / st.polls)} % of ${st.polls}` :
			(lane.t === 'poll' || lane.t === 'longpoll' ? '–' : 'n/a'));
		set('lost', String(lane.missing.size), lane.missing.size > 0);
		set('dup', String(lane.dup), lane.dup > 0);
		set('ooo', String(lane.ooo), lane.ooo > 0);
		set('gaps', String(lane.gaps), lane.gaps > 0);
		const chart = this.charts[lane.t];
		if (chart && !this.root.hidden) {
			let j = lane.xs.length;
			const end = lane.xs.length ? lane.xs[lane.xs.length - 1] : 0;
			while (j > 0 && lane.xs[j - 1] >= end - CHART_SPAN)
				j--;
			j = Math.max(j, lane.xs.length - CHART_POINTS);
			const xs = lane.xs.slice(j), ys = lane.ys.slice(j);
			// The median of each second of receipts, as a step line.
			const med = new Array(xs.length);
			for (let a = 0; a < xs.length;) {
				const sec = Math.floor(xs[a]);
				let b = a;
				while (b < xs.length && Math.floor(xs[b]) === sec)
					b++;
				const w = ys.slice(a, b).sort((p, q) => p - q);
				med.fill(w[w.length >> 1], a, b);
				a = b;
			}
			chart.setData([xs, ys, med]);
		}
	}
}
