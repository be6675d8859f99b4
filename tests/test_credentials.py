"""Credentials die with their owner: removal, sign-out and a password change revoke at once.

Against real servers in both configurations (memory + SQLite, Redis + PostgreSQL), and against two
``mayday server`` processes on one Redis: a revoked agent's token is refused over REST with the
documented error body and on a new socket, and its open socket is closed; a well-signed token of an
agent that does not exist is refused; a web visitor whose site is removed loses its socket.

Sign-out and the password change are tested with the periodic credential check switched off
(``credential_check_s`` an hour), so the socket closing proves the immediate path; removal by the
CLI, which no server hears of, relies on that check, so those tests run it often.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import socketio

from server.appkeys import ORIGINS, RECORDS, SIGNER
from server.auth import TokenSigner, hash_device_secret, new_device_secret

from .conftest import AGENT_PASSWORD, Desk, DeskFactory
from .fleet import PASSWORD, Fleet, run_fleet
from .support import Client, agent_auth, assert_eventually, device_auth, login

pytestmark = pytest.mark.timeout(90)

NEVER = 3600.0
"""A credential check period no test outlives: only the immediate path can close a socket."""
REVOKED = "the agent token was revoked (signed out or password changed); sign in again"
GONE = "this agent account no longer exists"
SHOP = "https://shop.example"


async def _rest(
    http: aiohttp.ClientSession,
    url: str,
    path: str,
    token: str,
    body: Any = None,
    *,
    method: str = "GET",
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.request(method, f"{url}{path}", json=body, headers=headers) as response:
        return response.status, await response.json()


def _refusal(status: int, body: Any, message: str) -> None:
    """The documented error body of a refused token, and nothing else."""
    assert (status, body) == (401, {"error": {"code": "unauthorized", "message": message}})


async def _socket_refused(client: Client, auth: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(auth)
    error: dict[str, Any] = client.connect_error["data"]["error"]
    return error


async def _closed(client: Client) -> None:
    await assert_eventually(
        lambda: not client.sio.connected, message="the revoked socket stayed open"
    )


# --- one process ----------------------------------------------------------------------------------


async def test_a_removed_agent_loses_rest_and_its_socket(make_desk: DeskFactory) -> None:
    desk = await make_desk(credential_check_s=0.2)
    agent = await desk.agent("alice")
    token = await desk.token("alice")
    assert (await desk.get("/api/queue", token))[0] == 200
    assert await desk.app[RECORDS].remove_agent("alice")  # what `mayday agents remove` does
    _refusal(*await desk.get("/api/queue", token), GONE)
    _refusal(*await desk.get("/api/sessions/ses_any", token), GONE)
    await _closed(agent)
    error = await _socket_refused(desk.client("agent"), agent_auth(token))
    assert error == {"code": "unauthorized", "message": GONE}


async def test_sign_out_revokes_every_token_of_the_agent_at_once(make_desk: DeskFactory) -> None:
    desk = await make_desk(credential_check_s=NEVER)
    await desk.add_agent("alice")
    this_browser, other_browser = await desk.token("alice"), await desk.token("alice")
    agent = await desk.client("agent").connect(agent_auth(other_browser))
    bystander = await desk.agent("bob")
    status, body = await _rest(
        desk.http, desk.url, "/api/agents/logout", this_browser, method="POST"
    )
    assert (status, body) == (200, {"ok": True})
    for token in (this_browser, other_browser):
        _refusal(*await desk.get("/api/queue", token), REVOKED)
        _refusal(
            *await _rest(desk.http, desk.url, "/api/agents/refresh", token, method="POST"),
            REVOKED,
        )
    await _closed(agent)
    error = await _socket_refused(desk.client("agent"), agent_auth(other_browser))
    assert error == {"code": "unauthorized", "message": REVOKED}
    # Signing in again works, and nobody else was signed out.
    fresh = await desk.token("alice")
    assert (await desk.get("/api/queue", fresh))[0] == 200
    await desk.client("agent").connect(agent_auth(fresh))
    assert bystander.sio.connected
    assert await bystander.call("presence.set", {"status": "away"}) == {
        "ok": True,
        "status": "away",
    }


async def test_a_password_change_revokes_the_old_tokens(make_desk: DeskFactory) -> None:
    desk = await make_desk(credential_check_s=NEVER)
    agent = await desk.agent("alice")
    token = await desk.token("alice")
    path, new_password = "/api/agents/password", "a brand new password"

    async def change(body: Any, with_token: str = token) -> tuple[int, Any]:
        return await _rest(desk.http, desk.url, path, with_token, body, method="POST")

    status, body = await change({"password": "wrong guess", "new_password": new_password})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = await change({"password": AGENT_PASSWORD, "new_password": "short"})
    assert (status, body["error"]["code"]) == (400, "bad_request")
    assert "new_password" in body["error"]["message"]
    # Refused changes changed nothing: the token and the socket are still good.
    assert (await desk.get("/api/queue", token))[0] == 200
    assert agent.sio.connected

    status, body = await change({"password": AGENT_PASSWORD, "new_password": new_password})
    assert status == 200
    assert body["agent"]["name"] == "alice"
    fresh = body["token"]
    _refusal(*await desk.get("/api/queue", token), REVOKED)
    await _closed(agent)
    assert (await desk.get("/api/queue", fresh))[0] == 200
    await desk.client("agent").connect(agent_auth(fresh))
    async with desk.http.post(
        f"{desk.url}/api/agents/login", json={"name": "alice", "password": AGENT_PASSWORD}
    ) as response:
        assert response.status == 401
    await login(desk.http, desk.url, "alice", new_password)


async def test_a_well_signed_token_of_no_agent_is_refused(desk: Desk) -> None:
    signer: TokenSigner = desk.app[SIGNER]
    ghost, _ = signer.issue("agt_nobody000000000", "ghost")
    _refusal(*await desk.get("/api/queue", ghost), GONE)
    _refusal(*await desk.get("/api/ice-servers", ghost), GONE)
    error = await _socket_refused(desk.client("agent"), agent_auth(ghost))
    assert error == {"code": "unauthorized", "message": GONE}
    # A real agent, but a generation the records never gave out: revoked, not honoured.
    await desk.add_agent("alice")
    row = await desk.app[RECORDS].agent_by_name("alice")
    assert row is not None
    future, _ = signer.issue(row.id, row.name, generation=row.token_generation + 1)
    _refusal(*await desk.get("/api/queue", future), REVOKED)


async def test_a_web_visitor_of_a_removed_site_loses_its_socket(make_desk: DeskFactory) -> None:
    desk = await make_desk(credential_check_s=0.2, sites_refresh_s=0.1)
    records = desk.app[RECORDS]
    site = await records.add_site("shop", [SHOP])
    await assert_eventually(lambda: desk.app[ORIGINS].site_allows(SHOP))
    secret = new_device_secret()
    visitor = await records.add_device("visitor", hash_device_secret(secret), site_id=site.id)
    auth = device_auth({"device_id": visitor.id, "device_secret": secret})
    client = desk.client("device")
    await client.sio.connect(
        desk.url,
        namespaces=["/device"],
        auth=auth,
        transports=["websocket"],
        headers={"Origin": SHOP},
        wait_timeout=10,
    )
    plain, _ = await desk.device("tablet")
    assert await records.remove_site("shop")  # what `mayday sites remove` does
    await _closed(client)
    assert plain.sio.connected  # a device of no site is not touched


# --- two processes on one Redis -------------------------------------------------------------------


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@contextlib.asynccontextmanager
async def _closing(fleet: Fleet) -> AsyncIterator[None]:
    """Close the fleet's clients before its processes stop."""
    try:
        yield
    finally:
        for client in fleet.clients:
            with contextlib.suppress(Exception):
                await client.close()


