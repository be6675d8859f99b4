"""Disconnects that could not be recorded when they happened, recorded once the store is back.

A socket that closes while the live store is unreachable (a Redis outage) cannot be marked lost:
the write fails, and its process, alive all along, is never judged dead, so nothing else would
ever notice. Without this the party would stay in its session as a ghost: control never
suspended, the grace period never started, the other side never told. So the desk notes each
disconnect it failed to record, and every sweep that reaches the store records them, as of the
moment the socket really went (the grace period and the control lease count from then).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from ..identity import Identity

__all__ = ["MissedLosses"]

log = structlog.get_logger("mayday.desk")

KEEP_S = 3600.0
"""A disconnect not recorded within this long is dropped: by then its session is long decided."""

Record = Callable[[Identity, str, float], Awaitable[None]]
"""Records one disconnect: (who, their socket's sid, when it went)."""


@dataclass(eq=False)
class MissedLosses:
    clock: Callable[[], float]
    _missed: list[tuple[Identity, str, float]] = field(default_factory=list, init=False)

    def note(self, who: Identity, sid: str, at: float) -> None:
        log.warning("disconnect.unrecorded", role=who.role, identity=who.id, at=at)
        self._missed.append((who, sid, at))

    async def retry(self, record: Record) -> None:
        """Record what was missed, oldest first; what fails again waits for the next sweep."""
        if not self._missed:
            return
        missed, self._missed = self._missed, []
        now = self.clock()
        for index, (who, sid, at) in enumerate(missed):
            if now - at > KEEP_S:
                continue
            try:
                await record(who, sid, at)
            except Exception:
                self._missed.extend(missed[index:])  # the store is away again: keep the order
                raise
            log.info("disconnect.recorded_late", role=who.role, identity=who.id, at=at)
