"""A server process that dies (``kill -9``) must not leave remote control granted past its lease.

Two processes share one Redis. A device and an agent are in a session with control granted; the
process holding one of them, or both, is killed. Whoever lost their socket reconnects to the other
process, either within the lease (control was suspended at the loss and resumes) or after it
(control is gone: ``none``, reason ``expired``, and the agent's next input is refused). The loss
counts from the dead process's last heartbeat, not from when another process noticed it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server.desk.sweeper import SWEEP_INTERVAL_S

from .fleet import PASSWORD, Fleet, run_fleet
from .support import Client, agent_auth, device_auth, login, register_device

LEASE_S = 6.0
TAP = {"type": "tap", "x": 0.5, "y": 0.5}
DEAD, ALIVE = 0, 1
PLACES = {
    # who dies: (the device's process, the agent's process); process DEAD is killed
    "both": (DEAD, DEAD),
    "device": (DEAD, ALIVE),
    "agent": (ALIVE, DEAD),
}


@pytest.fixture
async def fleet(redis_server: str, tmp_path: Path) -> AsyncIterator[Fleet]:
    with run_fleet(redis_server, tmp_path, control_lease_s=str(LEASE_S)) as running:
        yield running
        for client in running.clients:
            await client.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@dataclass
class Parties:
    """A session with control granted, and how to reconnect each side."""

    session_id: str
    device: Client
    agent: Client
    device_credentials: dict[str, str]
    token: str


async def _granted_session(
    fleet: Fleet, http: aiohttp.ClientSession, device_at: int, agent_at: int
) -> Parties:
    fleet.add_agents("alice")
    token = str((await login(http, fleet.urls[agent_at], "alice", PASSWORD))["token"])
    agent = Client(fleet.urls[agent_at], "agent")
    fleet.clients.append(agent)
    await agent.connect(agent_auth(token))
    assert (await agent.call("presence.set", {"status": "available"}))["ok"]
    credentials = await register_device(http, fleet.urls[device_at])
    device = Client(fleet.urls[device_at], "device")
    fleet.clients.append(device)
    await device.connect(device_auth(credentials))
    session_id = (await device.call("help.request", {}))["ticket"]["id"]
    ring = await agent.next("ring")
    assert (await agent.call("ring.accept", {"ring_id": ring["ring_id"]}))["ok"]
    await device.next("session.started")
    assert (await agent.call("control.request", {"session_id": session_id}))["ok"]
    request = await device.next("control.request")
    granted = await device.call(
        "control.grant", {"session_id": session_id, "request_id": request["request_id"]}
    )
    assert granted["control"]["state"] == "granted"
    await agent.next_matching("control.state", lambda s: s["state"] == "granted")
    assert await _tap(agent, session_id, 1) == {"ok": True}
    return Parties(session_id, device, agent, credentials, token)


async def _tap(agent: Client, session_id: str, seq: int) -> Any:
    return await agent.call(
        "control.input", {"session_id": session_id, "seq": seq, "events": [TAP]}
    )


async def _reconnect(fleet: Fleet, parties: Parties, dies: str) -> None:
    """Whoever lost their socket comes back through the surviving process."""
    survivor = fleet.urls[ALIVE]
    if dies in ("both", "device"):
        parties.device = Client(survivor, "device")
        fleet.clients.append(parties.device)
        await parties.device.connect(device_auth(parties.device_credentials))
        await parties.device.next_matching("session.started", lambda s: s["resumed"])
    if dies == "both":
        # A sweep between the two returns: the agent, still on the dead process (whose last
        # heartbeat is recent), must not count as connected, so control must not resume yet.
        await asyncio.sleep(SWEEP_INTERVAL_S + 0.1)
    if dies in ("both", "agent"):
        parties.agent = Client(survivor, "agent")
        fleet.clients.append(parties.agent)
        await parties.agent.connect(agent_auth(parties.token))
        await parties.agent.next_matching("session.started", lambda s: s["resumed"])


MOVES = {"control.suspended", "control.resumed", "control.expired", "control.granted"}


async def _control_moves(
    http: aiohttp.ClientSession, fleet: Fleet, parties: Parties
) -> list[dict[str, Any]]:
    """The timeline's remote-control moves (not the refused inputs between them)."""
    async with http.get(
        f"{fleet.urls[ALIVE]}/api/sessions/{parties.session_id}/events",
        headers={"Authorization": f"Bearer {parties.token}"},
    ) as response:
        events: list[dict[str, Any]] = (await response.json())["events"]
    return [e for e in events if e["kind"] in MOVES]


async def _lose_and_return(
    fleet: Fleet, http: aiohttp.ClientSession, dies: str, away_s: float
) -> Parties:
    """A granted session; ``kill -9`` of process DEAD; whoever was there is back after ``away_s``."""
    parties = await _granted_session(fleet, http, *PLACES[dies])
    fleet.kill(DEAD)
    await asyncio.sleep(away_s)
    await _reconnect(fleet, parties, dies)
    return parties


@pytest.mark.parametrize("dies", list(PLACES))
async def test_back_within_the_lease_control_resumes_after_a_suspension(
    fleet: Fleet, http: aiohttp.ClientSession, dies: str
) -> None:
    parties = await _lose_and_return(fleet, http, dies, away_s=0.2)  # a client back at once
    for party in (parties.device, parties.agent):
        resumed = await party.next_matching("control.state", lambda s: s["reason"] == "resumed")
        assert resumed["state"] == "granted"
    assert await _tap(parties.agent, parties.session_id, 2) == {"ok": True}
    await parties.device.next_matching("control.input", lambda i: i["seq"] == 2)
    moves = await _control_moves(http, fleet, parties)
    kinds = [e["kind"] for e in moves]
    assert kinds == ["control.granted", "control.suspended", "control.resumed"], kinds


@pytest.mark.parametrize("dies", list(PLACES))
async def test_back_after_the_lease_control_is_gone(
    fleet: Fleet, http: aiohttp.ClientSession, dies: str
) -> None:
    # The lease counts from the dead process's last heartbeat: back past it, though the loss was
    # noticed only a few seconds later (and within the grace period, so the session lives).
    parties = await _lose_and_return(fleet, http, dies, away_s=LEASE_S + 1.5)
    for party in (parties.device, parties.agent):
        state = await party.next_matching("control.state", lambda s: s["state"] == "none")
        assert state["reason"] == "expired", state
        seen = [data["state"] for event, data in party.received if event == "control.state"]
        assert "granted" not in seen[seen.index("none") :], seen
    refused = await _tap(parties.agent, parties.session_id, 2)
    assert refused["error"]["code"] == "forbidden"
    moves = await _control_moves(http, fleet, parties)
    kinds = [e["kind"] for e in moves]
    assert kinds == ["control.granted", "control.suspended", "control.expired"], kinds
    suspended = moves[1]
    assert suspended["detail"]["since"] < suspended["at"], "lost as of the last heartbeat"
    # Consent can be asked for again, and only the customer gives it.
    assert (await parties.agent.call("control.request", {"session_id": parties.session_id}))["ok"]
    assert (await parties.device.next("control.request"))["session_id"] == parties.session_id