@pytest.fixture
def quiet_fleet(redis_server: str, tmp_path: Path) -> Iterator[Fleet]:
    """Two processes that never re-check open sockets: only the immediate path closes them."""
    with run_fleet(redis_server, tmp_path, credential_check_s=str(NEVER)) as running:
        yield running


@pytest.fixture
def watchful_fleet(redis_server: str, tmp_path: Path) -> Iterator[Fleet]:
    with run_fleet(redis_server, tmp_path, credential_check_s="0.2") as running:
        yield running


async def test_sign_out_on_one_process_holds_on_the_other(
    quiet_fleet: Fleet, http: aiohttp.ClientSession
) -> None:
    quiet_fleet.add_agents("alice")
    first, second = quiet_fleet.urls
    async with _closing(quiet_fleet):
        token = str((await login(http, first, "alice", PASSWORD))["token"])
        agent = Client(second, "agent")
        quiet_fleet.clients.append(agent)
        await agent.connect(agent_auth(token))
        assert (await agent.call("presence.set", {"status": "available"}))["ok"] is True
        status, body = await _rest(http, first, "/api/agents/logout", token, method="POST")
        assert (status, body) == (200, {"ok": True})
        _refusal(*await _rest(http, second, "/api/queue", token), REVOKED)
        await _closed(agent)
        error = await _socket_refused(Client(second, "agent"), agent_auth(token))
        assert error == {"code": "unauthorized", "message": REVOKED}


async def test_removal_by_the_cli_holds_on_every_process(
    watchful_fleet: Fleet, http: aiohttp.ClientSession
) -> None:
    watchful_fleet.add_agents("alice")
    first, second = watchful_fleet.urls
    async with _closing(watchful_fleet):
        token = str((await login(http, first, "alice", PASSWORD))["token"])
        agents = [Client(url, "agent") for url in (first, second)]
        for agent in agents:
            watchful_fleet.clients.append(agent)
            await agent.connect(agent_auth(token))
        # The newer socket replaced the older one (one socket per identity): it is on `second`.
        await _closed(agents[0])
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "mayday.cli", "agents", "remove", "alice"],
            check=True,
            env=watchful_fleet.env,
            capture_output=True,
        )
        for url in (first, second):
            _refusal(*await _rest(http, url, "/api/queue", token), GONE)
        await _closed(agents[1])
