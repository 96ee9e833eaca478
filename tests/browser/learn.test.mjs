// SPDX-License-Identifier: MIT
// Issue 12's "Done when" for the Learn view and the tutorial: the
// handshake panel verifies the server's Sec-WebSocket-Accept against the
// key (needs the server's wire record, else skipped, saying so); the
// bufferedAmount burst rises and drains with readyState passing 0-3 and
// the four events logged; the raw SSE panel shows retry: and : ping; close
// codes arrive; the keep-alive comparison runs; the tutorial is served
// under /doc/, rendered with marked, and linked from Learn. Issue 13's
// Learn item: the Socket.IO card shows the real packets (the open packet
// the server sent, CONNECT, join and its ack, a message published over
// HTTP as a 42 event, byte for byte the frame the browser received, the
// probe, the upgrade and a heartbeat). Screenshots: learn-handshake.png,
// learn-buffered.png, learn-sse.png, learn-sio.png, doc-lesson.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopClean, launch, openPage, artifact, uniq } from
	'./harness.mjs';

let srv, browser, page;

before(async () => {
	// a short Engine.IO pingInterval: the Socket.IO card sees a heartbeat
	srv = await startServer(['--sse-ping', '1', '--sio-ping-interval',
		'2000']);
	browser = await launch();
	page = await openPage(browser, `${srv.url}/?name=learner#learn`);
});

after(async () => {
	if (browser)
		await browser.close();
	if (srv)
		await stopClean(assert, srv);
});

const shot = async (sel, name) => {
	await page.locator(sel).scrollIntoViewIfNeeded();
	await page.locator(sel).screenshot({ path: artifact(name) });
};

