"""Durable records: agents, devices, the sites of web visitors, session history and its timeline,
the desk's canned replies and the screenshots agents keep with a session.

SQLAlchemy 2 (async) so the same code runs on SQLite (a file, the default) and on PostgreSQL
(``DATABASE_URL``). The tables are in :mod:`server.tables`; the schema is created and changed by the
Alembic revisions in :mod:`server.migrations`, which must match them (a test compares the two).
Nothing here is on the help-press → ring path: the desk hands finished facts to
:class:`server.writer.RecordWriter`, which writes them behind the live traffic.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import sqlite3
import time
import weakref
from collections.abc import Sequence
from typing import Any

import aiosqlite
import structlog
from sqlalchemy import (
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from .attachments import AttachmentRecords
from .batching import Coalescer
from .device_records import DeviceRecords
from .directory import DirectoryRecords
from .ids import new_id
from .live.records import AuditEvent, LiveSession
from .settings import Settings
from .tables import (
    AgentRow,
    Base,
    CannedReplyRow,
    DeviceRow,
    ScreenshotRow,
    SecretRow,
    SessionEventRow,
    SessionRow,
    SiteRow,
)

__all__ = [
    "AgentRow",
    "Base",
    "CannedReplyRow",
    "DeviceRow",
    "Records",
    "ScreenshotRow",
    "SessionEventRow",
    "SessionRow",
    "SiteRow",
    "open_records",
    "sqlite_setup",
]


log = structlog.get_logger("mayday.records")


_schema_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


_WAL_ATTEMPTS = 50


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Per-connection SQLite settings, run by the pool on every new connection."""
    dbapi_connection.run_async(sqlite_setup)


async def sqlite_setup(connection: aiosqlite.Connection) -> None:
    """Settings every SQLite connection gets: shared-file friendly, WAL, foreign keys on."""
    # Several processes may share the file (the CLI next to a server, migrations at start-up):
    # wait for another writer instead of failing after SQLite's default 5 s.
    await _pragma(connection, "busy_timeout=30000")
    await _ensure_wal(connection)
    await _pragma(connection, "synchronous=NORMAL")
    await _pragma(connection, "foreign_keys=ON")


async def _pragma(connection: aiosqlite.Connection, statement: str) -> str | None:
    """Run one PRAGMA and return its value, closing the cursor at once.

    A PRAGMA that answers with a row keeps its statement, and with it a lock on the file, until
    the cursor is closed: an open one would make every other process wait for it.
    """
    async with connection.execute(f"PRAGMA {statement}") as cursor:
        row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def _ensure_wal(connection: aiosqlite.Connection) -> None:
    """Put the file in WAL mode (readers never wait for the writer) once, whoever opens it first.

    Switching a new file to WAL needs its exclusive lock, and SQLite answers "database is locked"
    at once, without the busy timeout, when another process is switching it at the same moment.
    WAL mode is stored in the file, so read it first and retry the switch briefly on that answer.
    """
    for attempt in range(_WAL_ATTEMPTS):
        try:
            if await _pragma(connection, "journal_mode") in ("wal", "memory"):
                return
            mode = await _pragma(connection, "journal_mode=WAL")
            if mode != "wal":  # e.g. a file system without shared memory: works, just slower
                log.warning("records.sqlite_not_wal", journal_mode=mode)
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == _WAL_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.01 * (attempt + 1))


