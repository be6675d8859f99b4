"""This process's copy of the waiting sessions in Redis, brought up to date by what changed.

Reading the whole queue from Redis on every push and routing pass costs what the queue holds:
10,000 waiting customers are 10,000 records to fetch and parse, several times a second, in every
process. Instead, every write of a session that is (or was) waiting also appends its id to a
stream, ``queue-changes``, in the same atomic step (:mod:`server.live.redis_txn`); a read first
fetches the stream's entries since the last one it applied and the records they name, and keeps
the rest. A read so costs what changed since the last one.

The stream is capped (``XADD MAXLEN ~``): a process that fell further behind than the cap, or
finds the stream gone (Redis restarted empty, flushed), reads the whole queue again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from .line import WaitingLine
from .records import LiveSession

__all__ = ["FEED_MAXLEN", "QueueMirror"]

FEED_MAXLEN = 100_000
"""Entries the change stream keeps, about: far more than change between two reads."""
MGET_CHUNK = 1000
"""Records fetched per ``MGET`` when reading the whole queue, so no single reply blocks long."""


class QueueMirror:
    def __init__(
        self, redis: Redis, *, feed: str, queue: str, key_of: Callable[[str], str]
    ) -> None:
        self._redis = redis
        self._feed = feed
        self._queue = queue
        self._key_of = key_of
        """A session's key, by its id."""
        self._line = WaitingLine()
        self._last: str | None = None
        """The stream id of the last change applied; ``None`` until the first full read."""
        self._lock = asyncio.Lock()

    async def waiting(self, limit: int | None) -> list[LiveSession]:
        """The waiting sessions, first in line first, as Redis has them now (read-only)."""
        return (await self.line()).sessions(limit)

    async def line(self) -> WaitingLine:
        """This process's copy of the line, brought up to date with Redis (read-only; read it
        before awaiting anything else)."""
        async with self._lock:
            await self._sync()
            return self._line

    async def _sync(self) -> None:
        if self._last is None:
            await self._read_all()
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xrange(self._feed, "-", "+", count=1)
            pipe.xrange(self._feed, f"({self._last}", "+")
            oldest, changes = await pipe.execute()
        if not oldest or _stream_id(oldest[0][0]) > _stream_id(self._last):
            # The entries after ours may have been trimmed, or the stream is gone.
            await self._read_all()
            return
        if not changes:
            return
        ids = list(dict.fromkeys(str(fields["s"]) for _, fields in changes))
        raw = await self._redis.mget([self._key_of(i) for i in ids])
        for session_id, value in zip(ids, raw, strict=True):
            self._line.put(
                session_id, None if value is None else LiveSession.model_validate_json(value)
            )
        self._last = str(changes[-1][0])

    async def _read_all(self) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.xrevrange(self._feed, "+", "-", count=1)
            pipe.zrange(self._queue, 0, -1)
            newest, ids = await pipe.execute()
        # Changes after ``newest`` are applied again at the next read: a record fetched here
        # may already be newer, and applying a change twice leaves the same record.
        self._last = str(newest[0][0]) if newest else "0-0"
        self._line.clear()
        ids = [str(i) for i in ids]
        for start in range(0, len(ids), MGET_CHUNK):
            chunk = ids[start : start + MGET_CHUNK]
            raw = await self._redis.mget([self._key_of(i) for i in chunk])
            for session_id, value in zip(chunk, raw, strict=True):
                if value is not None:
                    self._line.put(session_id, LiveSession.model_validate_json(value))


def _stream_id(value: Any) -> tuple[int, int]:
    millis, _, seq = str(value).partition("-")
    return int(millis), int(seq or 0)
