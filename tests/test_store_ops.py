"""The help desk's pure operations, run through the in-memory store's ``atomically``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import pytest

from server.live import ops
from server.live.memory import MAX_FAILURE_KEYS, MemoryStore
from server.live.records import Actor, AgentPresence, LiveSession, RingRecord, SessionState, Stats
from server.live.store import StaleRead, Txn
from signaling import ErrorCode, ProtocolError

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
    store: MemoryStore,
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
    store: MemoryStore, session_id: str, agent_id: str, ring_id: str, *, now: float = 100.0
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


# --- open_ring --------------------------------------------------------------------------------


async def test_open_ring_links_session_agent_and_ring(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a")])
    returned = await open_ring(store, "s1", "a", "r1", now=100.0)

    live, presence = await session(store, "s1"), await agent(store, "a")
    ring = await store.get_ring("r1")
    assert returned == (live, presence, ring)
    assert live.state is S.RINGING
    assert live.ring_id == "r1"
    assert live.rung_at == 100.0
    assert presence.ring_id == "r1"
    assert not presence.routable
    assert ring == RingRecord(
        ring_id="r1", session_id="s1", agent_id="a", started_at=100.0, expires_at=115.0
    )
    assert live.timeline[-1].to_state is S.RINGING
    assert live.timeline[-1].actor == SYSTEM
    assert await waiting_ids(store) == ["s1"]  # a ringing customer still holds their place


@pytest.mark.parametrize(
    ("presence", "why"),
    [
        (make_agent("a", status="away"), "away"),
        (make_agent("a", connected=False), "no socket"),
        (make_agent("a", lost=True), "connection lost"),
        (make_agent("a").model_copy(update={"ring_id": "r-other"}), "ringing"),
        (make_agent("a").model_copy(update={"session_id": "s-other"}), "in a session"),
    ],
)
async def test_open_ring_needs_a_routable_agent(
    store: MemoryStore, presence: AgentPresence, why: str
) -> None:
    await seed(store, [make_session("s1", 1.0)], [presence])
    await assert_refused(store, ErrorCode.CONFLICT, open_ring(store, "s1", "a", "r1"), why)


async def test_open_ring_needs_a_connected_device(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0, lost=True)], [make_agent("a")])
    await assert_refused(store, ErrorCode.CONFLICT, open_ring(store, "s1", "a", "r1"))


@pytest.mark.parametrize("session_id", ["s2", "s3"])
async def test_open_ring_needs_a_queued_session(store: MemoryStore, session_id: str) -> None:
    await scene(store)
    await assert_refused(store, ErrorCode.CONFLICT, open_ring(store, session_id, "a", "r1"))


async def test_open_ring_refuses_an_ended_session(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a")])
    await end_session(store, "s1")
    with pytest.raises(ProtocolError) as caught:
        await open_ring(store, "s1", "a", "r1")
    assert caught.value.code is ErrorCode.CONFLICT
    assert await store.get_ring("r1") is None


async def test_never_two_rings_for_one_agent(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0), make_session("s2", 2.0)], [make_agent("a")])
    await open_ring(store, "s1", "a", "r1")
    await assert_refused(store, ErrorCode.CONFLICT, open_ring(store, "s2", "a", "r2"))
    assert (await session(store, "s2")).state is S.QUEUED
    assert (await agent(store, "a")).ring_id == "r1"


async def test_never_two_rings_for_one_session(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a"), make_agent("b")])
    await open_ring(store, "s1", "a", "r1")
    await assert_refused(store, ErrorCode.CONFLICT, open_ring(store, "s1", "b", "r2"))
    assert (await agent(store, "b")).routable


@pytest.mark.parametrize(("session_id", "agent_id"), [("nope", "a"), ("s1", "nope")])
async def test_open_ring_on_missing_records(
    store: MemoryStore, session_id: str, agent_id: str
) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a")])
    await assert_refused(store, ErrorCode.NOT_FOUND, open_ring(store, session_id, agent_id, "r1"))


# --- accept_ring ------------------------------------------------------------------------------


async def test_accept_ring_starts_connecting(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a")])
    await open_ring(store, "s1", "a", "r1", now=100.0)
    returned = await accept_ring(store, "r1", "a", now=104.0)

    live, presence = await session(store, "s1"), await agent(store, "a")
    assert returned == live
    assert live.state is S.CONNECTING
    assert (live.agent_id, live.agent_name, live.ring_id) == ("a", "agent a", None)
    assert live.accepted_at == 104.0
    assert live.timeline[-1].actor == Actor(kind="agent", id="a", name="agent a")
    assert (presence.ring_id, presence.session_id) == (None, "s1")
    assert await store.get_ring("r1") is None
    assert await waiting_ids(store) == []
    assert (await store.session_for_device("dev-s1")) == live


async def test_accept_ring_at_the_deadline_still_counts(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a")])
    await open_ring(store, "s1", "a", "r1", now=100.0)
    await accept_ring(store, "r1", "a", now=100.0 + TIMEOUT_S)
    assert (await session(store, "s1")).state is S.CONNECTING


async def test_accept_ring_of_another_agent_is_forbidden(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a"), make_agent("b")])
    await open_ring(store, "s1", "a", "r1")
    await assert_refused(store, ErrorCode.FORBIDDEN, accept_ring(store, "r1", "b"))


async def test_accept_expired_ring_is_a_conflict(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a")])
    await open_ring(store, "s1", "a", "r1", now=100.0)
    await assert_refused(
        store, ErrorCode.CONFLICT, accept_ring(store, "r1", "a", now=100.0 + TIMEOUT_S + 0.001)
    )


async def test_accept_missing_ring_is_not_found(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a")])
    await assert_refused(store, ErrorCode.NOT_FOUND, accept_ring(store, "r1", "a"))


async def test_accept_ring_that_is_no_longer_current(store: MemoryStore) -> None:
    # A ring record that the session no longer points at (it was re-rung in between).
    await seed(store, [make_session("s1", 1.0)], [make_agent("a")])

    def stale(txn: Txn) -> None:
        txn.rings["r-stale"] = RingRecord(
            ring_id="r-stale", session_id="s1", agent_id="a", started_at=100.0, expires_at=115.0
        )

    await store.atomically(stale)
    await assert_refused(store, ErrorCode.CONFLICT, accept_ring(store, "r-stale", "a"))


async def test_a_ring_cannot_be_accepted_twice(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a")])
    await open_ring(store, "s1", "a", "r1")
    await accept_ring(store, "r1", "a")
    await assert_refused(store, ErrorCode.NOT_FOUND, accept_ring(store, "r1", "a"))


# --- close_ring -------------------------------------------------------------------------------


async def test_ring_timeout_requeues_in_place_and_sets_the_agent_away(store: MemoryStore) -> None:
    await seed(
        store,
        [make_session("s1", 1.0), make_session("s2", 2.0)],
        [make_agent("a", idle_since=5.0)],
    )
    await open_ring(store, "s1", "a", "r1", now=100.0)
    ring, closed_session, closed_agent = await close_ring(store, "r1", "timeout", now=115.0)

    live, presence = await session(store, "s1"), await agent(store, "a")
    assert ring.ring_id == "r1"
    assert (closed_session, closed_agent) == (live, presence)
    assert live.state is S.QUEUED
    assert live.queue_score == 1.0
    assert live.ring_id is None
    assert live.declined_by == []
    assert live.rung_at == 100.0
    assert [(e.kind, e.to_state) for e in live.timeline[-2:]] == [
        ("ring.timeout", None),
        ("transition", S.QUEUED),
    ]
    assert live.timeline[-2].detail == {"agent_id": "a"}
    assert presence.status == "away"
    assert presence.ring_id is None
    assert presence.idle_since == 5.0
    assert await store.get_ring("r1") is None
    assert await waiting_ids(store) == ["s1", "s2"]  # kept the place ahead of s2


async def test_declined_ring_remembers_the_agent(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a")])
    await open_ring(store, "s1", "a", "r1")
    await close_ring(store, "r1", "declined")

    live, presence = await session(store, "s1"), await agent(store, "a")
    assert live.state is S.QUEUED
    assert live.declined_by == ["a"]
    assert live.queue_score == 1.0
    assert presence.status == "available"  # declining is a choice, not an absence
    assert presence.routable
    assert await store.get_ring("r1") is None


async def test_declined_twice_is_remembered_once(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a")])
    for ring_id in ("r1", "r2"):
        await open_ring(store, "s1", "a", ring_id)
        await close_ring(store, ring_id, "declined")
    assert (await session(store, "s1")).declined_by == ["a"]


async def test_close_missing_ring_is_not_found(store: MemoryStore) -> None:
    await scene(store)
    await assert_refused(store, ErrorCode.NOT_FOUND, close_ring(store, "r1", "timeout"))


# --- end_session ------------------------------------------------------------------------------


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


@pytest.mark.parametrize("state", [S.QUEUED, S.RINGING, S.CONNECTING, S.ACTIVE])
async def test_end_session_from_each_state(store: MemoryStore, state: SessionState) -> None:
    await put_in(store, state)
    ended, ring = await end_session(store, "s1", now=200.0, actor=DEVICE)

    live, presence, stats = await session(store, "s1"), await agent(store, "a"), await store.stats()
    assert ended == live
    assert live.state is S.ENDED
    assert (live.ended_at, live.end_reason, live.ended_by) == (200.0, "resolved", "device")
    assert live.ring_id is None
    assert live.timeline[-1].from_state is state
    assert presence.ring_id is None
    assert presence.session_id is None
    assert presence.routable
    assert await store.get_ring("r1") is None
    assert await waiting_ids(store) == []
    assert await store.session_for_device("dev-s1") is None
    if state is S.RINGING:
        assert ring is not None
        assert ring.ring_id == "r1"
    else:
        assert ring is None
    if state in (S.CONNECTING, S.ACTIVE):
        assert presence.idle_since == 200.0
    else:
        assert presence.idle_since == 7.0  # never took the call
    # The handling time is folded in separately, off the hot path (see note_handling_time).
    assert stats.handled == 0
    assert stats.handling_time_s == DEFAULT_HANDLING_S


def test_handling_time_is_a_weighted_average() -> None:
    stats = Stats(handling_time_s=DEFAULT_HANDLING_S)
    ops.note_handling_time(stats, 60.0)
    assert (stats.handled, stats.handling_time_s) == (1, 60.0), "the first replaces the prior"
    ops.note_handling_time(stats, 160.0)
    assert stats.handled == 2
    w = ops.HANDLING_TIME_WEIGHT
    assert stats.handling_time_s == pytest.approx((1 - w) * 60.0 + w * 160.0)


async def test_end_an_ended_session_is_a_conflict(store: MemoryStore) -> None:
    await put_in(store, S.CONNECTING)
    await end_session(store, "s1", now=200.0)
    await assert_refused(store, ErrorCode.CONFLICT, end_session(store, "s1", now=300.0))


@pytest.mark.parametrize(
    ("state", "loaded"),
    [
        (S.CONNECTING, {}),
        (S.RINGING, {"agents": ["a"]}),
        (S.RINGING, {"rings": ["r1"]}),
    ],
    ids=["without-the-linked-agent", "without-the-ring", "without-the-rung-agent"],
)
async def test_end_session_without_a_linked_record_is_a_stale_read(
    store: MemoryStore, state: SessionState, loaded: dict[str, list[str]]
) -> None:
    """An operation must name every record it touches; one it did not load is a stale read."""
    await put_in(store, state)
    before = await snapshot(store)
    with pytest.raises(StaleRead):
        await store.atomically(
            partial(ops.end_session, session_id="s1", actor=DEVICE, reason="x", now=200.0),
            sessions=["s1"],
            stats=True,
            **loaded,
        )
    assert await snapshot(store) == before


async def test_end_session_of_a_signed_out_agent(store: MemoryStore) -> None:
    # The agent was loaded but is gone: that is an answer, not a stale read.
    await put_in(store, S.CONNECTING)

    def sign_out(txn: Txn) -> None:
        txn.agents["a"] = None

    await store.atomically(sign_out, agents=["a"])
    ended, _ = await end_session(store, "s1")
    assert ended.state is S.ENDED
    assert await store.get_agent("a") is None


# --- atomicity --------------------------------------------------------------------------------


class Boom(Exception):
    pass


def ring_accept_then_fail(txn: Txn) -> None:
    ops.open_ring(txn, "s1", "a", "r1", now=100.0, timeout_s=TIMEOUT_S)
    ops.accept_ring(txn, "r1", "a", now=101.0)
    assert txn.stats is not None
    ops.note_arrival(txn.stats, 101.0)
    raise Boom


def end_then_fail(txn: Txn) -> None:
    ops.end_session(txn, "s3", actor=DEVICE, reason="x", now=200.0)
    ops.close_ring(txn, "r2", reason="declined", actor=SYSTEM, now=200.0)
    raise Boom


def delete_then_fail(txn: Txn) -> None:
    txn.sessions["s1"] = None
    txn.agents["a"] = None
    txn.rings["r2"] = None
    raise Boom


FAILING: list[tuple[str, Callable[[Txn], object], dict[str, Any], type[Exception]]] = [
    (
        "ring, accept, then raise",
        ring_accept_then_fail,
        {"sessions": ["s1"], "agents": ["a"], "stats": True},
        Boom,
    ),
    (
        "end, close, then raise",
        end_then_fail,
        {"sessions": ["s2", "s3"], "agents": ["b", "c"], "rings": ["r2"], "stats": True},
        Boom,
    ),
    (
        "delete, then raise",
        delete_then_fail,
        {"sessions": ["s1"], "agents": ["a"], "rings": ["r2"]},
        Boom,
    ),
    (
        "open ring for a busy agent",
        partial(ops.open_ring, session_id="s1", agent_id="c", ring_id="r1", now=1.0, timeout_s=1.0),
        {"sessions": ["s1"], "agents": ["c"]},
        ProtocolError,
    ),
    (
        "stale end",
        partial(ops.end_session, session_id="s2", actor=DEVICE, reason="x", now=200.0),
        {"sessions": ["s2"], "agents": ["b"], "stats": True},
        StaleRead,
    ),
]


@pytest.mark.parametrize(
    ("fn", "load", "error"), [f[1:] for f in FAILING], ids=[f[0] for f in FAILING]
)
async def test_an_operation_that_raises_changes_nothing(
    store: MemoryStore,
    fn: Callable[[Txn], object],
    load: dict[str, Any],
    error: type[Exception],
) -> None:
    await scene(store)
    before = await snapshot(store)
    with pytest.raises(error):
        await store.atomically(fn, **load)
    assert await snapshot(store) == before


async def test_reads_are_copies(store: MemoryStore) -> None:
    await scene(store)
    before = await snapshot(store)
    live = await session(store, "s2")
    live.declined_by.append("x")
    live.timeline.clear()
    presence = await agent(store, "a")
    presence.languages.append("fr")
    ring = await store.get_ring("r2")
    assert ring is not None
    ring.agent_id = "z"
    assert await snapshot(store) == before


# --- the store's indexes ----------------------------------------------------------------------


async def test_waiting_is_in_queue_score_order(store: MemoryStore) -> None:
    await seed(
        store,
        [
            make_session("late", 30.0),
            make_session("early", 10.0),
            make_session("tie-b", 20.0),
            make_session("tie-a", 20.0),
            make_session("middle", 25.0),
        ],
        [make_agent("a"), make_agent("b")],
    )
    assert await waiting_ids(store) == ["early", "tie-a", "tie-b", "middle", "late"]

    await open_ring(store, "middle", "a", "r1")  # ringing still waits
    await open_ring(store, "early", "b", "r2")
    await accept_ring(store, "r2", "b")  # connecting no longer waits
    assert await waiting_ids(store) == ["tie-a", "tie-b", "middle", "late"]
    assert [s.state for s in await store.waiting()] == [S.QUEUED, S.QUEUED, S.RINGING, S.QUEUED]

    await close_ring(store, "r1", "timeout")
    await end_session(store, "tie-a")
    assert await waiting_ids(store) == ["tie-b", "middle", "late"]


async def test_session_for_device(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0, device_id="dev")], [make_agent("a")])
    assert (await store.session_for_device("dev")) == await session(store, "s1")
    assert await store.session_for_device("other") is None

    await end_session(store, "s1")
    assert await store.session_for_device("dev") is None
    assert (await session(store, "s1")).state is S.ENDED  # ended, but not forgotten yet

    await seed(store, [make_session("s2", 2.0, device_id="dev")])
    assert (await store.session_for_device("dev")) == await session(store, "s2")
    await store.forget_session("s1")
    assert (await store.session_for_device("dev")) == await session(store, "s2")


@pytest.mark.parametrize("state", [S.QUEUED, S.RINGING, S.CONNECTING, S.ACTIVE])
async def test_forget_session_keeps_a_live_session(store: MemoryStore, state: SessionState) -> None:
    await put_in(store, state)
    before = await snapshot(store)
    await store.forget_session("s1")
    assert await snapshot(store) == before


async def test_forget_session_drops_an_ended_session(store: MemoryStore) -> None:
    await put_in(store, S.ACTIVE)
    await end_session(store, "s1")
    await store.forget_session("s1")
    assert await store.get_session("s1") is None
    assert await store.live_sessions() == []
    assert await store.session_for_device("dev-s1") is None
    await store.forget_session("s1")  # twice, or for an unknown id, is harmless
    await store.forget_session("nope")
    assert (await agent(store, "a")).routable


async def test_failure_counters_count_within_their_window(store: MemoryStore) -> None:
    assert await store.count_failure("login:alice", 600) == 1
    assert await store.count_failure("login:alice", 1) == 2  # the window is the first one's
    count, remaining_s = await store.failures("login:alice")
    assert count == 2
    assert 599 < remaining_s <= 600
    await store.clear_failures("login:alice")
    assert (await store.failures("login:alice"))[0] == 0


async def test_failure_counters_stay_bounded_and_keep_the_largest(store: MemoryStore) -> None:
    """Guessing at many names must neither grow the table without end nor unlock the target."""
    for _ in range(20):
        await store.count_failure("login:alice", 600)
    for i in range(2 * MAX_FAILURE_KEYS):
        await store.count_failure(f"login:name{i}", 600)
    assert (await store.failures("login:alice"))[0] == 20
    assert (await store.failures(f"login:name{2 * MAX_FAILURE_KEYS - 1}"))[0] == 1
    kept = [i for i in range(2 * MAX_FAILURE_KEYS) if (await store.failures(f"login:name{i}"))[0]]
    assert len(kept) < MAX_FAILURE_KEYS
