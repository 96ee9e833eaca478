// SPDX-License-Identifier: MIT
// Issue 12's "Done when" for the race: the costs are the server's counts
// of both directions, so at the default settings short polling pays more
// per message than SSE and WebSocket; with nobody sending only short
// polls and the SSE/WebSocket keep-alives cost anything; the sweep draws
// one line per transport; behind an emulated 200 ms delay SSE and
// WebSocket take 200-300 ms and long polling longer; cutting a lane loses
// nothing. Each part needs a server feature (per-client counters,
// delay=, --admin); a server without it skips that test, saying so.
// Screenshots: race-running.png, race-idle.png, race-sweep.png,
// race-delay.png, race-chaos.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopClean, launch, openPage, artifact,
	TRANSPORTS } from './harness.mjs';

let srv, browser;
const features = {};

before(async () => {
	srv = await startServer();
	browser = await launch();
	const st = await (await fetch(`${srv.url}/api/stats`)).json();
	features.counters = typeof st.transports.poll.connections === 'number';
	const t0 = Date.now();
	await (await fetch(`${srv.url}/poll?rooms=probe&delay=150`)).text();
	features.delay = Date.now() - t0 >= 280;
});

after(async () => {
	if (browser)
		await browser.close();
	if (srv)
		await stopClean(assert, srv);
});

// The numbers of the cost table (or idle table) for every transport.
function costs(page, table) {
	return page.evaluate((sel) => {
		const out = {};
		for (const td of document.querySelectorAll(`${sel} td[data-metric]`)) {
			const t = td.dataset.transport;
			const m = /^([\d.]+)\s*(KB)?/.exec(td.textContent.trim());
			(out[t] = out[t] || {})[td.dataset.metric] = m ?
				Number(m[1]) * (m[2] ? 1024 : 1) : NaN;
		}
		return out;
	}, table);
}

async function run(page, seconds) {
	await page.click('#race-start');
	await page.waitForSelector('#view-race[data-state="running"]',
		{ timeout: 15000 });
	await page.waitForTimeout(seconds * 1000);
}

async function stop(page) {
	await page.click('#race-stop');
	await page.waitForSelector('#view-race[data-state="stopped"]',
		{ timeout: 20000 });
}

// Every lane got every acknowledged message once, in order.
async function assertAllDelivered(page) {
	const r = await page.evaluate(() => {
		const race = window.imlab.views.race;
		return { acked: race.acked.length, lanes: Object.fromEntries(
			Object.entries(race.lanes).map(([t, l]) => [t, {
				delivered: l.delivered, lost: l.missing.size, dup: l.dup,
				ooo: l.ooo }])) };
	});
	assert.ok(r.acked > 10, `the sender published (${r.acked})`);
	for (const t of TRANSPORTS)
		assert.deepEqual(r.lanes[t], { delivered: r.acked, lost: 0, dup: 0,
			ooo: 0 }, `${t}: ${JSON.stringify(r.lanes[t])}`);
}

// Median latency per lane over its last `n` receipts (ms).
function medians(page, n) {
	return page.evaluate((k) => Object.fromEntries(Object.entries(
		window.imlab.views.race.lanes).map(([t, l]) => {
		const ys = l.ys.slice(-k).sort((a, b) => a - b);
		return [t, ys.length ? ys[Math.ceil(ys.length / 2) - 1] : NaN];
	})), n);
}

test('at the default settings short polling costs more per message than SSE and WebSocket', async (t) => {
	if (!features.counters)
		return t.skip('the server has no per-client counters (/api/clients/{cid})');
	const page = await openPage(browser, `${srv.url}/?name=coster#race`);
	// defaults: 5 msg/s, 128 B, 1 s poll interval, loopback
	assert.equal(await page.inputValue('#race-rate'), '5');
	assert.equal(await page.inputValue('#race-poll'), '1000');
	await run(page, 8);
	await page.screenshot({ path: artifact('race-running.png'), fullPage: true });
	await stop(page);
	await assertAllDelivered(page);
	const c = await costs(page, '#race-cost');
	for (const tp of TRANSPORTS)
		for (const m of ['reqPerMsg', 'upPerMsg', 'downPerMsg', 'bytesPerMsg',
			'reqPerSec', 'bytesPerSec', 'conns'])
			assert.ok(Number.isFinite(c[tp][m]), `${tp} ${m}: ${c[tp][m]}`);
	// a short poll's request line and headers are counted
	assert.ok(c.poll.upPerMsg > c.sse.upPerMsg, JSON.stringify(c));
	assert.ok(c.poll.bytesPerMsg > c.sse.bytesPerMsg,
		`poll ${c.poll.bytesPerMsg} B/msg > SSE ${c.sse.bytesPerMsg}`);
	assert.ok(c.poll.bytesPerMsg > c.ws.bytesPerMsg,
		`poll ${c.poll.bytesPerMsg} B/msg > WebSocket ${c.ws.bytesPerMsg}`);
	// a WebSocket always opens its own connection (an HTTP lane may
	// reuse one the browser had open)
	assert.ok(c.ws.conns >= 1, `WebSocket connections ${c.ws.conns}`);
	assert.deepEqual(page.errors, []);
	await page.context().close();
});

