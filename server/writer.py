"""Writes session history to the database behind the live traffic.

The desk calls :meth:`RecordWriter.save` with a session snapshot after every change; the writer keeps
only the newest snapshot per session and stores a batch every few milliseconds in one transaction.
So a burst of help requests costs one database round trip, and none of it delays a ring.
If the database is down, the batch is kept and retried with a back-off: history is late, not lost.

What a client is told is done must be stored before it is told, or a process killed right after
the ack would lose it (the batch still in memory). So every save gets a ticket, and
:meth:`RecordWriter.stored` waits until the batch holding that ticket's snapshot (or a newer
one) is committed: the session's end, an agent's notes, wait for it before their ack. The wait is
one batch (some 20 ms plus the write), off the ring path, which never waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from .live.records import LiveSession
from .records import Records

__all__ = ["RecordWriter"]

log = structlog.get_logger("mayday.writer")

STORED_WAIT_S = 10.0
"""Longest an ack waits for the database. Past it (the database is down) the ack goes out anyway:
the change is made and its record is retried, and the client should not hang on it."""


class RecordWriter:
    def __init__(
        self,
        records: Records,
        *,
        on_saved: Callable[[list[LiveSession]], Awaitable[None]] | None = None,
        batch_delay_s: float = 0.02,
    ) -> None:
        self._records = records
        self._pending: dict[str, LiveSession] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._on_saved = on_saved
        self._batch_delay_s = batch_delay_s
        self._task: asyncio.Task[None] | None = None
        self._tickets = 0
        """Saves handed in so far: the last one's number is its ticket."""
        self._stored_upto = 0
        """Every save with a ticket up to this one is stored."""
        self._stored = asyncio.Condition()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mayday-record-writer")

    def save(self, session: LiveSession) -> int:
        """Queue the newest snapshot of ``session``; an older one handed in late is ignored.

        Returns a ticket for :meth:`stored`.
        """
        self._tickets += 1
        pending = self._pending.get(session.id)
        if pending is not None and len(pending.timeline) > len(session.timeline):
            return self._tickets  # the newer snapshot queued already stands for this one
        self._pending[session.id] = session
        self._idle.clear()
        self._wake.set()
        return self._tickets

    async def stored(self, ticket: int, *, timeout_s: float = STORED_WAIT_S) -> bool:
        """Wait until the save with ``ticket`` is committed; False if the database took longer."""
        async with self._stored:
            try:
                await asyncio.wait_for(
                    self._stored.wait_for(lambda: self._stored_upto >= ticket), timeout_s
                )
            except TimeoutError:
                log.warning("records.ack_before_stored", ticket=ticket, waited_s=timeout_s)
                return False
        return True

    async def save_and_wait(self, session: LiveSession) -> None:
        """:meth:`save`, then :meth:`stored`: for what is acknowledged to a client."""
        await self.stored(self.save(session))

    async def flush(self) -> None:
        """Wait until everything handed in so far is stored."""
        await self._idle.wait()

    async def close(self) -> None:
        if self._task is None:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.flush(), timeout=5)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._batch_delay_s)
            self._wake.clear()
            batch = list(self._pending.values())
            upto = self._tickets  # every save so far is in this batch (or stood for by it)
            self._pending.clear()
            try:
                await self._records.save_sessions(batch)
            except Exception:
                log.exception("records.save_failed", sessions=len(batch), retry_in_s=backoff)
                for session in batch:
                    self._pending.setdefault(session.id, session)
                self._wake.set()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.1
            async with self._stored:
                self._stored_upto = upto
                self._stored.notify_all()
            if self._on_saved is not None:
                try:
                    await self._on_saved(batch)
                except Exception:
                    log.exception("records.on_saved_failed")
            if not self._pending:
                self._idle.set()