async def open_records(settings: Settings) -> Records:
    """The records ``settings`` name, migrated to the newest schema (the SQLite folder made)."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    records = Records(settings.resolved_database_url())
    try:
        await records.create_schema()
    except BaseException:
        await records.close()
        raise
    return records


class Records(DeviceRecords, AttachmentRecords, DirectoryRecords):
    """The durable side of the system, one instance per process.

    The removals of devices and sites are :class:`~server.device_records.DeviceRecords`' own,
    because they must also write the credential epoch.
    """

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            sync_engine: Engine = self.engine.sync_engine
            event.listen(sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._latest_sessions: Coalescer[str, SessionRow] = Coalescer(
            self._latest_sessions_of, name="latest-sessions"
        )

    async def create_schema(self) -> None:
        """Migrate the database to the newest schema (Alembic, see :mod:`server.migrations`).

        Safe when several processes start at once: one migrates, the others find it done.
        """
        from .migrations import upgrade_to_head

        # Alembic keeps its running context in module globals: one upgrade at a time per process.
        # Between processes, upgrade_to_head locks the database itself.
        lock = _schema_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with lock, self.engine.begin() as conn:
            await conn.run_sync(upgrade_to_head)

    async def close(self) -> None:
        await self.engine.dispose()

    # --- secrets ------------------------------------------------------------------------------

    async def secret(self, name: str) -> str:
        """A server-wide random secret, created once and shared by every process."""
        async with self._sessions.begin() as db:
            await db.execute(
                self._insert(SecretRow)
                .values(name=name, value=secrets.token_urlsafe(48))
                .on_conflict_do_nothing()
            )
        async with self._sessions() as db:
            return (await db.execute(select(SecretRow.value).filter_by(name=name))).scalar_one()

    # --- agents -------------------------------------------------------------------------------

    async def add_agent(
        self,
        name: str,
        password_hash: str,
        languages: Sequence[str],
        skills: Sequence[str],
        *,
        display_name: str | None = None,
        role: str = "agent",
    ) -> AgentRow:
        row = AgentRow(
            id=new_id("agt"),
            name=name,
            password_hash=password_hash,
            languages=list(languages),
            skills=list(skills),
            created_at=time.time(),
            display_name=display_name,
            role=role,
        )
        async with self._sessions.begin() as db:
            db.add(row)
        return row

    async def agent_by_name(self, name: str) -> AgentRow | None:
        async with self._sessions() as db:
            return (await db.execute(select(AgentRow).filter_by(name=name))).scalar_one_or_none()

    async def agent_by_id(self, agent_id: str) -> AgentRow | None:
        async with self._sessions() as db:
            return await db.get(AgentRow, agent_id)

    async def list_agents(self) -> list[AgentRow]:
        async with self._sessions() as db:
            return list((await db.execute(select(AgentRow).order_by(AgentRow.name))).scalars())

    async def remove_agent(self, name: str) -> bool:
        async with self._sessions.begin() as db:
            result = await db.execute(delete(AgentRow).filter_by(name=name))
        return bool(getattr(result, "rowcount", 0))

    async def set_display_name(self, name: str, display_name: str | None) -> AgentRow | None:
        """Set (or with ``None`` clear) the agent's display name; ``None`` if there is no agent."""
        async with self._sessions.begin() as db:
            row = (await db.execute(select(AgentRow).filter_by(name=name))).scalar_one_or_none()
            if row is not None:
                row.display_name = display_name
            return row

    async def set_role(self, name: str, role: str) -> AgentRow | None:
        """Give the agent ``role``; its tokens die (its socket signs in again with the new role).
        ``None`` if there is no such agent."""
        async with self._sessions.begin() as db:
            await db.execute(
                update(AgentRow)
                .filter_by(name=name)
                .values(role=role, token_generation=AgentRow.token_generation + 1)
            )
            return (
                await db.execute(
                    select(AgentRow).filter_by(name=name).execution_options(populate_existing=True)
                )
            ).scalar_one_or_none()

    async def unlock_agent(self, name: str) -> AgentRow | None:
        """Let the name sign in again from every address it was locked out of (its unlock
        generation rises: ``server/throttle.py``). ``None`` if there is no such agent."""
        async with self._sessions.begin() as db:
            await db.execute(
                update(AgentRow)
                .filter_by(name=name)
                .values(unlock_generation=AgentRow.unlock_generation + 1)
            )
            return (
                await db.execute(
                    select(AgentRow).filter_by(name=name).execution_options(populate_existing=True)
                )
            ).scalar_one_or_none()

    async def revoke_agent_tokens(
        self, agent_id: str, *, password_hash: str | None = None
    ) -> AgentRow | None:
        """Raise the agent's token generation (and set a new password): its tokens die at once."""
        changes: dict[str, Any] = {"token_generation": AgentRow.token_generation + 1}
        if password_hash is not None:
            changes["password_hash"] = password_hash
        async with self._sessions.begin() as db:
            await db.execute(update(AgentRow).filter_by(id=agent_id).values(**changes))
            return await db.get(AgentRow, agent_id, populate_existing=True)

    async def token_generations(self, agent_ids: Sequence[str]) -> dict[str, int]:
        """The current token generation of each of these agents that still exists."""
        async with self._sessions() as db:
            rows = await db.execute(
                select(AgentRow.id, AgentRow.token_generation).where(AgentRow.id.in_(agent_ids))
            )
            return {str(agent_id): int(generation) for agent_id, generation in rows}

    # --- sessions -----------------------------------------------------------------------------

    async def save_sessions(self, sessions: Sequence[LiveSession]) -> None:
        """Upsert each session's row and add the timeline events not stored yet (idempotent).

        Two statements for the whole batch, each with every row as its parameters (SQLAlchemy
        sends them as multi-row inserts): a batch of thousands, after a burst of help presses,
        costs a few round trips rather than two statements built and sent per session, which
        left the writer (and the acks that wait for it) ten seconds behind at 10,000 waiting."""
        if not sessions:
            return
        rows = [_session_values(session) for session in sessions]
        events = [_event_values(event) for session in sessions for event in session.timeline]
        insert = self._insert(SessionRow)
        upsert = insert.on_conflict_do_update(
            index_elements=["id"],
            set_={column: insert.excluded[column] for column in rows[0] if column != "id"},
        )
        async with self._sessions.begin() as db:
            connection = await db.connection()
            await connection.execute(upsert, rows)
            if events:
                await connection.execute(
                    self._insert(SessionEventRow).on_conflict_do_nothing(
                        index_elements=["session_id", "seq"]
                    ),
                    events,
                )

    async def session(self, session_id: str) -> SessionRow | None:
        async with self._sessions() as db:
            return await db.get(SessionRow, session_id)

    async def rate_session(
        self,
        session_id: str,
        device_id: str,
        rating: int,
        *,
        at: float,
        device_name: str | None = None,
        comment: str = "",
        solved: bool | None = None,
    ) -> bool:
        """Set the rating of the device's own ended session and note it in the timeline (with
        the customer's comment, if they wrote one)."""
        async with self._sessions.begin() as db:
            row = await db.get(SessionRow, session_id, with_for_update=True)
            if row is None or row.device_id != device_id or row.ended_at is None:
                return False
            row.rating = rating
            if solved is not None:
                row.solved = solved
            last = (
                await db.execute(
                    select(func.max(SessionEventRow.seq)).filter_by(session_id=session_id)
                )
            ).scalar_one()
            db.add(
                SessionEventRow(
                    session_id=session_id,
                    seq=(last or 0) + 1,
                    at=at,
                    actor={"kind": "device", "id": device_id, "name": device_name},
                    kind="session.rated",
                    reason="",
                    detail={
                        "rating": rating,
                        **({"comment": comment} if comment else {}),
                        **({"solved": solved} if solved is not None else {}),
                    },
                )
            )
        return True

    async def latest_session_of_device(self, device_id: str) -> SessionRow | None:
        """The device's newest session. Asked on every device connect (``server/desk``): the
        connects of a reconnect storm share one query (:class:`~server.batching.Coalescer`)."""
        return await self._latest_sessions.get(device_id)

    async def _latest_sessions_of(self, device_ids: Sequence[str]) -> dict[str, SessionRow]:
        """The newest session of each of these devices that has one, in one query."""
        newest = (
            select(
                SessionRow.id,
                func.row_number()
                .over(partition_by=SessionRow.device_id, order_by=SessionRow.created_at.desc())
                .label("newest"),
            )
            .where(SessionRow.device_id.in_(device_ids))
            .subquery()
        )
        async with self._sessions() as db:
            rows = await db.execute(
                select(SessionRow)
                .join(newest, newest.c.id == SessionRow.id)
                .where(newest.c.newest == 1)
            )
            return {row.device_id: row for row in rows.scalars()}

    async def session_events(self, session_id: str) -> list[AuditEvent]:
        async with self._sessions() as db:
            rows = (
                await db.execute(
                    select(SessionEventRow)
                    .filter_by(session_id=session_id)
                    .order_by(SessionEventRow.seq)
                )
            ).scalars()
            return [_event_from_row(row) for row in rows]

    async def sessions_created_between(
        self, start: float, end: float, *, agent_id: str | None = None
    ) -> list[SessionRow]:
        """Sessions created in ``[start, end)``, oldest first; only ``agent_id``'s if given."""
        query = select(SessionRow).where(
            SessionRow.created_at >= start, SessionRow.created_at < end
        )
        if agent_id is not None:
            query = query.filter_by(agent_id=agent_id)
        async with self._sessions() as db:
            rows = await db.execute(query.order_by(SessionRow.created_at, SessionRow.id))
            return list(rows.scalars())

    async def device_sessions(
        self, device_id: str, limit: int, *, agent_id: str | None = None
    ) -> list[SessionRow]:
        """The device's recorded sessions, newest first, at most ``limit``; only those
        ``agent_id`` was the agent of, if given."""
        query = select(SessionRow).filter_by(device_id=device_id)
        if agent_id is not None:
            query = query.filter_by(agent_id=agent_id)
        async with self._sessions() as db:
            rows = await db.execute(
                query.order_by(SessionRow.created_at.desc(), SessionRow.id.desc()).limit(limit)
            )
            return list(rows.scalars())

    def _insert(self, table: type[Base]) -> Any:
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)


