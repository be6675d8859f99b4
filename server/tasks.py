"""Background work owned by one application: spawned tasks and timers, all cancelled at shutdown.

Nothing here holds state that matters: a timer only *triggers* a check against the store (a ring
that may have timed out, a grace period that may be over), so a lost timer loses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from typing import Any

import structlog

__all__ = ["Background"]

log = structlog.get_logger("mayday.tasks")


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: dict[Hashable, asyncio.TimerHandle] = {}
        self._closed = False

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        if self._closed:
            coro.close()
            return
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("task.failed", task=task.get_name(), exc_info=task.exception())

    def call_later(
        self, key: Hashable, delay_s: float, make: Callable[[], Coroutine[Any, Any, Any]]
    ) -> None:
        """Run ``make()`` as a task after ``delay_s``; a new timer under the same key replaces it."""
        self.cancel(key)
        if self._closed:
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.pop(key, None)
            self.spawn(make(), name=f"timer:{key}")

        self._timers[key] = loop.call_later(max(0.0, delay_s), fire)

    def cancel(self, key: Hashable) -> None:
        handle = self._timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    async def close(self) -> None:
        self._closed = True
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
