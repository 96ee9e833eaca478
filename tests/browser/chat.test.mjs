// SPDX-License-Identifier: MIT
// The chat view in a real browser: every transport to every transport,
// switching transport mid-conversation, targets, and message data shown as
// text only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopClean, launch, openPage, artifact, uniq,
	TRANSPORTS } from './harness.mjs';

let srv, browser;

before(async () => {
	srv = await startServer();
	browser = await launch();
});

after(async () => {
	if (browser)
		await browser.close();
	if (srv)
		await stopClean(assert, srv);
});

const chatUrl = (name, transport, rooms) =>
	`${srv.url}/?name=${encodeURIComponent(name)}&transport=${transport}` +
	`&rooms=${rooms}#chat`;

async function waitOpen(page) {
	await page.waitForSelector('#status[data-state="open"]', { timeout: 15000 });
}

async function switchTo(page, transport) {
	await page.click(`#transport-seg [data-transport="${transport}"]`);
	await waitOpen(page);
}

// Types text into the composer and sends it (as a person would).
async function type(page, text, to = 'room') {
	await page.selectOption('#to', to);
	await page.fill('#text', text);
	await page.press('#text', 'Enter');
}

// Waits until a chat message whose text is exactly `text` is shown;
// resolves to its data-via.
async function waitMessage(page, text, timeout = 15000) {
	const h = await page.waitForFunction((t) => {
		for (const m of document.querySelectorAll('.msg[data-event="chat"]')) {
			const x = m.querySelector('.text');
			if (x && x.textContent === t)
				return m.dataset.via || '?';
		}
		return false;
	}, text, { timeout });
	return h.jsonValue();
}

// The chat messages of a room as shown: [{id, via, text}], in page order.
function shown(page, room) {
	return page.$$eval(`.room-log[data-room="${room}"] .msg[data-event="chat"]`,
		(ms) => ms.map((m) => ({ id: m.dataset.id, via: m.dataset.via,
			text: m.querySelector('.text').textContent })));
}

test('a message typed over each transport reaches each transport (16 pairs)', async () => {
	const room = uniq('pairs');
	const rx = {};
	for (const t of TRANSPORTS)
		rx[t] = await openPage(browser, chatUrl(`rx-${t}`, t, room));
	for (const t of TRANSPORTS)
		await waitOpen(rx[t]);
	const tx = await openPage(browser, chatUrl('sender', 'poll', room));
	await waitOpen(tx);
	for (const s of TRANSPORTS) {
		await switchTo(tx, s);
		const text = `over ${s} ${uniq('m')}`;
		await type(tx, text);
		const got = await Promise.all(TRANSPORTS.map((r) =>
			waitMessage(rx[r], text).catch(() => `missing at ${r}`)));
		assert.deepEqual(got, TRANSPORTS.map(() => s),
			`sent over ${s}, received by ${TRANSPORTS.join('/')}`);
	}
	// Each receiver saw each message once.
	for (const r of TRANSPORTS) {
		const msgs = await shown(rx[r], room);
		assert.equal(msgs.length, TRANSPORTS.length, `${r} shows 4 messages`);
		assert.deepEqual(msgs.map((m) => m.via), TRANSPORTS);
	}
	for (const p of [tx, ...Object.values(rx)])
		assert.deepEqual(p.errors, []);
	await Promise.all([tx, ...Object.values(rx)].map((p) => p.context().close()));
});

test('switching transport mid-conversation loses and repeats nothing', async () => {
	const room = uniq('switch');
	const page = await openPage(browser, chatUrl('switcher', 'poll', room));
	await waitOpen(page);
	const N = 60;
	const texts = [];
	// Another party publishes steadily while the page switches.
	const publishing = (async () => {
		for (let i = 0; i < N; i++) {
			const text = `steady ${i}`;
			texts.push(text);
			const r = await fetch(`${srv.url}/api/rooms/${room}/messages`, {
				method: 'POST', headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ event: 'chat', from: 'steady',
					cid: 'steady-publisher-01', data: { text }, to: 'room',
					via: 'api' }),
			});
			assert.equal(r.status, 201, await r.text());
			await new Promise((res) => setTimeout(res, 60));
		}
	})();
	const order = ['longpoll', 'sse', 'ws', 'poll', 'ws', 'sse', 'longpoll'];
	for (const t of order) {
		await new Promise((res) => setTimeout(res, 450));
		await page.click(`#transport-seg [data-transport="${t}"]`);
	}
	await publishing;
	await waitOpen(page);
	await waitMessage(page, `steady ${N - 1}`);
	await page.waitForTimeout(300);
	const msgs = await shown(page, room);
	assert.deepEqual(msgs.map((m) => m.text), texts,
		'every message exactly once, in order');
	const ids = msgs.map((m) => BigInt(m.id));
	for (let i = 1; i < ids.length; i++)
		assert.ok(ids[i] > ids[i - 1], 'ids increase');
	const notes = await page.$$eval('.msg[data-event="system"] .text',
		(ns) => ns.map((n) => n.textContent));
	assert.ok(notes.filter((n) => n.startsWith('switched to')).length >= order.length - 1,
		'each switch is announced');
	assert.deepEqual(page.errors, []);
	await page.context().close();
});