test('the handshake panel derives Sec-WebSocket-Accept and verifies the server\'s', async (t) => {
	// the page's SHA-1 is right: RFC 6455's own example
	await page.waitForFunction(() => /✓ as the RFC says/.test(
		document.querySelector('#learn-handshake').textContent));
	await page.click('#learn-hs-run');
	await page.waitForFunction(() => document.querySelector('#learn-handshake')
		.dataset.verified, null, { timeout: 10000 });
	const v = await page.$eval('#learn-handshake', (e) => e.dataset.verified);
	if (v === 'unavailable')
		return t.skip('the server keeps no wire record (/api/clients/{cid}/wire)');
	await shot('#learn-handshake', 'learn-handshake.png');
	assert.equal(v, 'yes');
	const [key, computed, accept] = await Promise.all(['[data-key]',
		'[data-computed]', '[data-accept]'].map((s) => page.textContent(s)));
	assert.match(key, /^[A-Za-z0-9+/]{22}==$/);
	assert.equal(computed, accept);
	// and independently of the page: Node's own SHA-1
	const { createHash } = await import('node:crypto');
	assert.equal(accept, createHash('sha1')
		.update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64'));
	const wire = await page.textContent('[data-handshake]');
	assert.match(wire, /Upgrade: websocket/i);
	assert.match(wire, /101 Switching Protocols/);
});

test('a burst of large frames fills bufferedAmount, which drains; readyState goes 0 to 3', async () => {
	await page.fill('#learn-burst-n', '30');
	await page.click('#learn-burst');
	await page.waitForFunction(() => {
		const e = document.querySelector('#learn-buffered');
		return e.dataset.drained === '1' && /close\s+readyState 3/.test(
			document.querySelector('[data-events]').textContent);
	}, null, { timeout: 15000 });
	const peak = Number(await page.$eval('#learn-buffered', (e) => e.dataset.peak));
	assert.ok(peak >= 30 * 50000, `bufferedAmount peaked at ${peak}`);
	const events = await page.$$eval('[data-events] li', (l) =>
		l.map((e) => e.dataset.event));
	for (const ev of ['created', 'open', 'message', 'close'])
		assert.ok(events.includes(ev), `${ev} in ${events}`);
	const log = await page.textContent('[data-events]');
	for (const s of ['0 CONNECTING', '1 OPEN', '2 CLOSING', '3 CLOSED'])
		assert.ok(log.includes(s), `readyState ${s} shown`);
	await shot('#learn-buffered', 'learn-buffered.png');
});

test('close codes: ours echoed, the server\'s 1009 for a message over its limit, 1006 for a refused handshake', async () => {
	for (const c of ['1000', '4000', '1006', '1009'])
		await page.click(`[data-close="${c}"]`);
	await page.waitForFunction(() => document.querySelectorAll(
		'[data-closes] li').length === 4, null, { timeout: 10000 });
	const codes = await page.$$eval('[data-closes] li', (l) =>
		l.map((e) => e.dataset.closeCode).sort());
	assert.deepEqual(codes, ['1000', '1006', '1009', '4000']);
	// a refused handshake: the error event, then close 1006
	assert.match(await page.textContent('[data-closes]'), /error, then close/);
});

test('the raw SSE panel shows the retry: line, : ping comments and data lines', async () => {
	await page.click('#learn-sse-raw');
	await page.waitForFunction(() => document.querySelector('#learn-sse-bytes')
		.dataset.retry === '1');
	await page.click('#learn-sse-send');
	await page.waitForFunction(() => {
		const d = document.querySelector('#learn-sse-bytes').dataset;
		return d.ping === '1' && d.data === '1';
	}, null, { timeout: 10000 });
	const raw = await page.textContent('[data-sse-raw]');
	assert.match(raw, /retry: \d+/);
	assert.match(raw, /: ping/);
	assert.match(raw, /id: \d+/);
	await shot('#learn-sse-bytes', 'learn-sse.png');
	await page.click('#learn-sse-raw');
});

test('keep-alive against Connection: close', async () => {
	await page.click('#learn-ka-run');
	await page.waitForSelector('#learn-keepalive[data-done="1"]',
		{ timeout: 20000 });
	const conns = await page.$eval('#learn-keepalive', (e) => e.dataset.conns);
	if (conns) {
		// the server counts connections: short ones against (nearly)
		// none for keep-alive (the browser may have a few sockets open
		// already, so not always ten)
		const [ka, cl] = conns.split(',').map(Number);
		assert.ok(cl >= ka + 5, `keep-alive ${ka}, close ${cl}`);
	}
	// the server really answered with Connection: close
	const r = await fetch(`${srv.url}/client.js?close=1`);
	assert.equal(r.headers.get('connection'), 'close');
	const k = await fetch(`${srv.url}/client.js`);
	assert.notEqual(k.headers.get('connection'), 'close');
});

// Resolves once cond() is true (checked every 50 ms), or fails after ms.
async function until(cond, what, ms = 10000) {
	for (const end = Date.now() + ms; !cond();) {
		assert.ok(Date.now() < end, `waited ${ms} ms for ${what}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

test('the Socket.IO card shows the real Engine.IO and Socket.IO packets', async () => {
	// what the browser's network layer received, apart from the page
	const frames = [];
	page.on('websocket', (ws) => ws.on('framereceived', (f) =>
		frames.push({ url: ws.url(), payload: String(f.payload) })));
	const handshake = page.waitForResponse((r) =>
		/\/socket\.io\/\?EIO=4&transport=polling$/.test(r.url()) &&
		r.request().method() === 'GET');
	await page.click('#learn-sio-run');
	const hs = await (await handshake).text();
	await page.waitForSelector('#learn-sio[data-state="websocket"]',
		{ timeout: 30000 });
	const card = '#learn-sio';
	const packets = (sel) => page.$$eval(`${card} li${sel}`, (l) =>
		l.map((e) => e.dataset.packet));
	// the open packet, exactly as the server sent it, and its sid
	assert.match(hs, /^0\{"sid":"[^"]+".*"upgrades":\["websocket"\]/);
	assert.deepEqual(await packets('[data-eio="0"]'), [hs]);
	const sid = await page.$eval(card, (e) => e.dataset.sid);
	assert.equal(JSON.parse(hs.slice(1)).sid, sid);
	assert.equal(JSON.parse(hs.slice(1)).pingInterval, 2000);
	// CONNECT and its answer; join with ack id 0 and the ack 430
	assert.equal((await packets('[data-dir="out"][data-sio="0"]')).length, 1);
	assert.match((await packets('[data-dir="in"][data-sio="0"]'))[0],
		/^40\{"sid":"[^"]+"/);
	assert.match((await packets('[data-dir="out"][data-sio="2"]'))[0],
		/^420\["join",\{"room":"learn"/);
	assert.match((await packets('[data-dir="in"][data-sio="3"]')).join(' '),
		/430\[\{"room":"learn","last_id":\d+\}\]/);
	// the join and the send went in one POST, joined by 0x1e
	assert.ok(await page.$(`${card} .entry.dir-out[data-rs="1"]`));
	// the upgrade: the probe, its answer, 5
	for (const [dir, p] of [['out', '2probe'], ['in', '3probe'], ['out', '5']])
		assert.deepEqual(await packets(`[data-dir="${dir}"]` +
			`[data-packet="${p}"]`), [p], p);
	await until(() => frames.some((f) => f.payload === '3probe'),
		'the browser to report the 3probe frame');
	// a message published over HTTP arrives as 42["chat",E,"id"]
	const text = uniq('sio-card');
	const r = await fetch(`${srv.url}/api/rooms/learn/messages`, {
		method: 'POST', headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({ event: 'chat', from: 'test', data: { text } }),
	});
	assert.equal(r.status, 201);
	const { id } = await r.json();
	await page.waitForFunction((id) => [...document.querySelectorAll(
		'#learn-sio li[data-dir="in"][data-sio="2"]')].some((e) =>
		e.dataset.packet.startsWith(`42["chat",{"id":${id},`)), id,
	{ timeout: 15000 });
	const [pkt] = (await packets('[data-dir="in"][data-sio="2"]')).filter(
		(p) => p.startsWith(`42["chat",{"id":${id},`));
	const [ev, env, offset] = JSON.parse(pkt.slice(2));
	assert.equal(ev, 'chat');
	assert.equal(env.data.text, text);
	assert.equal(offset, String(id));
	// byte for byte the WebSocket frame the browser received
	await until(() => frames.some((f) => /\/socket\.io\//.test(f.url) &&
		f.payload === pkt), 'the browser to report the same frame');
	// the cost row counts the real frames: this one and the /ws one
	await page.waitForSelector(`${card} tr[data-id="${id}"]`,
		{ timeout: 15000 });
	const row = await page.$eval(`${card} tr[data-id="${id}"]`,
		(e) => ({ ...e.dataset }));
	assert.equal(Number(row.sioBytes), Buffer.byteLength(pkt));
	const rawOf = () => frames.find((f) => /\/ws$/.test(f.url) &&
		f.payload.includes(`"id":${id},`));
	await until(rawOf, 'the /ws frame of the same message');
	const raw = rawOf();
	if (row.wsBytes)
		assert.equal(Number(row.wsBytes), Buffer.byteLength(raw.payload));
	// a heartbeat: the server's 2, the page's 3
	await page.waitForFunction(() => Number(document.querySelector(
		'[data-sio-beat]').dataset.pings) >= 1, null, { timeout: 30000 });
	assert.ok((await packets('[data-dir="in"][data-packet="2"]')).length >= 1);
	assert.ok((await packets('[data-dir="out"][data-packet="3"]')).length >= 1);
	await shot(card, 'learn-sio.png');
	await page.click('#learn-sio-run');
	await page.waitForSelector('#learn-sio[data-state="closed"]');
	assert.deepEqual(page.errors, []);
});

test('the tutorial is served under /doc/, rendered, and linked from Learn', async () => {
	const md = await fetch(`${srv.url}/doc/lesson.md`);
	assert.equal(md.status, 200);
	assert.match(md.headers.get('content-type'), /^text\/markdown/);
	const body = await md.text();
	for (const h of ['keep-alive', 'Short polling', 'Long polling',
		'Server-Sent Events', 'WebSocket', 'readyState', 'bufferedAmount',
		'Socket.IO'])
		assert.ok(body.includes(h), `the lesson covers ${h}`);
	const redirect = await fetch(`${srv.url}/doc/`, { redirect: 'manual' });
	assert.equal(redirect.status, 302);
	assert.equal(redirect.headers.get('location'), '/#doc/lesson');
	for (const bad of ['/doc/../README', '/doc/x/lesson.md', '/doc/lesson.txt',
		'/doc/nope.md'])
		assert.ok([403, 404].includes((await fetch(srv.url + bad)).status), bad);
	// Learn links to the served pages, not to source paths
	const hrefs = await page.$$eval('#view-learn a[href]', (a) =>
		a.map((x) => x.getAttribute('href')));
	assert.ok(hrefs.includes('#doc/lesson'), hrefs.join(' '));
	assert.ok(hrefs.includes('#doc/transports'));
	await page.click('#view-learn .intro a[href="#doc/lesson"]');
	await page.waitForSelector('#view-doc[data-doc="lesson"]');
	const h1 = await page.textContent('#view-doc h1');
	assert.ok(h1.length > 3);
	// its links lead into the views and to the other pages, in the page
	const links = await page.$$eval('#view-doc .doc-page a[href]', (a) =>
		a.map((x) => x.getAttribute('href')));
	assert.ok(links.some((h) => h.startsWith('#race')), 'links into Race');
	assert.ok(links.some((h) => h.startsWith('#learn')), 'links into Learn');
	assert.ok(links.includes('#learn/sio'), 'links to the Socket.IO card');
	assert.ok(links.some((h) => h.startsWith('#doc/benchmarks')),
		'links to the benchmarks page');
	await page.screenshot({ path: artifact('doc-lesson.png') });
	await page.click('#view-doc .doc-page a[href^="#learn/handshake"]');
	await page.waitForSelector('#view-learn:not([hidden])');
	assert.deepEqual(page.errors, []);
});
