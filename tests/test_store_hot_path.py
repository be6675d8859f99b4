"""The stores' hot path, as two server processes see it: both stores on one real Redis (and the
in-memory store, shared, alike) show the same queue after every change, decide exactly once, and
the Redis store's shortcuts never show stale data: its copy of the queue kept from the change
stream (``server/live/redis_queue.py``), records parsed once, and a decision's writes applied only
if what it read is unchanged (``server/live/redis_txn.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis

from server.live import ops
from server.live.line import line_key
from server.live.memory import MemoryStore
from server.live.records import Actor, AgentPresence, ControlState, LiveSession, SessionState
from server.live.redis import RedisStore
from server.live.store import LiveStore, Txn
from server.routing import Coverage
from signaling import ErrorCode, ProtocolError

from .services import flush
from .store_ops import open_ring, seed

HANDLING_S = 300.0
S = SessionState


def make_session(session_id: str, score: float) -> LiveSession:
    return LiveSession(
        id=session_id,
        device_id=f"dev-{session_id}",
        device_name=f"tablet {session_id}",
        topic="general",
        locale="en",
        created_at=score,
        queue_score=score,
        device_sid=f"sock-{session_id}",
    )


def make_agent(agent_id: str) -> AgentPresence:
    return AgentPresence(
        agent_id=agent_id,
        name=f"agent {agent_id}",
        languages=["en"],
        skills=[],
        status="available",
        sid=f"sock-{agent_id}",
        idle_since=0.0,
    )


async def waiting(store: LiveStore, limit: int | None = None) -> list[tuple[str, SessionState]]:
    """The queue as ``waiting()`` has it; the store's line (routing's view) must agree."""
    seen = [(s.id, s.state) for s in await store.waiting(limit)]
    line = await store.line()
    assert [(s.id, s.state) for s in line.sessions(limit)] == seen
    if limit is None:
        assert [s.id for s in line.in_line({line_key(s) for s in line.heads()})] == [
            i for i, _ in seen
        ]
    return seen


@pytest.fixture(params=["memory", "redis"])
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[LiveStore, LiveStore]]:
    """Two processes' stores: two Redis stores on one Redis, or one in-memory store twice."""
    if request.param == "memory":
        store = MemoryStore(default_handling_time_s=HANDLING_S)
        yield store, store
        return
    url: str = request.getfixturevalue("redis_server")
    flush(url)
    one = RedisStore(url, default_handling_time_s=HANDLING_S)
    other = RedisStore(url, default_handling_time_s=HANDLING_S)
    try:
        yield one, other
    finally:
        await one.close()
        await other.close()


@pytest.fixture
async def stores(redis_server: str) -> AsyncIterator[tuple[RedisStore, RedisStore, redis.Redis]]:
    """Two Redis stores and a plain client that changes records behind their backs."""
    flush(redis_server)
    one = RedisStore(redis_server, default_handling_time_s=HANDLING_S)
    other = RedisStore(redis_server, default_handling_time_s=HANDLING_S)
    client = redis.Redis.from_url(redis_server, decode_responses=True)
    try:
        yield one, other, client
    finally:
        client.close()
        await one.close()
        await other.close()


async def test_the_queue_seen_from_another_process_follows_every_change(
    pair: tuple[LiveStore, LiveStore],
) -> None:
    one, other = pair
    await seed(one, [make_session(f"s{i}", 10.0 + i) for i in range(1, 6)], [make_agent("a")])
    assert await waiting(other) == [(f"s{i}", S.QUEUED) for i in range(1, 6)]

    await open_ring(one, "s2", "a", "r1")
    assert (await waiting(other))[:2] == [("s1", S.QUEUED), ("s2", S.RINGING)]

    await one.atomically(
        lambda txn: ops.accept_ring(txn, "r1", "a", now=101.0),
        rings=["r1"],
        sessions=["s2"],
        agents=["a"],
    )
    assert [i for i, _ in await waiting(other)] == ["s1", "s3", "s4", "s5"]

    await seed(one, [make_session("s0", 1.0)])  # a requeued ticket goes first
    await one.atomically(
        lambda txn: ops.end_session(txn, "s4", actor=Actor.system(), reason="cancelled", now=102.0),
        sessions=["s4"],
    )
    assert await waiting(other, limit=3) == [("s0", S.QUEUED), ("s1", S.QUEUED), ("s3", S.QUEUED)]
    assert [i for i, _ in await waiting(other)] == ["s0", "s1", "s3", "s5"]
    assert await other.position("s3") == 3


