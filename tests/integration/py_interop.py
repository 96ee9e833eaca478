# SPDX-License-Identifier: MIT
"""py_interop: imlab against two third-party Python clients nobody on the
project wrote, Debian's python3-aiohttp and python3-websockets, as
test_py_interop.sh runs it (python3 py_interop.py URL):

- aiohttp with a one-connection pool: a plain GET, then ws_connect() on
  the same kept-alive connection (the upgrade is the connection's second
  request), then hello/join/send over it and a publish over HTTP heard on
  it;
- websockets without a subprotocol, with "imlab" (chosen) and with one
  the server does not speak (the handshake completes without one);
- resuming by since: WebSocket join with since, SSE with Last-Event-ID
  (aiohttp), long poll with since: exactly the messages after the cursor,
  each once, in order.

Every wait is bounded; the first failed check ends the run with status 1.
"""
import asyncio
import json
import sys

import aiohttp
import websockets

URL = sys.argv[1].rstrip("/")
WS_URL = URL.replace("http://", "ws://") + "/ws"
T = 10  # seconds any one step may take


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def ws_op(ws, op):
    """Receives frames until one whose op is op; returns it (a dict)."""
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), T))
        if m.get("op") == op:
            return m


def msgs_of(m):
    """The chat messages a WebSocket frame carries (msg or msgs; presence
    join and leave left out)."""
    if m.get("op") == "msg":
        return [x for x in [m["msg"]] if x["event"] == "chat"]
    if m.get("op") == "msgs":
        return [x for x in m["msgs"] if x["event"] == "chat"]
    return []


async def publish(session, room, n, tag):
    """Publishes n numbered messages over HTTP; returns their ids."""
    ids = []
    for i in range(n):
        async with session.post(
            f"{URL}/api/rooms/{room}/messages",
            json={"event": "chat", "from": "py", "data": {"tag": tag, "i": i}},
        ) as r:
            check(r.status == 201, f"publish: {r.status} {await r.text()}")
            ids.append((await r.json())["id"])
    return ids


async def aiohttp_upgrade_on_a_reused_connection():
    conn = aiohttp.TCPConnector(limit=1)
    timeout = aiohttp.ClientTimeout(total=T)
    made, reused = [], []
    trace = aiohttp.TraceConfig()

    async def on_create(session, ctx, params):
        made.append(1)

    async def on_reuse(session, ctx, params):
        reused.append(1)

    trace.on_connection_create_end.append(on_create)
    trace.on_connection_reuseconn.append(on_reuse)
    async with aiohttp.ClientSession(connector=conn, timeout=timeout,
                                     trace_configs=[trace]) as s:
        async with s.get(f"{URL}/api/rooms") as r:
            check(r.status == 200, f"GET /api/rooms: {r.status}")
            await r.read()
        ws = await s.ws_connect(f"{URL}/ws")
        check(len(made) == 1 and len(reused) == 1,
              f"the upgrade did not reuse the connection: {len(made)} "
              f"made, {len(reused)} reused")
        await ws.send_str(json.dumps({"op": "hello", "cid": "py-aiohttp-01",
                                      "from": "aio"}))
        m = json.loads((await ws.receive(timeout=T)).data)
        check(m["op"] == "hello", f"hello: {m}")
        await ws.send_str(json.dumps({"op": "join", "room": "pyaio"}))
        while m.get("op") != "joined":
            m = json.loads((await ws.receive(timeout=T)).data)
        await ws.send_str(json.dumps({"op": "send", "room": "pyaio",
                                      "event": "chat", "data": "over ws",
                                      "ref": 1}))
        # the pool's one connection is the WebSocket now: another session
        async with aiohttp.ClientSession(timeout=timeout) as s2:
            ids = await publish(s2, "pyaio", 1, "http")
        got, ack = [], None
        while len(got) < 2 or ack is None:
            m = json.loads((await ws.receive(timeout=T)).data)
            if m["op"] == "ack":
                ack = m
            got += msgs_of(m)
        check(ack.get("ref") == 1, f"ack: {ack}")
        check(sorted(x["id"] for x in got) == sorted([ack["id"], ids[0]]),
              f"heard {got}, want {ack['id']} and {ids[0]}")
        await ws.close()
    print("ok aiohttp: upgrade on a reused keep-alive connection")


async def websockets_subprotocols():
    async with websockets.connect(WS_URL, open_timeout=T) as ws:
        check(ws.subprotocol is None, f"none offered: {ws.subprotocol}")
        await ws.send(json.dumps({"op": "ping", "t": 5}))
        check((await ws_op(ws, "pong")).get("t") == 5, "pong")
    async with websockets.connect(WS_URL, subprotocols=["imlab"],
                                  open_timeout=T) as ws:
        check(ws.subprotocol == "imlab", f"imlab: {ws.subprotocol}")
        await ws.send(json.dumps({"op": "ping"}))
        await ws_op(ws, "pong")
    async with websockets.connect(WS_URL, subprotocols=["chat", "v2.x"],
                                  open_timeout=T) as ws:
        check(ws.subprotocol is None, f"unknown: {ws.subprotocol}")
        await ws.send(json.dumps({"op": "ping"}))
        await ws_op(ws, "pong")
    print("ok websockets: with and without a subprotocol")


async def resume_by_since():
    timeout = aiohttp.ClientTimeout(total=T)
    async with aiohttp.ClientSession(timeout=timeout) as s:
        ids = await publish(s, "pyresume", 6, "resume")
        want = ids[2:]
        # WebSocket: join with since
        async with websockets.connect(WS_URL, open_timeout=T) as ws:
            await ws.send(json.dumps({"op": "join", "room": "pyresume",
                                      "since": ids[1]}))
            got = []
            while len(got) < len(want):
                m = json.loads(await asyncio.wait_for(ws.recv(), T))
                check(m.get("op") != "gap", f"gap: {m}")
                got += [x["id"] for x in msgs_of(m)]
            check(got == want, f"ws since: {got}, want {want}")
        # SSE: Last-Event-ID
        async with s.get(f"{URL}/sse?rooms=pyresume",
                         headers={"Last-Event-ID": str(ids[1])}) as r:
            check(r.status == 200, f"sse: {r.status}")
            got = []
            while len(got) < len(want):
                line = (await asyncio.wait_for(r.content.readline(), T))
                line = line.decode().rstrip("\n")
                check(not line.startswith("event: gap"), "sse gap")
                if line.startswith("data: "):
                    e = json.loads(line[6:])
                    if e["event"] == "chat":
                        got.append(e["id"])
            check(got == want, f"sse Last-Event-ID: {got}, want {want}")
        # long poll: since
        async with s.get(f"{URL}/longpoll?rooms=pyresume&since={ids[1]}"
                         f"&timeout=5") as r:
            body = await r.json()
            got = [x["id"] for x in body["messages"]
                   if x["event"] == "chat"]
            check(r.status == 200 and not body["gap"] and got == want,
                  f"longpoll since: {r.status} {body}")
    print("ok resume: WebSocket since, SSE Last-Event-ID, long poll since")


async def main():
    await aiohttp_upgrade_on_a_reused_connection()
    await websockets_subprotocols()
    await resume_by_since()


try:
    asyncio.run(main())
except Exception as e:  # noqa: BLE001 - any failure is the test's
    print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)
