// SPDX-License-Identifier: MIT
// chat: the chat view. One client (of the chosen transport) subscribed to
// every joined room from one cursor; switching transport closes it and
// starts the next one after the last id seen, and messages are deduped by
// id, so nothing is lost or shown twice. Message data only ever reaches the
// page as text (textContent), never as HTML. Clicking a member makes the
// next messages private to them ("to":"pid:<their public id>": only the
// two of you receive it, doc/protocol.md); an image, picked or pasted,
// travels as a binary value {"_binary":"<base64>"} (chat_media.js).
import { createClient } from './client.js';
import { encodeImage, imageNode } from './chat_media.js';
import { el, $, TRANSPORTS, LABEL, ROOM_RE, tabCid, randomKey, fmtMs,
	fmtTime, hueOf, clockNow } from './util.js';

// The chat also speaks Socket.IO (www/sio.js), a fifth transport.
const CHAT_TRANSPORTS = [...TRANSPORTS, 'sio'];

const MAX_PER_ROOM = 1000;	// message elements kept per room
const MEMBERS_EVERY = 5000;	// ms between member-list refreshes
const HISTORY_FETCH = 300;	// newest messages asked for on joining a room
const HISTORY_SHOWN = 50;	// of which the newest are shown

function load(store, key) {
	try {
		return store.getItem(key);
	} catch {
		return null;
	}
}

function save(store, key, value) {
	try {
		store.setItem(key, value);
	} catch { /* storage off: fine */ }
}

const shortId = (id) => '#' + String(id).slice(-6);

export class Chat {
	constructor(root, info, params) {
		this.root = root;
		this.info = info || {};
		this.cid = tabCid();
		const guest = 'guest-' + randomKey(4);
		this.name = (params.get('name') || load(localStorage, 'imlab.name') ||
			guest).slice(0, 32);
		let tp = params.get('transport') ||
			load(sessionStorage, 'imlab.transport') || 'sse';
		this.transport = CHAT_TRANSPORTS.includes(tp) ? tp : 'sse';
		const rooms = (params.get('rooms') ||
			load(sessionStorage, 'imlab.rooms') || 'lobby').split(',')
			.filter((r) => ROOM_RE.test(r));
		this.rooms = [...new Set(rooms.length ? rooms : ['lobby'])];
		this.current = this.rooms.includes(params.get('room')) ?
			params.get('room') : this.rooms[0];
		this.seen = new Set();		// ids shown: the dedupe
		this.logs = new Map();		// room → {node, unread, empty}
		this.sentKeys = new Set();	// data.k of what this tab sent
		this.myPid = null;
		this.names = new Map();		// pid → name, from the member list
		this.client = null;
		this.lastState = 'idle';
		this.build();
		this.switchTransport(this.transport, Number(this.info.last_id) || 0);
		this.membersTimer = setInterval(() => {
			if (!this.root.hidden)
				this.refreshMembers();
		}, MEMBERS_EVERY);
	}