async def test_two_processes_ring_one_agent_exactly_once(pair: tuple[LiveStore, LiveStore]) -> None:
    one, other = pair
    await seed(one, [make_session(f"s{i}", float(i)) for i in range(10)], [make_agent("a")])
    results = await asyncio.gather(
        *(open_ring((one, other)[i % 2], f"s{i}", "a", f"r{i}") for i in range(10)),
        return_exceptions=True,
    )
    won = [i for i, result in enumerate(results) if not isinstance(result, BaseException)]
    assert len(won) == 1, results
    assert all(
        isinstance(r, ProtocolError) and r.code is ErrorCode.CONFLICT
        for i, r in enumerate(results)
        if i not in won
    )
    agent = await other.get_agent("a")
    assert agent is not None
    assert agent.ring_id == f"r{won[0]}"
    ringing = [i for i, state in await waiting(other) if state is S.RINGING]
    assert ringing == [f"s{won[0]}"]


async def test_a_record_changed_between_read_and_write_runs_the_decision_again(
    stores: tuple[RedisStore, RedisStore, redis.Redis],
) -> None:
    one, other, client = stores
    await seed(one, [make_session("s1", 1.0)], [make_agent("a")])
    calls = 0

    def ring_while_the_agent_steps_away(txn: Txn) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:  # another process sets the agent away after this one read it
            away = make_agent("a").model_copy(update={"status": "away"})
            client.set("mayday:a:a", away.model_dump_json())
        return ops.open_ring(txn, "s1", "a", "r1", now=100.0, timeout_s=15.0)

    with pytest.raises(ProtocolError) as refused:
        await one.atomically(ring_while_the_agent_steps_away, sessions=["s1"], agents=["a"])
    assert refused.value.code is ErrorCode.CONFLICT
    assert calls == 2
    assert await other.get_ring("r1") is None
    assert await waiting(other) == [("s1", S.QUEUED)]


async def test_a_decision_that_changes_nothing_writes_nothing(
    stores: tuple[RedisStore, RedisStore, redis.Redis],
) -> None:
    one, _, client = stores
    await seed(one, [make_session("s1", 1.0)], [make_agent("a")])
    changes = client.xlen("mayday:queue-changes")
    await one.atomically(lambda txn: None, sessions=["s1"], agents=["a"], stats=True)
    assert client.xlen("mayday:queue-changes") == changes
    assert client.get("mayday:stats") is None
    await open_ring(one, "s1", "a", "r1")
    assert client.xlen("mayday:queue-changes") == changes + 1


async def test_the_queue_copy_reads_everything_again_when_the_stream_lost_changes(
    stores: tuple[RedisStore, RedisStore, redis.Redis],
) -> None:
    one, other, client = stores
    await seed(one, [make_session("s1", 1.0), make_session("s2", 2.0)], [make_agent("a")])
    assert [i for i, _ in await waiting(other)] == ["s1", "s2"]

    client.xtrim("mayday:queue-changes", maxlen=0)  # as if trimmed past this process
    client.zrem("mayday:queue", "s1")  # a change the stream never told
    client.delete("mayday:s:s1")
    await seed(one, [make_session("s3", 3.0)])
    assert [i for i, _ in await waiting(other)] == ["s2", "s3"]

    client.flushdb()  # Redis came back empty
    assert await waiting(other) == []
    await seed(one, [make_session("s4", 4.0)])
    assert [i for i, _ in await waiting(other)] == ["s4"]


async def test_agents_read_again_show_each_change(pair: tuple[LiveStore, LiveStore]) -> None:
    one, other = pair
    await seed(one, [], [make_agent("a"), make_agent("b")])
    first = {a.agent_id: a.status for a in await other.agents()}
    assert first == {"a": "available", "b": "available"}

    def away(txn: Txn) -> None:
        txn.agent("b").status = "away"

    await one.atomically(away, agents=["b"])
    again = {a.agent_id: a.status for a in await other.agents()}
    assert again == {"a": "available", "b": "away"}


