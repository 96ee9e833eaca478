// SPDX-License-Identifier: MIT
// race_charts: the race's latency charts (uPlot from /vendor/): one per
// transport — every receipt as a dot, the median of each second as a step
// line — all four on one shared y axis (linear from 0, or logarithmic), so
// 1 s and 30 ms never look equally tall; and an overview with the four
// per-second medians on one chart.
import { el, RACE_TRANSPORTS, LABEL } from './util.js';

const CHART_SPAN = 60;		// s of history a chart shows
const CHART_POINTS = 6000;	// at most, newest first
const HEIGHT = 190;
export const COLOR = { poll: '#c26a00', longpoll: '#7b3fd1', sse: '#0a85a8',
	ws: '#1c8a3f', sio: '#b8336a' };

const msAxis = (u, v) => v.map((x) => x == null ? '' : x >= 1000 ?
	`${+(x / 1000).toFixed(2)} s` : `${+x.toPrecision(3)} ms`);

// The last CHART_SPAN s of a lane's samples and the median of each second.
function recent(lane) {
	let j = lane.xs.length;
	const end = j ? lane.xs[j - 1] : 0;
	while (j > 0 && lane.xs[j - 1] >= end - CHART_SPAN)
		j--;
	j = Math.max(j, lane.xs.length - CHART_POINTS);
	const xs = lane.xs.slice(j), ys = lane.ys.slice(j);
	const med = new Array(xs.length);
	const perSec = new Map();
	for (let a = 0; a < xs.length;) {
		const sec = Math.floor(xs[a]);
		let b = a;
		while (b < xs.length && Math.floor(xs[b]) === sec)
			b++;
		const w = ys.slice(a, b).sort((p, q) => p - q);
		med.fill(w[w.length >> 1], a, b);
		perSec.set(sec, w[w.length >> 1]);
		a = b;
	}
	return { xs, ys, med, perSec };
}

export class RaceCharts {
	// cardsRoot: the element the four cards go in; overviewBox: the
	// overview chart's box.
	constructor(cardsRoot, overviewBox) {
		this.cardsRoot = cardsRoot;
		this.overviewBox = overviewBox;
		this.log = false;
		this.yMax = 5;
		this.yMin = 1;
		this.charts = {};
		this.overview = null;
		this.cards = {};
		for (const t of RACE_TRANSPORTS) {
			const pct = el('span', { class: 'pct' }, '');
			const box = el('div', { class: 'chart-box' });
			const card = el('div', { class: 'chart-card', 'data-tp': t,
				'data-transport': t }, el('h3', {}, LABEL[t], pct), box);
			this.cards[t] = { card, box, pct };
			cardsRoot.append(card);
		}
	}

	async load() {
		try {
			this.uPlot = (await import('/vendor/uplot/dist/uPlot.esm.js'))
				.default;
		} catch {
			for (const t of RACE_TRANSPORTS)
				this.cards[t].box.replaceChildren(el('p', { class: 'muted' },
					'Charts need uPlot: run `npm install` in the imlab ' +
					'source tree (the server serves it from node_modules).'));
			return;
		}
		this.build();
		const ro = new ResizeObserver(() => this.resize());
		for (const t of RACE_TRANSPORTS)
			ro.observe(this.cards[t].box);
		ro.observe(this.overviewBox);
	}

	yScale() {
		return this.log ?
			{ distr: 3, log: 10, range: () => [Math.max(0.1, this.yMin * 0.8),
				Math.max(10, this.yMax * 1.25)] } :
			{ range: () => [0, Math.max(5, this.yMax * 1.1)] };
	}

	axes(xlabel) {
		return [
			{ label: xlabel, labelSize: 18, size: 30,
				font: '11px system-ui', labelFont: '11px system-ui' },
			{ size: 58, font: '11px system-ui', values: msAxis },
		];
	}

	build() {
		const uPlot = this.uPlot;
		for (const u of Object.values(this.charts))
			u.destroy();
		if (this.overview)
			this.overview.destroy();
		for (const t of RACE_TRANSPORTS) {
			const { box } = this.cards[t];
			this.charts[t] = new uPlot({
				width: Math.max(200, box.clientWidth || 400), height: HEIGHT,
				legend: { show: false },
				cursor: { drag: { x: false, y: false } },
				scales: { x: { time: false }, y: this.yScale() },
				axes: this.axes('s since start'),
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
			}, [[], [], []], box);
		}
		const box = this.overviewBox;
		this.overview = new uPlot({
			width: Math.max(300, box.clientWidth || 800), height: HEIGHT,
			legend: { show: true, live: false },
			cursor: { drag: { x: false, y: false } },
			scales: { x: { time: false }, y: this.yScale() },
			axes: this.axes('s since start'),
			series: [{}, ...RACE_TRANSPORTS.map((t) => ({ label: LABEL[t],
				stroke: COLOR[t], width: 2, spanGaps: true,
				points: { show: false } }))],
		}, [[], [], [], [], []], box);
	}

	resize() {
		for (const t of RACE_TRANSPORTS) {
			const w = this.cards[t].box.clientWidth;
			if (w > 0 && this.charts[t])
				this.charts[t].setSize({ width: w, height: HEIGHT });
		}
		const w = this.overviewBox.clientWidth;
		if (w > 0 && this.overview)
			this.overview.setSize({ width: w, height: HEIGHT });
	}

	setLog(on) {
		this.log = !!on;
		if (this.uPlot)
			this.build();
	}

	clear() {
		for (const t of RACE_TRANSPORTS)
			this.cards[t].pct.textContent = '';
	}

	// Redraws from the lanes ({t: Lane with xs, ys}); pct: {t: text}.
	update(lanes, pct) {
		for (const t of RACE_TRANSPORTS)
			this.cards[t].pct.textContent = pct[t] || '';
		if (!this.overview)
			return;
		const data = {};
		let max = 0, min = Infinity;
		for (const t of RACE_TRANSPORTS) {
			data[t] = recent(lanes[t]);
			for (const y of data[t].ys) {
				if (y > max)
					max = y;
				if (y > 0 && y < min)
					min = y;
			}
		}
		this.yMax = max;
		this.yMin = Number.isFinite(min) ? min : 1;
		for (const t of RACE_TRANSPORTS) {
			const d = data[t];
			const ys = this.log ? d.ys.map((y) => y > 0 ? y : null) : d.ys;
			this.charts[t].setData([d.xs, ys, d.med]);
		}
		// The overview: one x per second, a median (or nothing) per lane.
		const secs = new Set();
		for (const t of RACE_TRANSPORTS)
			for (const s of data[t].perSec.keys())
				secs.add(s);
		const xs = [...secs].sort((a, b) => a - b);
		this.overview.setData([xs, ...RACE_TRANSPORTS.map((t) => xs.map((s) => {
			const v = data[t].perSec.get(s);
			return v === undefined || (this.log && v <= 0) ? null : v;
		}))]);
	}

	// For the tests: points per chart and whether the y ranges agree.
	points() {
		return Object.fromEntries(RACE_TRANSPORTS.map((t) =>
			[t, this.charts[t] ? this.charts[t].data[0].length : 0]));
	}
}
