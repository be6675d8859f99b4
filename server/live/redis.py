"""The live store in Redis, for several server processes that form one system.

Every operation is the same pure function the in-memory store runs (:mod:`server.live.ops`),
wrapped in Redis' optimistic transaction: ``WATCH`` the records it names, read them, run the
function, then ``MULTI``/``EXEC`` the writes. If another process changed any watched record in
between, ``EXEC`` fails and the operation runs again on fresh data, so a check and its write can
never be split by another process's change: two processes ringing the same agent, accepting the
same ring or ending the same session cannot both succeed.

Keys (prefix ``mayday:``):

* ``s:<id>``, ``a:<id>``, ``r:<id>``, ``stats``: the records as JSON;
* ``queue``: waiting sessions by queue score; ``sessions``/``agents``: the ids of all records;
* ``dev:<device id>``: the device's session that has not ended;
* ``ring-deadlines``, ``device-lost``, ``agent-lost``, ``control-leases``: what is due when, so any
  process's sweeper finds expired rings, grace periods and leases even if the process that armed
  the timer has died;
* ``nodes``: server processes by last heartbeat; ``node-claim:<node>``: which live process
  cleans up after a dead one (it lapses, so a claimant that dies leaves it to the next);
* ``failures:<key>``: failure counters (sign-ins), expiring with their window.

All index entries are derived from the records on every write, in the same transaction.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import WatchError

from .records import (  # an import list: memory.py and ops.py name the same types
    WAITING_STATES,
    AgentPresence,
    ControlState,
    LiveSession,
    RingRecord,
    SessionState,
    Stats,
)
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
        for attempt in range(MAX_ATTEMPTS):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    if keys:
                        await pipe.watch(*keys)
                        raw = await pipe.mget(keys)
                    else:
                        raw = []
                    values = iter(raw)
                    before_sessions = {i: _parse(LiveSession, next(values)) for i in session_ids}
                    before_agents = {i: _parse(AgentPresence, next(values)) for i in agent_ids}
                    before_rings = {i: _parse(RingRecord, next(values)) for i in ring_ids}
                    before_stats = (
                        (_parse(Stats, next(values)) or self._default_stats) if stats else None
                    )
                    txn = Txn(
                        sessions={i: _copy(v) for i, v in before_sessions.items()},
                        agents={i: _copy(v) for i, v in before_agents.items()},
                        rings={i: _copy(v) for i, v in before_rings.items()},
                        stats=before_stats.model_copy() if before_stats else None,
                    )
                    result = fn(txn)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    for session_id, session in txn.sessions.items():
                        self._write_session(
                            pipe, session_id, before_sessions.get(session_id), session
                        )
                    for agent_id, agent in txn.agents.items():
                        self._write_agent(pipe, agent_id, before_agents.get(agent_id), agent)
                    for ring_id, ring in txn.rings.items():
                        self._write_ring(pipe, ring_id, before_rings.get(ring_id), ring)
                    if txn.stats is not None and txn.stats != before_stats:
                        pipe.set(self._k("stats"), txn.stats.model_dump_json())
                    await pipe.execute()
                    return result
                except WatchError:
                    log.debug("redis.retry", attempt=attempt + 1, keys=len(keys))
            # Another process won this round; back off a little, at random, so that two
            # contenders do not keep colliding in lockstep.
            await asyncio.sleep(random.uniform(0, 0.001 * min(attempt + 1, 20)))
        raise RuntimeError(f"live store: gave up after {MAX_ATTEMPTS} conflicting attempts")

    def _write_session(
        self, pipe: Any, session_id: str, before: LiveSession | None, after: LiveSession | None
    ) -> None:
        if after is not None and before is not None and after == before:
            return
        key = self._k("s", session_id)
        if after is None:
            pipe.delete(key)
            pipe.srem(self._k("sessions"), session_id)
            for index in ("queue", "device-lost", "control-leases"):
                pipe.zrem(self._k(index), session_id)
            if before is not None:
                # The device index may already name a newer session of the same device.
                pipe.eval(_DEL_IF_EQUAL, 1, self._k("dev", before.device_id), session_id)
            return
        pipe.set(key, after.model_dump_json())
        pipe.sadd(self._k("sessions"), session_id)
        _zindex(
            pipe,
            self._k("queue"),
            session_id,
            after.queue_score if after.state in WAITING_STATES else None,
        )
        live = after.state is not SessionState.ENDED
        _zindex(pipe, self._k("device-lost"), session_id, after.device_lost_at if live else None)
        lease = after.control_lease_until if after.control is ControlState.SUSPENDED else None
        _zindex(pipe, self._k("control-leases"), session_id, lease if live else None)
        if live:
            pipe.set(self._k("dev", after.device_id), session_id)
        else:
            pipe.eval(_DEL_IF_EQUAL, 1, self._k("dev", after.device_id), session_id)

    def _write_agent(
        self, pipe: Any, agent_id: str, before: AgentPresence | None, after: AgentPresence | None
    ) -> None:
        if after is not None and before is not None and after == before:
            return
        if after is None:
            pipe.delete(self._k("a", agent_id))
            pipe.srem(self._k("agents"), agent_id)
            pipe.zrem(self._k("agent-lost"), agent_id)
            return
        pipe.set(self._k("a", agent_id), after.model_dump_json())
        pipe.sadd(self._k("agents"), agent_id)
        _zindex(pipe, self._k("agent-lost"), agent_id, after.lost_at)

    def _write_ring(
        self, pipe: Any, ring_id: str, before: RingRecord | None, after: RingRecord | None
    ) -> None:
        if after is not None and after == before:
            return
        if after is None:
            pipe.delete(self._k("r", ring_id))
            pipe.zrem(self._k("ring-deadlines"), ring_id)
            return
        pipe.set(self._k("r", ring_id), after.model_dump_json())
        pipe.zadd(self._k("ring-deadlines"), {ring_id: after.expires_at})

    # --- reads ----------------------------------------------------------------------------------

    async def get_session(self, session_id: str) -> LiveSession | None:
        return _parse(LiveSession, await self.redis.get(self._k("s", session_id)))

    async def session_for_device(self, device_id: str) -> LiveSession | None:
        session_id = await self.redis.get(self._k("dev", device_id))
        return await self.get_session(str(session_id)) if session_id else None

    async def waiting(self, limit: int | None = None) -> list[LiveSession]:
        end = -1 if limit is None else limit - 1
        return await self._many(
            LiveSession, "s", _strs(await self.redis.zrange(self._k("queue"), 0, end))
        )

    async def position(self, session_id: str) -> int | None:
        rank = await self.redis.zrank(self._k("queue"), session_id)
        return None if rank is None else int(str(rank)) + 1

    async def live_sessions(self) -> list[LiveSession]:
        return await self._many(
            LiveSession, "s", sorted(_strs(await self.redis.smembers(self._k("sessions"))))
        )

    async def get_agent(self, agent_id: str) -> AgentPresence | None:
        return _parse(AgentPresence, await self.redis.get(self._k("a", agent_id)))

    async def agents(self) -> list[AgentPresence]:
        return await self._many(
            AgentPresence, "a", sorted(_strs(await self.redis.smembers(self._k("agents"))))
        )

    async def get_ring(self, ring_id: str) -> RingRecord | None:
        return _parse(RingRecord, await self.redis.get(self._k("r", ring_id)))

    async def stats(self) -> Stats:
        return (
            _parse(Stats, await self.redis.get(self._k("stats")))
            or self._default_stats.model_copy()
        )

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

    async def _many(self, model: type[M], kind: str, ids: Sequence[str]) -> list[M]:
        if not ids:
            return []
        raw = await self.redis.mget([self._k(kind, i) for i in ids])
        return [record for record in (_parse(model, value) for value in raw) if record is not None]


_COUNT_IN_WINDOW = """
local count = redis.call('INCR', KEYS[1])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""
"""Count one more under KEYS[1]; the first starts a window of ARGV[1] ms. A script, because the
clock stands still inside one: a window cannot expire between the count and its expiry, which
``MULTI`` only guarantees from Redis 7."""

_DEL_IF_EQUAL = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _strs(values: Any) -> list[str]:
    """redis-py's return types are loose; with ``decode_responses`` members are strings."""
    return [str(value) for value in values]


def _ids(ids: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(i for i in ids if i))


def _parse(model: type[M], raw: str | bytes | None) -> M | None:
    return None if raw is None else model.model_validate_json(raw)


def _copy(record: M | None) -> M | None:
    return None if record is None else record.model_copy(deep=True)


def _zindex(pipe: Any, key: str, member: str, score: float | None) -> None:
    if score is None:
        pipe.zrem(key, member)
    else:
        pipe.zadd(key, {member: score})
