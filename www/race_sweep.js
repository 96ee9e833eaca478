// SPDX-License-Identifier: MIT
// race_sweep: the cost-versus-rate sweep's plan and its charts. The race
// runs its four lanes at each rate in turn (0.1 ... 30 msg/s by default),
// long enough for a few messages and a few poll intervals but never more
// than a bound, and takes the server's counters at both ends of each step;
// this module draws bytes/msg and requests/msg against the rate on log
// axes, one line per transport, so the rate where short polling stops
// being wasteful shows as the crossing of its line with the others.
import { el, TRANSPORTS, LABEL } from './util.js';
import { COLOR } from './race_charts.js';
import { fmtCost } from './race_cost.js';

export const SWEEP_RATES = [0.1, 0.3, 1, 3, 10, 30];
export const STEP_MIN = 5;	// s a step lasts at least
export const STEP_MAX = 30;	// s a step lasts at most
export const FLOOR = 0.001;	// where 0 requests/msg is drawn

// The sweep as the page's query asks for it (?sweep=0.5,5&sweepMin=2&
// sweepMax=4, for short tests), else the defaults.
export function sweepPlan(search = location.search) {
	const q = new URLSearchParams(search);
	const rates = (q.get('sweep') || '').split(',').map(Number)
		.filter((r) => r > 0 && r <= 1000);
	const num = (k, d) => {
		const v = Number(q.get(k));
		return q.has(k) && v > 0 && v <= 600 ? v : d;
	};
	return { rates: rates.length ? rates : SWEEP_RATES,
		min: num('sweepMin', STEP_MIN), max: num('sweepMax', STEP_MAX) };
}

// Seconds one step at `rate` lasts: 8 messages and 3 poll intervals,
// within [min, max].
export function stepSeconds(rate, pollMs, plan) {
	const want = Math.max(8 / rate, 3 * pollMs / 1000);
	return Math.min(plan.max, Math.max(plan.min, want));
}

const logAxis = (u, v) => v.map((x) => x == null ? '' : +x.toPrecision(2));

export class SweepView {
	constructor(root) {
		this.root = root;
		this.results = [];
		this.charts = {};
	}

	async load() {
		if (this.uPlot)
			return;
		try {
			this.uPlot = (await import('/vendor/uplot/dist/uPlot.esm.js'))
				.default;
		} catch { /* the table still shows the numbers */ }
	}

	chart(id, ylabel) {
		const box = this.root.querySelector(id);
		box.replaceChildren();
		return new this.uPlot({
			width: Math.max(300, box.clientWidth || 500), height: 220,
			legend: { show: true, live: false },
			cursor: { drag: { x: false, y: false } },
			scales: { x: { time: false, distr: 3, log: 10 },
				y: { distr: 3, log: 10 } },
			axes: [
				{ label: 'msg/s', labelSize: 18, size: 30, values: logAxis,
					font: '11px system-ui', labelFont: '11px system-ui' },
				{ label: ylabel, labelSize: 18, size: 58, values: logAxis,
					font: '11px system-ui', labelFont: '11px system-ui' },
			],
			series: [{}, ...TRANSPORTS.map((t) => ({ label: LABEL[t],
				stroke: COLOR[t], width: 2, spanGaps: true,
				points: { show: true, size: 6, fill: COLOR[t] } }))],
		}, [[], [], [], [], []], box);
	}

	// Starts an empty sweep (the charts are made on the first point).
	begin() {
		this.results = [];
		this.root.hidden = false;
		for (const u of Object.values(this.charts))
			u.destroy();
		this.charts = {};
		this.table();
	}

	// One finished step: {rate, secs, lanes: {t: figures}}.
	add(step) {
		this.results.push(step);
		this.draw();
	}

	draw() {
		const rs = this.results;
		if (this.uPlot && !this.charts.bytes) {
			this.charts.bytes = this.chart('#race-sweep-bytes', 'bytes / msg');
			this.charts.reqs = this.chart('#race-sweep-reqs', 'requests / msg');
		}
		// A log axis has no 0: none (SSE and WebSocket make no request
		// while a stream is up) is drawn at FLOOR, and the table says 0.
		const pos = (v, floor) => !Number.isFinite(v) ? null :
			v > 0 ? v : floor || null;
		const line = (key, floor) => [rs.map((r) => r.rate),
			...TRANSPORTS.map((t) => rs.map((r) =>
				pos(r.lanes[t][key], floor)))];
		if (this.charts.bytes) {
			this.charts.bytes.setData(line('bytesPerMsg'));
			this.charts.reqs.setData(line('reqPerMsg', FLOOR));
		}
		this.table();
	}

	table() {
		const tb = this.root.querySelector('#race-sweep-table');
		const head = el('tr', {}, el('th', {}, 'msg/s'),
			el('th', {}, 's'),
			TRANSPORTS.map((t) => [
				el('th', { title: `${LABEL[t]}: bytes per message` },
					`${LABEL[t]} B/msg`),
				el('th', { title: `${LABEL[t]}: requests per message` },
					'req/msg')]));
		tb.replaceChildren(el('thead', {}, head), el('tbody', {},
			this.results.map((r) => el('tr', { 'data-rate': r.rate },
				el('td', {}, String(r.rate)), el('td', {}, r.secs.toFixed(0)),
				TRANSPORTS.map((t) => [
					el('td', { 'data-transport': t, 'data-metric': 'bytesPerMsg' },
						fmtCost(r.lanes[t].bytesPerMsg, 'bytes')),
					el('td', { 'data-transport': t, 'data-metric': 'reqPerMsg' },
						fmtCost(r.lanes[t].reqPerMsg, 'ratio'))])))));
	}

	// For the tests: how many lines each chart has with at least 2 points.
	lines() {
		const count = (u) => u ? u.data.slice(1).filter((s) =>
			s.filter((v) => v != null).length >= 2).length : 0;
		return { bytes: count(this.charts.bytes), reqs: count(this.charts.reqs) };
	}
}
