// SPDX-License-Identifier: MIT
// race_cost: what a lane costs, from the server's own counters for the
// lane's client id (GET /api/clients/{cid}: requests, bytes read from and
// written to its sockets — request lines, headers, bodies, frames, pings —
// and TCP connections opened). The page cannot count these itself: a
// browser shows neither the request headers it sends nor the connections
// it opens. Snapshots are subtracted, so any stretch of a run (the idle
// window, one rate of a sweep) gets its own figures.

// One lane's counters: {requests, up, down, connections}, the sum over
// the transports the server lists for cid; null when the server does not
// know the cid (yet) or has no per-client counters.
export async function readClient(cid) {
	let r;
	try {
		r = await fetch(`/api/clients/${encodeURIComponent(cid)}`,
			{ cache: 'no-store' });
	} catch {
		return null;
	}
	if (!r.ok)
		return null;
	let j;
	try {
		j = await r.json();
	} catch {
		return null;
	}
	const sum = { requests: 0, up: 0, down: 0, connections: 0 };
	for (const x of Object.values((j && j.transports) || {})) {
		sum.requests += x.requests || 0;
		sum.up += x.bytes_up || 0;
		sum.down += x.bytes_down || 0;
		sum.connections += x.connections || 0;
	}
	return sum;
}

// Whether the server counts per client: its /api/stats lists TCP
// connections per transport (the same release added /api/clients/{cid}).
// Asked first so a server without them sees no 404s.
export async function hasClientCounters() {
	try {
		const j = await (await fetch('/api/stats', { cache: 'no-store' }))
			.json();
		const p = j && j.transports && j.transports.poll;
		return !!p && typeof p.connections === 'number';
	} catch {
		return false;
	}
}

export const ZERO = Object.freeze({ requests: 0, up: 0, down: 0,
	connections: 0 });

// b - a, field by field (a null a counts as zero).
export function delta(a, b) {
	a = a || ZERO;
	return { requests: b.requests - a.requests, up: b.up - a.up,
		down: b.down - a.down, connections: b.connections - a.connections };
}

// The figures the cost table shows for a counter delta d over `msgs`
// delivered messages and `secs` seconds.
export function figures(d, msgs, secs) {
	const per = (v) => msgs > 0 ? v / msgs : NaN;
	const rate = (v) => secs > 0 ? v / secs : NaN;
	return {
		reqPerMsg: per(d.requests), upPerMsg: per(d.up),
		downPerMsg: per(d.down), bytesPerMsg: per(d.up + d.down),
		reqPerSec: rate(d.requests), upPerSec: rate(d.up),
		downPerSec: rate(d.down), bytesPerSec: rate(d.up + d.down),
		conns: d.connections,
	};
}

// Columns of the cost table: key, heading, tooltip, kind of number.
export const COST_COLUMNS = [
	['reqPerMsg', 'req / msg', 'HTTP requests per delivered message (WebSocket: the frames the browser sent)', 'ratio'],
	['upPerMsg', 'up / msg', 'bytes the browser sent (request lines, headers, frames) per message', 'bytes'],
	['downPerMsg', 'down / msg', 'bytes the server sent (status lines, headers, bodies, frames) per message', 'bytes'],
	['bytesPerMsg', 'bytes / msg', 'up + down per delivered message', 'bytes'],
	['reqPerSec', 'req / s', 'requests per second of the run', 'ratio'],
	['bytesPerSec', 'bytes / s', 'up + down per second of the run', 'bytes'],
	['conns', 'TCP conns', 'TCP connections this lane opened', 'int'],
];

export const IDLE_COLUMNS = [
	['reqPerSec', 'req / s', 'requests per second with nobody sending (WebSocket: frames the browser sent)', 'ratio'],
	['upPerSec', 'up B/s', 'bytes per second the browser sent', 'bytes'],
	['downPerSec', 'down B/s', 'bytes per second the server sent (SSE comments, WebSocket pings)', 'bytes'],
	['bytesPerSec', 'bytes / s', 'up + down per second', 'bytes'],
	['conns', 'TCP conns', 'TCP connections opened during the idle window', 'int'],
];

// A number for a cell of `kind`.
export function fmtCost(v, kind) {
	if (!Number.isFinite(v))
		return '–';
	if (kind === 'int')
		return String(v);
	if (kind === 'bytes')
		return v === 0 ? '0 B' : v < 10 ? `${v.toFixed(1)} B` :
			v < 10240 ? `${Math.round(v)} B` : `${(v / 1024).toFixed(1)} KB`;
	return v === 0 ? '0' : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) :
		v.toPrecision(2);
}
