// SPDX-License-Identifier: MIT
// A browser carrying ~6 KB of cookies for the server's host (cookies are
// not port-scoped: every other app on localhost adds to them) loads the
// page on a fresh server, chats over all four transports and runs the
// race, with no page or console error (not even a 404); the requests'
// heads are far over the 4 KiB pool cookie-less clients get.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopClean, launch, uniq, TRANSPORTS } from './harness.mjs';

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

test('a page with 6 KB of localhost cookies chats over every transport and races', async () => {
	const room = uniq('cookies');
	const context = await browser.newContext();
	const url = new URL(srv.url);
	const cookies = [];
	for (let i = 0; i < 40; i++)
		cookies.push({ name: `other_app_${i}`, value: 'v'.repeat(140),
			domain: url.hostname, path: '/' });
	await context.addCookies(cookies);
	const page = await context.newPage();
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	page.on('console', (m) => {
		if (m.type() === 'error')
			errors.push(m.text());
	});
	const resp = await page.goto(`${srv.url}/?name=cookie-eater&transport=poll&rooms=${room}#chat`);
	assert.equal(resp.status(), 200);
	await page.waitForSelector('body[data-ready="1"]');
	for (const t of TRANSPORTS) {
		await page.click(`#transport-seg [data-transport="${t}"]`);
		await page.waitForSelector('#status[data-state="open"]', { timeout: 15000 });
		const text = `with cookies over ${t}`;
		await page.selectOption('#to', 'room');
		await page.fill('#text', text);
		await page.press('#text', 'Enter');
		await page.waitForFunction((x) => [...document.querySelectorAll('.msg[data-event="chat"] .text')]
			.some((e) => e.textContent === x), text, { timeout: 15000 });
	}
	// the race, in the same cookie-laden page: every transport delivers
	// everything, nothing lost, doubled or out of order
	await page.goto(`${srv.url}/?name=cookie-racer#race`);
	await page.waitForSelector('body[data-ready="1"]');
	await page.fill('#race-rate', '20');
	await page.click('#race-start');
	await page.waitForSelector('#view-race[data-state="running"]');
	await page.waitForFunction((tps) => tps.every((t) => {
		const td = document.querySelector(
			`#race-table td[data-transport="${t}"][data-metric="p99"]`);
		return td && /\d/.test(td.textContent);
	}), TRANSPORTS, { timeout: 20000 });
	await page.click('#race-stop');
	await page.waitForSelector('#view-race[data-state="stopped"]', { timeout: 15000 });
	const sent = await page.evaluate(() => window.imlab.views.race.acked.length);
	assert.ok(sent > 0, 'the race sender published');
	for (const t of TRANSPORTS) {
		const cell = async (m) => (await page.textContent(
			`#race-table td[data-transport="${t}"][data-metric="${m}"]`)).trim();
		assert.equal(Number(await cell('delivered')), sent, `${t} delivered all`);
		for (const m of ['lost', 'dup', 'ooo'])
			assert.equal(await cell(m), '0', `${t} ${m}`);
	}
	assert.deepEqual(errors, []);
	await context.close();
});
