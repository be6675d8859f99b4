"""The waiting customers in line, and the same line by language and topic.

Both stores keep one (:class:`~server.live.memory.MemoryStore` for its own records,
:class:`~server.live.redis_queue.QueueMirror` as each process's copy of Redis's queue). Routing
reads the groups: with 10,000 customers waiting for busy agents, a routing pass looks at the
heads of the groups the free agents could serve, not at every customer (``server/routing.py``).
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterable, Iterator

from .records import WAITING_STATES, LiveSession

__all__ = ["LineKey", "WaitingLine", "line_key"]

LineKey = tuple[str, str]
"""A customer's ``(locale, topic)``: who can serve them depends on nothing else."""
_Place = tuple[float, str]
"""``(queue_score, session_id)``: sorts first in line first."""


def line_key(session: LiveSession) -> LineKey:
    return (session.locale, session.topic)


class WaitingLine:
    """Queued and ringing sessions, first in line first; the records are the caller's (never
    changed in place: a change puts a new record)."""

    def __init__(self) -> None:
        self._sessions: dict[str, LiveSession] = {}
        self._order: list[_Place] = []
        self._groups: dict[LineKey, list[_Place]] = {}
        self._kept: dict[str, _Place] = {}
        """Customers kept for a named colleague (``reserved_for``): routing looks at each."""

    @classmethod
    def of(cls, sessions: Iterable[LiveSession]) -> WaitingLine:
        line = cls()
        for session in sessions:
            line.put(session.id, session)
        return line

    def __len__(self) -> int:
        return len(self._order)

    def put(self, session_id: str, session: LiveSession | None) -> None:
        """The session's newest record (``None``: gone); a session not waiting leaves the line."""
        old = self._sessions.pop(session_id, None)
        if old is not None:
            place = (old.queue_score, session_id)
            _remove(self._order, place)
            group = self._groups[line_key(old)]
            _remove(group, place)
            if not group:
                del self._groups[line_key(old)]
            self._kept.pop(session_id, None)
        if session is None or session.state not in WAITING_STATES:
            return
        place = (session.queue_score, session_id)
        self._sessions[session_id] = session
        bisect.insort(self._order, place)
        bisect.insort(self._groups.setdefault(line_key(session), []), place)
        if session.reserved_for is not None:
            self._kept[session_id] = place

    def clear(self) -> None:
        self._sessions.clear()
        self._order.clear()
        self._groups.clear()
        self._kept.clear()

    def sessions(self, limit: int | None = None) -> list[LiveSession]:
        """The whole line (or its first ``limit``), first in line first."""
        places = self._order if limit is None else self._order[:limit]
        return [self._sessions[session_id] for _, session_id in places]

    def get(self, session_id: str) -> LiveSession | None:
        return self._sessions.get(session_id)

    def position(self, session_id: str) -> int | None:
        """1-based place in line; ``None`` for a session not waiting."""
        session = self._sessions.get(session_id)
        if session is None:
            return None
        return bisect.bisect_left(self._order, (session.queue_score, session_id)) + 1

    def heads(self) -> Iterator[LiveSession]:
        """The first in line of each language and topic."""
        for group in self._groups.values():
            yield self._sessions[group[0][1]]

    def in_line(self, keys: Iterable[LineKey]) -> Iterator[LiveSession]:
        """The customers of these languages and topics and every one kept for a colleague,
        first in line first, each once. Read it before the line changes."""
        groups = [self._groups[key] for key in keys if key in self._groups]
        kept = sorted(self._kept.values())
        last: _Place | None = None
        for place in heapq.merge(*groups, kept):
            if place != last:
                yield self._sessions[place[1]]
            last = place


def _remove(places: list[_Place], place: _Place) -> None:
    index = bisect.bisect_left(places, place)
    if index < len(places) and places[index] == place:
        del places[index]
