// SPDX-License-Identifier: MIT
// The chat's direct messages and images in a real browser: four people
// on the four transports; clicking a member and typing sends a message
// only that member (and the sender) sees, live and in the room's history
// (also after a reload);
// an image picked with the file button arrives, decoded, on every
// transport.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, stopClean, launch, openPage, artifact, uniq } from
	'./harness.mjs';

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

const chatUrl = (name, transport, room) =>
	`${srv.url}/?name=${encodeURIComponent(name)}&transport=${transport}` +
	`&rooms=${room}#chat`;

// a 1x1 PNG
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQV' +
	'R42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

const BOB = '#members li.can-dm:has(.name:text-is("bob"))';

async function waitOpen(page) {
	await page.waitForSelector('#status[data-state="open"]', { timeout: 15000 });
}

// Resolves to the chat message element's {dm, to, via} once a message
// whose text is `text` is shown.
async function waitText(page, text, timeout = 15000) {
	const h = await page.waitForFunction((t) => {
		for (const m of document.querySelectorAll('.msg[data-event="chat"]')) {
			const x = m.querySelector('.text');
			if (x && x.textContent === t)
				return { dm: m.classList.contains('dm'),
					to: m.dataset.to || null, via: m.dataset.via,
					label: (m.querySelector('.target.private') || {})
						.textContent || null };
		}
		return false;
	}, text, { timeout });
	return h.jsonValue();
}

const shows = (page, text) => page.$$eval('.msg[data-event="chat"] .text',
	(xs, t) => xs.some((x) => x.textContent === t), text);

test('a direct message reaches its recipient only; an image reaches every transport', async () => {
	const room = uniq('dm');
	const people = { alice: 'ws', bob: 'longpoll', carol: 'sse', dave: 'poll' };
	const p = {};
	for (const [name, tp] of Object.entries(people))
		p[name] = await openPage(browser, chatUrl(name, tp, room));
	for (const page of Object.values(p))
		await waitOpen(page);

	// alice clicks bob in the member list: the target becomes bob alone
	// a locator: the list is redrawn now and then, the click finds it again
	await p.alice.locator(BOB).click({ timeout: 15000 });
	const to = await p.alice.$eval('#to', (s) => s.value);
	assert.match(to, /^pid:[0-9a-f]{32}$/);
	assert.equal(await p.alice.$eval('#to', (s) =>
		s.selectedOptions[0].textContent), 'only bob');

	const secret = `secret ${uniq('s')}`;
	await p.alice.fill('#text', secret);
	await p.alice.press('#text', 'Enter');
	const atBob = await waitText(p.bob, secret);
	assert.equal(atBob.dm, true);
	assert.equal(atBob.to, to);
	assert.equal(atBob.label, 'private, to you');
	const atAlice = await waitText(p.alice, secret);
	assert.equal(atAlice.label, 'private → bob');

	// back to the room: a fence everyone sees after the DM
	await p.alice.selectOption('#to', 'room');
	assert.equal(await p.alice.$('#to option[data-private]'), null);
	const fence = `fence ${uniq('f')}`;
	await p.alice.fill('#text', fence);
	await p.alice.press('#text', 'Enter');
	for (const name of ['carol', 'dave', 'bob'])
		assert.equal((await waitText(p[name], fence)).dm, false);
	assert.equal(await shows(p.carol, secret), false, 'carol saw the DM');
	assert.equal(await shows(p.dave, secret), false, 'dave saw the DM');
	// nor does the room's history, nor a fresh page of carol's
	const hist = await p.carol.evaluate(async (r) =>
		(await fetch(`/api/rooms/${r}/messages?since=0`)).text(), room);
	assert.ok(hist.includes(fence) && !hist.includes(secret));
	const carol2 = await openPage(browser, chatUrl('carol', 'sse', room));
	await waitOpen(carol2);
	await waitText(carol2, fence);
	assert.equal(await shows(carol2, secret), false);

	// an image, picked with the file button, to the room
	await p.alice.setInputFiles('#image-file', { name: 'dot.png',
		mimeType: 'image/png', buffer: PNG });
	for (const [name, tp] of Object.entries(people)) {
		const ok = await p[name].waitForFunction(() => {
			const img = document.querySelector('.msg img.chat-image');
			return img && img.complete && img.naturalWidth === 1 &&
				img.closest('.msg').dataset.via;
		}, null, { timeout: 15000 });
		assert.equal(await ok.jsonValue(), 'ws', `${name} over ${tp}`);
	}
	// a private image: bob has it, carol and dave do not
	await p.alice.locator(BOB).click({ timeout: 15000 });
	await p.alice.fill('#text', 'private picture');
	await p.alice.setInputFiles('#image-file', { name: 'dot2.png',
		mimeType: 'image/png', buffer: PNG });
	const pic = await waitText(p.bob, 'private picture');
	assert.equal(pic.label, 'private, to you');
	await p.bob.waitForFunction(() => {
		const m = [...document.querySelectorAll('.msg.dm')].find((x) =>
			x.querySelector('.text').textContent === 'private picture');
		const img = m && m.querySelector('img.chat-image');
		return img && img.complete && img.naturalWidth === 1;
	}, null, { timeout: 15000 });
	await p.alice.selectOption('#to', 'room');
	const fence2 = `fence ${uniq('f')}`;
	await p.alice.fill('#text', fence2);
	await p.alice.press('#text', 'Enter');
	for (const name of ['carol', 'dave']) {
		await waitText(p[name], fence2);
		assert.equal(await shows(p[name], 'private picture'), false);
		assert.equal(await p[name].$$eval('img.chat-image',
			(xs) => xs.length), 1, `${name} has the public image only`);
	}

	// a reload: bob's DM comes back from the history, read as his cid
	await p.bob.reload();
	await p.bob.waitForSelector('body[data-ready="1"]');
	await waitOpen(p.bob);
	assert.equal((await waitText(p.bob, secret)).label, 'private, to you');
	await waitText(p.bob, fence);
	await p.carol.reload();
	await p.carol.waitForSelector('body[data-ready="1"]');
	await waitOpen(p.carol);
	await waitText(p.carol, fence);
	assert.equal(await shows(p.carol, secret), false);
	await p.bob.screenshot({ path: artifact('dm-bob.png') });
	await p.alice.screenshot({ path: artifact('dm-alice.png') });
	for (const page of [...Object.values(p), carol2])
		assert.deepEqual(page.errors, []);
	await Promise.all([...Object.values(p), carol2].map((x) =>
		x.context().close()));
});
