// SPDX-License-Identifier: MIT
// client: one interface over the four transports (see base.js for it).
import { PollClient } from './poll.js';
import { LongPollClient } from './longpoll.js';
import { SseClient } from './sse.js';
import { SioClient } from './sio.js';
import { WsClient } from './ws.js';

export { wireBus } from './base.js';

const KINDS = { poll: PollClient, longpoll: LongPollClient, sse: SseClient,
	ws: WsClient, sio: SioClient };

// A client of `transport` for opts {cid, from, rooms, since, events,
// pollInterval, longpollTimeout, wire}; call start() to connect.
export function createClient(transport, opts) {
	const Kind = KINDS[transport];
	if (!Kind)
		throw new Error(`unknown transport ${transport}`);
	return new Kind(opts);
}
