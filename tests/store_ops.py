"""The store tests' records, scenes and the desk's calls of the live operations, shared.

``tests/test_store_ops.py`` (the operations of ``server/live/ops.py``) and
``tests/test_store_memory.py`` (the store's transactions and indexes) set up the same records and
drive the store as the help desk does; here they are written once. A test module takes the
``store`` fixture by importing it (``from .store_ops import store as store``): the store tests
are the only users, so it lives with their helpers rather than in ``conftest.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from functools import partial
from typing import Any

import pytest

from server.live import ops
from server.live.memory import MemoryStore
from server.live.records import Actor, AgentPresence, LiveSession, RingRecord, SessionState
from server.live.store import LiveStore, Txn
from signaling import ErrorCode, ProtocolError

__all__ = [
    "DEFAULT_HANDLING_S",
    "DEVICE",
    "SYSTEM",
    "TIMEOUT_S",
    "S",
    "accept_ring",
    "agent",
    "assert_refused",
    "close_ring",
    "end_session",
    "make_agent",
    "make_session",
    "open_ring",
    "put_in",
    "scene",
    "seed",
    "session",
    "snapshot",
    "store",
    "waiting_ids",
]

S = SessionState

DEFAULT_HANDLING_S = 300.0
TIMEOUT_S = 15.0
SYSTEM = Actor.system()
DEVICE = Actor(kind="device", id="dev-s1")


def make_session(
    session_id: str,
    score: float,
    *,
    device_id: str | None = None,
    topic: str = "general",
    locale: str = "en",
    lost: bool = False,
) -> LiveSession:
    return LiveSession(
        id=session_id,
        device_id=device_id or f"dev-{session_id}",
        device_name=f"tablet {session_id}",
        topic=topic,
        locale=locale,
        created_at=score,
        queue_score=score,
        device_sid=f"sock-{session_id}",
        device_lost_at=50.0 if lost else None,
    )


def make_agent(
    agent_id: str,
    *,
    idle_since: float = 0.0,
    status: str = "available",
    connected: bool = True,
    lost: bool = False,
) -> AgentPresence:
    return AgentPresence(
        agent_id=agent_id,
        name=f"agent {agent_id}",
        languages=["en"],
        skills=[],
        status="available" if status == "available" else "away",
        sid=f"sock-{agent_id}" if connected else None,
        lost_at=60.0 if lost else None,
        idle_since=idle_since,
    )


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore(default_handling_time_s=DEFAULT_HANDLING_S)


async def seed(
    store: LiveStore,
    sessions: Sequence[LiveSession] = (),
    agents: Sequence[AgentPresence] = (),
) -> None:
    def put(txn: Txn) -> None:
        for session in sessions:
            txn.sessions[session.id] = session
        for agent in agents:
            txn.agents[agent.agent_id] = agent

    await store.atomically(put)


async def open_ring(
    store: LiveStore, session_id: str, agent_id: str, ring_id: str, *, now: float = 100.0
) -> tuple[LiveSession, AgentPresence, RingRecord]:
    """The very call of the desk's routing pass (``server/desk/rings.py``), repeated so that the
    operation is tested as the desk runs it."""
    return await store.atomically(
        partial(
            ops.open_ring,
            session_id=session_id,
            agent_id=agent_id,
            ring_id=ring_id,
            now=now,
            timeout_s=TIMEOUT_S,
        ),
        sessions=[session_id],
        agents=[agent_id],
    )


async def accept_ring(
    store: MemoryStore, ring_id: str, agent_id: str, *, now: float = 105.0
) -> LiveSession:
    ring = await store.get_ring(ring_id)
    return await store.atomically(
        lambda txn: ops.accept_ring(txn, ring_id, agent_id, now=now),
        rings=[ring_id],
        sessions=[ring.session_id if ring else None],
        agents=[agent_id, ring.agent_id if ring else None],
    )


async def close_ring(
    store: MemoryStore, ring_id: str, reason: str, *, now: float = 115.0
) -> tuple[RingRecord, LiveSession | None, AgentPresence | None]:
    ring = await store.get_ring(ring_id)
    return await store.atomically(
        lambda txn: ops.close_ring(txn, ring_id, reason=reason, actor=SYSTEM, now=now),
        rings=[ring_id],
        sessions=[ring.session_id if ring else None],
        agents=[ring.agent_id if ring else None],
    )


async def end_session(
    store: MemoryStore, session_id: str, *, now: float = 200.0, actor: Actor = DEVICE
) -> tuple[LiveSession, RingRecord | None]:
    """As the desk does it: load the session, its agent, its ring and the ring's agent."""
    session = await store.get_session(session_id)
    assert session is not None
    ring = await store.get_ring(session.ring_id) if session.ring_id else None
    return await store.atomically(
        partial(ops.end_session, session_id=session_id, actor=actor, reason="resolved", now=now),
        sessions=[session_id],
        agents=[session.agent_id, ring.agent_id if ring else None],
        rings=[session.ring_id],
        stats=True,
    )


