// SPDX-License-Identifier: MIT
// harness: what every browser test needs — an imlab of its own on a free
// port, Debian's chromium driven by playwright-core, and a place for
// artifacts (screenshots).
//
// Environment: IMLAB_BIN (the server binary, default src/imlab relative to
// the build directory = the current directory), IMLAB_WWW (the client,
// default www/ beside this file's tree), IMLAB_ARTIFACTS (default
// tests/artifacts), IMLAB_CHROMIUM (default /usr/bin/chromium).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const srcdir = path.resolve(here, '..', '..');
export const bin = path.resolve(process.env.IMLAB_BIN || 'src/imlab');
export const www = path.resolve(process.env.IMLAB_WWW || path.join(srcdir, 'www'));
export const artifacts = path.resolve(process.env.IMLAB_ARTIFACTS ||
	'tests/artifacts');
export const TRANSPORTS = ['poll', 'longpoll', 'sse', 'ws'];

// Starts imlab on a free port (or `port`); resolves to {url, port, proc,
// log, stop()}. log keeps the tail of its stderr.
export async function startServer(extra = [], port = 0) {
	const proc = spawn(bin, ['--port', String(port), '--www', www, ...extra],
		{ stdio: ['ignore', 'pipe', 'pipe'] });
	const log = [];
	proc.stderr.on('data', (d) => {
		log.push(String(d));
		if (log.length > 200)
			log.shift();
	});
	const url = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(
			`imlab printed no address within 10 s:\n${log.join('')}`)), 10000);
		proc.on('error', (e) => {
			clearTimeout(timer);
			reject(e);
		});
		proc.on('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`imlab exited (${code}):\n${log.join('')}`));
		});
		const rl = createInterface({ input: proc.stdout });
		rl.once('line', (line) => {
			clearTimeout(timer);
			const m = /open (http:\/\/[^/\s]+)\//.exec(line);
			if (m)
				resolve(m[1]);
			else
				reject(new Error(`unexpected first line: ${line}`));
		});
	});
	proc.stdout.resume();
	return {
		url, port: Number(new URL(url).port), proc, log,
		// SIGTERM, and resolves to the exit status (0: a clean stop;
		// a sanitizer's report makes it fail). SIGKILL after 10 s.
		async stop() {
			if (proc.exitCode === null && proc.signalCode === null) {
				const done = new Promise((r) => proc.once('exit', r));
				proc.kill('SIGTERM');
				const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
				await done;
				clearTimeout(t);
			}
			return proc.exitCode;
		},
	};
}

export async function launch() {
	return chromium.launch({
		executablePath: process.env.IMLAB_CHROMIUM || '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu',
			'--disable-background-networking'],
	});
}

// A new browser context (its own cookies, storage and connection pool —
// a second user) with a page on `url`, errors collected in page.errors.
export async function openPage(browser, url, viewport = { width: 1280, height: 800 }) {
	const context = await browser.newContext({ viewport });
	const page = await context.newPage();
	page.errors = [];
	page.on('pageerror', (e) => page.errors.push(String(e)));
	page.on('dialog', (d) => {
		page.errors.push(`dialog: ${d.message()}`);
		d.dismiss().catch(() => { });
	});
	await page.goto(url);
	await page.waitForSelector('body[data-ready="1"]');
	return page;
}

export function artifact(name) {
	mkdirSync(artifacts, { recursive: true });
	return path.join(artifacts, name);
}

export function uniq(prefix) {
	return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

// Stops a server started by startServer and fails unless it exited 0.
export async function stopClean(assert, srv) {
	const code = await srv.stop();
	assert.equal(code, 0, `imlab exit status ${code} (signal ` +
		`${srv.proc.signalCode}); its log ends:\n` +
		srv.log.join('').slice(-3000));
}