test('the cost sweep draws one line per transport on log axes', async (t) => {
	if (!features.counters)
		return t.skip('the server has no per-client counters (/api/clients/{cid})');
	const page = await openPage(browser,
		`${srv.url}/?name=sweeper&sweep=0.5,5&sweepMin=2.5&sweepMax=3#race`);
	await page.click('#race-sweep');
	await page.waitForSelector('#view-race[data-sweep="done"]',
		{ timeout: 30000 });
	await page.waitForSelector('#view-race[data-state="stopped"]',
		{ timeout: 20000 });
	await page.locator('#race-sweep-out').scrollIntoViewIfNeeded();
	await page.screenshot({ path: artifact('race-sweep.png'), fullPage: true });
	const lines = await page.evaluate(() => window.imlab.views.race.sweep.lines());
	assert.deepEqual(lines, { bytes: 4, reqs: 4 });
	const rows = await page.$$eval('#race-sweep-table tbody tr', (r) => r.length);
	assert.equal(rows, 2);
	assert.deepEqual(page.errors, []);
	await page.context().close();
});

test('behind a 200 ms emulated delay SSE and WebSocket take 200-300 ms, long polling longer', async (t) => {
	if (!features.delay)
		return t.skip('the server ignores delay= (no network emulation)');
	const page = await openPage(browser, `${srv.url}/?name=slow#race`);
	await page.fill('#race-delay', '200');
	await page.dispatchEvent('#race-delay', 'change');
	assert.equal(await page.inputValue('#race-net'), 'custom');
	await page.fill('#race-rate', '20');
	await run(page, 9);
	await page.screenshot({ path: artifact('race-delay.png'), fullPage: true });
	const p50 = await medians(page, 100);
	await stop(page);
	for (const tp of ['sse', 'ws']) {
		assert.ok(p50[tp] >= 200, `${tp} p50 ${p50[tp]} >= 200 ms`);
		assert.ok(p50[tp] < 300, `${tp} p50 ${p50[tp]} < 300 ms`);
	}
	assert.ok(p50.longpoll > Math.max(p50.sse, p50.ws),
		`long poll p50 ${p50.longpoll} above SSE/WebSocket ${JSON.stringify(p50)}`);
	await assertAllDelivered(page);
	assert.deepEqual(page.errors, []);
	await page.context().close();
});

// --- a server with the keep-alives every second and the admin switches ---

test('idle: only short polls and the SSE/WebSocket keep-alives cost anything', async (t) => {
	if (!features.counters)
		return t.skip('the server has no per-client counters (/api/clients/{cid})');
	const s2 = await startServer(['--sse-ping', '1', '--ws-ping', '1']);
	try {
		const page = await openPage(browser, `${s2.url}/?name=idler#race`);
		await page.fill('#race-idle-sec', '4');
		await page.click('#race-idle');
		await page.waitForSelector('#view-race[data-idle="done"]',
			{ timeout: 30000 });
		await page.waitForSelector('#view-race[data-state="stopped"]');
		await page.locator('#race-idle-table').scrollIntoViewIfNeeded();
		await page.screenshot({ path: artifact('race-idle.png') });
		const c = await costs(page, '#race-idle-table');
		const msg = JSON.stringify(c);
		assert.ok(c.poll.reqPerSec > 0 && c.poll.upPerSec > 0 &&
			c.poll.downPerSec > 0, `short poll polls: ${msg}`);
		for (const m of ['reqPerSec', 'upPerSec', 'downPerSec', 'conns'])
			assert.equal(c.longpoll[m], 0, `long poll ${m}: ${msg}`);
		// (a WebSocket's "requests" are the frames the browser sent: at
		// idle only its answers to the server's pings, keep-alives too)
		assert.equal(c.sse.reqPerSec, 0, `SSE requests: ${msg}`);
		for (const tp of ['sse', 'ws']) {
			assert.equal(c[tp].conns, 0, `${tp} connections: ${msg}`);
			assert.ok(c[tp].downPerSec > 0, `${tp} keep-alives: ${msg}`);
		}
		assert.equal(c.sse.upPerSec, 0, `SSE sends nothing up: ${msg}`);
		assert.deepEqual(page.errors, []);
		await page.context().close();
	} finally {
		await stopClean(assert, s2);
	}
});

test('cutting each lane in turn loses nothing', async (t) => {
	let s3;
	try {
		s3 = await startServer(['--admin', '1']);
	} catch {
		return t.skip('the server has no --admin switches');
	}
	try {
		const page = await openPage(browser, `${s3.url}/?name=chaos#race`);
		await page.waitForSelector('#race-chaos:not([hidden])');
		await page.fill('#race-rate', '20');
		await run(page, 2);
		for (const tp of TRANSPORTS) {
			await page.click(`[data-cut="${tp}"]`);
			await page.waitForFunction(() =>
				/HTTP 2\d\d/.test(document.querySelector('#race-chaos-out')
					.textContent));
			await page.waitForTimeout(1500);
			await page.$eval('#race-chaos-out', (e) => {
				e.textContent = '';
			});
		}
		await page.waitForTimeout(3000);
		await page.screenshot({ path: artifact('race-chaos.png'), fullPage: true });
		await stop(page);
		await assertAllDelivered(page);
		const reconnects = await page.evaluate(() => Object.values(
			window.imlab.views.race.lanes).map((l) => l.client.stats.reconnects));
		assert.ok(reconnects.some((n) => n > 0), `lanes reconnected: ${reconnects}`);
		assert.deepEqual(page.errors, []);
		await page.context().close();
	} finally {
		await stopClean(assert, s3);
	}
});
