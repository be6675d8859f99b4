"""The records of what sessions gather besides their timeline: the screenshots agents keep with a
session, and the desk's canned replies agents put into the chat.

A part of :class:`server.records.Records` (its base class), kept apart so each module stays about
one subject; it uses the records' session factory and nothing else of them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import defer

from .ids import new_id
from .tables import CannedReplyRow, ScreenshotRow, SessionRow

__all__ = ["AttachmentRecords"]


class AttachmentRecords:
    _sessions: async_sessionmaker[AsyncSession]

    # --- screenshots --------------------------------------------------------------------------

    async def add_screenshot(
        self,
        session_id: str,
        agent_id: str,
        content_type: str,
        data: bytes,
        *,
        at: float,
        limit: int,
    ) -> ScreenshotRow | None:
        """Keep ``data`` with the session's record; ``None`` if it has ``limit`` already.

        The session's row must be stored (the writer saves it when the ring is accepted).
        """
        row = ScreenshotRow(
            id=new_id("shot"),
            session_id=session_id,
            agent_id=agent_id,
            at=at,
            content_type=content_type,
            size=len(data),
            data=data,
        )
        async with self._sessions.begin() as db:
            # Lock the session's row: two screenshots at once must not both pass the limit.
            if await db.get(SessionRow, session_id, with_for_update=True) is None:
                return None
            count = (
                await db.execute(
                    select(func.count(ScreenshotRow.id)).filter_by(session_id=session_id)
                )
            ).scalar_one()
            if count >= limit:
                return None
            db.add(row)
        return row

    async def screenshots(self, session_ids: Sequence[str]) -> dict[str, list[ScreenshotRow]]:
        """The screenshots of these sessions, oldest first, without their images (``data``
        is not loaded: reading it raises)."""
        found: dict[str, list[ScreenshotRow]] = {session_id: [] for session_id in session_ids}
        if not session_ids:
            return found
        async with self._sessions() as db:
            rows = await db.execute(
                select(ScreenshotRow)
                .options(defer(ScreenshotRow.data, raiseload=True))
                .where(ScreenshotRow.session_id.in_(session_ids))
                .order_by(ScreenshotRow.at, ScreenshotRow.id)
            )
            for row in rows.scalars():
                found[row.session_id].append(row)
        return found

    async def screenshot(self, session_id: str, screenshot_id: str) -> ScreenshotRow | None:
        """One screenshot of the session, with its image."""
        async with self._sessions() as db:
            row = await db.get(ScreenshotRow, screenshot_id)
        return row if row is not None and row.session_id == session_id else None

    # --- canned replies -----------------------------------------------------------------------

    async def add_canned_reply(self, text: str) -> CannedReplyRow:
        row = CannedReplyRow(id=new_id("can"), text=text, created_at=time.time())
        async with self._sessions.begin() as db:
            db.add(row)
        return row

    async def canned_replies(self) -> list[CannedReplyRow]:
        """The desk's canned replies in the order they were added."""
        async with self._sessions() as db:
            rows = await db.execute(
                select(CannedReplyRow).order_by(CannedReplyRow.created_at, CannedReplyRow.id)
            )
            return list(rows.scalars())

    async def remove_canned_reply(self, reply_id: str) -> bool:
        async with self._sessions.begin() as db:
            result = await db.execute(delete(CannedReplyRow).filter_by(id=reply_id))
        return bool(getattr(result, "rowcount", 0))
