"""The in-memory live store (``server/live/memory.py``) under the desk's operations: an operation
that raises changes nothing, reads are copies, the waiting queue and the device index follow the
sessions, ended sessions are forgotten, failure counters stay bounded.

The operations themselves are tested in ``tests/test_store_ops.py``; the records and scenes both
use are in ``tests/store_ops.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from server.live import ops
from server.live.memory import MAX_FAILURE_KEYS, MemoryStore
from server.live.records import SessionState
from server.live.store import StaleRead, Txn
from signaling import ProtocolError

# The store tests share one set of record builders and scenes (tests/store_ops.py): each module
# names the ones it uses, so the two import lists look alike.
from .store_ops import (
    DEVICE,
    SYSTEM,
    TIMEOUT_S,
    S,
    accept_ring,
    agent,
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
    live.declined_at["x"] = 1.0
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
