// SPDX-License-Identifier: MIT
// longpoll: held long polling (server side: src/tp_longpoll.c). The same
// question as a short poll, but the server holds the request until a newer
// message exists or `timeout` seconds pass, then answers; the client asks
// again at once. Near-instant delivery over plain HTTP, one request per
// batch of messages, and a request in flight almost all the time.
import { BaseClient } from './base.js';

export class LongPollClient extends BaseClient {
	constructor(opts) {
		super('longpoll', opts);
		this.timeout = opts.longpollTimeout || 25;	// s the server holds
		this.ctl = null;
		this.gen = 0;
	}

	start() {
		this.gen++;
		this.once(this.gen);
	}

	stop() {
		this.gen++;
		if (this.ctl)
			this.ctl.abort();
		this.ctl = null;
	}

	// A new timeout applies to the next request.
	setTimeoutSec(s) {
		this.timeout = s;
	}

	async once(gen) {
		if (this.closed || gen !== this.gen || !this.rooms.length)
			return;
		const ctl = this.ctl = new AbortController();
		// The request is held by design: report "open" while it waits.
		const t = setTimeout(() => {
			if (gen === this.gen)
				this.connected();
		}, 300);
		try {
			const { json } = await this.http('GET',
				`/longpoll?${this.query(`&timeout=${this.timeout}`)}`,
				undefined, ctl.signal);
			clearTimeout(t);
			if (gen !== this.gen)
				return;
			this.connected();
			this.stats.polls++;
			const msgs = (json && json.messages) || [];
			if (!msgs.length)
				this.stats.empty++;
			if (json.gap)
				this.gap({ rooms: this.rooms, since: this.cursor });
			for (const m of msgs)
				this.deliver(m);
			if (json.last_id > this.cursor)
				this.cursor = json.last_id;
			this.once(gen);
		} catch (e) {
			clearTimeout(t);
			if (gen !== this.gen || this.closed)
				return;
			this.retry(e, () => this.once(gen));
		}
	}
}
