"""``kill -9`` of a server process while customers wait: the queue survives it.

Two processes share one Redis. Beyond remote control (tests/test_process_death.py):

* customers queued on the dead process keep their order: they reconnect to the other process
  (in the opposite order, so only the queue can remember the first), and agents who become
  available there are rung for them first come, first served;
* a ring offered to an agent whose socket was on the dead process is re-offered to another
  available agent once the death is noticed (``DEAD_AFTER_S``), not after the whole ring timeout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from server.live.redis import RedisStore
from server.nodes import DEAD_AFTER_S

from .fleet import PASSWORD, Fleet, run_fleet
from .support import Client, agent_auth, assert_eventually, device_auth, login, register_device

DEAD, ALIVE = 0, 1
RING_TIMEOUT_S = 60.0
"""Far longer than noticing a death takes: a re-offer before it is not the timeout's doing."""
NOTICED_WITHIN_S = DEAD_AFTER_S + 10
"""Deadline for the survivor to deal with the dead process (it needs DEAD_AFTER_S of silence)."""


@pytest.fixture
async def fleet(redis_server: str, tmp_path: Path) -> AsyncIterator[Fleet]:
    with run_fleet(redis_server, tmp_path, ring_timeout_s=str(RING_TIMEOUT_S)) as running:
        yield running
        for client in running.clients:
            await client.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def store(redis_server: str) -> AsyncIterator[RedisStore]:
    live = RedisStore(redis_server, default_handling_time_s=300)
    yield live
    await live.close()


async def _connect(fleet: Fleet, role: str, index: int, auth: dict[str, object]) -> Client:
    client = Client(fleet.urls[index], role)
    fleet.clients.append(client)
    await client.connect(auth)
    return client


async def _agent(
    fleet: Fleet, http: aiohttp.ClientSession, name: str, index: int, *, available: bool
) -> Client:
    fleet.add_agents(name)
    token = str((await login(http, fleet.urls[index], name, PASSWORD))["token"])
    agent = await _connect(fleet, "agent", index, agent_auth(token))
    if available:
        assert (await agent.call("presence.set", {"status": "available"}))["ok"]
    return agent


async def _dead_one_dealt_with(store: RedisStore, fleet: Fleet) -> None:
    """Wait until the survivor has noticed the dead process and cleaned up after it (it forgets
    a dead process's heartbeat last)."""

    async def one_left() -> bool:
        return len(await store.beats()) == 1

    await assert_eventually(one_left, NOTICED_WITHIN_S, "the dead process was never noticed")


async def test_customers_queued_on_a_dead_process_keep_their_order(
    fleet: Fleet, http: aiohttp.ClientSession, store: RedisStore
) -> None:
    customers: list[tuple[dict[str, str], str]] = []
    for _ in range(3):  # nobody is available: they queue, in this order
        credentials = await register_device(http, fleet.urls[DEAD])
        device = await _connect(fleet, "device", DEAD, device_auth(credentials))
        ticket = (await device.call("help.request", {}))["ticket"]
        customers.append((credentials, ticket["id"]))
    fleet.kill(DEAD)
    # Back through the survivor, last first: their resumed places still say who came first.
    for place, (credentials, ticket_id) in reversed(list(enumerate(customers, start=1))):
        device = await _connect(fleet, "device", ALIVE, device_auth(credentials))
        update = await device.next("ticket.update")
        assert update["ticket"]["id"] == ticket_id, update
        assert update["ticket"]["position"] == place, update
    await _dead_one_dealt_with(store, fleet)
    # Agents become available one at a time; each is rung for the next in line and answers.
    for number, (_, ticket_id) in enumerate(customers, start=1):
        agent = await _agent(fleet, http, f"agent{number}", ALIVE, available=True)
        ring = await agent.next("ring")
        assert ring["ticket"]["ticket_id"] == ticket_id, (number, ring)
        assert (await agent.call("ring.accept", {"ring_id": ring["ring_id"]}))["ok"]


async def test_a_ring_to_an_agent_on_a_dead_process_is_offered_to_another(
    fleet: Fleet, http: aiohttp.ClientSession, store: RedisStore
) -> None:
    doomed = await _agent(fleet, http, "doomed", DEAD, available=True)
    other = await _agent(fleet, http, "other", ALIVE, available=False)
    credentials = await register_device(http, fleet.urls[ALIVE])
    device = await _connect(fleet, "device", ALIVE, device_auth(credentials))
    ticket = (await device.call("help.request", {}))["ticket"]
    first = await doomed.next("ring")
    assert first["ticket"]["ticket_id"] == ticket["id"]
    # Now someone else is free too, but the ticket is ringing the doomed agent: no ring for them.
    assert (await other.call("presence.set", {"status": "available"}))["ok"]
    fleet.kill(DEAD)
    # Re-offered once the death is noticed: well before the ring would have timed out.
    ring = await other.next("ring", timeout=NOTICED_WITHIN_S)
    assert ring["ticket"]["ticket_id"] == ticket["id"], ring
    assert ring["ring_id"] != first["ring_id"]
    assert (await other.call("ring.accept", {"ring_id": ring["ring_id"]}))["ok"]
    started = await device.next("session.started")
    assert started["session_id"] == ticket["id"], started
    await _dead_one_dealt_with(store, fleet)