def _session_values(session: LiveSession) -> dict[str, Any]:
    return {
        "id": session.id,
        "device_id": session.device_id,
        "device_name": session.device_name,
        "agent_id": session.agent_id,
        "agent_name": session.agent_name,
        "topic": session.topic,
        "locale": session.locale,
        "state": session.state.value,
        "created_at": session.created_at,
        "rung_at": session.rung_at,
        "accepted_at": session.accepted_at,
        "active_at": session.active_at,
        "ended_at": session.ended_at,
        "end_reason": session.end_reason,
        "ended_by": session.ended_by,
        "notes": session.notes,
        "previous_session_id": session.requeued_from,
    }


def _event_values(event: AuditEvent) -> dict[str, Any]:
    return {
        "session_id": event.session_id,
        "seq": event.seq,
        "at": event.at,
        "actor": event.actor.model_dump(),
        "kind": event.kind,
        "from_state": event.from_state.value if event.from_state else None,
        "to_state": event.to_state.value if event.to_state else None,
        "reason": event.reason,
        "detail": json.loads(json.dumps(event.detail)),
    }


def _event_from_row(row: SessionEventRow) -> AuditEvent:
    return AuditEvent.model_validate(
        {
            "session_id": row.session_id,
            "seq": row.seq,
            "at": row.at,
            "actor": row.actor,
            "kind": row.kind,
            "from_state": row.from_state,
            "to_state": row.to_state,
            "reason": row.reason,
            "detail": row.detail or {},
        }
    )
