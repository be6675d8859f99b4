"""This process's copy of the agents in Redis, brought up to date with only the agents that changed.

Routing, each help press's ticket and each queue push read every agent. With a thousand agents
signed in, reading them all again whenever one of them changed (each ring, accept and end changes
one) fetched a thousand records several times a second in every process. Instead, every write
of an agent counts ``agents-version`` up and records that number as the agent's score in
``agent-versions``, in the same atomic step (the ``BUMP`` of :data:`~server.live.redis_txn.APPLY`).
A read first asks, in one round trip, for the version and the agents scored above the one it last
saw, then fetches just those records; an agent removed since is dropped from the copy.

A version lower than the one seen (Redis restarted empty, or was flushed) or none at all (no agent
written since) reads every agent again.

The copy is an :class:`~server.live.roster.AgentRoster`: routing reads its free agents and what
it keeps of the staffed ones, as on the memory store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from .records import AgentPresence
from .redis_txn import ParseMemo
from .roster import AgentRoster

__all__ = ["AgentsMirror"]


class AgentsMirror:
    def __init__(
        self,
        redis: Redis,
        *,
        version: str,
        versions: str,
        ids: str,
        key_of: Callable[[str], str],
        memo: ParseMemo[AgentPresence],
    ) -> None:
        self._redis = redis
        self._version = version
        """The key of ``agents-version``."""
        self._versions = versions
        """The key of ``agent-versions``: agent ids scored by the version of their last write."""
        self._ids = ids
        """The key of the set of every agent's id."""
        self._key_of = key_of
        self._memo = memo
        self._seen: int | None = None
        """``agents-version`` as it was when the copy was last brought up to date."""
        self._roster = AgentRoster()
        self._sorted: list[AgentPresence] = []
        self._lock = asyncio.Lock()
        self._asked = 0
        """Reads asked for so far, numbered."""
        self._covered = 0
        """The reads asked for before the last sync began: that sync answers them all."""

    async def agents(self) -> list[AgentPresence]:
        """Every agent, by id, as Redis has them now (read-only: the same list is handed out
        while no agent changes)."""
        await self.roster()
        return self._sorted

    async def roster(self) -> AgentRoster:
        """The copy, brought up to date with Redis (read-only).

        Reads asked for together share a sync: one that began after a read was asked for
        answers it (it sees every write made before), so a burst of help presses costs two
        round trips, not one each in turn."""
        self._asked += 1
        asked = self._asked
        async with self._lock:
            if self._covered < asked:
                covering = self._asked
                await self._sync()
                self._covered = covering
            return self._roster

    async def _sync(self) -> None:
        if self._seen is None:
            await self._read_all()
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(self._version)
            pipe.zrangebyscore(self._versions, f"({self._seen}", "+inf")
            version, changed = await pipe.execute()
        if version is None or int(version) < self._seen:
            await self._read_all()  # no agent written yet, or Redis lost what it had
        elif int(version) == self._seen:
            return  # no agent changed
        elif not changed:
            await self._read_all()  # counted up without a score: a process of an older release
        else:
            await self._apply([str(agent_id) for agent_id in changed])
            self._seen = int(version)

    async def _read_all(self) -> None:
        self._seen = None  # until this read is complete: if it fails, the next one reads all
        version = await self._redis.get(self._version)  # before the records: no change missed
        ids = sorted(str(agent_id) for agent_id in await self._redis.smembers(self._ids))
        self._roster = AgentRoster()
        await self._apply(ids)
        self._seen = None if version is None else int(version)

    async def _apply(self, ids: list[str]) -> None:
        raw: list[Any] = await self._redis.mget([self._key_of(i) for i in ids]) if ids else []
        for agent_id, value in zip(ids, raw, strict=True):
            self._roster.put(agent_id, self._memo.parse(agent_id, value))
        self._sorted = sorted(self._roster.agents(), key=lambda agent: agent.agent_id)
