// SPDX-License-Identifier: MIT
// Socket.IO in the browser: www/sio.js, behind the same createClient()
// interface as the four transports, loads the official client from
// /vendor/, starts on long-polling and upgrades to a WebSocket, joins a
// room, sends with an ack and receives its own message and one published
// over HTTP with the same envelope, binary out as an attachment and back
// in the JSON form, with no console error; and the chat
// picks it as its transport and sends and shows a message over it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopClean, launch, uniq } from './harness.mjs';

let browser;

before(async () => {
	browser = await launch();
});

after(async () => {
	if (browser)
		await browser.close();
});

test('the Socket.IO client upgrades, sends and receives', async () => {
	const srv = await startServer();
	try {
		const page = await (await browser.newContext()).newPage();
		const errors = [];
		page.on('console', (m) => {
			if (m.type() === 'error')
				errors.push(m.text());
		});
		page.on('pageerror', (e) => errors.push(String(e)));
		await page.goto(`${srv.url}/`);
		const room = uniq('sio');
		const r = await page.evaluate(async (room) => {
			const { createClient } = await import('/client.js');
			const { wireBus } = await import('/base.js');
			const t0 = performance.now();
			const trace = [];	// what happened when, for a failure
			const note = (what) => trace.push(
				`${Math.round(performance.now() - t0)} ms ${what}`);
			const c = createClient('sio', { cid: 'cid-sio-browser',
				from: 'web', rooms: [room] });
			wireBus.listeners.add((via, w) => {
				if (via === 'sio')
					note(`${w.dir} ${w.body.slice(0, 120)}`);
			});
			const got = [], states = [];
			c.on('message', (e) => {
				got.push(e);
				note(`message ${e.event} ${e.id}`);
			});
			c.on('status', (s) => {
				states.push(s.detail);
				note(`status ${s.state} ${s.detail}`);
			});
			const until = async (what, f) => {
				for (let i = 0; i < 500 && !f(); i++)
					await new Promise((ok) => setTimeout(ok, 20));
				if (!f())
					throw new Error(`no ${what} within 10 s`);
			};
			try {
				c.start();
				await until('upgrade', () =>
					states.includes('upgraded to websocket'));
				await until('own join', () =>
					got.some((e) => e.event === 'join'));
				note('send');
				const a = await c.send(room, 'chat', { text: 'hi' });
				note(`acked ${a.id}`);
				const res = await fetch(`/api/rooms/${room}/messages`, {
					method: 'POST',
					headers: { 'Content-Type': 'application/json' },
					body: JSON.stringify({ event: 'chat', from: 'http',
						data: { text: 'over http' } }) });
				const h = await res.json();
				await until('the HTTP message', () =>
					got.some((e) => e.id === h.id));
				// binary out as an attachment, back in the JSON form
				const b = await c.send(room, 'pic',
					{ img: new Uint8Array([1, 2, 3]) });
				await until('the binary message', () =>
					got.some((e) => e.id === b.id));
				const hist = await (await fetch(
					`/api/rooms/${room}/messages?since=${a.id - 1}`)).json();
				c.close();
				return { states, a, h, b,
					got: got.map((e) => JSON.stringify(e)),
					hist: hist.messages.map((e) => JSON.stringify(e)) };
			} catch (e) {
				c.close();
				return { error: String(e), trace };
			}
		}, room);
		assert.ok(!r.error, r.error && `${r.error}\nclient:\n` +
			`${r.trace.join('\n')}\nserver:\n${srv.log.join('')}`);
		// Engine.IO's upgrade event fires only on the way from polling to
		// WebSocket, so it proves the start on polling; the Socket.IO
		// connect may come before it ('polling') or, on a slow server,
		// after it ('websocket')
		assert.ok(r.states.includes('upgraded to websocket'),
			r.states.join(','));
		assert.equal(typeof r.a.id, 'number');
		assert.ok(r.got.some((e) =>
			e.includes('"img":{"_binary":"AQID"}')), 'binary');
		for (const id of [r.a.id, r.h.id, r.b.id]) {
			const mine = r.got.find((e) => JSON.parse(e).id === id);
			const stored = r.hist.find((e) => JSON.parse(e).id === id);
			assert.ok(mine, `message ${id} not received`);
			assert.equal(mine, stored);
		}
		assert.deepEqual(errors, []);
	} finally {
		await stopClean(assert, srv);
	}
});

test('the chat talks over Socket.IO', async () => {
	const srv = await startServer();
	try {
		const page = await (await browser.newContext()).newPage();
		const errors = [];
		page.on('console', (m) => {
			if (m.type() === 'error')
				errors.push(m.text());
		});
		page.on('pageerror', (e) => errors.push(String(e)));
		const room = uniq('siochat');
		await page.goto(`${srv.url}/?name=sam&transport=sio&rooms=${room}` +
			'#chat');
		await page.waitForSelector('#status[data-state="open"]',
			{ timeout: 15000 });
		await page.fill('#text', 'hello over socket.io');
		await page.press('#text', 'Enter');
		const via = await (await page.waitForFunction(() => {
			for (const m of document.querySelectorAll(
				'.msg[data-event="chat"]')) {
				const x = m.querySelector('.text');
				if (x && x.textContent === 'hello over socket.io')
					return m.dataset.via || '?';
			}
			return false;
		}, null, { timeout: 15000 })).jsonValue();
		assert.equal(via, 'sio');
		assert.deepEqual(errors, []);
	} finally {
		await stopClean(assert, srv);
	}
});
