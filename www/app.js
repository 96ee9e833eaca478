// SPDX-License-Identifier: MIT
// app: the page's entry point. Reads /api/info, starts the chat and shows
// one view at a time (#chat, #race, #learn, #doc/NAME); the race, learn
// and doc views are built the first time they are opened. A hash
// #VIEW/PART opens VIEW and scrolls to the element with id VIEW-PART
// (#learn/handshake); for #doc/NAME[/heading] the page is /doc/NAME.md.
import { $, $$ } from './util.js';
import { Chat } from './chat.js';

const views = { chat: null, race: null, learn: null, doc: null };
let info = null;

async function serverInfo() {
	try {
		const r = await fetch('/api/info', { cache: 'no-store' });
		info = await r.json();
		$('#server-info').textContent = `${info.name} ${info.version}`;
	} catch {
		info = { last_id: 0, limits: {} };
		$('#server-info').textContent = 'server unreachable';
	}
	return info;
}

async function show(hash) {
	const cut = hash.indexOf('/');
	let name = cut < 0 ? hash : hash.slice(0, cut);
	const part = cut < 0 ? '' : hash.slice(cut + 1);
	if (!(name in views))
		name = 'chat';
	for (const sec of $$('.view'))
		sec.hidden = sec.dataset.view !== name;
	for (const a of $$('.tabs a'))
		a.setAttribute('aria-current', a.dataset.view === name ? 'page' : 'false');
	if (!views[name]) {
		if (name === 'race') {
			const { Race } = await import('./race.js');
			views.race = new Race($('#view-race'), info);
		} else if (name === 'learn') {
			const { Learn } = await import('./learn.js');
			views.learn = new Learn($('#view-learn'), info, views.chat);
		} else if (name === 'doc') {
			const { Doc } = await import('./doc.js');
			views.doc = new Doc($('#view-doc'));
		}
	}
	if (views[name] && views[name].shown)
		views[name].shown();
	document.body.dataset.view = name;
	if (name === 'doc') {
		await views.doc.open(part);
	} else if (part) {
		const target = document.getElementById(`${name}-${part}`);
		if (target)
			target.scrollIntoView();
	}
}

async function main() {
	await serverInfo();
	const params = new URLSearchParams(location.search);
	views.chat = new Chat($('#view-chat'), info, params);
	window.imlab = { views, info };		// for the curious (and the tests)
	addEventListener('hashchange', () => show(location.hash.slice(1)));
	await show(location.hash.slice(1) || 'chat');
	document.body.dataset.ready = '1';
}

main();
