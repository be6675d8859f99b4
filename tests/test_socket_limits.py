"""Engine.IO connections are bounded: per client address, and in time without a signed-in namespace.

Raw websockets speak Engine.IO here (``0`` open, ``2``/``3`` ping/pong, ``40``/``44`` Socket.IO
connect and refusal), so a test can hold a connection that never signs in, which no Socket.IO
client library does. Nothing is timed: a test waits (with a deadline) for the server to close the
idle connection, and checks that a signed-in connection opened *before* it is still open then, so
it was not closed for its age.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from typing import Any

import aiohttp
import pytest

from .conftest import MEMORY_ONLY, Desk, DeskFactory
from .support import DEFAULT_TIMEOUT, agent_auth, assert_eventually

pytestmark = pytest.mark.timeout(90)

ENGINE_IO = "/socket.io/?EIO=4&transport=websocket"
AUTH_TIMEOUT_S = 2.0
"""The sign-in window of these desks: the clock starts when the server admits the connection,
before its Engine.IO handshake, so a window of half a second closed a connection before its
opening packet once, on a loaded CI machine; short enough still to wait for the close."""


async def _open(desk: Desk, **headers: str) -> aiohttp.ClientWebSocketResponse:
    """An Engine.IO connection that has done its handshake and nothing else."""
    ws = await desk.http.ws_connect(f"{desk.url}{ENGINE_IO}", headers=headers)
    opening = await ws.receive(timeout=DEFAULT_TIMEOUT)
    assert opening.type is aiohttp.WSMsgType.TEXT
    assert opening.data.startswith("0{"), opening.data
    return ws


async def _until_closed(ws: aiohttp.ClientWebSocketResponse) -> list[str]:
    """What the server sent until it closed the connection (answering its pings meanwhile)."""
    seen: list[str] = []

    async def read() -> None:
        while True:
            message = await ws.receive()
            if message.type is not aiohttp.WSMsgType.TEXT:
                return
            seen.append(message.data)
            if message.data == "2":
                await ws.send_str("3")

    await asyncio.wait_for(read(), DEFAULT_TIMEOUT)
    return seen


async def _sign_in(ws: aiohttp.ClientWebSocketResponse, auth: dict[str, Any]) -> str:
    """Connect the raw connection to ``/agent``; the server's answer packet."""
    await ws.send_str("40/agent," + json.dumps(auth))
    while True:
        message = await ws.receive(timeout=DEFAULT_TIMEOUT)
        assert message.type is aiohttp.WSMsgType.TEXT, message
        if message.data.startswith(("40/agent", "44/agent")):
            return str(message.data)


async def _handshake_status(desk: Desk, **headers: str) -> tuple[int, Any]:
    """A websocket upgrade by hand, to read the body of a refusal."""
    upgrade = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
        **headers,
    }
    async with desk.http.get(f"{desk.url}{ENGINE_IO}", headers=upgrade) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def test_a_connection_that_never_signs_in_is_closed(make_desk: DeskFactory) -> None:
    desk = await make_desk(socket_auth_timeout_s=AUTH_TIMEOUT_S)
    agent = await desk.agent("alice")  # signed in before the idle one opens
    idle = await _open(desk)
    seen = await _until_closed(idle)
    assert not any(packet.startswith("4") for packet in seen)  # it never got a namespace
    assert agent.sio.connected
    assert await agent.call("presence.set", {"status": "away"}) == {"ok": True, "status": "away"}


async def test_a_refused_sign_in_does_not_keep_the_connection(make_desk: DeskFactory) -> None:
    desk = await make_desk(socket_auth_timeout_s=AUTH_TIMEOUT_S)
    ws = await _open(desk)
    answer = await _sign_in(ws, {"protocol": 1, "token": "garbage"})
    assert answer.startswith("44/agent,")
    assert json.loads(answer.partition(",")[2])["data"]["error"]["code"] == "unauthorized"
    await _until_closed(ws)


@MEMORY_ONLY  # store-independent: once, for the suite's time
async def test_a_connection_is_closed_once_its_last_namespace_left(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk(socket_auth_timeout_s=AUTH_TIMEOUT_S, credential_check_s=3600)
    await desk.add_agent("alice")
    token = await desk.token("alice")
    ws = await _open(desk)
    assert (await _sign_in(ws, agent_auth(token))).startswith("40/agent,")
    idle = await _open(desk)
    await _until_closed(idle)
    assert not ws.closed  # signed in: kept, though it is older than the idle one
    async with desk.http.post(
        f"{desk.url}/api/agents/logout", headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert response.status == 200
    # The server drops the namespace ("41/agent,"); this client does not hang up, the server does.
    seen = await _until_closed(ws)
    assert "41/agent," in seen


async def test_connections_per_address_are_capped(make_desk: DeskFactory) -> None:
    desk = await make_desk(max_connections_per_address=3, socket_auth_timeout_s=60)
    held = [await _open(desk) for _ in range(3)]
    status, body = await _handshake_status(desk)
    assert (status, body) == (
        429,
        {
            "error": {
                "code": "rate_limited",
                "message": "too many connections from your address (3 are open); "
                "close some before opening more",
            }
        },
    )
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await desk.http.ws_connect(f"{desk.url}{ENGINE_IO}")
    assert refused.value.status == 429
    # Another address (as the proxy reports it) has its own count.
    other = await _open(desk, **{"X-Forwarded-For": "203.0.113.7"})
    # A place freed is a place to take again, once the server has seen the connection go.
    await held.pop().close()

    async def admitted() -> bool:
        try:
            held.append(await _open(desk))
        except aiohttp.WSServerHandshakeError as error:
            if error.status != 429:
                raise
            return False
        return True

    await assert_eventually(admitted, message="the freed place was never given again")
    for ws in [*held, other]:
        await ws.close()
