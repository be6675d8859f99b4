"""Load generator: many idle Socket.IO clients on ``/device``, speaking the wire protocol themselves.

python-socketio's client costs a task, a queue and a handful of objects per connection and a lot
of CPU per connect; here each connection is one aiohttp websocket and one task that answers the
server's Engine.IO pings, so a few worker processes hold tens of thousands of sockets while the
server, not the client, sets the pace.

The protocol (docs/protocol.md §2, §4), Engine.IO v4 / Socket.IO v5 text frames:

* the server opens with ``0{"sid":…,"pingInterval":10000,…}`` (Engine.IO OPEN);
* the client connects to the namespace with ``40/device,{auth json}`` (MESSAGE + CONNECT);
* the server answers ``40/device,{"sid":…}``, or ``44/device,{…}`` (CONNECT_ERROR) if refused;
* every ``pingInterval`` the server sends ``2`` (PING) and the client answers ``3`` (PONG).

Run by :mod:`bench.connections` as ``python -m bench._sioload URL CREDENTIALS.json``, one
command per line on stdin, one JSON answer per line on stdout:

* ``connect K CONCURRENCY``: connect the next K devices of the list, at most CONCURRENCY at once;
* ``closeall``: close every open connection;
* ``report``: how many connections are open, closed, and how many pings they answered;
* ``quit``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CONNECT_TIMEOUT_S = 60.0


class Refused(Exception):
    pass


@dataclass
class Connection:
    ws: aiohttp.ClientWebSocketResponse
    pings: int = 0
    closed: bool = False
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Worker:
    def __init__(self, url: str, credentials: list[dict[str, Any]]) -> None:
        self.ws_url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.credentials = credentials
        self.next_index = 0
        self.connections: list[Connection] = []
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=True))

    async def connect_batch(self, count: int, concurrency: int) -> dict[str, Any]:
        batch = self.credentials[self.next_index : self.next_index + count]
        self.next_index += len(batch)
        gate = asyncio.Semaphore(concurrency)
        latencies: list[float] = []
        errors: collections.Counter[str] = collections.Counter()

        async def one(auth: dict[str, Any]) -> None:
            async with gate:
                started = time.monotonic()
                try:
                    connection = await asyncio.wait_for(self._connect(auth), CONNECT_TIMEOUT_S)
                except Exception as exc:
                    errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
                    return
                latencies.append(round((time.monotonic() - started) * 1000, 3))
                self.connections.append(connection)

        started = time.monotonic()
        await asyncio.gather(*(one(auth) for auth in batch))
        return {
            "connected": len(latencies),
            "failed": sum(errors.values()),
            "errors": dict(errors),
            "latencies_ms": latencies,
            "started": started,
            "finished": time.monotonic(),
        }

    async def _connect(self, auth: dict[str, Any]) -> Connection:
        ws = await self.http.ws_connect(self.ws_url, autoping=True, max_msg_size=0)
        try:
            opened = await ws.receive()
            if opened.type is not aiohttp.WSMsgType.TEXT or not opened.data.startswith("0"):
                raise ConnectionError(f"no Engine.IO open packet: {opened.type.name}")
            await ws.send_str("40/device," + json.dumps(auth, separators=(",", ":")))
            while True:
                message = await ws.receive()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    raise ConnectionError(f"closed while connecting: {message.type.name}")
                if message.data == "2":
                    await ws.send_str("3")
                elif message.data.startswith("40/device,"):
                    break
                elif message.data.startswith("44/device,"):
                    raise Refused(message.data[len("44/device,") :][:200])
        except BaseException:
            await ws.close()
            raise
        connection = Connection(ws)
        connection.task = asyncio.create_task(self._idle(connection))
        return connection

    async def _idle(self, connection: Connection) -> None:
        """Sit on the socket, answering pings, until it closes."""
        ws = connection.ws
        with contextlib.suppress(Exception):
            async for message in ws:
                if message.type is aiohttp.WSMsgType.TEXT and message.data == "2":
                    connection.pings += 1
                    await ws.send_str("3")
        connection.closed = True

    def report(self) -> dict[str, Any]:
        open_ = [c for c in self.connections if not c.closed and not c.ws.closed]
        return {
            "open": len(open_),
            "closed": len(self.connections) - len(open_),
            "pings_min": min((c.pings for c in open_), default=0),
            "pings_total": sum(c.pings for c in self.connections),
        }

    async def close_all(self) -> dict[str, Any]:
        connections, self.connections = self.connections, []
        await asyncio.gather(*(c.ws.close() for c in connections), return_exceptions=True)
        await asyncio.gather(*(c.task for c in connections if c.task), return_exceptions=True)
        return {"closed": len(connections)}

    async def close(self) -> None:
        await self.close_all()
        await self.http.close()


async def serve(url: str, credentials: list[dict[str, Any]]) -> None:
    worker = Worker(url, credentials)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(data: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    answer({"ready": len(credentials)})
    try:
        while line := (await reader.readline()).decode().split():
            command, *rest = line
            if command == "connect":
                answer(await worker.connect_batch(int(rest[0]), int(rest[1])))
            elif command == "report":
                answer(worker.report())
            elif command == "closeall":
                answer(await worker.close_all())
            elif command == "quit":
                break
            else:
                answer({"error": f"unknown command {command!r}"})
    finally:
        await worker.close()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], json.loads(Path(sys.argv[2]).read_text())))
