// SPDX-License-Identifier: MIT
// util: small helpers every view shares — DOM building without innerHTML
// (message data is only ever put into the page as text), the per-tab cid,
// percentiles and formatting.

// el('div', {class: 'x', onclick: fn}, 'text', child, ...): children that are
// strings become text nodes, so nothing passed here is parsed as HTML.
export function el(tag, attrs, ...children) {
	const node = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k.startsWith('on') && typeof v === 'function')
			node.addEventListener(k.slice(2), v);
		else if (k === 'dataset')
			Object.assign(node.dataset, v);
		else if (k === 'text')
			node.textContent = v;
		else if (k in node && typeof v !== 'string')
			node[k] = v;
		else
			node.setAttribute(k, v === true ? '' : String(v));
	}
	for (const c of children.flat(Infinity)) {
		if (c === undefined || c === null || c === false)
			continue;
		node.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

const CID_CHARS =
	'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

// A random key of n characters from the cid alphabet.
export function randomKey(n = 22) {
	const bytes = crypto.getRandomValues(new Uint8Array(n));
	let s = '';
	for (const b of bytes)
		s += CID_CHARS[b & 63];
	return s;
}

// The tab's private client id (API.md: 8-64 of [A-Za-z0-9_-]). Kept in
// sessionStorage: a reload keeps it, a new tab gets its own.
export function tabCid() {
	let cid = null;
	try {
		cid = sessionStorage.getItem('imlab.cid');
	} catch { /* storage may be off */ }
	if (!cid || !/^[A-Za-z0-9_-]{8,64}$/.test(cid)) {
		cid = randomKey(22);
		try {
			sessionStorage.setItem('imlab.cid', cid);
		} catch { /* keep it for this page only */ }
	}
	return cid;
}

export const TRANSPORTS = ['poll', 'longpoll', 'sse', 'ws'];
// the race's lanes: the four, and Socket.IO (polling, then upgraded)
export const RACE_TRANSPORTS = [...TRANSPORTS, 'sio'];
export const LABEL = {
	poll: 'Short poll', longpoll: 'Long poll', sse: 'SSE', ws: 'WebSocket',
	sio: 'Socket.IO', api: 'HTTP API',
};

export const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;

// p-th percentile (0..100) of a sorted array, nearest-rank.
export function percentile(sorted, p) {
	if (!sorted.length)
		return NaN;
	const i = Math.min(sorted.length - 1,
		Math.max(0, Math.ceil(p / 100 * sorted.length) - 1));
	return sorted[i];
}

export function fmtMs(v) {
	if (!Number.isFinite(v))
		return '–';
	if (v < 10)
		return v.toFixed(1) + ' ms';
	if (v < 10000)
		return Math.round(v) + ' ms';
	return (v / 1000).toFixed(1) + ' s';
}

export function fmtBytes(v) {
	if (!Number.isFinite(v))
		return '–';
	if (v < 1024)
		return Math.round(v) + ' B';
	if (v < 1024 * 1024)
		return (v / 1024).toFixed(1) + ' KB';
	return (v / 1048576).toFixed(1) + ' MB';
}

export function fmtTime(ms) {
	const d = new Date(ms);
	return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit',
		second: '2-digit' });
}

// A stable hue for a sender's public id, so names keep their colour.
export function hueOf(s) {
	let h = 0;
	for (const ch of String(s))
		h = (h * 31 + ch.charCodeAt(0)) >>> 0;
	return h % 360;
}

// Milliseconds on a clock shared by the tabs of this machine, with the
// precision of performance.now().
export const clockNow = () => performance.timeOrigin + performance.now();
