"""The help desk's pure operations (``server/live/ops.py``), run through the in-memory store's
``atomically``: opening, accepting and closing a ring, ending a session.

The store itself (what a failed operation leaves behind, its indexes, the failure counters) is
tested in ``tests/test_store_memory.py``; the records and the desk's calls both use are in
``tests/store_ops.py``.
"""

from __future__ import annotations

from functools import partial

import pytest

from server.live import ops
from server.live.memory import MemoryStore
from server.live.records import Actor, AgentPresence, RingRecord, SessionState, Stats
from server.live.store import StaleRead, Txn
from signaling import ErrorCode, ProtocolError

# The store tests share one set of record builders and scenes (tests/store_ops.py): each module
# names the ones it uses, so the two import lists look alike.
from .store_ops import (
    DEFAULT_HANDLING_S,
    DEVICE,
    SYSTEM,
    TIMEOUT_S,
    S,
    accept_ring,
    agent,
    assert_refused,
    close_ring,
    end_session,
    make_agent,
    make_session,
    open_ring,
    put_in,
    scene,
    seed,
    session,
    snapshot,
    waiting_ids,
)
from .store_ops import store as store

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
    assert live.declined_at == {}
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
    assert live.declined_at == {"a": 115.0}  # when: the hold counts from it
    assert live.queue_score == 1.0
    assert presence.status == "available"  # declining is a choice, not an absence
    assert presence.routable
    assert await store.get_ring("r1") is None


async def test_declined_twice_is_remembered_once_as_the_last_decline(store: MemoryStore) -> None:
    await seed(store, [make_session("s1", 1.0)], [make_agent("a")])
    for ring_id, now in (("r1", 115.0), ("r2", 180.0)):
        await open_ring(store, "s1", "a", ring_id)
        await close_ring(store, ring_id, "declined", now=now)
    assert (await session(store, "s1")).declined_at == {"a": 180.0}


async def test_close_missing_ring_is_not_found(store: MemoryStore) -> None:
    await scene(store)
    await assert_refused(store, ErrorCode.NOT_FOUND, close_ring(store, "r1", "timeout"))


# --- end_session ------------------------------------------------------------------------------


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