test('targets: self stays with the sender, others skips it', async () => {
	const room = uniq('targets');
	const a = await openPage(browser, chatUrl('alice', 'sse', room));
	const b = await openPage(browser, chatUrl('bob', 'longpoll', room));
	await Promise.all([waitOpen(a), waitOpen(b)]);
	const k = uniq('t');
	await type(a, `self ${k}`, 'self');
	await waitMessage(a, `self ${k}`);
	await type(a, `others ${k}`, 'others');
	await waitMessage(b, `others ${k}`);
	await type(a, `room ${k}`, 'room');
	await Promise.all([waitMessage(a, `room ${k}`), waitMessage(b, `room ${k}`)]);
	const ta = (await shown(a, room)).map((m) => m.text);
	const tb = (await shown(b, room)).map((m) => m.text);
	assert.deepEqual(ta, [`self ${k}`, `others ${k}`, `room ${k}`],
		'the sender sees self, its own "others" (shown locally) and room');
	assert.deepEqual(tb, [`others ${k}`, `room ${k}`], 'self never reaches bob');
	await Promise.all([a, b].map((p) => p.context().close()));
});

test('message data is shown as text, never run as HTML', async () => {
	const room = uniq('xss');
	const a = await openPage(browser, chatUrl('mallory', 'ws', room));
	const b = await openPage(browser, chatUrl('victim', 'sse', room));
	await Promise.all([waitOpen(a), waitOpen(b)]);
	const evil = [
		'<img src=x onerror="window.__pwned=1;alert(1)">',
		'<script>window.__pwned=2</script><b>bold?</b>',
	];
	for (const text of evil)
		await type(a, text);
	for (const p of [a, b])
		for (const text of evil)
			await waitMessage(p, text);
	for (const p of [a, b]) {
		assert.equal(await p.$$eval('#messages img, #messages script, #messages b',
			(n) => n.length), 0, 'no element was made from message data');
		assert.equal(await p.evaluate(() => window.__pwned), undefined);
		assert.deepEqual(p.errors, [], 'no script ran, no dialog opened');
	}
	// Many messages, long texts and a second room, for the screenshot.
	await b.fill('#join-room', 'lobby');
	await b.press('#join-room', 'Enter');
	await b.click(`#rooms li[data-room="${room}"]`);
	await type(a, 'A long text wraps and stays readable: ' +
		'lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(8));
	await type(a, 'https://example.org/a/very/long/path/without/any/spaces/' +
		'x'.repeat(160));
	await waitMessage(b, 'https://example.org/a/very/long/path/without/any/spaces/' +
		'x'.repeat(160));
	await b.screenshot({ path: artifact('chat.png') });
	await Promise.all([a, b].map((p) => p.context().close()));
});

test('a late joiner sees the recent history of the room', async () => {
	const room = uniq('history');
	for (let i = 0; i < 3; i++) {
		const r = await fetch(`${srv.url}/api/rooms/${room}/messages`, {
			method: 'POST', headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ event: 'chat', from: 'earlier',
				cid: 'earlier-bird-01', data: { text: `before ${i}` } }),
		});
		assert.equal(r.status, 201);
	}
	const page = await openPage(browser, chatUrl('late', 'longpoll', room));
	await waitMessage(page, 'before 2');
	await page.waitForSelector('.history-note');
	const msgs = await shown(page, room);
	assert.deepEqual(msgs.map((m) => m.text), ['before 0', 'before 1', 'before 2']);
	await page.context().close();
});

test('every transport reconnects by itself after a server restart, and says so', async () => {
	const own = await startServer();
	const room = uniq('restart');
	const pages = {};
	try {
		for (const t of TRANSPORTS) {
			pages[t] = await openPage(browser,
				`${own.url}/?name=rc-${t}&transport=${t}&rooms=${room}#chat`);
			await waitOpen(pages[t]);
		}
		await stopClean(assert, own);
		for (const t of TRANSPORTS)
			await pages[t].waitForSelector('#status[data-state="reconnecting"]',
				{ timeout: 15000 });
		for (const t of TRANSPORTS) {
			const notes = await pages[t].$$eval('.msg[data-event="system"] .text',
				(ns) => ns.map((n) => n.textContent));
			assert.ok(notes.some((n) => n.startsWith('connection lost')),
				`${t} says the connection was lost: ${notes}`);
		}
		const again = await startServer([], own.port);
		try {
			for (const t of TRANSPORTS)
				await waitOpen(pages[t]);
			const r = await fetch(`${again.url}/api/rooms/${room}/messages`, {
				method: 'POST', headers: { 'Content-Type': 'application/json' },
				body: JSON.stringify({ event: 'chat', from: 'after',
					cid: 'after-restart-01', data: { text: 'after the restart' } }),
			});
			assert.equal(r.status, 201);
			for (const t of TRANSPORTS)
				await waitMessage(pages[t], 'after the restart', 20000);
			for (const t of TRANSPORTS) {
				const notes = await pages[t].$$eval('.msg[data-event="system"] .text',
					(ns) => ns.map((n) => n.textContent));
				assert.ok(notes.some((n) => n.startsWith('reconnected')),
					`${t} says it reconnected: ${notes}`);
			}
		} finally {
			await stopClean(assert, again);
		}
	} finally {
		await own.stop();
		await Promise.all(Object.values(pages).map((p) => p.context().close()));
	}
});
