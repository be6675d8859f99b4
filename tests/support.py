"""Test helpers: real socket.io clients that record what they receive, and polling with deadlines."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import socketio

from signaling import PROTOCOL_VERSION

DEFAULT_TIMEOUT = 10.0


class Client:
    """One socket.io connection to a namespace, recording every event in arrival order."""

    def __init__(self, base_url: str, role: str) -> None:
        self.base_url = base_url
        self.role = role
        self.namespace = f"/{role}"
        self.sio = socketio.AsyncClient(reconnection=False)
        self._queues: dict[str, asyncio.Queue[Any]] = defaultdict(asyncio.Queue)
        self.received: list[tuple[str, Any]] = []
        self.connect_error: Any = None
        self.sio.on("*", self._on_any, namespace=self.namespace)
        self.sio.on("connect_error", self._on_connect_error, namespace=self.namespace)

    async def _on_any(self, event: str, data: Any = None) -> None:
        self.received.append((event, data))
        self._queues[event].put_nowait(data)

    async def _on_connect_error(self, data: Any = None) -> None:
        self.connect_error = data

    async def connect(self, auth: dict[str, Any]) -> Client:
        await self.sio.connect(
            self.base_url,
            namespaces=[self.namespace],
            auth=auth,
            transports=["websocket"],
            wait_timeout=DEFAULT_TIMEOUT,
        )
        return self

    async def call(self, event: str, payload: Any = None) -> Any:
        return await self.sio.call(
            event, payload, namespace=self.namespace, timeout=DEFAULT_TIMEOUT
        )

    async def next(self, event: str, timeout: float = DEFAULT_TIMEOUT) -> Any:
        return await asyncio.wait_for(self._queues[event].get(), timeout)

    async def next_matching(
        self, event: str, predicate: Callable[[Any], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            data = await self.next(event, max(0.01, deadline - time.monotonic()))
            if predicate(data):
                return data

    def drain(self, event: str) -> list[Any]:
        items = []
        queue = self._queues[event]
        while not queue.empty():
            items.append(queue.get_nowait())
        return items

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()


async def assert_eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    timeout: float = DEFAULT_TIMEOUT,
    message: str = "condition never became true",
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.02)


async def register_device(
    http: aiohttp.ClientSession, base_url: str, name: str = "tablet"
) -> dict[str, str]:
    async with http.post(f"{base_url}/api/devices", json={"name": name}) as response:
        assert response.status == 201, await response.text()
        body: dict[str, str] = await response.json()
        return body


async def login(
    http: aiohttp.ClientSession, base_url: str, name: str, password: str
) -> dict[str, Any]:
    async with http.post(
        f"{base_url}/api/agents/login", json={"name": name, "password": password}
    ) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


def device_auth(device: dict[str, str]) -> dict[str, Any]:
    return {
        "protocol": PROTOCOL_VERSION,
        "device_id": device["device_id"],
        "device_secret": device["device_secret"],
    }


def agent_auth(token: str) -> dict[str, Any]:
    return {"protocol": PROTOCOL_VERSION, "token": token}
