"""Many lookups of one key each, answered by one bulk query: what a reconnect storm needs.

A server that thousands of devices connect to at once (after a restart, a network blip) would run
one small query per connect, and each small query costs far more in the driver, the pool and the
ORM than in the database. :class:`Coalescer` gathers the keys asked for while the event loop is
busy and loads them with one query: one at a time, so under load a batch grows by itself to what
arrived during the previous one, and unloaded a lookup waits for nothing but its own query.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

__all__ = ["Coalescer"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_BATCH = 500
"""Keys per bulk query: well below any database's limit of bound parameters."""


class Coalescer(Generic[K, V]):
    """Answers ``get(key)`` from ``load(keys)``, one load at a time, for every key asked since.

    ``load`` returns what it found by key; a key it leaves out is answered ``None``. If it raises,
    every lookup of that batch raises the same error (the database away: each caller answers
    its own client). A caller cancelled while waiting is simply not answered.
    """

    def __init__(
        self,
        load: Callable[[Sequence[K]], Awaitable[Mapping[K, V]]],
        *,
        max_batch: int = MAX_BATCH,
        name: str = "coalescer",
    ) -> None:
        self._load = load
        self._max_batch = max_batch
        self._name = name
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._runner: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def get(self, key: K) -> V | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # used from a new event loop (a CLI's, a test's): start afresh
            self._loop, self._waiting, self._runner = loop, {}, None
        future: asyncio.Future[V | None] = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name=self._name)
        return await future

    async def _run(self) -> None:
        # A task starts on the loop's next round: every lookup made in this one joins the batch.
        while self._waiting:
            keys = list(self._waiting)[: self._max_batch]
            futures = {key: self._waiting.pop(key) for key in keys}
            try:
                found = await self._load(keys)
            except asyncio.CancelledError:
                for waiting in futures.values():
                    for future in waiting:
                        future.cancel()
                raise
            except Exception as error:
                for waiting in futures.values():
                    for future in waiting:
                        if not future.done():
                            future.set_exception(error)
                continue
            for key, waiting in futures.items():
                value = found.get(key)
                for future in waiting:
                    if not future.done():
                        future.set_result(value)
