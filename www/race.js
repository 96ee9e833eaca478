// SPDX-License-Identifier: MIT
// race: four clients in this page, one per transport, subscribed to one
// fresh room; a sender publishes at a chosen rate and size with the page's
// performance.now() in the data. Each client subtracts it from its own at
// receipt — one clock, no offset — and what went wrong (lost, duplicated,
// out of order) is judged by the message ids. What each lane costs comes
// from the server's counters for its client id (race_cost.js), both ways,
// headers included; an idle measurement gives the cost of merely staying
// connected, and the sweep (race_sweep.js) the cost at each rate. Each
// lane can sit behind an emulated network (delay=/jitter= on its URLs),
// and, when the server allows it, the chaos switches cut a lane, stall or
// restart the server, to show that resume by id loses nothing.
import { createClient } from './client.js';
import { BaseClient } from './base.js';
import { el, $, $$, TRANSPORTS, RACE_TRANSPORTS, LABEL, randomKey, tabCid,
	percentile, fmtMs } from './util.js';
import { RaceCharts } from './race_charts.js';
import { readClient, hasClientCounters, delta, figures, fmtCost,
	COST_COLUMNS, IDLE_COLUMNS, ZERO } from './race_cost.js';
import { SweepView, sweepPlan, stepSeconds } from './race_sweep.js';

const WINDOW = 10000;		// ms of samples the percentiles cover
const MAX_SAMPLES = 200000;	// per transport, then the oldest go
const COST_EVERY = 1000;	// ms between reads of the server's counters
const SETTLE = 1500;		// ms the lanes get to connect before idle

const NETS = [['', 'page'], ['0', 'loopback'], ['5', 'LAN 5 ms'],
	['30', 'Wi-Fi 30 ms'], ['80', '4G 80 ms'], ['300', 'satellite 300 ms']];

