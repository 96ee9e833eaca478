// SPDX-License-Identifier: MIT
// doc: the pages the server serves under /doc/ (the tutorial lesson.md,
// transports.md, protocol.md, ...), fetched as Markdown and rendered in
// the page with the npm package marked (from /vendor/). Links between the
// pages become #doc/NAME, so they stay in the page; links into the views
// (#race, #learn/handshake) work as they are. The pages are the server's
// own files, but what marked emits is still stripped of scripts and
// event handlers before it is shown.
import { el } from './util.js';

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const PAGES = [['lesson', 'Lesson'], ['transports', 'Transports'],
	['protocol', 'Protocol'], ['websocket', 'WebSocket'],
	['benchmarks', 'Benchmarks'], ['config', 'Configuration']];

const slug = (s) => s.toLowerCase().trim().replace(/[^\w\s-]/g, '')
	.replace(/\s+/g, '-');

export class Doc {
	constructor(root) {
		this.root = root;
		this.page = el('article', { class: 'doc-page', 'data-doc-page': '' });
		root.append(el('nav', { class: 'doc-nav', 'aria-label': 'Pages' },
			PAGES.map(([n, label]) => el('a', { href: `#doc/${n}` }, label))),
		this.page);
		this.name = '';
	}

	async load() {
		if (!this.marked)
			this.marked = (await import('/vendor/marked/lib/marked.esm.js'))
				.marked;
		return this.marked;
	}

	// Shows page `name` (default lesson), scrolled to heading `frag`.
	async open(arg) {
		const [name0, frag] = String(arg || '').split('/');
		const name = NAME_RE.test(name0 || '') ? name0 : 'lesson';
		if (name !== this.name) {
			this.root.dataset.doc = '';
			let md;
			try {
				const r = await fetch(`/doc/${name}.md`, { cache: 'no-store' });
				if (!r.ok)
					throw new Error(`HTTP ${r.status}`);
				md = await r.text();
			} catch (e) {
				this.page.replaceChildren(el('p', { class: 'bad' },
					`/doc/${name}.md: ${e.message}`));
				return;
			}
			let marked;
			try {
				marked = await this.load();
			} catch {
				this.page.replaceChildren(el('p', {}, 'Rendering needs the ' +
					'npm package marked (npm install in the source tree); ' +
					'the raw page: '), el('pre', {}, md));
				return;
			}
			this.render(marked.parse(md), name);
			this.name = name;
			this.root.dataset.doc = name;
		}
		const target = frag && this.page.querySelector(`#${CSS.escape(frag)}`);
		(target || this.root).scrollIntoView();
	}

	render(html, name) {
		const tpl = document.createElement('template');
		tpl.innerHTML = html;
		const frag = tpl.content;
		for (const n of frag.querySelectorAll('script, iframe, object, embed'))
			n.remove();
		for (const n of frag.querySelectorAll('*'))
			for (const a of [...n.attributes])
				if (/^on/i.test(a.name) || /^\s*javascript:/i.test(a.value))
					n.removeAttribute(a.name);
		for (const h of frag.querySelectorAll('h1, h2, h3, h4'))
			if (!h.id)
				h.id = slug(h.textContent);
		for (const a of frag.querySelectorAll('a[href]')) {
			const href = a.getAttribute('href');
			const m = /^(?:\.\/|\/doc\/|doc\/)?([A-Za-z0-9_-]+)\.md(?:#(.*))?$/
				.exec(href);
			if (m)
				a.setAttribute('href', `#doc/${m[1]}${m[2] ? '/' + m[2] : ''}`);
			else if (/^#[a-z]/.test(href) && !/^#(chat|race|learn|doc)\b/
				.test(href))
				a.setAttribute('href', `#doc/${name}/` +
					href.slice(1));
		}
		this.page.replaceChildren(frag);
	}
}
