// SPDX-License-Identifier: MIT
// poll: short polling (server side: src/tp_poll.c). Ask "anything after id
// N in these rooms?", get an answer at once — usually "no" — wait a fixed
// interval, ask again. Simple and cache-friendly, but every message waits
// up to one interval and every empty answer costs a full HTTP exchange.
import { BaseClient } from './base.js';

export class PollClient extends BaseClient {
	constructor(opts) {
		super('poll', opts);
		this.interval = opts.pollInterval || 1000;	// ms between polls
		this.timer = null;
		this.ctl = null;
		this.gen = 0;
	}

	start() {
		this.gen++;
		this.once(this.gen);
	}

	stop() {
		this.gen++;
		clearTimeout(this.timer);
		if (this.ctl)
			this.ctl.abort();
		this.ctl = null;
	}

	// A new interval applies from the next wait on.
	setInterval(ms) {
		this.interval = ms;
	}

	async once(gen) {
		if (this.closed || gen !== this.gen || !this.rooms.length)
			return;
		const ctl = this.ctl = new AbortController();
		try {
			const { json } = await this.http('GET',
				`/poll?${this.query()}`, undefined, ctl.signal);
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
			this.timer = setTimeout(() => this.once(gen), this.interval);
		} catch (e) {
			if (gen !== this.gen || this.closed)
				return;
			this.retry(e, () => this.once(gen));
		}
	}
}