	build() {
		const r = this.root;
		this.els = {
			name: $('#name', r), seg: $('#transport-seg', r),
			status: $('#status', r), rooms: $('#rooms', r),
			members: $('#members', r), membersRoom: $('#members-room', r),
			cursor: $('#cursor', r), messages: $('#messages', r),
			text: $('#text', r), to: $('#to', r), sendErr: $('#send-error', r),
		};
		const E = this.els;
		E.name.value = this.name;
		E.name.addEventListener('change', () => this.rename(E.name.value));
		for (const t of CHAT_TRANSPORTS)
			E.seg.append(el('button', { type: 'button', role: 'radio',
				'data-tp': t, 'data-transport': t,
				'aria-checked': String(t === this.transport),
				title: `Receive and send over ${LABEL[t]}`,
				onclick: () => this.switchTransport(t) },
			el('span', { class: 'dot' }), LABEL[t]));
		$('#join-form', r).addEventListener('submit', (e) => {
			e.preventDefault();
			const input = $('#join-room', r);
			if (this.join(input.value.trim()))
				input.value = '';
		});
		$('#composer', r).addEventListener('submit', (e) => {
			e.preventDefault();
			this.sendText();
		});
		this.buildMedia();
		E.text.addEventListener('keydown', (e) => {
			if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
				e.preventDefault();
				this.sendText();
			}
		});
		for (const room of this.rooms)
			this.logFor(room);
		this.renderRooms();
		this.select(this.current);
	}

	// The image button (a hidden file picker), paste, and the private
	// target the member list sets: built here so index.html stays as is.
	buildMedia() {
		const E = this.els;
		E.file = el('input', { type: 'file', id: 'image-file',
			accept: 'image/png,image/jpeg,image/gif,image/webp', hidden: true,
			onchange: () => {
				const f = E.file.files && E.file.files[0];
				E.file.value = '';
				if (f)
					this.sendImage(f);
			} });
		E.imageBtn = el('button', { type: 'button', id: 'image-btn',
			class: 'ghost', title: 'send an image (or paste one into the text)',
			onclick: () => E.file.click() }, 'Image');
		$('#send', this.root).before(E.imageBtn, E.file);
		E.text.addEventListener('paste', (e) => {
			const items = e.clipboardData ? [...e.clipboardData.items] : [];
			const img = items.find((i) => i.kind === 'file' &&
				i.type.startsWith('image/'));
			if (img) {
				e.preventDefault();
				this.sendImage(img.getAsFile());
			}
		});
		E.to.addEventListener('change', () => {
			if (!E.to.value.startsWith('pid:'))
				this.privateTo(null);
		});
	}

	// Makes the next messages private to the member pid (null: the room).
	privateTo(pid, name) {
		const E = this.els;
		let opt = E.to.querySelector('option[data-private]');
		if (!pid) {
			if (opt)
				opt.remove();
			if (E.to.value.startsWith('pid:') || !E.to.value)
				E.to.value = 'room';
			this.markMembers();
			return;
		}
		if (!opt) {
			opt = el('option', { 'data-private': '' });
			E.to.append(opt);
		}
		opt.value = `pid:${pid}`;
		opt.textContent = `only ${name}`;
		E.to.value = opt.value;
		E.text.focus();
		this.markMembers();
	}

	markMembers() {
		const to = this.els.to.value;
		for (const li of this.els.members.children)
			li.classList.toggle('private-to', !!li.dataset.pid &&
				to === `pid:${li.dataset.pid}`);
	}

	// --- connection -------------------------------------------------------

	switchTransport(t, since) {
		if (this.client && t === this.transport)
			return;
		const old = this.client;
		const from = old ? old.resumeCursor() : since;
		if (old)
			old.close();
		this.transport = t;
		save(sessionStorage, 'imlab.transport', t);
		for (const b of this.els.seg.children)
			b.setAttribute('aria-checked', String(b.dataset.transport === t));
		this.connect(from);
		if (old)
			this.system(this.current, `switched to ${LABEL[t]} — resuming ` +
				`after id ${shortId(from)}`);
	}

	connect(since) {
		const c = this.client = createClient(this.transport, {
			cid: this.cid, from: this.name, rooms: this.rooms, since,
			events: ['chat', 'join', 'leave', 'presence'],
		});
		this.lastState = 'idle';
		c.on('message', (env) => this.onMessage(env));
		c.on('gap', (g) => {
			const rooms = g && g.room ? [g.room] : this.rooms;
			for (const room of rooms)
				this.system(room, 'gap: part of the history is gone ' +
					'(the cursor was older than what the server keeps)',
				'warn');
		});
		c.on('status', (s) => this.onStatus(s, c));
		if (this.rooms.length) {
			this.onStatus({ state: 'connecting' }, c);
			c.start();
		} else {
			this.onStatus({ state: 'idle', detail: 'join a room' }, c);
		}
		this.showCursor();
	}

	onStatus(s, c) {
		if (c !== this.client)
			return;
		const E = this.els;
		const prev = this.lastState;
		this.lastState = s.state;
		E.status.dataset.state = s.state;
		let text = `${LABEL[this.transport]}: ${s.state}`;
		clearInterval(this.countdown);
		if (s.state === 'reconnecting') {
			// Count down to the next attempt.
			const at = Date.now() + s.delay;
			const show = () => {
				const left = Math.max(0, at - Date.now()) / 1000;
				E.status.textContent = `${LABEL[this.transport]}: ` +
					(left > 0 ? `reconnecting in ${left.toFixed(1)} s` :
						'reconnecting…') + (s.detail ? ` — ${s.detail}` : '');
			};
			show();
			this.countdown = setInterval(show, 200);
			E.status.title = s.detail || '';
		} else if (s.state === 'open')
			text = `${LABEL[this.transport]}: connected` +
				(s.detail ? ` — ${s.detail}` : '');
		else if (s.detail)
			text += ` — ${s.detail}`;
		if (s.state !== 'reconnecting') {
			E.status.textContent = text;
			E.status.title = text;
		}
		if (s.state === 'reconnecting' && prev !== 'reconnecting')
			this.system(this.current, `connection lost (${s.detail || 'error'})` +
				` — reconnecting by itself, with back-off`, 'bad');
		if (s.state === 'open' && prev === 'reconnecting')
			this.system(this.current, `reconnected over ${LABEL[this.transport]}` +
				` — resumed after id ${shortId(c.resumeCursor())}`);
	}

	rename(name) {
		name = name.trim().slice(0, 32) || this.name;
		this.els.name.value = name;
		if (name === this.name)
			return;
		this.name = name;
		save(localStorage, 'imlab.name', name);
		// `from` is part of every request: reconnect from where we are.
		const t = this.transport;
		const since = this.client.resumeCursor();
		this.client.close();
		this.transport = t;
		this.connect(since);
	}

	showCursor() {
		const c = this.client;
		this.els.cursor.textContent = c ? `cursor: after id ${c.cursor}` : '';
		this.els.cursor.title = 'the last id this client has seen: ' +
			'a new connection asks for everything after it';
	}

	// --- rooms ------------------------------------------------------------

	logFor(room) {
		let log = this.logs.get(room);
		if (!log) {
			const node = el('div', { class: 'room-log', 'data-room': room,
				hidden: room !== this.current });
			const empty = el('p', { class: 'empty-note' },
				`No messages in ${room} yet. Say something — or open a ` +
				'second tab on another transport and talk to yourself.');
			node.append(empty);
			log = { node, unread: 0, empty };
			this.logs.set(room, log);
			this.els.messages.append(node);
			this.loadHistory(room);
		}
		return log;
	}

	// The room's recent chat from the history API, above whatever the
	// live subscription has brought in the meantime (deduped by id); read
	// with this tab's cid, so its direct messages come back after a reload.
	async loadHistory(room) {
		let msgs = [];
		try {
			// as this tab's cid: its private messages are in it too
			const r = await fetch(`/api/rooms/${encodeURIComponent(room)}` +
				`/messages?last=${HISTORY_FETCH}` +
				`&cid=${encodeURIComponent(this.cid)}`, { cache: 'no-store' });
			if (!r.ok)
				return;
			msgs = ((await r.json()).messages || [])
				.filter((m) => m.event !== 'join' && m.event !== 'leave' &&
					m.event !== 'presence')
				.slice(-HISTORY_SHOWN);
		} catch {
			return;
		}
		const log = this.logs.get(room);
		msgs = msgs.filter((m) => !this.seen.has(m.id));
		if (!log || !msgs.length)
			return;
		const stick = room === this.current && this.atBottom();
		const frag = document.createDocumentFragment();
		for (const env of msgs) {
			this.seen.add(env.id);
			frag.append(this.node(env, null, true));
		}
		frag.append(el('div', { class: 'msg system history-note',
			'data-event': 'system' }, el('span', { class: 'text' },
			`↑ history: the last ${msgs.length} message` +
			`${msgs.length === 1 ? '' : 's'} before you joined ${room}`)));
		if (log.empty) {
			log.empty.remove();
			log.empty = null;
		}
		const last = msgs[msgs.length - 1].id;
		const after = [...log.node.children].find((n) =>
			n.dataset.id && Number(n.dataset.id) > last);
		log.node.insertBefore(frag, after || null);
		if (stick)
			this.scrollDown(true);
	}

	join(room) {
		if (!ROOM_RE.test(room)) {
			this.error('a room name is 1–64 of A–Z a–z 0–9 _ . -');
			return false;
		}
		const max = (this.info.limits && this.info.limits.rooms_per_sub) || 16;
		if (!this.rooms.includes(room)) {
			if (this.rooms.length >= max) {
				this.error(`at most ${max} rooms per connection`);
				return false;
			}
			this.rooms.push(room);
			this.saveRooms();
			this.logFor(room);
			if (this.rooms.length === 1) {
				const since = this.client.resumeCursor();
				this.client.close();
				this.connect(since);
			} else
				this.client.setRooms(this.rooms);
		}
		this.select(room);
		return true;
	}

	leave(room) {
		this.rooms = this.rooms.filter((r) => r !== room);
		this.saveRooms();
		const log = this.logs.get(room);
		if (log)
			log.node.remove();
		this.logs.delete(room);
		this.client.setRooms(this.rooms);
		if (this.current === room)
			this.select(this.rooms[0] || null);
		else
			this.renderRooms();
	}

	saveRooms() {
		save(sessionStorage, 'imlab.rooms', this.rooms.join(','));
	}

	select(room) {
		if (room !== this.current)
			this.privateTo(null);	// a member of the other room
		this.current = room;
		for (const [name, log] of this.logs)
			log.node.hidden = name !== room;
		if (room) {
			this.logs.get(room).unread = 0;
			this.els.text.placeholder = `Message ${room} — Enter sends, ` +
				'Shift+Enter adds a line';
		}
		this.els.text.disabled = !room;
		this.renderRooms();
		this.scrollDown(true);
		this.refreshMembers();
	}

	renderRooms() {
		const ul = this.els.rooms;
		ul.replaceChildren(...this.rooms.map((room) => {
			const log = this.logs.get(room);
			return el('li', { 'data-room': room,
				'aria-current': String(room === this.current),
				onclick: () => this.select(room) },
			el('span', { class: 'name', title: room }, room),
			log && log.unread ? el('span', { class: 'unread' },
				log.unread > 99 ? '99+' : log.unread) : null,
			el('button', { type: 'button', class: 'ghost', title: `leave ${room}`,
				'aria-label': `leave ${room}`,
				onclick: (e) => {
					e.stopPropagation();
					this.leave(room);
				} }, '×'));
		}));
		if (!this.rooms.length)
			ul.append(el('li', { class: 'muted' }, 'no rooms: join one'));
	}

	async refreshMembers() {
		const room = this.current;
		const E = this.els;
		E.membersRoom.textContent = room ? `in ${room}` : '';
		if (!room) {
			E.members.replaceChildren();
			return;
		}
		let members = [];
		try {
			const r = await fetch(`/api/rooms/${encodeURIComponent(room)}`,
				{ cache: 'no-store' });
			if (r.ok)
				members = (await r.json()).members || [];
		} catch {
			return;
		}
		if (room !== this.current)
			return;
		members.sort((a, b) => String(a.from).localeCompare(String(b.from)));
		const me = this.myPid || this.client.pid;
		for (const m of members)
			this.names.set(m.pid, m.from);
		E.members.replaceChildren(...members.map((m) => el('li',
			{ 'data-pid': m.pid, class: m.pid === me ? '' : 'can-dm',
				title: m.pid === me ? `you: public id ${m.pid}` :
					`click to talk to ${m.from} privately ` +
					`(public id ${m.pid})`,
				onclick: m.pid === me ? null :
					() => this.privateTo(m.pid, m.from) },
			el('span', { class: 'via', 'data-tp': m.transport }, m.transport),
			el('span', { class: 'name' }, m.from),
			m.pid && m.pid === me ?
				el('span', { class: 'you' }, 'you') : null)));
		if (!members.length)
			E.members.append(el('li', { class: 'muted small' }, 'nobody yet'));
		const to = E.to.value;
		if (to.startsWith('pid:') && !members.some((m) =>
			`pid:${m.pid}` === to)) {
			const name = this.names.get(to.slice(4)) || 'that member';
			this.privateTo(null);
			this.system(room, `${name} left: messages go to the room again`,
				'warn');
		}
		this.markMembers();
	}

	// --- messages ---------------------------------------------------------

	onMessage(env) {
		this.showCursor();
		if (this.seen.has(env.id))
			return;			// already shown: a resume overlap
		if (!this.logs.has(env.room))
			return;			// a room we left
		this.seen.add(env.id);
		this.render(env);
		if ((env.event === 'join' || env.event === 'leave' ||
		     env.event === 'presence') && env.room === this.current)
			this.refreshMembers();
	}

	atBottom() {
		const m = this.els.messages;
		return m.scrollHeight - m.scrollTop - m.clientHeight < 60;
	}

	scrollDown(force) {
		const m = this.els.messages;
		if (force || this.stick)
			m.scrollTop = m.scrollHeight;
	}

	append(room, node) {
		const log = this.logFor(room);
		this.stick = room === this.current && this.atBottom();
		if (log.empty) {
			log.empty.remove();
			log.empty = null;
		}
		log.node.append(node);
		while (log.node.childElementCount > MAX_PER_ROOM)
			log.node.firstElementChild.remove();
		if (room !== this.current && node.classList.contains('chat')) {
			log.unread++;
			this.renderRooms();
		}
		this.scrollDown(false);
	}

	system(room, text, tone = '') {
		if (!room || !this.logs.has(room))
			return;
		this.append(room, el('div', { class: `msg system ${tone}`,
			'data-event': 'system' },
		el('span', { class: 'time' }, fmtTime(Date.now())),
		el('span', { class: 'text' }, text)));
	}

	render(env, local = null) {
		this.append(env.room, this.node(env, local, false));
	}

	// The element for one envelope; `local` names the target of a message
	// this tab sent that the server does not echo; `old`: from history.
	node(env, local, old) {
		const data = env.data;
		if (env.event === 'join' || env.event === 'leave') {
			const tp = data && data.transport;
			return el('div', { class: 'msg system', 'data-id': env.id,
				'data-event': env.event, 'data-room': env.room },
			el('span', { class: 'time' }, fmtTime(env.ts)),
			el('span', { class: 'text' }, `${env.from} ` +
				(env.event === 'join' ? 'joined' : 'left') +
				(tp ? ` (${tp})` : '')),
			tp ? el('span', { class: 'via', 'data-tp': tp }, tp) : null);
		}
		if (env.event === 'presence' && data &&
		    typeof data === 'object') {
			// a big room's batch: counts, and the first few names
			const names = (data.join || []).map((j) => j.from);
			const more = (data.joined || 0) - names.length;
			return el('div', { class: 'msg system', 'data-id': env.id,
				'data-event': env.event, 'data-room': env.room },
			el('span', { class: 'time' }, fmtTime(env.ts)),
			el('span', { class: 'text' }, `${data.joined || 0} ` +
				`joined${names.length ? ` (${names.join(', ')}` +
				`${more > 0 ? ` and ${more} more` : ''})` : ''}, ` +
				`${data.left || 0} left; ${data.members} here`));
		}
		const own = data && typeof data === 'object' &&
			this.sentKeys.has(data.k);
		if (own && env.pid)
			this.myPid = env.pid;
		let text, json = false;
		const img = imageNode(data);
		if (typeof data === 'string') {
			text = data;
		} else if (data && typeof data.text === 'string') {
			text = data.text;
		} else if (img) {
			text = '';
		} else {
			text = JSON.stringify(data);
			json = true;
		}
		// A direct message: to this tab, or from it to one member.
		const dm = typeof env.to === 'string' && env.to.startsWith('pid:') ?
			env.to.slice(4) : null;
		let dmLabel = null;
		if (dm) {
			const mine = own || (env.pid && env.pid === this.myPid);
			// a private message not from this tab can only be to it
			dmLabel = mine && dm !== env.pid ? `private → ` +
				(this.names.get(dm) || dm.slice(0, 8)) : 'private, to you';
		}
		// Latency: the sender's clock at send → this tab's at receipt.
		let lat = '', latTitle = '';
		if (old) {
			lat = 'history';
			latTitle = 'fetched from the room\'s history when you joined';
		} else if (local) {
			lat = 'not echoed';
			latTitle = 'sent to others: the server does not send it back to you';
		} else if (data && typeof data.t === 'number') {
			const ms = clockNow() - data.t;
			lat = (own ? '' : '≈') + fmtMs(ms);
			latTitle = own ? 'delivery latency, measured on this tab\'s clock ' +
				'from send to receipt' : 'delivery latency from the sender\'s ' +
				'clock to this tab\'s (same machine: same clock)';
		} else if (env.ts) {
			lat = '≈' + fmtMs(Date.now() - env.ts);
			latTitle = 'now minus the server\'s publish time (ts)';
		}
		return el('div', { class: `msg chat${own ? ' own' : ''}` +
			(dm ? ' dm' : ''), 'data-id': env.id, 'data-room': env.room,
			'data-via': env.via, 'data-event': env.event,
			'data-to': dm ? `pid:${dm}` : null },
		el('div', { class: 'meta' },
			el('span', { class: 'from',
				style: `color: hsl(${hueOf(env.pid || env.from)} 55% 38%)`,
				title: `public id ${env.pid || '?'}` }, env.from),
			el('span', { class: 'via', 'data-tp': env.via,
				title: `sent over ${LABEL[env.via] || env.via}` }, env.via),
			env.event !== 'chat' ? el('span', { class: 'event' },
				`event: ${env.event}`) : null,
			local ? el('span', { class: 'target' }, `→ ${local}`) : null,
			dmLabel ? el('span', { class: 'target private',
				title: 'a direct message: only its sender and its ' +
					'recipient receive it' }, dmLabel) : null,
			el('span', { class: 'lat', title: latTitle }, lat),
			el('span', { class: 'time' }, fmtTime(env.ts)),
			el('span', { class: 'id', title: `id ${env.id}` }, shortId(env.id))),
		el('div', { class: `text${json ? ' json' : ''}` }, text), img);
	}

	error(text) {
		this.els.sendErr.textContent = text;
		clearTimeout(this.errTimer);
		this.errTimer = setTimeout(() => {
			this.els.sendErr.textContent = '';
		}, 6000);
	}

	async sendText() {
		const E = this.els;
		const text = E.text.value;
		const room = this.current;
		if (!text.trim() || !room)
			return;
		const to = E.to.value;
		const k = randomKey(10);
		const data = { text, t: clockNow(), k };
		this.sentKeys.add(k);
		E.text.value = '';
		const c = this.client;
		try {
			const ack = await c.send(room, 'chat', data, to);
			E.sendErr.textContent = '';
			if (to === 'others' && ack && !this.seen.has(ack.id)) {
				this.seen.add(ack.id);
				this.render({ id: ack.id, room, event: 'chat', from: this.name,
					pid: this.myPid, via: c.transport, data,
					ts: ack.ts }, 'others');
			}
		} catch (e) {
			this.error(`not sent: ${e.message}`);
			if (!E.text.value)
				E.text.value = text;
		}
	}

	// Sends an image file as {image: {_binary}, type, name}, with what is
	// in the text box as its caption, to the chosen target.
	async sendImage(file) {
		const E = this.els;
		const room = this.current;
		if (!room || !file)
			return;
		const lim = this.info.limits || {};
		// the body (HTTP) and the send op (/ws) both have to fit
		const max = Math.min(lim.max_body || 65536, lim.ws_max_msg || 65536);
		let enc;
		try {
			enc = await encodeImage(file, max);
		} catch (e) {
			this.error(`image not sent: ${e.message}`);
			return;
		}
		const k = randomKey(10);
		const data = { image: { _binary: enc.b64 }, type: enc.type,
			name: String(file.name || 'pasted image').slice(0, 100),
			width: enc.width, height: enc.height, t: clockNow(), k };
		const caption = E.text.value.trim();
		if (caption)
			data.text = caption;
		this.sentKeys.add(k);
		const to = E.to.value;
		const c = this.client;
		try {
			const ack = await c.send(room, 'chat', data, to);
			E.sendErr.textContent = '';
			if (caption)
				E.text.value = '';
			if (to === 'others' && ack && !this.seen.has(ack.id)) {
				this.seen.add(ack.id);
				this.render({ id: ack.id, room, event: 'chat', from: this.name,
					pid: this.myPid, via: c.transport, data,
					ts: ack.ts }, 'others');
			}
		} catch (e) {
			this.error(`image not sent: ${e.message}`);
		}
	}
}
