// SPDX-License-Identifier: MIT
// A first visit: on a fresh server the chat opens over each transport
// with no console error and no failed request (an unused room reads as
// empty, not 404), and a plain EventSource.onmessage receives messages
// (the default SSE stream has no event: lines).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopClean, launch, openPage, TRANSPORTS }
	from './harness.mjs';

let browser;

before(async () => {
	browser = await launch();
});

after(async () => {
	if (browser)
		await browser.close();
});

for (const t of TRANSPORTS) {
	test(`a fresh server logs no console error (${t})`, async () => {
		const srv = await startServer();
		try {
			const context = await browser.newContext();
			const page = await context.newPage();
			const errors = [];
			page.on('console', (m) => {
				if (m.type() === 'error')
					errors.push(m.text());
			});
			page.on('pageerror', (e) => errors.push(String(e)));
			page.on('response', (r) => {
				if (r.status() >= 400)
					errors.push(`${r.status()} ${r.url()}`);
			});
			await page.goto(`${srv.url}/?name=first&transport=${t}#chat`);
			await page.waitForSelector('#status[data-state="open"]',
				{ timeout: 15000 });
			// what the chat asks once open (history, members) is answered
			await page.waitForLoadState('networkidle', { timeout: 3000 })
				.catch(() => { });	// streams never idle: a bound
			assert.deepEqual(errors, []);
			await context.close();
		} finally {
			await stopClean(assert, srv);
		}
	});
}

test('a plain EventSource.onmessage receives every message', async () => {
	const srv = await startServer();
	try {
		const page = await openPage(browser, `${srv.url}/`);
		const got = await page.evaluate(async () => {
			const es = new EventSource('/sse?rooms=plain');
			const seen = [];
			const done = new Promise((resolve, reject) => {
				const t = setTimeout(() => reject(new Error(
					`onmessage got ${seen.length} of 2`)), 10000);
				es.onmessage = (e) => {
					seen.push(JSON.parse(e.data));
					if (seen.length === 2) {
						clearTimeout(t);
						resolve(seen);
					}
				};
			});
			await new Promise((r) => { es.onopen = r; });
			for (const event of ['chat', 'custom'])
				await fetch('/api/rooms/plain/messages', {
					method: 'POST',
					headers: { 'Content-Type': 'application/json' },
					body: JSON.stringify({ event, from: 'p', data: event }),
				});
			const r = await done;
			es.close();
			return r.map((m) => `${m.event}:${m.data}`);
		});
		assert.deepEqual(got, ['chat:chat', 'custom:custom']);
		assert.deepEqual(page.errors, []);
	} finally {
		await stopClean(assert, srv);
	}
});
