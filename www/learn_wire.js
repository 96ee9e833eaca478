// SPDX-License-Identifier: MIT
// learn_wire: the server's record of what crossed the wire for one client
// id (GET /api/clients/{cid}/wire: the request heads it read and the
// response heads it wrote, the WebSocket handshake included), and how the
// Learn view shows it: each record labelled with its transport and with
// whether the bytes are exact or rebuilt by the server.
import { el } from './util.js';

// The records for cid ([{transport, request, response, exact}], oldest
// first), or null when the server keeps none.
export async function readWire(cid) {
	try {
		const r = await fetch(`/api/clients/${encodeURIComponent(cid)}/wire`,
			{ cache: 'no-store' });
		if (!r.ok)
			return null;
		const j = await r.json();
		return Array.isArray(j && j.records) ? j.records : null;
	} catch {
		return null;
	}
}

// Shows CR LF as the two visible marks a student should learn to expect.
const crlf = (s) => String(s || '').replace(/\r\n/g, '↵\n');

// DOM nodes for a list of records.
export function wireView(records) {
	if (!records.length)
		return [el('span', { class: 'none' }, 'No record yet.')];
	return records.map((r) => el('div', { class: 'entry record',
		'data-record': r.transport || '' },
	el('span', { class: 'tag' }, `${r.transport || '?'} · ` +
		(r.exact ? 'exact bytes' : 'rebuilt by the server')),
	el('div', { class: 'dir-out' }, el('span', { class: 'head' },
		'→ the server read')),
	el('div', { class: 'hdrs raw' }, crlf(r.request)),
	r.response ? [el('div', { class: 'dir-in' }, el('span', { class: 'head' },
		'← the server wrote')),
	el('div', { class: 'hdrs raw' }, crlf(r.response))] : null));
}

// The value of header `name` in a raw head (case-insensitive), or null.
export function headerOf(head, name) {
	const re = new RegExp(`^${name}:[ \\t]*(.*?)[ \\t]*$`, 'im');
	const m = re.exec(String(head || '').replace(/\r/g, ''));
	return m ? m[1] : null;
}
