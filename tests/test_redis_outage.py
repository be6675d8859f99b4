"""Redis stopped for 15 s and started again: the fleet rides it out (docs/deploy.md §4.1).

Two real ``mayday server`` processes share one real redis-server (append-only file, synced on
every write) and one PostgreSQL database. Before the outage an agent, alice, on process 1 is in a
session with a device on process 0, and another agent, bob, on process 1 is available. The test
kills redis-server (``kill -9``: the port refuses connections) for :data:`OUTAGE_S`, then starts
it again on the same port. It checks that

* both processes stay up, ``/healthz`` answers 200 throughout, ``/readyz`` answers 503 naming
  Redis while it is down and 200 again afterwards;
* an event sent during the outage (a help request) is answered with an error ack (the documented
  code), changes nothing, and succeeds when the client retries afterwards;
* what was acknowledged before the outage is still there: bob's presence (he is rung), and
  alice's running session, which nobody took for lost although no process could beat meanwhile;
* both processes are subscribed to the socket.io channel again (``PUBSUB NUMSUB``), and a help
  request on process 0 rings bob on process 1, who accepts; the session starts on both sides;
* a device that went away during the outage (its socket closed; its process never died, so no
  dead-process judgement covers it) is recorded lost once Redis is back, as of when it went: its
  agent is told, and the session ends when the grace period counted from then runs out;
* the logs hold one failed sweep per process, its recovery, and no unhandled task exceptions.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from server.fanout import CHANNEL, DEAF_AFTER_S, PROBE_INTERVAL_S
from server.nodes import DEAD_AFTER_S
from signaling import ErrorCode

from .fleet import PASSWORD, Fleet, run_fleet
from .services import RestartableRedis, restartable_redis
from .support import Client, agent_auth, assert_eventually, device_auth, login, register_device

OUTAGE_S = float(os.environ.get("MAYDAY_TEST_REDIS_OUTAGE_S", "9"))
"""How long Redis stays down. The documented scenario is 15 s (``MAYDAY_TEST_REDIS_OUTAGE_S=15``);
9 s behaves the same for the server (longer than ``DEAD_AFTER_S``, so every heartbeat is stale
afterwards) and is a length after which python-socketio's own back-off (1, 2, 4, 8 s...) would
leave a process deaf for about 8 s, so the test fails without the probe's restart. After exactly
15 s that back-off happens to retry about a second after Redis is back, and proves nothing."""
RECOVERY_S = PROBE_INTERVAL_S + DEAF_AFTER_S + 1.0
"""Deadline, from Redis being back, for both processes to be subscribed again: the next probe,
even a full deaf period, and a margin (it takes one to two seconds)."""
READY_S = 10.0
"""Deadline for ``/readyz`` to answer 200 again on both processes."""
UNAVAILABLE = ErrorCode.UNAVAILABLE
"""The code an event sent during the outage is answered with (docs/protocol.md §5.2)."""


@pytest.fixture
def redis_aof() -> Iterator[RestartableRedis]:
    with restartable_redis() as server:
        yield server


@pytest.fixture
async def fleet(
    redis_aof: RestartableRedis, postgres_url: str, tmp_path: Path
) -> AsyncIterator[Fleet]:
    with run_fleet(redis_aof.url, tmp_path, database_url=postgres_url) as running:
        yield running
        for client in running.clients:
            await client.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session


async def _get(http: aiohttp.ClientSession, url: str, token: str | None = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.get(url, headers=headers) as response:
        return response.status, await response.json()


async def _agent(fleet: Fleet, http: aiohttp.ClientSession, url: str, name: str) -> Client:
    fleet.add_agents(name)
    token = str((await login(http, url, name, PASSWORD))["token"])
    agent = Client(url, "agent")
    fleet.clients.append(agent)
    await agent.connect(agent_auth(token))
    assert await agent.call("presence.set", {"status": "available"}) == {
        "ok": True,
        "status": "available",
    }
    return agent


async def _device(fleet: Fleet, http: aiohttp.ClientSession, url: str) -> Client:
    device = Client(url, "device")
    fleet.clients.append(device)
    await device.connect(device_auth(await register_device(http, url)))
    return device


async def _help_and_accept(device: Client, agent: Client) -> str:
    """The device asks for help, the agent is rung and accepts; the session starts on both."""
    ack = await device.call("help.request", {})
    session_id = str(ack["ticket"]["id"])
    ring = await agent.next("ring")
    assert ring["ticket"]["ticket_id"] == session_id
    assert (await agent.call("ring.accept", {"ring_id": ring["ring_id"]}))["ok"]
    assert (await device.next("session.started"))["session_id"] == session_id
    assert (await agent.next("session.started"))["session_id"] == session_id
    return session_id


async def _all_ready(http: aiohttp.ClientSession, fleet: Fleet, ready: bool) -> bool:
    for url in fleet.urls:
        status, body = await _get(http, f"{url}/readyz")
        if (status == 200) != ready or body["ready"] is not ready:
            return False
    return True


async def _subscribers(url: str) -> int:
    client = Redis.from_url(url, socket_timeout=1)
    try:
        counts = await client.pubsub_numsub(CHANNEL)
        return int(counts[0][1])
    finally:
        await client.aclose()


async def test_the_fleet_rides_out_a_redis_outage(
    fleet: Fleet, redis_aof: RestartableRedis, http: aiohttp.ClientSession
) -> None:
    p0, p1 = fleet.urls
    assert await _subscribers(redis_aof.url) == 2, "both processes subscribe at start-up"
    await assert_eventually(lambda: _all_ready(http, fleet, True), message="not ready at start")

    # Before: alice (process 1) in a session with a device on process 0; bob available.
    alice = await _agent(fleet, http, p1, "alice")
    running = await _device(fleet, http, p0)
    running_id = await _help_and_accept(running, alice)
    carol = await _agent(fleet, http, p1, "carol")
    leaver = await _device(fleet, http, p0)
    leaver_id = await _help_and_accept(leaver, carol)
    bob = await _agent(fleet, http, p1, "bob")
    customer = await _device(fleet, http, p0)
    bob_token = str((await login(http, p1, "bob", PASSWORD))["token"])
    fleet.add_agents("sue", role="supervisor")  # reads every session's record (§19.1)
    sue_token = str((await login(http, p1, "sue", PASSWORD))["token"])

    # The outage.
    redis_aof.kill()
    down_at = time.monotonic()
    await assert_eventually(
        lambda: _all_ready(http, fleet, False), message="/readyz stayed 200 with Redis down"
    )
    for url in fleet.urls:
        assert await _get(http, f"{url}/healthz") == (200, {"ok": True})
        status, body = await _get(http, f"{url}/readyz")
        assert status == 503
        assert body["checks"]["redis"] == {"ok": False, "error": "unreachable"}
        assert body["checks"]["records"] == {"ok": True}
        assert "redis://" not in str(body), "no secrets, no addresses"
        assert "127.0.0.1" not in str(body), "no secrets, no addresses"
    refused = await customer.call("help.request", {})
    assert refused["error"]["code"] == UNAVAILABLE, refused
    left_at = time.time()
    await leaver.close()  # gone during the outage: its process cannot write it down now
    await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
    for url in fleet.urls:
        assert await _get(http, f"{url}/healthz") == (200, {"ok": True})
    assert [process.poll() for process in fleet.processes] == [None, None]
    redis_aof.start()
    back_at = time.monotonic()

    # Both processes hear the channel again, promptly, and are ready again.
    async def both_subscribed() -> bool:
        return await _subscribers(redis_aof.url) == 2

    await assert_eventually(both_subscribed, timeout=RECOVERY_S, message="not subscribed again")
    subscribed_s = time.monotonic() - back_at
    await assert_eventually(
        lambda: _all_ready(http, fleet, True), timeout=READY_S, message="not ready again"
    )
    ready_s = time.monotonic() - back_at

    # The request refused during the outage left nothing behind.
    status, queue = await _get(http, f"{p0}/api/queue", bob_token)
    assert (status, queue["length"]) == (200, 0)
    assert bob.drain("ring") == []

    # The client retries: rung on the other process, accepted, started on both sides. Bob's
    # presence, acknowledged before the outage, is what lets him be rung.
    served_id = await _help_and_accept(customer, bob)
    assert served_id != running_id

    # Alice's session was not taken for lost: nobody could beat during the outage, so no process
    # may take the others' old heartbeats for death. Wait out the time in which one would have.
    await asyncio.sleep(max(0.0, DEAD_AFTER_S + 1.0 - (time.monotonic() - back_at)))
    status, events = await _get(http, f"{p1}/api/sessions/{running_id}/events", sue_token)
    assert status == 200
    assert [e for e in events["events"] if e["kind"] == "peer.lost"] == []
    status, session = await _get(http, f"{p0}/api/sessions/{running_id}", sue_token)
    assert session["state"] in ("connecting", "active")
    for party in (running, alice):
        assert party.sio.connected
        peers = [data for event, data in party.received if event == "session.peer"]
        assert all(peer.get("connected", True) for peer in peers), peers
        assert not any(event == "session.ended" for event, _ in party.received)
    assert [process.poll() for process in fleet.processes] == [None, None]

    # The device that left during the outage is lost as of then, not left as a ghost: carol is
    # told, and the grace period counts from when it went.
    lost = await carol.next_matching(
        "session.peer", lambda data: data.get("connected") is False, timeout=RECOVERY_S
    )
    assert lost["session_id"] == leaver_id
    status, events = await _get(http, f"{p1}/api/sessions/{leaver_id}/events", sue_token)
    losses = [e for e in events["events"] if e["kind"] == "peer.lost"]
    assert len(losses) == 1, events
    assert left_at <= losses[0]["detail"]["since"] <= left_at + 1.0, (losses[0], left_at)
    assert lost["grace_s"] < 20, "the grace period counts from when it went, not from now"

    # Quiet logs: one failed sweep per process and its recovery, no unhandled task exceptions.
    for index in range(2):
        text = (fleet_log(fleet, index)).read_text(errors="replace")
        assert "Task exception was never retrieved" not in text
        assert text.count("sweep.failed") == 1, text.count("sweep.failed")
        assert "sweep.recovered" in text
    print(
        f"redis down {OUTAGE_S:.0f} s; both subscribed {subscribed_s:.1f} s "
        f"and ready {ready_s:.1f} s after it was back"
    )


def fleet_log(fleet: Fleet, index: int) -> Path:
    """Where :func:`~tests.fleet.run_fleet` writes process ``index``'s output."""
    data_dir = Path(fleet.env["MAYDAY_DATA_DIR"])
    return data_dir.parent / f"server{index}.log"
