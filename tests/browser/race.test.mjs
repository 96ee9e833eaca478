// SPDX-License-Identifier: MIT
// The race view produces numbers for all four transports, and the learn
// panel shows each transport's wire. No timing assertions: latencies only
// have to exist; counts of lost, duplicated and reordered ids must be 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopClean, launch, openPage, artifact,
	TRANSPORTS } from './harness.mjs';

let srv, browser, page;

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

const cell = (t, metric) => page.textContent(
	`#race-table td[data-transport="${t}"][data-metric="${metric}"]`);

test('the race measures the four transports and Socket.IO', async () => {
	page = await openPage(browser, `${srv.url}/?name=racer#race`);
	await page.fill('#race-rate', '25');
	await page.$eval('#race-poll', (e) => {
		e.value = '300';
		e.dispatchEvent(new Event('input'));
	});
	await page.click('#race-start');
	await page.waitForSelector('#view-race[data-state="running"]');
	// Every transport has percentiles and a chart with points.
	await page.waitForFunction((tps) => tps.every((t) => {
		const td = document.querySelector(
			`#race-table td[data-transport="${t}"][data-metric="p99"]`);
		return td && /\d/.test(td.textContent);
	}), TRANSPORTS, { timeout: 20000 });
	// Adjustable while running: a longer poll interval, a short timeout.
	await page.$eval('#race-poll', (e) => {
		e.value = '600';
		e.dispatchEvent(new Event('input'));
	});
	await page.$eval('#race-lpt', (e) => {
		e.value = '2';
		e.dispatchEvent(new Event('input'));
		e.dispatchEvent(new Event('change'));
	});
	await page.waitForTimeout(2500);
	await page.screenshot({ path: artifact('race.png'), fullPage: true });
	await page.click('#race-stop');
	await page.waitForSelector('#view-race[data-state="stopped"]', { timeout: 15000 });
	const sent = await page.evaluate(() => window.imlab.views.race.acked.length);
	assert.ok(sent > 10, `the sender published (${sent} acknowledged)`);
	// the four lanes and Socket.IO's (polling, then upgraded)
	const lanes = [...TRANSPORTS, 'sio'];
	for (const t of lanes) {
		const row = {};
		for (const m of ['delivered', 'p50', 'p90', 'p99', 'empty', 'lost',
			'dup', 'ooo'])
			row[m] = (await cell(t, m)).trim();
		assert.match(row.p50, /\d/, `${t} p50 ${row.p50}`);
		assert.match(row.p99, /\d/, `${t} p99 ${row.p99}`);
		assert.equal(Number(row.delivered), sent, `${t} delivered all: ${JSON.stringify(row)}`);
		assert.equal(row.lost, '0', `${t} lost`);
		assert.equal(row.dup, '0', `${t} duplicated`);
		assert.equal(row.ooo, '0', `${t} out of order`);
		if (t === 'poll' || t === 'longpoll')
			assert.match(row.empty, /%/, `${t} share of empty polls`);
	}
	const points = await page.evaluate(() => Object.fromEntries(
		Object.entries(window.imlab.views.race.charts).map(([t, u]) =>
			[t, u.data[0].length])));
	for (const t of lanes)
		assert.ok(points[t] > 0, `${t} chart has points`);
	assert.deepEqual(page.errors, []);
});

test('the learn panel shows each transport on the wire', async () => {
	await page.goto(`${srv.url}/?name=racer#learn`);
	await page.waitForSelector('body[data-ready="1"]');
	for (const t of TRANSPORTS)
		await page.click(`[data-try="${t}"]`);
	await page.waitForFunction((tps) => tps.every((t) => {
		const w = document.querySelector(`[data-wire="${t}"]`);
		return w && w.querySelectorAll('.entry.dir-in').length > 0;
	}), TRANSPORTS, { timeout: 15000 });
	await page.waitForTimeout(800);
	await page.screenshot({ path: artifact('learn.png'), fullPage: true });
	for (const t of TRANSPORTS)
		await page.click(`[data-try="${t}"]`);
	assert.deepEqual(page.errors, []);
});
