#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// race-numbers: runs the browser client's race headless (Debian's
// chromium, playwright-core) against a fresh imlab and prints what the
// race table shows as Markdown, for doc/lesson.md and doc/benchmarks.md:
// latency percentiles and, when the server counts per client, the cost
// and idle tables. Run from the build directory:
//
//   node tools/race-numbers.mjs [--rate 20] [--seconds 10] [--delay 0]
//       [--poll 1000] [--idle 0] [--sweep 0.1,0.3,1,3,10,30]
//       [--server "--sse-ping 15"]
//
// Bounded: one server, one page, at most --seconds of race (60) plus the
// idle window and the sweep the options ask for.
import { parseArgs } from 'node:util';
import { startServer, launch, openPage } from '../tests/browser/harness.mjs';

const { values: o } = parseArgs({ options: {
	rate: { type: 'string', default: '20' },
	seconds: { type: 'string', default: '10' },
	delay: { type: 'string', default: '0' },
	poll: { type: 'string', default: '1000' },
	idle: { type: 'string', default: '0' },
	sweep: { type: 'string', default: '' },
	server: { type: 'string', default: '' },
} });
const secs = Math.min(60, Math.max(1, Number(o.seconds)));

const srv = await startServer(o.server ? o.server.split(/\s+/) : []);
const browser = await launch();
const table = (page, sel) => page.$eval(sel, (t) => [...t.rows].map((r, i) =>
	'| ' + [...r.cells].map((c) => (c.querySelector('select') ?
		c.querySelector('select').selectedOptions[0].textContent :
		c.textContent).trim()).join(' | ') + ' |' +
	(i === 0 ? '\n|' + [...r.cells].map(() => '---|').join('') : ''))
	.join('\n'));
try {
	const q = o.sweep ? `&sweep=${o.sweep}` : '';
	const page = await openPage(browser, `${srv.url}/?name=numbers${q}#race`);
	// Chromium's own count of each request's and response's head and
	// body bytes (playwright's request.sizes()), per endpoint.
	const heads = {};
	page.on('requestfinished', async (r) => {
		const path = new URL(r.url()).pathname;
		const kind = /^\/(poll|longpoll|sse|ws)$/.test(path) ? path.slice(1) :
			path.startsWith('/api/rooms/') ? 'publish' : null;
		if (!kind)
			return;
		try {
			const z = await r.sizes();
			const h = heads[kind] = heads[kind] || { n: 0, reqHead: 0,
				reqBody: 0, resHead: 0, resBody: 0 };
			h.n++;
			h.reqHead += z.requestHeadersSize;
			h.reqBody += z.requestBodySize;
			h.resHead += z.responseHeadersSize;
			h.resBody += z.responseBodySize;
		} catch { /* a request cut short */ }
	});
	await page.fill('#race-rate', o.rate);
	await page.fill('#race-delay', o.delay);
	await page.dispatchEvent('#race-delay', 'change');
	await page.$eval('#race-poll', (e, v) => {
		e.value = v;
		e.dispatchEvent(new Event('input'));
	}, o.poll);
	console.log(`<!-- node tools/race-numbers.mjs --rate ${o.rate} --seconds ` +
		`${secs} --delay ${o.delay} --poll ${o.poll} --idle ${o.idle}` +
		(o.sweep ? ` --sweep ${o.sweep}` : '') +
		(o.server ? ` --server "${o.server}"` : '') + ` · ` +
		`${new Date().toISOString().slice(0, 16)} UTC -->\n`);
	if (Number(o.idle) > 0) {
		await page.fill('#race-idle-sec', o.idle);
		await page.click('#race-idle');
		await page.waitForSelector('#view-race[data-idle="done"]',
			{ timeout: (Number(o.idle) + 20) * 1000 });
		await page.waitForSelector('#view-race[data-state="stopped"]');
		console.log(`Idle, ${o.idle} s, nobody sending:\n\n` +
			await table(page, '#race-idle-table') + '\n');
	}
	await page.click('#race-start');
	await page.waitForSelector('#view-race[data-state="running"]',
		{ timeout: 20000 });
	await page.waitForTimeout(secs * 1000);
	await page.click('#race-stop');
	await page.waitForSelector('#view-race[data-state="stopped"]',
		{ timeout: 30000 });
	console.log(`Race, ${o.rate} msg/s, 128 B, poll interval ${o.poll} ms, ` +
		`delay ${o.delay} ms, ${secs} s:\n\n` +
		await table(page, '#race-table') + '\n\n' +
		await table(page, '#race-cost') + '\n');
	console.log('Chromium\'s own byte counts per request (mean; ' +
		'playwright request.sizes()):\n\n| endpoint | requests | ' +
		'request head | request body | response head | response body |\n' +
		'|---|---:|---:|---:|---:|---:|\n' + Object.entries(heads).map(
		([k, h]) => `| ${k} | ${h.n} | ${Math.round(h.reqHead / h.n)} | ` +
			`${Math.round(h.reqBody / h.n)} | ${Math.round(h.resHead / h.n)} | ` +
			`${Math.round(h.resBody / h.n)} |`).join('\n') + '\n');
	if (o.sweep) {
		await page.click('#race-sweep');
		await page.waitForSelector('#view-race[data-sweep="done"]',
			{ timeout: 600000 });
		await page.waitForSelector('#view-race[data-state="stopped"]',
			{ timeout: 30000 });
		console.log(`Sweep (bytes and requests per message):\n\n` +
			await table(page, '#race-sweep-table') + '\n');
	}
} finally {
	await browser.close();
	await srv.stop();
}