async def test_what_comes_due_follows_each_change(pair: tuple[LiveStore, LiveStore]) -> None:
    """The sweeper's question, asked each second: the memory store answers it from the sessions
    whose device is away or whose control is suspended, not from every live session."""
    one, other = pair

    def made(session_id: str, **changes: object) -> LiveSession:
        return make_session(session_id, 1.0).model_copy(update=changes)

    suspended = {"state": S.ACTIVE, "control": ControlState.SUSPENDED}
    await seed(
        one,
        [
            made("s1", device_lost_at=100.0),
            made("s2", control_lease_until=150.0, **suspended),
            made("s3", control_lease_until=300.0, **suspended),
            made("s4", state=S.ENDED, device_lost_at=100.0),
            made("s5", device_lost_at=190.0),
            made("s6"),
        ],
    )
    due = await other.due(200.0, grace_s=20.0)
    assert (due.lost_sessions, due.expired_leases, due.suspended) == (["s1"], ["s2"], ["s3"])

    def changes(txn: Txn) -> None:
        txn.session("s1").device_lost_at = None  # back
        txn.session("s2").control = ControlState.GRANTED  # resumed
        txn.session("s3").state = S.ENDED
        txn.session("s6").device_lost_at = 50.0

    await one.atomically(changes, sessions=["s1", "s2", "s3", "s6"])
    due = await other.due(200.0, grace_s=20.0)
    assert (due.lost_sessions, due.expired_leases, due.suspended) == (["s6"], [], [])


async def test_the_roster_seen_from_another_process_follows_each_change(
    pair: tuple[LiveStore, LiveStore],
) -> None:
    """Routing's view of the agents (``server/live/roster.py``): the free ones after a ring and
    an accept; what is kept of the staffed ones survives those, not an agent going away."""
    one, other = pair
    await seed(one, [make_session("s1", 1.0)], [make_agent("a"), make_agent("b")])
    roster = await other.roster()
    assert sorted(a.agent_id for a in roster.free()) == ["a", "b"]
    coverage = roster.kept(Coverage.of_roster)

    await open_ring(one, "s1", "a", "r1")
    roster = await other.roster()
    assert [a.agent_id for a in roster.free()] == ["b"]
    await one.atomically(
        lambda txn: ops.accept_ring(txn, "r1", "a", now=101.0),
        rings=["r1"],
        sessions=["s1"],
        agents=["a"],
    )
    roster = await other.roster()
    assert [a.agent_id for a in roster.free()] == ["b"]
    assert roster.staffed["a"].session_id == "s1"
    assert roster.kept(Coverage.of_roster) is coverage

    def away(txn: Txn) -> None:
        txn.agent("b").status = "away"

    await one.atomically(away, agents=["b"])
    roster = await other.roster()
    assert (roster.free(), sorted(roster.staffed)) == ([], ["a"])
    assert [a.agent_id for a in roster.kept(Coverage.of_roster).staffed] == ["a"]


async def test_the_agents_seen_from_another_process_follow_each_change_and_removal(
    stores: tuple[RedisStore, RedisStore, redis.Redis],
) -> None:
    one, other, client = stores
    await seed(one, [], [make_agent(f"a{i}") for i in range(5)])
    assert [a.agent_id for a in await other.agents()] == [f"a{i}" for i in range(5)]

    def changes(txn: Txn) -> None:
        txn.agent("a1").status = "away"
        txn.agents["a3"] = None
        txn.agents["a9"] = make_agent("a9")

    await one.atomically(changes, agents=["a1", "a3", "a9"])
    reads, listings = _calls(client, "mget"), _calls(client, "smembers")
    seen = {a.agent_id: a.status for a in await other.agents()}
    assert seen == {
        "a0": "available",
        "a1": "away",
        "a2": "available",
        "a4": "available",
        "a9": "available",
    }
    # Only the three that changed were read: one MGET, no listing of all agents.
    assert (_calls(client, "mget"), _calls(client, "smembers")) == (reads + 1, listings)

    client.flushdb()  # Redis came back empty, then one agent signed in
    await seed(one, [], [make_agent("b")])
    assert [a.agent_id for a in await other.agents()] == ["b"]


