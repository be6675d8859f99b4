"""A lean Socket.IO client over one aiohttp websocket, for the big-queue benchmark's many clients.

python-socketio's client costs a task, a queue and a lot of CPU per connection; thousands of them
in one process would set the pace instead of the server. This one speaks just what the benchmark
needs of the wire protocol (docs/protocol.md §2, §4; Engine.IO v4 / Socket.IO v5 text frames):

* ``0{...}`` OPEN from the server, then ``40/<ns>,{auth}`` CONNECT from the client, answered by
  ``40/<ns>,{...}`` (or ``44/<ns>,{...}`` when refused);
* ``2`` PING from the server, answered ``3`` PONG;
* ``42/<ns>,<id>["event",data]`` an event with an ack id, answered ``43/<ns>,<id>[answer]``;
* ``42/<ns>,["event",data]`` an event from the server.

Events are handed to a callback with their name and raw text: most of them (``ticket.update``,
``queue.update``) are only counted, so they are never decoded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from typing import Any

import aiohttp

__all__ = ["Refused", "WireClient"]

_EVENT_NAME = re.compile(r'\["([^"]+)"')


class Refused(Exception):
    """The server refused the namespace connection (``44``)."""


class WireClient:
    """One connected namespace; ``on_event(client, name, raw_json_array)`` sees every event."""

    def __init__(
        self,
        namespace: str,
        on_event: Callable[[WireClient, str, str], None],
        tag: Any = None,
    ) -> None:
        self.namespace = namespace
        self.tag = tag
        """Whatever the owner keeps with the client (its role in the benchmark)."""
        self._prefix_event = f"42/{namespace},"
        self._prefix_ack = f"43/{namespace},"
        self._on_event = on_event
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._acks: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0
        self._reader: asyncio.Task[None] | None = None
        self.closed = False

    async def connect(self, http: aiohttp.ClientSession, url: str, auth: dict[str, Any]) -> None:
        ws_url = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        ws = await http.ws_connect(ws_url, autoping=True, max_msg_size=0)
        try:
            opened = await ws.receive()
            if opened.type is not aiohttp.WSMsgType.TEXT or not opened.data.startswith("0"):
                raise ConnectionError(f"no Engine.IO open packet: {opened.type.name}")
            await ws.send_str(f"40/{self.namespace}," + json.dumps(auth, separators=(",", ":")))
            while True:
                message = await ws.receive()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    raise ConnectionError(f"closed while connecting: {message.type.name}")
                if message.data == "2":
                    await ws.send_str("3")
                elif message.data.startswith(f"40/{self.namespace},"):
                    break
                elif message.data.startswith(f"44/{self.namespace},"):
                    raise Refused(message.data[:200])
        except BaseException:
            await ws.close()
            raise
        self._ws = ws
        self._reader = asyncio.create_task(self._read())

    async def call(self, event: str, data: Any, timeout: float = 60.0) -> Any:
        """Send an event and wait for its ack; the ack's first argument."""
        if self._ws is None:
            raise ConnectionError("not connected")
        self._next_id += 1
        ack_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._acks[ack_id] = future
        payload = json.dumps([event, data], separators=(",", ":"))
        try:
            await self._ws.send_str(f"{self._prefix_event}{ack_id}{payload}")
            return await asyncio.wait_for(future, timeout)
        finally:
            self._acks.pop(ack_id, None)

    async def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        with contextlib.suppress(Exception):
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    continue
                data: str = message.data
                if data == "2":
                    await ws.send_str("3")
                elif data.startswith(self._prefix_event):
                    body = data[len(self._prefix_event) :]
                    match = _EVENT_NAME.match(body)
                    if match is not None:
                        self._on_event(self, match.group(1), body)
                elif data.startswith(self._prefix_ack):
                    body = data[len(self._prefix_ack) :]
                    digits = len(body) - len(body.lstrip("0123456789"))
                    future = self._acks.get(int(body[:digits]))
                    if future is not None and not future.done():
                        answer = json.loads(body[digits:])
                        future.set_result(answer[0] if answer else None)
        self.closed = True
        for future in self._acks.values():
            if not future.done():
                future.set_exception(ConnectionError("the socket closed"))

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(BaseException):
                await self._reader


def event_data(raw: str) -> Any:
    """The data of an event handed to ``on_event`` (decoded only when the caller needs it)."""
    decoded = json.loads(raw)
    return decoded[1] if len(decoded) > 1 else None
