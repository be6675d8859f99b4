"""The records an admin manages besides the agents' sign-in state: the sites of web visitors, the
list of devices (and web visitors), and an account's several changes at once.

A part of :class:`server.records.Records` (its base class), kept apart so each module stays about
one subject; it uses the records' session factory and nothing else of them. The CLI (``mayday
agents|sites``) and the admin REST API (``server/rest_admin.py``) share these queries. Removing a
device or a site is :class:`server.device_records.DeviceRecords`' business: it must write the
credential epoch in the same transaction.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .ids import new_id
from .tables import AgentRow, DeviceRow, SiteRow

__all__ = ["ACCOUNT_FIELDS", "DirectoryRecords"]

ACCOUNT_FIELDS = frozenset({"role", "display_name", "languages", "skills", "password_hash"})
"""What :meth:`DirectoryRecords.update_agent` may change."""
_SIGNS_OUT = frozenset({"role", "password_hash"})
"""Changes after which the account's tokens die: what it may do, or who may be it."""


class DirectoryRecords:
    _sessions: async_sessionmaker[AsyncSession]

    # --- accounts -----------------------------------------------------------------------------

    async def update_agent(self, name: str, **changes: Any) -> AgentRow | None:
        """Change the account's :data:`ACCOUNT_FIELDS` given, in one transaction; ``None`` if
        there is no such account.

        A new role, or any new password hash, raises its token generation: every token of the
        account dies at once (the caller closes its socket). The other fields apply from the
        account's next sign-in, as the CLI's changes do.
        """
        unknown = set(changes) - ACCOUNT_FIELDS
        if unknown:
            raise ValueError(f"not an account field: {', '.join(sorted(unknown))}")
        async with self._sessions.begin() as db:
            row = (
                await db.execute(select(AgentRow).filter_by(name=name).with_for_update())
            ).scalar_one_or_none()
            if row is None:
                return None
            values: dict[str, Any] = {
                field: value for field, value in changes.items() if getattr(row, field) != value
            }
            if "password_hash" in changes:  # the same password again still signs out
                values["password_hash"] = changes["password_hash"]
            if _SIGNS_OUT & set(values):
                values["token_generation"] = AgentRow.token_generation + 1
            if values:
                await db.execute(update(AgentRow).filter_by(id=row.id).values(**values))
            return await db.get(AgentRow, row.id, populate_existing=True)

    # --- sites --------------------------------------------------------------------------------

    async def add_site(self, name: str, origins: Sequence[str]) -> SiteRow:
        """A site with a new public key; ``origins`` normalised (``server.origins``). A name
        taken already raises SQLAlchemy's ``IntegrityError``."""
        row = SiteRow(
            id=new_id("sit"),
            name=name,
            key=f"site_{secrets.token_urlsafe(18)}",
            origins=list(origins),
            created_at=time.time(),
        )
        async with self._sessions.begin() as db:
            db.add(row)
        return row

    async def site(self, *, site_id: str | None = None, key: str | None = None) -> SiteRow | None:
        """The site with this id or this public key."""
        async with self._sessions() as db:
            if site_id is not None:
                return await db.get(SiteRow, site_id)
            return (await db.execute(select(SiteRow).filter_by(key=key))).scalar_one_or_none()

    async def list_sites(self) -> list[SiteRow]:
        async with self._sessions() as db:
            return list((await db.execute(select(SiteRow).order_by(SiteRow.name))).scalars())

    # --- devices ------------------------------------------------------------------------------

    async def list_devices(
        self, kind: str | None, limit: int, offset: int
    ) -> tuple[list[DeviceRow], int]:
        """One page of the devices (only ``kind``'s, ``device`` or ``web``, if given), newest
        first, and how many there are in all."""
        query = select(DeviceRow)
        count = select(func.count(DeviceRow.id))
        if kind is not None:
            query, count = query.filter_by(kind=kind), count.filter_by(kind=kind)
        async with self._sessions() as db:
            total = (await db.execute(count)).scalar_one()
            rows = await db.execute(
                query.order_by(DeviceRow.created_at.desc(), DeviceRow.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return list(rows.scalars()), int(total)