async def test_reads_of_the_agents_asked_for_together_share_a_sync(
    stores: tuple[RedisStore, RedisStore, redis.Redis],
) -> None:
    one, other, client = stores
    await seed(one, [], [make_agent("a")])
    await other.agents()
    syncs = _calls(client, "zrangebyscore")
    read = await asyncio.gather(*(other.agents() for _ in range(50)))
    assert all(agents is read[0] for agents in read)
    assert _calls(client, "zrangebyscore") <= syncs + 2  # not one each in turn

    def away(txn: Txn) -> None:
        txn.agent("a").status = "away"

    await one.atomically(away, agents=["a"])
    read = await asyncio.gather(*(other.agents() for _ in range(50)))
    assert {agents[0].status for agents in read} == {"away"}


async def test_agents_written_by_an_older_release_are_read_again(
    stores: tuple[RedisStore, RedisStore, redis.Redis],
) -> None:
    one, other, client = stores
    await seed(one, [], [make_agent("a")])
    assert [a.status for a in await other.agents()] == ["available"]
    # An older process writes an agent and counts the version up, without a score.
    client.set(
        "mayday:a:a", make_agent("a").model_copy(update={"status": "away"}).model_dump_json()
    )
    client.incr("mayday:agents-version")
    assert [a.status for a in await other.agents()] == ["away"]


async def test_a_decision_on_records_known_here_is_one_round_trip(
    stores: tuple[RedisStore, RedisStore, redis.Redis],
) -> None:
    one, _, client = stores
    await seed(one, [make_session("s1", 1.0)], [make_agent("a")])
    reads = _calls(client, "mget")
    scripts = _calls(client, "evalsha")
    await open_ring(one, "s1", "a", "r1")  # seeded here: its records are known
    assert _calls(client, "mget") == reads
    assert _calls(client, "evalsha") == scripts + 1


async def test_a_record_another_process_changed_is_decided_on_as_it_is_now(
    stores: tuple[RedisStore, RedisStore, redis.Redis],
) -> None:
    one, other, _ = stores
    await seed(one, [make_session("s1", 1.0)], [make_agent("a")])
    assert await one.atomically(lambda txn: txn.agent("a").status, agents=["a"]) == "available"

    def away(txn: Txn) -> None:
        txn.agent("a").status = "away"

    await other.atomically(away, agents=["a"])
    # One still knows the agent as available: a decision that writes nothing sees the change...
    assert await one.atomically(lambda txn: txn.agent("a").status, agents=["a"]) == "away"
    # ...and so does one that would write.
    with pytest.raises(ProtocolError) as refused:
        await open_ring(one, "s1", "a", "r1")
    assert refused.value.code is ErrorCode.CONFLICT
    assert await other.get_ring("r1") is None


async def test_a_refusal_is_never_given_on_a_record_known_from_before(
    stores: tuple[RedisStore, RedisStore, redis.Redis],
) -> None:
    one, other, _ = stores
    await seed(
        one, [make_session("s1", 1.0)], [make_agent("a").model_copy(update={"status": "away"})]
    )

    def back(txn: Txn) -> None:
        txn.agent("a").status = "available"

    await other.atomically(back, agents=["a"])
    # One knows the agent as away, which would refuse the ring; the agent is available now.
    _, agent, _ = await open_ring(one, "s1", "a", "r1")
    assert agent.ring_id == "r1"
    assert (await other.get_agent("a")).ring_id == "r1"  # type: ignore[union-attr]


async def test_a_record_deleted_elsewhere_is_not_written_back(
    stores: tuple[RedisStore, RedisStore, redis.Redis],
) -> None:
    one, other, client = stores
    await seed(one, [make_session("s1", 1.0)])
    await one.atomically(
        lambda txn: ops.end_session(txn, "s1", actor=Actor.system(), reason="cancelled", now=5.0),
        sessions=["s1"],
    )
    await other.forget_session("s1")
    assert client.get("mayday:s:s1") is None

    def touch(txn: Txn) -> bool:
        session = txn.sessions.get("s1")
        if session is not None:
            session.device_name = "written back"
        return session is not None

    assert await one.atomically(touch, sessions=["s1"]) is False
    assert client.get("mayday:s:s1") is None


def _calls(client: redis.Redis, command: str) -> int:
    stats = client.info("commandstats").get(f"cmdstat_{command}", {})
    return int(stats.get("calls", 0))
