// SPDX-License-Identifier: MIT
// sse: Server-Sent Events (server side: src/tp_sse.c). One long HTTP
// response that never ends: the server writes `id:` and `data:` lines per
// message, with no `event:` line, so every message reaches
// EventSource.onmessage (the event name is inside the envelope; `named=1`
// in the query would add `event:` lines instead). The one named event is
// `gap`. The browser's EventSource parses them, reconnects by itself and
// sends the last id back as Last-Event-ID, so the stream resumes where it
// broke. Sending goes over a separate HTTP POST.
import { BaseClient, wireBus, clip, byteLength } from './base.js';

export class SseClient extends BaseClient {
	constructor(opts) {
		super('sse', opts);
		this.es = null;
		this.errors = 0;
		this.onEvent = (e) => this.event(e);
	}

	start() {
		const path = `/sse?${this.query()}`;
		const es = this.es = new EventSource(this.base + path);
		this.stats.requests++;
		this.errors = 0;
		if (this.wire)
			wireBus.push('sse', { dir: 'out', kind: 'request',
				head: `GET ${path} HTTP/1.1`,
				headers: 'Accept: text/event-stream' });
		es.onopen = () => {
			if (es !== this.es)
				return;
			this.errors = 0;
			if (this.wire)
				wireBus.push('sse', { dir: 'in', kind: 'response',
					head: 'HTTP/1.1 200 OK',
					headers: 'Content-Type: text/event-stream\n' +
						'(stream open: events follow)' });
			this.connected();
		};
		es.onerror = () => {
			if (es !== this.es || this.closed)
				return;
			this.errors++;
			if (es.readyState === EventSource.CLOSED ||
			    this.errors >= 3) {
				// Refused, or keeps failing: back off ourselves.
				es.close();
				this.es = null;
				this.retry(new Error(es.readyState === EventSource.CLOSED ?
					'stream refused' : 'stream keeps failing'),
				() => this.start());
				return;
			}
			// EventSource retries by itself after the server's
			// `retry:` delay, sending Last-Event-ID.
			this.stats.reconnects++;
			this.stats.requests++;
			this.status('reconnecting', 'EventSource retries by itself' +
				(this.cursor ? ` with Last-Event-ID: ${this.cursor}` : ''),
			2000);
		};
		// every message, whatever its event: the default stream
		es.onmessage = this.onEvent;
		es.addEventListener('gap', this.onEvent);
	}

	event(e) {
		if (e.target !== this.es)
			return;
		const named = e.type !== 'message';
		const frame = (!named && e.lastEventId ?
			`id: ${e.lastEventId}\n` : '') +
			(named ? `event: ${e.type}\n` : '') +
			`data: ${e.data}\n\n`;
		this.stats.bytes += byteLength(frame);
		if (this.wire)
			wireBus.push('sse', { dir: 'in', kind: 'event',
				body: clip(frame) });
		let data = null;
		try {
			data = JSON.parse(e.data);
		} catch {
			return;
		}
		if (e.type === 'gap')
			this.gap(data);
		else
			this.deliver(data);
	}

	stop() {
		if (this.es)
			this.es.close();
		this.es = null;
	}
}
