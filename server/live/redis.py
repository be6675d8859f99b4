"""The live store in Redis, for several server processes that form one system.

Every operation is the same pure function the in-memory store runs (:mod:`server.live.ops`),
run optimistically: take the records it names as this process last saw them (or read them, one
``MGET``), run the function, then send its writes in one script call that applies them only if
none of those records is different in Redis (:mod:`server.live.redis_txn`); if one is, nothing is
written and the operation runs again on the records the script sent back. So a check and its
write can never be split by another process's change: two processes ringing the same agent,
accepting the same ring or ending the same session cannot both succeed, and a decision costs one
round trip when this process knew its records, two otherwise.

Keys (prefix ``mayday:``):

* ``s:<id>``, ``a:<id>``, ``r:<id>``, ``stats``: the records as JSON;
* ``queue``: waiting sessions by queue score; ``sessions``/``agents``: the ids of all records;
* ``dev:<device id>``: the device's session that has not ended;
* ``ring-deadlines``, ``device-lost``, ``agent-lost``, ``control-leases``: what is due when, so any
  process's sweeper finds expired rings, grace periods and leases even if the process that armed
  the timer has died;
* ``nodes``: server processes by last heartbeat; ``node-claim:<node>``: which live process
  cleans up after a dead one (it lapses, so a claimant that dies leaves it to the next);
* ``failures:<key>``: failure counters (sign-ins), expiring with their window;
* ``queue-changes``: a stream of the ids of sessions written while (or just after) waiting,
  capped at about 100,000 entries, from which every process keeps its copy of the queue up to
  date instead of reading the whole queue (:mod:`server.live.redis_queue`);
* ``agents-version``: counted up by every write of an agent, and ``agent-versions``: each agent's
  id scored by the count of its last write, from which every process keeps its copy of the
  agents up to date by reading only those that changed (:mod:`server.live.redis_agents`).

All index entries are derived from the records on every write, in the same atomic step.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel
from redis.asyncio import BlockingConnectionPool, Redis

from .line import WaitingLine
from .records import (  # an import list: memory.py and ops.py name the same types
    WAITING_STATES,
    AgentPresence,
    ControlState,
    LiveSession,
    RingRecord,
    SessionState,
    Stats,
)
from .redis_agents import AgentsMirror
from .redis_queue import FEED_MAXLEN, QueueMirror
from .redis_txn import APPLY, KnownValues, ParseMemo, Writes, digest
from .roster import AgentRoster
from .store import Due, LiveStore, Txn

__all__ = ["RedisStore"]

log = structlog.get_logger("mayday.redis")

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
MAX_ATTEMPTS = 50
MAX_CONNECTIONS = 64
CONNECT_TIMEOUT_S = 2.0
"""A Redis that cannot be reached fails an operation within this (an unreachable host would
otherwise hold it for the operating system's connect timeout, minutes)."""
MEMO_SIZE = 50_000
"""Parsed records kept for bulk reads (agents, live sessions), most recently read first."""
KNOWN_SIZE = 20_000
"""Records whose JSON this process keeps as last read or written, to decide on them in one round
trip (:class:`~server.live.redis_txn.KnownValues`)."""
COMMAND_TIMEOUT_S = 5.0
"""A Redis that stopped answering fails an operation within this; operations are small."""


class RedisStore(LiveStore):
    shared = True

    def __init__(
        self, url: str, *, default_handling_time_s: float, prefix: str = "mayday:"
    ) -> None:
        # A blocking pool: under a burst, operations wait for a connection instead of failing.
        # While Redis is down an operation fails fast instead (connection refused, or the
        # timeouts): the caller answers with an error and the client retries (docs/deploy.md §4.1).
        pool = BlockingConnectionPool.from_url(
            url,
            decode_responses=True,
            max_connections=MAX_CONNECTIONS,
            timeout=10,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=COMMAND_TIMEOUT_S,
        )
        self.redis: Redis = Redis(connection_pool=pool)
        self._prefix = prefix
        self._default_stats = Stats(handling_time_s=default_handling_time_s)
        self._apply_script = self.redis.register_script(APPLY)
        self._known = KnownValues(KNOWN_SIZE)
        self._agent_memo: ParseMemo[AgentPresence] = ParseMemo(AgentPresence, MEMO_SIZE)
        self._session_memo: ParseMemo[LiveSession] = ParseMemo(LiveSession, MEMO_SIZE)
        self._agents = AgentsMirror(
            self.redis,
            version=self._k("agents-version"),
            versions=self._k("agent-versions"),
            ids=self._k("agents"),
            key_of=lambda agent_id: self._k("a", agent_id),
            memo=self._agent_memo,
        )
        self._queue = QueueMirror(
            self.redis,
            feed=self._k("queue-changes"),
            queue=self._k("queue"),
            key_of=lambda session_id: self._k("s", session_id),
        )

    def _k(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    async def close(self) -> None:
        await self.redis.aclose()

    async def ping(self) -> None:
        """One round trip, for readiness (``/readyz``)."""
        await self.redis.ping()

    # --- the one way to change live state -------------------------------------------------------

    # LiveStore.atomically's signature, repeated here as an override must.
    async def atomically(
        self,
        fn: Callable[[Txn], T],
        *,
        sessions: Iterable[str | None] = (),
        agents: Iterable[str | None] = (),
        rings: Iterable[str | None] = (),
        stats: bool = False,
    ) -> T:
        session_ids = _ids(sessions)
        agent_ids = _ids(agents)
        ring_ids = _ids(rings)
        keys = (
            [self._k("s", i) for i in session_ids]
            + [self._k("a", i) for i in agent_ids]
            + [self._k("r", i) for i in ring_ids]
            + ([self._k("stats")] if stats else [])
        )
        raw = self._known.recall(keys)
        fresh = raw is None  # read from Redis for this attempt (not known here from before)
        if raw is None:
            raw = _texts(await self.redis.mget(keys)) if keys else []
        for attempt in range(MAX_ATTEMPTS):
            values = iter(raw)
            before_sessions = {i: next(values) for i in session_ids}
            before_agents = {i: next(values) for i in agent_ids}
            before_rings = {i: next(values) for i in ring_ids}
            before_stats = next(values) if stats else None
            txn = Txn(
                sessions={i: _parse(LiveSession, v) for i, v in before_sessions.items()},
                agents={i: _parse(AgentPresence, v) for i, v in before_agents.items()},
                rings={i: _parse(RingRecord, v) for i, v in before_rings.items()},
                stats=(_parse(Stats, before_stats) or self._default_stats.model_copy())
                if stats
                else None,
            )
            was_waiting = {
                i: session is not None and session.state in WAITING_STATES
                for i, session in txn.sessions.items()
            }
            try:
                result = fn(txn)
            except Exception:
                if fresh:
                    raise
                # Refused on records known from before, which may be stale: read them and
                # decide again, so that a refusal is only ever given on what is there now.
                raw, fresh = _texts(await self.redis.mget(keys)), True
                continue
            writes = Writes()
            for session_id, session in txn.sessions.items():
                self._write_session(
                    writes,
                    session_id,
                    before_sessions.get(session_id),
                    session,
                    was_waiting=was_waiting.get(session_id, False),
                )
            for agent_id, agent in txn.agents.items():
                self._write_agent(writes, agent_id, before_agents.get(agent_id), agent)
            for ring_id, ring in txn.rings.items():
                self._write_ring(writes, ring_id, before_rings.get(ring_id), ring)
            if txn.stats is not None:
                dumped = txn.stats.model_dump_json()
                if dumped != (before_stats or self._default_stats.model_dump_json()):
                    writes.set_record(self._k("stats"), dumped)
            if not writes and fresh:
                self._learn(keys, raw)
                return result  # nothing to write: the records read were one snapshot
            # With nothing to write, records known from before are only checked to be current.
            now = await self._apply_script(
                keys=keys, args=[len(keys), *(digest(v) for v in raw), *writes.args]
            )
            if not isinstance(now, list):  # applied
                self._learn(keys, raw, writes.records)
                return result
            if fresh:
                log.debug("redis.retry", attempt=attempt + 1, keys=len(keys))
                # Another process won this round; back off a little, at random, so that two
                # contenders do not keep colliding in lockstep.
                await asyncio.sleep(random.uniform(0, 0.001 * min(attempt + 1, 20)))
            # Decide again on the records as they are now (the script's answer).
            raw, fresh = _texts(now), True
        raise RuntimeError(f"live store: gave up after {MAX_ATTEMPTS} conflicting attempts")

    def _learn(
        self, keys: list[str], raw: list[str | None], written: dict[str, str | None] | None = None
    ) -> None:
        """Remember the records decided on, then what was written (named or not)."""
        for key, value in zip(keys, raw, strict=True):
            self._known.learn(key, value)
        for key, value in (written or {}).items():
            self._known.learn(key, value)

    def _write_session(
        self,
        writes: Writes,
        session_id: str,
        before: str | None,
        after: LiveSession | None,
        *,
        was_waiting: bool,
    ) -> None:
        key = self._k("s", session_id)
        if after is None:
            if before is None:
                return
            writes.delete_record(key)
            writes.add("SREM", self._k("sessions"), session_id)
            for index in ("queue", "device-lost", "control-leases"):
                writes.add("ZREM", self._k(index), session_id)
            # The device index may already name a newer session of the same device.
            device_id = LiveSession.model_validate_json(before).device_id
            writes.add("DELIFEQ", self._k("dev", device_id), session_id)
            if was_waiting:
                self._feed(writes, session_id)
            return
        dumped = after.model_dump_json()
        if dumped == before:
            return
        writes.set_record(key, dumped)
        writes.add("SADD", self._k("sessions"), session_id)
        waiting = after.state in WAITING_STATES
        _zindex(writes, self._k("queue"), session_id, after.queue_score if waiting else None)
        live = after.state is not SessionState.ENDED
        _zindex(writes, self._k("device-lost"), session_id, after.device_lost_at if live else None)
        lease = after.control_lease_until if after.control is ControlState.SUSPENDED else None
        _zindex(writes, self._k("control-leases"), session_id, lease if live else None)
        if live:
            writes.add("SET", self._k("dev", after.device_id), session_id)
        else:
            writes.add("DELIFEQ", self._k("dev", after.device_id), session_id)
        if waiting or was_waiting:
            self._feed(writes, session_id)

    def _feed(self, writes: Writes, session_id: str) -> None:
        """Tell every process's copy of the queue that this session changed (``redis_queue``)."""
        writes.add(
            "XADD", self._k("queue-changes"), "MAXLEN", "~", FEED_MAXLEN, "*", "s", session_id
        )

    def _write_agent(
        self, writes: Writes, agent_id: str, before: str | None, after: AgentPresence | None
    ) -> None:
        key = self._k("a", agent_id)
        if after is None:
            if before is not None:
                writes.delete_record(key)
                writes.add("SREM", self._k("agents"), agent_id)
                writes.add("ZREM", self._k("agent-lost"), agent_id)
                self._bump(writes, agent_id)
            return
        dumped = after.model_dump_json()
        if dumped == before:
            return
        self._bump(writes, agent_id)
        writes.set_record(key, dumped)
        writes.add("SADD", self._k("agents"), agent_id)
        _zindex(writes, self._k("agent-lost"), agent_id, after.lost_at)

    def _bump(self, writes: Writes, agent_id: str) -> None:
        """Tell every process's copy of the agents that this one changed (``redis_agents``)."""
        writes.add("BUMP", self._k("agents-version"), self._k("agent-versions"), agent_id)

    def _write_ring(
        self, writes: Writes, ring_id: str, before: str | None, after: RingRecord | None
    ) -> None:
        key = self._k("r", ring_id)
        if after is None:
            if before is not None:
                writes.delete_record(key)
                writes.add("ZREM", self._k("ring-deadlines"), ring_id)
            return
        dumped = after.model_dump_json()
        if dumped == before:
            return
        writes.set_record(key, dumped)
        writes.add("ZADD", self._k("ring-deadlines"), after.expires_at, ring_id)

    # --- reads ----------------------------------------------------------------------------------

    async def get_session(self, session_id: str) -> LiveSession | None:
        return _parse(LiveSession, await self._get(self._k("s", session_id)))

    async def session_for_device(self, device_id: str) -> LiveSession | None:
        session_id = await self.redis.get(self._k("dev", device_id))
        return await self.get_session(str(session_id)) if session_id else None

    async def waiting(self, limit: int | None = None) -> list[LiveSession]:
        return await self._queue.waiting(limit)

    async def line(self) -> WaitingLine:
        return await self._queue.line()

    async def position(self, session_id: str) -> int | None:
        rank = await self.redis.zrank(self._k("queue"), session_id)
        return None if rank is None else int(str(rank)) + 1

    async def live_sessions(self) -> list[LiveSession]:
        ids = sorted(_strs(await self.redis.smembers(self._k("sessions"))))
        return await self._many(self._session_memo, "s", ids)

    async def get_agent(self, agent_id: str) -> AgentPresence | None:
        return _parse(AgentPresence, await self._get(self._k("a", agent_id)))

    async def agents(self) -> list[AgentPresence]:
        return await self._agents.agents()

    async def roster(self) -> AgentRoster:
        return await self._agents.roster()

    async def get_ring(self, ring_id: str) -> RingRecord | None:
        return _parse(RingRecord, await self._get(self._k("r", ring_id)))

    async def stats(self) -> Stats:
        return _parse(Stats, await self._get(self._k("stats"))) or self._default_stats.model_copy()

    async def _get(self, key: str) -> str | None:
        """One record's JSON, now; remembered for the next decision on it."""
        (raw,) = _texts([await self.redis.get(key)])
        self._known.learn(key, raw)
        return raw

    async def forget_session(self, session_id: str) -> None:
        def forget(txn: Txn) -> None:
            session = txn.sessions.get(session_id)
            if session is not None and session.state is SessionState.ENDED:
                txn.sessions[session_id] = None

        await self.atomically(forget, sessions=[session_id])

    async def due(self, now: float, *, grace_s: float) -> Due:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrangebyscore(self._k("ring-deadlines"), "-inf", now)
            pipe.zrangebyscore(self._k("device-lost"), "-inf", now - grace_s)
            pipe.zrangebyscore(self._k("agent-lost"), "-inf", now - grace_s)
            pipe.zrangebyscore(self._k("control-leases"), "-inf", now)
            pipe.zrangebyscore(self._k("control-leases"), f"({now}", "+inf")
            rings, devices, agents, leases, suspended = await pipe.execute()
        return Due(
            rings=_strs(rings),
            lost_sessions=_strs(devices),
            lost_agents=_strs(agents),
            expired_leases=_strs(leases),
            suspended=_strs(suspended),
        )

    async def heartbeat(self, node: str, now: float) -> None:
        await self.redis.zadd(self._k("nodes"), {node: now})

    async def beats(self) -> dict[str, float]:
        pairs: Any = await self.redis.zrange(self._k("nodes"), 0, -1, withscores=True)
        return {str(node): float(at) for node, at in pairs}

    async def claim_node(self, node: str, *, by: str, ttl_s: float) -> bool:
        claimed = await self.redis.set(
            self._k("node-claim", node), by, nx=True, px=max(1, round(ttl_s * 1000))
        )
        return bool(claimed)

    async def forget_node(self, node: str) -> None:
        await self.redis.zrem(self._k("nodes"), node)

    async def count_failure(self, key: str, window_s: float) -> int:
        window_ms = max(1, round(window_s * 1000))
        count = await self.redis.eval(_COUNT_IN_WINDOW, 1, self._k("failures", key), window_ms)
        return int(count)

    async def failures(self, key: str) -> tuple[int, float]:
        name = self._k("failures", key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(name)
            pipe.pttl(name)
            count, ttl_ms = await pipe.execute()
        if count is None or ttl_ms < 0:
            return 0, 0.0
        return int(count), ttl_ms / 1000

    async def clear_failures(self, key: str) -> None:
        await self.redis.delete(self._k("failures", key))

    async def _many(self, memo: ParseMemo[M], kind: str, ids: Sequence[str]) -> list[M]:
        if not ids:
            return []
        raw: list[Any] = await self.redis.mget([self._k(kind, i) for i in ids])
        records = (memo.parse(i, value) for i, value in zip(ids, raw, strict=True))
        return [record for record in records if record is not None]


_COUNT_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""
"""Count one more under KEYS[1]; the first starts a window of ARGV[1] ms. A script, because the
clock stands still inside one: a window cannot expire between the count and its expiry, which
``MULTI`` only guarantees from Redis 7."""


def _strs(values: Any) -> list[str]:
    """redis-py's return types are loose; with ``decode_responses`` members are strings."""
    return [str(value) for value in values]


def _texts(values: Sequence[Any]) -> list[str | None]:
    """Records as redis-py returns them (strings, with ``decode_responses``; ``None`` if absent)."""
    return [None if value is None else str(value) for value in values]


def _ids(ids: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(i for i in ids if i))


def _parse(model: type[M], raw: str | bytes | None) -> M | None:
    return None if raw is None else model.model_validate_json(raw)


def _zindex(writes: Writes, key: str, member: str, score: float | None) -> None:
    if score is None:
        writes.add("ZREM", key, member)
    else:
        writes.add("ZADD", key, score, member)