async def session(store: MemoryStore, session_id: str) -> LiveSession:
    found = await store.get_session(session_id)
    assert found is not None, session_id
    return found


async def agent(store: MemoryStore, agent_id: str) -> AgentPresence:
    found = await store.get_agent(agent_id)
    assert found is not None, agent_id
    return found


async def waiting_ids(store: MemoryStore) -> list[str]:
    return [s.id for s in await store.waiting()]


async def snapshot(store: MemoryStore) -> dict[str, Any]:
    """Everything the store answers, as plain data, for before/after comparisons."""
    sessions = sorted(await store.live_sessions(), key=lambda s: s.id)
    agents = sorted(await store.agents(), key=lambda a: a.agent_id)
    ring_ids = {"r1", "r2", "r3", "r-other", "r-stale", *(s.ring_id or "" for s in sessions)}
    ring_ids |= {a.ring_id or "" for a in agents}
    rings = {rid: await store.get_ring(rid) for rid in sorted(ring_ids - {""})}
    devices = {s.device_id: await store.session_for_device(s.device_id) for s in sessions}
    return {
        "sessions": [s.model_dump() for s in sessions],
        "by_id": {s.id: (await session(store, s.id)).model_dump() for s in sessions},
        "agents": [a.model_dump() for a in agents],
        "rings": {rid: r.model_dump() if r else None for rid, r in rings.items()},
        "devices": {d: s.id if s else None for d, s in devices.items()},
        "waiting": await waiting_ids(store),
        "stats": (await store.stats()).model_dump(),
    }


async def assert_refused(
    store: MemoryStore, code: ErrorCode, operation: Awaitable[object], why: str = ""
) -> None:
    """``operation`` (not awaited yet) is refused with ``code`` and changes nothing in ``store``."""
    before = await snapshot(store)
    with pytest.raises(ProtocolError) as caught:
        await operation
    assert caught.value.code is code, why
    assert await snapshot(store) == before


async def scene(store: MemoryStore) -> None:
    """s1 queued; s2 ringing agent b (ring r2); s3 connecting with agent c; a free, d away."""
    await seed(
        store,
        [make_session("s1", 1.0), make_session("s2", 2.0), make_session("s3", 3.0)],
        [
            make_agent("a", idle_since=10.0),
            make_agent("b", idle_since=20.0),
            make_agent("c", idle_since=30.0),
            make_agent("d", status="away"),
        ],
    )
    await open_ring(store, "s2", "b", "r2", now=90.0)
    await open_ring(store, "s3", "c", "r3", now=90.0)
    await accept_ring(store, "r3", "c", now=95.0)


async def put_in(store: MemoryStore, state: SessionState) -> None:
    """s1 in ``state``; agent a rung/serving it once it is past queued."""
    await seed(store, [make_session("s1", 1.0)], [make_agent("a", idle_since=7.0)])
    if state is S.QUEUED:
        return
    await open_ring(store, "s1", "a", "r1", now=100.0)
    if state is S.RINGING:
        return
    await accept_ring(store, "r1", "a", now=110.0)
    if state is S.CONNECTING:
        return
    await store.atomically(
        partial(ops.mark_active, session_id="s1", actor=DEVICE, now=112.0), sessions=["s1"]
    )
    assert (await session(store, "s1")).state is S.ACTIVE
