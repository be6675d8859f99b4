"""The devices' verified credentials, kept per process so that a connect costs no device query.

A device (or web visitor) signs in on every connect with its id and its secret. The records hold
the secret's SHA-256 (``server/auth.py``); reading that row on every connect was most of a
connect's CPU. :class:`DeviceCredentials` keeps, per device id, what the records said (the hash,
the name, the kind, the site), so a device seen before is checked against memory: the hash of the
secret it sends must equal the one kept.

**Invalidation** rests on the *credential epoch* (``server/device_records.py``): every change
that takes credentials away (a removal, a site's removal, a new secret) writes a new epoch in the
same transaction, whichever process or CLI makes it. The entries here were read after the epoch
they are kept under; each check reads the epoch first and, if it changed, drops every entry
before it answers. So a removed device or an old secret is refused by every process from the
moment the change commits. Nothing is kept of a device the records do not have (a device
registered a moment ago on another process is read, not refused).

**Cost.** The checks go through a :class:`~server.batching.Coalescer`: the connects that arrive
together share one read of the epoch and one query for the devices not kept yet. A reconnect
storm of known devices costs one tiny query per batch, not two per connect.

The store is bounded (``max_entries``): when full it is emptied and fills again from the records,
which only costs the next connects their query.
"""

from __future__ import annotations

from collections.abc import Sequence

from .auth import verify_device_secret
from .batching import Coalescer
from .device_records import DeviceCredential, DeviceRecords
from .identity import DeviceIdentity

__all__ = ["DeviceCredentials", "Verified"]

EPOCH_ROUNDS = 3
"""Reads of one batch while the epoch keeps changing, before one that keeps nothing."""


class Verified:
    """A device's credentials as the records had them, and the identity its sockets carry.

    One object per device, shared by all its connects: the identity in each socket's session is
    this one's, so keeping it costs the hash and this small record."""

    __slots__ = ("identity", "secret_hash", "site_id")

    def __init__(self, credential: DeviceCredential) -> None:
        self.secret_hash = credential.secret_hash
        self.site_id = credential.site_id
        self.identity = DeviceIdentity(
            id=credential.id,
            name=credential.name,
            kind="web" if credential.kind == "web" else "device",
        )


class DeviceCredentials:
    """Device id → its verified credentials, valid while the credential epoch stays the same."""

    def __init__(self, records: DeviceRecords, *, max_entries: int) -> None:
        self._records = records
        self._max_entries = max_entries
        self._entries: dict[str, Verified] = {}
        self._epoch: str | None = None
        self._lookups: Coalescer[str, Verified] = Coalescer(self._load, name="device-credentials")
        self.reads = 0
        """Devices asked of the records so far (a device kept costs none: the tests count)."""

    @property
    def epoch(self) -> str | None:
        """The credential epoch the entries were read under (``None`` before the first check)."""
        return self._epoch

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Keep nothing: the next connects read their records again."""
        self._entries.clear()

    async def verify(self, device_id: str, secret: str) -> Verified | None:
        """The device's credentials if ``secret`` is its secret now; ``None`` if it has no record
        or another secret."""
        verified = await self._lookups.get(device_id)
        if verified is None or not verify_device_secret(verified.secret_hash, secret):
            return None
        return verified

    async def _load(self, device_ids: Sequence[str]) -> dict[str, Verified]:
        """The credentials of these devices that exist, from memory where the epoch allows.

        Each round reads the epoch and, in the same round trip, the devices not kept. If the
        epoch changed, everything kept was read under an older one: it is dropped, and the
        devices answered from it are read again in the next round. An epoch that changes under
        every round (removals in a tight loop) ends in a read that keeps nothing.
        """
        answer: dict[str, Verified] = {}
        pending = list(device_ids)
        for _ in range(EPOCH_ROUNDS):
            missing = [device_id for device_id in pending if device_id not in self._entries]
            epoch, found = await self._read(missing)
            if epoch == self._epoch:
                answer.update(self._kept(pending))
                answer.update(self._keep(found))
                return answer
            self._entries.clear()  # credentials were taken away somewhere: trust none kept
            self._epoch = epoch
            answer.update(self._keep(found))  # read after the new epoch: valid under it
            read = set(missing)
            pending = [device_id for device_id in pending if device_id not in read]
            if not pending:
                return answer
        _, found = await self._read(pending)
        answer.update({device_id: Verified(row) for device_id, row in found.items()})
        return answer

    async def _read(self, device_ids: list[str]) -> tuple[str, dict[str, DeviceCredential]]:
        self.reads += len(device_ids)
        return await self._records.device_credentials(device_ids)

    def _keep(self, found: dict[str, DeviceCredential]) -> dict[str, Verified]:
        """Keep what was read (emptying a full store first); the kept records by device id."""
        if len(self._entries) + len(found) > self._max_entries:
            self._entries.clear()
        verified = {device_id: Verified(credential) for device_id, credential in found.items()}
        self._entries.update(verified)
        return verified

    def _kept(self, device_ids: Sequence[str]) -> dict[str, Verified]:
        entries = self._entries
        return {device_id: entries[device_id] for device_id in device_ids if device_id in entries}
