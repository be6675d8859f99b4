"""The devices in the records: registration, lookups, and the *credential epoch*.

A part of :class:`server.records.Records` (a base class of it, with the only removals of devices
and sites), kept apart because the connect path depends on one rule that must hold for every
writer: **whatever takes a device's credentials away (its removal, its site's removal with its
web visitors, a new secret) writes a new credential epoch in the same transaction.** The epoch
is one row of the ``server_secrets`` table (a random value, like the other rows there, shared by
every process), so it needs no table of its own, and every process, the CLI included
(``mayday sites remove``), writes it the same way through these methods.

Each server process keeps the credentials it has verified (:mod:`server.credentials`) tagged with
the epoch it read *before* reading them, and reads the epoch again before it trusts them: a
changed epoch drops them all. A removed device is therefore refused by every process from the
moment its removal commits, with no message between processes to lose or to wait for (Redis
pub/sub or PostgreSQL's NOTIFY arrive *after* the commit, so a connect in between would still be
let in; and the CLI has no Redis). Adding a device changes no epoch: nothing is kept of a device
that was not found. A record deleted behind the server's back (by hand in SQL) writes no epoch:
kept credentials would outlive it until the process restarts; delete through these methods.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .ids import new_id
from .tables import DeviceRow, SecretRow, SiteRow

__all__ = ["CREDENTIAL_EPOCH", "DeviceCredential", "DeviceRecords"]

CREDENTIAL_EPOCH = "device_credential_epoch"
"""The ``server_secrets`` row whose value changes whenever a device's credentials are taken away."""

_EPOCH_QUERY = select(SecretRow.value).where(SecretRow.name == CREDENTIAL_EPOCH)


@dataclass(frozen=True, slots=True)
class DeviceCredential:
    """What a connect needs of a device's record: who it is and what its secret hashes to."""

    id: str
    name: str
    secret_hash: str
    kind: str
    site_id: str | None


class DeviceRecords:
    engine: AsyncEngine
    _sessions: async_sessionmaker[AsyncSession]

    async def add_device(
        self, name: str, secret_hash: str, *, site_id: str | None = None
    ) -> DeviceRow:
        """A device, or with ``site_id`` a web visitor of that site."""
        row = DeviceRow(
            id=new_id("dev"),
            name=name,
            secret_hash=secret_hash,
            created_at=time.time(),
            kind="device" if site_id is None else "web",
            site_id=site_id,
        )
        async with self._sessions.begin() as db:
            db.add(row)
        return row

    async def device(self, device_id: str) -> DeviceRow | None:
        async with self._sessions() as db:
            return await db.get(DeviceRow, device_id)

    async def existing_devices(self, device_ids: Sequence[str]) -> set[str]:
        """Which of these devices (and web visitors) still have a record."""
        async with self._sessions() as db:
            rows = await db.execute(select(DeviceRow.id).where(DeviceRow.id.in_(device_ids)))
            return set(rows.scalars())

    # --- what a connect reads -----------------------------------------------------------------

    async def credential_epoch(self) -> str:
        """The current credential epoch (``""`` until a device's credentials first changed)."""
        async with self.engine.connect() as connection:
            return (await connection.execute(_EPOCH_QUERY)).scalar_one_or_none() or ""

    async def device_credentials(
        self, device_ids: Sequence[str]
    ) -> tuple[str, dict[str, DeviceCredential]]:
        """The credential epoch, read first, then the credentials of those of these devices that
        exist: a credential read under an epoch is at least as new as that epoch."""
        async with self.engine.connect() as connection:
            epoch = (await connection.execute(_EPOCH_QUERY)).scalar_one_or_none() or ""
            if not device_ids:
                return epoch, {}
            rows = await connection.execute(
                select(
                    DeviceRow.id,
                    DeviceRow.name,
                    DeviceRow.secret_hash,
                    DeviceRow.kind,
                    DeviceRow.site_id,
                ).where(DeviceRow.id.in_(device_ids))
            )
            return epoch, {row[0]: DeviceCredential(*row) for row in rows}

    # --- what takes credentials away: each writes a new epoch in its transaction ----------------

    async def remove_device(self, device_id: str) -> bool:
        """Delete the device's (or web visitor's) record: its secret no longer signs in, on any
        process, from the commit on. Its sessions' history stays, under the name it had."""
        async with self._sessions.begin() as db:
            result = await db.execute(delete(DeviceRow).filter_by(id=device_id))
            removed = bool(getattr(result, "rowcount", 0))
            if removed:
                await self._new_credential_epoch(db)
        return removed

    async def remove_site(self, name: str) -> bool:
        """Delete the site and, with it (``ON DELETE CASCADE``), its web visitors' records."""
        async with self._sessions.begin() as db:
            result = await db.execute(delete(SiteRow).filter_by(name=name))
            removed = bool(getattr(result, "rowcount", 0))
            if removed:
                await self._new_credential_epoch(db)
        return removed

    async def set_device_secret(self, device_id: str, secret_hash: str) -> bool:
        """Give the device a new secret (its hash): the old one no longer signs in, on any
        process, from the commit on. ``False`` if there is no such device."""
        async with self._sessions.begin() as db:
            result = await db.execute(
                update(DeviceRow).filter_by(id=device_id).values(secret_hash=secret_hash)
            )
            changed = bool(getattr(result, "rowcount", 0))
            if changed:
                await self._new_credential_epoch(db)
        return changed

    async def _new_credential_epoch(self, db: AsyncSession) -> None:
        """Write a new epoch in the caller's transaction: it commits with the change, or not."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        value = secrets.token_urlsafe(12)
        await db.execute(
            dialect.insert(SecretRow)
            .values(name=CREDENTIAL_EPOCH, value=value)
            .on_conflict_do_update(index_elements=["name"], set_={"value": value})
        )
