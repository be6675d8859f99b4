"""Several real ``mayday server`` processes on one Redis form one system.

* a device on one process and an agent on another have a normal session, with video;
* routing is exactly-once under races: 100 customers arriving on both processes, 20 agents
  accepting as fast as they can, nobody ever holds two rings or two sessions;
* ``kill -9`` of the process holding the agent's socket: the agent reconnects to the other
  process and the session goes on with the same id and its timeline intact.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from device_agent.screens.tablet import SimulatedTablet
from sim import HeadlessAgent

from .devices import registered_device
from .fleet import PASSWORD, Fleet, run_fleet
from .support import Client, agent_auth, assert_eventually, device_auth, login, register_device


@pytest.fixture
def fleet(redis_server: str, tmp_path: Path) -> Iterator[Fleet]:
    with run_fleet(redis_server, tmp_path) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _token(http: aiohttp.ClientSession, url: str, name: str) -> str:
    return str((await login(http, url, name, PASSWORD))["token"])


async def test_device_and_agent_on_different_processes_have_a_session_with_video(
    fleet: Fleet, http: aiohttp.ClientSession
) -> None:
    fleet.add_agents("alice")
    device_url, agent_url = fleet.urls
    agent = HeadlessAgent(agent_url, await _token(http, agent_url, "alice"))
    device = await registered_device(http, device_url, SimulatedTablet())
    try:
        await agent.start()
        await device.start()
        ticket = await device.request_help()
        ring = await agent.next_ring()
        assert ring["ticket"]["ticket_id"] == ticket["id"]
        session_id = await agent.accept(ring["ring_id"])
        _, frame = await agent.wait_first_frame(timeout=20)
        assert (frame.width, frame.height) == (1280, 800)
        token = await _token(http, device_url, "alice")
        async with http.get(
            f"{device_url}/api/sessions/{session_id}", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            body = await response.json()
        assert body["agent"]["name"] == "alice"
        await assert_eventually(lambda: device.media_connected.is_set())
    finally:
        await device.close()
        await agent.close()


@dataclass
class AgentLog:
    """What one agent saw, to check that it never held two rings or two sessions."""

    client: Client
    rings: int = 0
    sessions: list[str] = field(default_factory=list)
    holding_ring: bool = False
    violations: list[str] = field(default_factory=list)


async def _run_agent(log: AgentLog, stop: asyncio.Event) -> None:
    client = log.client
    while not stop.is_set():
        try:
            ring = await client.next("ring", timeout=0.5)
        except TimeoutError:
            continue
        if log.holding_ring:
            log.violations.append(f"second ring {ring['ring_id']} while holding one")
        log.holding_ring = True
        log.rings += 1
        ack = await client.call("ring.accept", {"ring_id": ring["ring_id"]})
        log.holding_ring = False
        if not ack.get("ok"):
            continue  # the customer cancelled, or the ring timed out meanwhile
        session_id = ack["session_id"]
        if session_id in log.sessions:
            log.violations.append(f"session {session_id} accepted twice")
        log.sessions.append(session_id)
        ended = await client.call("session.end", {"session_id": session_id, "reason": "resolved"})
        if not ended.get("ok"):
            log.violations.append(f"could not end {session_id}: {ended}")


CUSTOMERS = 100
"""Five per agent: every agent takes several, racing the others on both processes."""


async def test_routing_is_exactly_once_across_two_processes(
    fleet: Fleet, http: aiohttp.ClientSession
) -> None:
    names = [f"agent{i:02d}" for i in range(20)]
    fleet.add_agents(*names)
    logs: list[AgentLog] = []
    for index, name in enumerate(names):
        url = fleet.urls[index % 2]
        client = Client(url, "agent")
        fleet.clients.append(client)
        await client.connect(agent_auth(await _token(http, url, name)))
        assert (await client.call("presence.set", {"status": "available"}))["ok"]
        logs.append(AgentLog(client))
    devices: list[Client] = []
    for index in range(CUSTOMERS):
        url = fleet.urls[index % 2]
        registered = await register_device(http, url, f"tablet {index}")
        device = Client(url, "device")
        fleet.clients.append(device)
        await device.connect(device_auth(registered))
        devices.append(device)

    stop = asyncio.Event()
    workers = [asyncio.create_task(_run_agent(log, stop)) for log in logs]
    try:
        acks = await asyncio.gather(*(d.call("help.request", {}) for d in devices))
        failed = [ack for ack in acks if "ticket" not in ack]
        assert failed == [], failed[:3]
        tickets = [ack["ticket"]["id"] for ack in acks]
        assert len(set(tickets)) == CUSTOMERS

        async def all_served() -> bool:
            return sum(len(log.sessions) for log in logs) >= CUSTOMERS

        await assert_eventually(all_served, timeout=120, message="not every request was served")
        await asyncio.sleep(0.5)  # anything served twice would show up now
    finally:
        stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
        for client in fleet.clients:
            await client.close()

    served = [session for log in logs for session in log.sessions]
    assert sorted(served) == sorted(tickets), "every request served exactly once"
    assert [v for log in logs for v in log.violations] == []
    token = await _token(http, fleet.urls[0], names[0])
    async with http.get(
        f"{fleet.urls[1]}/api/queue", headers={"Authorization": f"Bearer {token}"}
    ) as response:
        assert (await response.json())["length"] == 0
    print(
        f"race: {len(served)} sessions from {len(tickets)} requests on 2 processes, "
        f"{sum(log.rings for log in logs)} rings to {len(logs)} agents, no double booking"
    )


async def test_kill_9_of_the_agents_process_mid_session(
    fleet: Fleet, http: aiohttp.ClientSession
) -> None:
    fleet.add_agents("alice")
    device_url, agent_url = fleet.urls
    token = await _token(http, agent_url, "alice")
    agent = HeadlessAgent(agent_url, token)
    device = await registered_device(http, device_url, SimulatedTablet())
    survivor: HeadlessAgent | None = None
    try:
        await agent.start()
        await device.start()
        await device.request_help()
        session_id = await agent.accept((await agent.next_ring())["ring_id"])
        await agent.wait_first_frame(timeout=20)

        async def timeline() -> list[dict[str, Any]]:
            async with http.get(
                f"{device_url}/api/sessions/{session_id}/events",
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                events: list[dict[str, Any]] = (await response.json())["events"]
                return events

        before = await timeline()
        fleet.kill(1)  # the process holding the agent's socket dies without a word
        await agent.close()

        # The console reconnects, through the load balancer, to the surviving process.
        survivor = HeadlessAgent(device_url, token)
        await survivor.start(available=False)
        resumed = await asyncio.wait_for(survivor.sessions.get(), 10)
        assert resumed["session_id"] == session_id
        assert resumed["resumed"] is True
        _, frame = await survivor.wait_first_frame(timeout=20)
        assert frame.width == 1280
        after = await timeline()
        assert after[: len(before)] == before, "the timeline must survive the process"
        assert after[-1]["seq"] >= before[-1]["seq"]
        async with http.get(
            f"{device_url}/api/sessions/{session_id}", headers={"Authorization": f"Bearer {token}"}
        ) as response:
            assert (await response.json())["state"] in ("connecting", "active")
    finally:
        await device.close()
        await agent.close()
        if survivor is not None:
            await survivor.close()
