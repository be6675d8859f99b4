"""The desk's opening hours (``MAYDAY_OPENING_HOURS`` in ``MAYDAY_TIME_ZONE``): open or not at a
moment, and when it opens next.

The expression is OpenStreetMap's ``opening_hours`` syntax, read by ``opening-hours-py`` (the
parser OSM tools use): ``Mo-Su 06:00-24:00``, ``Mo-Fr 08:00-20:00; Sa 09:00-14:00; PH off``. An
unset expression means always open. Times in and out are epoch seconds; the zone only decides
which wall-clock hours the expression means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from opening_hours import OpeningHours

__all__ = ["DeskHours"]


@dataclass(frozen=True)
class DeskHours:
    expression: str | None
    zone: ZoneInfo

    @classmethod
    def of(cls, expression: str | None, time_zone: str) -> DeskHours:
        return cls(expression or None, ZoneInfo(time_zone))

    def _hours(self) -> OpeningHours | None:
        # Built per call: the parsed object is a native handle, cheap to make (microseconds) and
        # only asked at a help request and a queue push.
        return None if self.expression is None else OpeningHours(self.expression, self.zone)

    def is_open(self, now: float) -> bool:
        hours = self._hours()
        return hours is None or hours.is_open(self._local(now))

    def opens_at(self, now: float) -> float | None:
        """When the desk opens next, if it is closed at ``now``; ``None`` while it is open (or
        when the expression never opens again)."""
        hours = self._hours()
        if hours is None:
            return None
        moment = self._local(now)
        if hours.is_open(moment):
            return None
        change = hours.next_change(moment)
        if change is None:
            return None
        if change.tzinfo is None:
            change = change.replace(tzinfo=self.zone)
        return change.timestamp()

    def _local(self, now: float) -> datetime:
        return datetime.fromtimestamp(now, UTC).astimezone(self.zone)