const COLUMNS = [
	['state', 'state', 'connection state'],
	['net', 'network', 'the emulated one-way delay this lane runs behind'],
	['delivered', 'delivered', 'race messages received (without duplicates)'],
	['p50', 'p50', 'median latency over the last 10 s'],
	['p90', 'p90', '90th percentile latency over the last 10 s'],
	['p99', 'p99', '99th percentile latency over the last 10 s'],
	['empty', 'empty polls', 'share of poll answers that carried no message'],
	['lost', 'lost', 'acknowledged by the server but not received within a few seconds'],
	['dup', 'dup', 'the same id received again'],
	['ooo', 'out of order', 'an id lower than one already received'],
	['gaps', 'gaps', 'times the server said history was lost'],
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Whether /api/info says the admin switches are on.
export function adminOn(info) {
	const a = info && info.admin;
	return a === true || !!(a && (a.enabled || a.cut));
}

class Lane {
	constructor(transport) {
		this.t = transport;
		this.reset();
	}

	reset() {
		this.client = null;
		this.cid = '';
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
		this.opened = false;	// has been open: the server knows the cid
		this.cost = null;	// the server's counters, last read
		this.costDelivered = 0;	// delivered when they were read
		this.base = null;	// counters when sending started
		this.params = '';
	}
}

export class Race {
	constructor(root, info) {
		this.root = root;
		this.info = info || {};
		this.lanes = Object.fromEntries(RACE_TRANSPORTS.map((t) => [t, new Lane(t)]));
		this.running = false;
		this.mode = 'race';
		this.sender = null;
		this.acked = [];
		this.idle = null;	// {secs, lanes: {t: figures}}
		this.costOk = null;	// does the server count per client?
		this.build();
		this.chartsView = new RaceCharts(this.$('#race-charts'),
			this.$('#race-overview'));
		this.charts = this.chartsView.charts;
		this.sweep = new SweepView(this.$('#race-sweep-out'));
		this.setState('idle');
		this.chartsView.load();
		this.chaos();
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
		for (const b of $$('[data-rate]', this.root))
			b.addEventListener('click', () => {
				this.$('#race-rate').value = b.dataset.rate;
				this.rebase();
			});
		this.$('#race-start').addEventListener('click', () => this.start());
		this.$('#race-stop').addEventListener('click', () => this.stop());
		this.$('#race-idle').addEventListener('click', () => this.measureIdle());
		this.$('#race-sweep').addEventListener('click', () => this.runSweep());
		this.$('#race-log').addEventListener('change', (e) =>
			this.chartsView.setLog(e.target.checked));
		const net = this.$('#race-net'), delay = this.$('#race-delay');
		net.addEventListener('change', () => {
			if (net.value !== 'custom')
				delay.value = net.value;
			this.applyNet();
		});
		for (const inp of [delay, this.$('#race-jitter')])
			inp.addEventListener('change', () => {
				const known = [...net.options].some((o) =>
					o.value === delay.value);
				net.value = known ? delay.value : 'custom';
				this.applyNet();
			});
		const ping = this.info.limits && this.info.limits.sse_ping;
		if (ping && ping + 1 <= 60)
			this.$('#race-idle-sec').value = String(Math.max(5, ping + 1));

		const table = this.$('#race-table');
		table.append(el('thead', {}, el('tr', {}, el('th', {}, 'transport'),
			COLUMNS.map(([, head, title]) => el('th', { title }, head)))));
		this.cells = {};
		this.netSel = {};
		table.append(el('tbody', {}, RACE_TRANSPORTS.map((t) => {
			const row = el('tr', { 'data-tp': t, 'data-transport': t },
				el('td', {}, el('span', { class: 'tpname' }, LABEL[t])));
			this.cells[t] = {};
			for (const [key] of COLUMNS) {
				const td = el('td', { 'data-transport': t,
					'data-metric': key }, '–');
				this.cells[t][key] = td;
				row.append(td);
			}
			const sel = this.netSel[t] = el('select', { 'data-net': t,
				title: `${LABEL[t]}: its own network (page: the bar's)`,
				onchange: () => this.applyNet() },
			NETS.map(([v, label]) => el('option', { value: v }, label)));
			this.cells[t].net.replaceChildren(sel);
			return row;
		})));
		this.costCells = this.costTable('#race-cost', COST_COLUMNS);
		this.idleCells = this.costTable('#race-idle-table', IDLE_COLUMNS);
	}

	costTable(sel, columns) {
		const table = this.$(sel);
		const cells = {};
		table.append(el('thead', {}, el('tr', {}, el('th', {}, 'transport'),
			columns.map(([, head, title]) => el('th', { title }, head)))),
		el('tbody', {}, RACE_TRANSPORTS.map((t) => {
			cells[t] = {};
			return el('tr', { 'data-tp': t, 'data-transport': t },
				el('td', {}, el('span', { class: 'tpname' }, LABEL[t])),
				columns.map(([key, , , kind]) => {
					const td = cells[t][key] = el('td', {
						'data-transport': t, 'data-metric': key }, '–');
					td.dataset.kind = kind;
					return td;
				}));
		})));
		return cells;
	}

	shown() {
		this.refresh();
	}

	rate() {
		if (this.rateOverride)
			return this.rateOverride;
		return Math.min(1000, Math.max(0.05,
			Number(this.$('#race-rate').value) || 1));
	}

	// Rate changed: count from now on at the new rate.
	rebase() {
		this.sendStart = performance.now();
		this.scheduled = 0;
	}

	// The extra query for lane t: its emulated network, or none.
	netParams(t) {
		const own = this.netSel[t].value;
		const clamp = (v) => Math.min(2000, Math.max(0, Math.round(v) || 0));
		const delay = clamp(own !== '' ? Number(own) :
			Number(this.$('#race-delay').value));
		const jitter = clamp(Number(this.$('#race-jitter').value));
		const p = delay || jitter ? [`delay=${delay}`] : [];
		if (jitter)
			p.push(`jitter=${jitter}`);
		return p.join('&');
	}

	// The lane's whole extra query: its network, and for WebSocket the
	// cid in the upgrade URL too, so the server can count the handshake
	// for it before the hello frame names it.
	clientParams(lane) {
		return [lane.params, lane.t === 'ws' ? `cid=${lane.cid}` : '']
			.filter(Boolean).join('&');
	}

	// A lane whose network changed starts over on the new one, from
	// its cursor: nothing is lost.
	applyNet() {
		for (const t of RACE_TRANSPORTS) {
			const lane = this.lanes[t];
			const p = this.netParams(t);
			if (!lane.client || lane.client.closed || p === lane.params)
				continue;
			lane.params = p;
			lane.client.setParams(this.clientParams(lane));
			lane.client.restart();
		}
		this.refresh();
	}

	busy(on) {
		this.$('#race-start').disabled = on;
		this.$('#race-idle').disabled = on;
		this.$('#race-sweep').disabled = on;
		this.$('#race-sender').disabled = on;
		this.$('#race-stop').disabled = !on;
	}

	// Connects the four lanes (and the sender unless only measuring
	// idle) to a fresh room.
	async connect(withSender) {
		clearTimeout(this.drainTimer);
		this.closeAll();
		this.running = true;
		this.stopAt = 0;
		this.busy(true);
		this.setState('starting');
		this.room = 'race-' + randomKey(8);
		this.costOk = await hasClientCounters();
		this.costFrozen = false;
		let since = 0;
		try {
			since = (await (await fetch('/api/info', { cache: 'no-store' }))
				.json()).last_id || 0;
		} catch { /* start from 0: a gap at worst */ }
		// a fresh cid per run: the server's counters start at zero
		const run = `${tabCid().slice(0, 16)}${randomKey(6)}`;
		this.acked = [];
		this.seq = 0;
		this.sentCount = 0;
		this.skipped = 0;
		this.sendErrors = 0;
		this.inflight = 0;
		this.lastError = '';
		this.t0 = performance.now();
		this.sendStart = 0;
		for (const t of RACE_TRANSPORTS) {
			const lane = this.lanes[t];
			lane.reset();
			lane.cid = `${run}-${t}`;
			lane.params = this.netParams(t);
			const c = lane.client = createClient(t, {
				cid: lane.cid, from: `race-${t}`,
				rooms: [this.room], since, events: ['race'],
				pollInterval: Number(this.$('#race-poll').value),
				longpollTimeout: Number(this.$('#race-lpt').value),
				params: this.clientParams(lane),
			});
			c.on('message', (env) => this.receive(lane, env));
			c.on('gap', () => lane.gaps++);
			c.on('status', (s) => {
				lane.state = s.state;
				lane.detail = s.detail;
				if (s.state === 'open')
					lane.opened = true;
			});
			c.start();
		}
		this.refreshTimer = setInterval(() => this.refresh(), 250);
		this.costTimer = setInterval(() => this.readCosts(), COST_EVERY);
		if (!withSender)
			return;
		const via = this.$('#race-sender').value;
		const sender = this.sender = via === 'ws' ?
			createClient('ws', { cid: `${run}-send`, from: 'race-sender',
				rooms: [] }) :
			new BaseClient('api', { cid: `${run}-send`,
				from: 'race-sender' });
		sender.on('status', (s) => {
			this.senderState = s.state;
		});
		this.maxInflight = via === 'ws' ? 256 : 4;
		sender.start();
	}

	// Starts publishing (the lanes are connected).
	async go() {
		// Give the subscribers a moment to connect (nothing is lost if
		// they are late: they all start from the same cursor), so that
		// the server knows every lane's cid when the counters are read.
		const until = performance.now() + 5000;
		do
			await sleep(100);
		while (this.running && performance.now() < until &&
		       !Object.values(this.lanes).every((l) => l.opened));
		await sleep(300);
		if (!this.running)
			return false;
		await this.readCosts();
		for (const lane of Object.values(this.lanes)) {
			lane.base = lane.cost || ZERO;
			lane.baseDelivered = lane.delivered;
		}
		this.setState('running');
		this.rebase();
		this.tickTimer = setInterval(() => this.tick(), 10);
		return true;
	}

	async start() {
		if (this.running)
			return;
		this.mode = 'race';
		this.rateOverride = 0;
		await this.connect(true);
		await this.go();
	}

	// The lanes connected and nobody sending, for a few seconds: what
	// staying connected costs (short polls; SSE comments and WebSocket
	// pings, which the server sends only every so often).
	async measureIdle() {
		if (this.running)
			return;
		this.mode = 'idle';
		const secs = Math.min(60, Math.max(2,
			Number(this.$('#race-idle-sec').value) || 16));
		await this.connect(false);
		this.setState('idling');
		await sleep(SETTLE);
		await this.readCosts();
		const a = Object.fromEntries(RACE_TRANSPORTS.map((t) =>
			[t, this.lanes[t].cost]));
		const t0 = performance.now();
		this.idleUntil = t0 + secs * 1000;
		while (this.running && performance.now() < this.idleUntil)
			await sleep(100);
		if (!this.running)
			return;
		await this.readCosts();
		const s = (performance.now() - t0) / 1000;
		const lanes = {};
		for (const t of RACE_TRANSPORTS)
			lanes[t] = this.lanes[t].cost ? figures(delta(a[t],
				this.lanes[t].cost), 0, s) : null;
		this.idle = { secs: s, lanes };
		this.root.dataset.idle = 'done';
		this.finish();
	}

	// Runs the lanes at each rate of the plan and draws the cost of a
	// message against the rate.
	async runSweep() {
		if (this.running)
			return;
		const plan = sweepPlan();
		this.mode = 'sweep';
		await this.sweep.load();
		this.sweep.begin();
		this.root.dataset.sweep = 'running';
		this.rateOverride = plan.rates[0];
		await this.connect(true);
		if (!await this.go())
			return;
		for (const rate of plan.rates) {
			if (!this.running)
				break;
			this.rateOverride = rate;
			this.rebase();
			this.sweepStep = rate;
			await this.readCosts();
			const a = Object.fromEntries(RACE_TRANSPORTS.map((t) =>
				[t, [this.lanes[t].cost, this.lanes[t].delivered]]));
			const secs = stepSeconds(rate, Number(this.$('#race-poll').value),
				plan);
			const t0 = performance.now();
			while (this.running && performance.now() - t0 < secs * 1000)
				await sleep(100);
			if (!this.running)
				break;
			await this.readCosts();
			const s = (performance.now() - t0) / 1000;
			const lanes = {};
			for (const t of RACE_TRANSPORTS) {
				const l = this.lanes[t];
				lanes[t] = figures(delta(a[t][0], l.cost || ZERO),
					l.delivered - a[t][1], s);
			}
			this.sweep.add({ rate, secs: s, lanes });
		}
		this.sweepStep = 0;
		this.root.dataset.sweep = 'done';
		this.stop();
	}

	tick() {
		if (!this.running)
			return;
		const rate = this.rate();
		const target = Math.floor((performance.now() - this.sendStart) *
			rate / 1000);
		let due = target - this.scheduled;
		const burst = Math.max(5, Math.ceil(rate));
		if (due > burst) {
			// More than a second behind: drop, do not burst.
			this.skipped += due - burst;
			this.scheduled += due - burst;
			due = burst;
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

	maxDelay() {
		return Math.max(...RACE_TRANSPORTS.map((t) => {
			const m = /delay=(\d+)/.exec(this.lanes[t].params);
			const j = /jitter=(\d+)/.exec(this.lanes[t].params);
			return (m ? Number(m[1]) : 0) + (j ? Number(j[1]) : 0);
		}));
	}

	lostAfter() {
		return Math.max(3000, 2 * Number(this.$('#race-poll').value) + 1500) +
			4 * this.maxDelay();
	}

	// Stop: the clock and the counters stop now; what is in flight may
	// still arrive before every id is judged.
	async stop() {
		if (!this.running)
			return;
		this.running = false;
		this.stopAt = performance.now();
		clearInterval(this.tickTimer);
		clearInterval(this.costTimer);
		this.setState('draining');
		this.$('#race-stop').disabled = true;
		if (this.mode !== 'idle')
			await this.readCosts(true);
		// Let the slowest transport deliver what is in flight — until
		// every lane has every acknowledged id, or at most twice a poll
		// interval and a few round trips — then judge every id and close.
		const deadline = performance.now() + 2 * (Number(
			this.$('#race-poll').value) + 1500 + 4 * this.maxDelay());
		const check = () => {
			const all = !this.inflight && Object.values(this.lanes)
				.every((l) => this.acked.every((a) => l.seen.has(a.id)));
			if (all || performance.now() > deadline)
				this.finish();
			else
				this.drainTimer = setTimeout(check, 100);
		};
		this.drainTimer = setTimeout(check, 300);
	}

	finish() {
		this.running = false;
		if (!this.stopAt)
			this.stopAt = performance.now();
		clearInterval(this.tickTimer);
		clearInterval(this.costTimer);
		this.judge(-Infinity);
		this.closeAll();
		clearInterval(this.refreshTimer);
		this.setState('stopped');
		this.refresh();
		this.busy(false);
	}

	closeAll() {
		for (const lane of Object.values(this.lanes))
			if (lane.client) {
				lane.client.close();
				lane.state = 'closed';
			}
		if (this.sender)
			this.sender.close();
		this.sender = null;
	}

	// Reads the server's counters for every lane; `last` marks the read
	// at Stop, after which the figures stay as they were then.
	async readCosts(last = false) {
		if ((this.costFrozen && !last) || !this.costOk)
			return;
		// a lane the server has not seen yet has no counters to read;
		// Socket.IO's are not metered per client yet (its cid is in the
		// CONNECT packet, not the URL)
		const got = await Promise.all(TRANSPORTS.map((t) =>
			this.lanes[t].opened ? readClient(this.lanes[t].cid) : null));
		TRANSPORTS.forEach((t, i) => {
			const lane = this.lanes[t];
			if (got[i]) {
				lane.cost = got[i];
				lane.costDelivered = lane.delivered;
				lane.costAt = performance.now();
			}
		});
		this.costFrozen = last;
	}

	refresh() {
		if (this.running && this.state === 'running')
			this.judge(this.lostAfter());
		const pct = {};
		for (const t of RACE_TRANSPORTS)
			pct[t] = this.refreshLane(this.lanes[t]);
		if (!this.root.hidden)
			this.chartsView.update(this.lanes, pct);
		this.refreshCosts();
		const st = this.$('#race-status');
		if (this.state === 'idle') {
			st.textContent = 'Press Start: four clients join a fresh room and ' +
				'the sender starts publishing.';
			return;
		}
		const end = this.stopAt || performance.now();
		const elapsed = this.t0 ? (end - this.t0) / 1000 : 0;
		const what = this.mode === 'idle' ? 'measuring idle' :
			this.mode === 'sweep' && this.sweepStep ?
				`sweep at ${this.sweepStep} msg/s` : this.state;
		st.textContent = `${this.running ? what : this.state} · room ` +
			`${this.room} · sent ${this.sentCount} · acked ` +
			`${this.acked.length} · in flight ${this.inflight}` +
			(this.skipped ? ` · skipped ${this.skipped} (sender saturated)` :
				'') + (this.sendErrors ? ` · send errors ${this.sendErrors} ` +
				`(${this.lastError})` : '') + ` · ${elapsed.toFixed(0)} s` +
			(this.costOk === false ? ' · the server has no per-client ' +
				'counters (GET /api/clients/{cid})' : '');
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
		const st = lane.client ? lane.client.stats : null;
		set('empty', st && st.polls ?
			`${Math.round(100 * st.empty / st.polls)} % of ${st.polls}` :
			(lane.t === 'poll' || lane.t === 'longpoll' ? '–' : 'n/a'));
		set('lost', String(lane.missing.size), lane.missing.size > 0);
		set('dup', String(lane.dup), lane.dup > 0);
		set('ooo', String(lane.ooo), lane.ooo > 0);
		set('gaps', String(lane.gaps), lane.gaps > 0);
		return recent.length ?
			`p50 ${fmtMs(p[0])} · p90 ${fmtMs(p[1])} · p99 ${fmtMs(p[2])}` +
			(lane.params ? ` · ${lane.params.replace('&', ' ')} ms` : '') : '';
	}

	refreshCosts() {
		for (const t of RACE_TRANSPORTS) {
			const lane = this.lanes[t];
			let f = null;
			if (lane.cost && lane.base && this.mode !== 'idle') {
				const end = lane.costAt || performance.now();
				f = figures(delta(lane.base, lane.cost),
					lane.costDelivered - (lane.baseDelivered || 0),
					(end - this.sendStart) / 1000);
				f.conns = lane.cost.connections;
			}
			for (const [key, , , kind] of COST_COLUMNS)
				this.costCells[t][key].textContent = f ?
					fmtCost(f[key], kind) : '–';
			const g = this.idle && this.idle.lanes[t];
			for (const [key, , , kind] of IDLE_COLUMNS)
				this.idleCells[t][key].textContent = g ?
					fmtCost(g[key], kind) : '–';
		}
	}

	// The chaos switches, when /api/info says the server allows them.
	chaos() {
		const box = this.$('#race-chaos');
		box.hidden = !adminOn(this.info);
		if (box.hidden)
			return;
		const out = this.$('#race-chaos-out');
		const post = async (what, body) => {
			try {
				const r = await fetch(`/api/admin/${what}`, {
					method: 'POST', cache: 'no-store',
					headers: { 'Content-Type': 'application/json' },
					body: JSON.stringify(body) });
				const j = await r.json().catch(() => null);
				out.textContent = `${what}: HTTP ${r.status}` +
					(j && j.error ? ` ${j.error.code}: ${j.error.message}` :
						j ? ` ${JSON.stringify(j)}` : '');
			} catch (e) {
				out.textContent = `${what}: ${e.message}`;
			}
		};
		this.$('#race-cut').replaceChildren(...RACE_TRANSPORTS.map((t) =>
			el('button', { type: 'button', class: 'chip', 'data-cut': t,
				'data-tp': t, title: `the server drops ${LABEL[t]}'s ` +
					'connections now', onclick: () => {
					const l = this.lanes[t];
					if (l.cid)
						post('cut', { cid: l.cid, transport: t });
				} }, `cut ${LABEL[t]}`)));
		this.$('#race-stall').addEventListener('click', () => post('stall',
			{ seconds: Math.min(10, Math.max(1,
				Number(this.$('#race-stall-sec').value) || 3)) }));
		const a = this.info.admin;
		this.$('#race-restart').hidden = !(a && a.restart);
		this.$('#race-restart').addEventListener('click', () =>
			post('restart', {}));
	}
}
