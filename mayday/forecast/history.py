"""The history a forecast learns from: each help request's press of Help and the work it made.

Two sources give the same :class:`History`: the records (SQLite or PostgreSQL, through
:mod:`server.records`) and the CSV of the sessions export (``GET /api/reports/sessions``,
docs/protocol.md §19.7), so a history made elsewhere (another desk, a generator) can be forecast.

What counts, after the desk's own figures (§19.5): a **help request** is a session without a
``previous_session_id`` (a transfer or a requeue is the same request going on, never a new
arrival); its **handle time** is the work it made agents do, the accept → end of every leg of its
chain added up, so a transferred customer brings both agents' time. A request nobody answered is
an arrival all the same (it asked for an agent), with no handle time.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.records import SessionRow
    from server.settings import Settings

__all__ = ["History", "HistoryError", "Leg", "Request", "from_csv", "from_legs", "from_records"]

CHAIN_DEPTH = 50
"""How far back a chain of transfers and requeues is followed to find its help request."""
REQUIRED_COLUMNS = ("id", "created_at")


class HistoryError(Exception):
    """The history cannot be read (a file that is not the sessions export, a bad cell)."""


@dataclass(frozen=True)
class Leg:
    """One session as recorded: a help request, or a leg that continues one."""

    id: str
    previous_id: str | None
    created_at: float
    accepted_at: float | None
    ended_at: float | None

    @property
    def handle_s(self) -> float | None:
        if self.accepted_at is None or self.ended_at is None:
            return None
        return max(0.0, self.ended_at - self.accepted_at)


@dataclass(frozen=True)
class Request:
    """A press of Help (epoch seconds) and its handle time, ``None`` if no agent finished it."""

    at: float
    handle_s: float | None


@dataclass
class History:
    requests: list[Request]
    source: str
    """Where it came from, for the report: the database's dialect, or the file's name."""
    legs: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def first(self) -> float | None:
        return min((r.at for r in self.requests), default=None)

    @property
    def last(self) -> float | None:
        return max((r.at for r in self.requests), default=None)


def from_legs(legs: Iterable[Leg], source: str) -> History:
    """Help requests from sessions: each chain's work added to the request that started it."""
    by_id = {leg.id: leg for leg in legs}
    work: dict[str, float] = {}
    answered: set[str] = set()
    orphans = 0
    for leg in by_id.values():
        root = leg
        for _ in range(CHAIN_DEPTH):
            if root.previous_id is None or root.previous_id not in by_id:
                break
            root = by_id[root.previous_id]
        if root.previous_id is not None:
            orphans += 1  # its help request was before the window: not ours to count
            continue
        handle = leg.handle_s
        if handle is not None:
            work[root.id] = work.get(root.id, 0.0) + handle
            answered.add(root.id)
    requests = sorted(
        (
            Request(leg.created_at, work[leg.id] if leg.id in answered else None)
            for leg in by_id.values()
            if leg.previous_id is None
        ),
        key=lambda r: r.at,
    )
    history = History(requests, source, legs=len(by_id))
    if orphans:
        history.notes.append(
            f"{orphans} sessions continue a help request from before the history; not counted"
        )
    return history


async def from_records(settings: Settings, start: float, end: float) -> History:
    """The help requests pressed in ``[start, end)`` from the records ``settings`` name."""
    from server.records import open_records

    records = await open_records(settings)
    try:
        # Legs a little after the window still belong to requests inside it (a transfer late in
        # the last evening): read a day more, keep only the requests inside.
        rows = await records.sessions_created_between(start, end + 86400.0)
        dialect = records.engine.dialect.name
    finally:
        await records.close()
    history = from_legs((_leg_from_row(row) for row in rows), f"the {dialect} records")
    history.requests = [r for r in history.requests if r.at < end]
    return history


def _leg_from_row(row: SessionRow) -> Leg:
    return Leg(row.id, row.previous_session_id, row.created_at, row.accepted_at, row.ended_at)


def from_csv(path: Path) -> History:
    """The help requests of a sessions export (CSV, docs/protocol.md §19.7)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            columns = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise HistoryError(
                    f"{path}: not a sessions export (GET /api/reports/sessions?format=csv): "
                    f"no column {', '.join(missing)}; its columns are {', '.join(columns) or 'none'}"
                )
            legs = [_leg_from_cells(row, path, line) for line, row in enumerate(reader, start=2)]
    except OSError as error:
        raise HistoryError(f"{path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise HistoryError(f"{path}: not UTF-8 text") from None
    return from_legs(legs, path.name)


def _leg_from_cells(row: dict[str, str | None], path: Path, line: int) -> Leg:
    def instant(column: str) -> float | None:
        text = (row.get(column) or "").strip()
        if not text:
            return None
        try:
            if text.replace(".", "", 1).isdigit():
                value = float(text)
            else:
                value = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise HistoryError(
                f"{path}:{line}: {column} {text[:40]!r} is not an ISO 8601 time "
                "(2027-01-18T08:00:12.345Z) or epoch seconds"
            ) from None
        if not math.isfinite(value):
            raise HistoryError(f"{path}:{line}: {column} is not a finite time")
        return value

    ident = (row.get("id") or "").strip()
    created = instant("created_at")
    if not ident or created is None:
        raise HistoryError(f"{path}:{line}: every session needs its id and created_at")
    previous = (row.get("previous_session_id") or "").strip() or None
    return Leg(ident, previous, created, instant("accepted_at"), instant("ended_at"))


def handle_times(requests: Sequence[Request]) -> list[float]:
    """The handle times of the requests an agent finished."""
    return [r.handle_s for r in requests if r.handle_s is not None]
