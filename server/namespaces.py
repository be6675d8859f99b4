"""The two namespaces: how a device and an agent sign in, and tell the desk they came and went.

Everything else about a socket (the dispatch of its events, the checks each passes, the periodic
re-check of credentials) is :class:`~server.sockets.RoleNamespace`'s; a namespace here says only
how its role's credentials are read and checked, which of its sockets lost them, and which desk
call a connect and a disconnect make.

A device's connect reads no device record when this process has verified the device before: its
credentials are kept (:mod:`server.credentials`) under the *credential epoch*, which every removal
of a device or site and every new secret changes in its own transaction
(:mod:`server.device_records`), so a removed device is refused at once on every process. The
devices' periodic check likewise runs its queries only after the epoch moved.

A web visitor (a device of kind ``web``) connects only from a page of its own site; an agent only
from the console's origins (:mod:`server.origins`). Sign-out and a password change do not wait for
the periodic check: :func:`drop_agent_sockets` disconnects the agent's socket at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from aiohttp import web

from signaling import ACCOUNT_ROLES, ErrorCode, ProtocolError, Role
from signaling import models as m

from .appkeys import ORIGINS, RECORDS, SIGNER, SIO, STORE
from .auth import TokenSigner, current_agent
from .credentials import DeviceCredentials
from .emitter import NAMESPACES
from .identity import AgentIdentity, DeviceIdentity, Identity
from .outage import UNAVAILABLE_ERRORS
from .records import Records
from .sockets import RoleNamespace

__all__ = ["FULL_CHECK_ROUNDS", "AgentNamespace", "DeviceNamespace", "drop_agent_sockets"]

log = structlog.get_logger("mayday.sockets")

FULL_CHECK_ROUNDS = 30
"""Credential checks of devices in a row that may be skipped while no credentials changed."""


class DeviceNamespace(RoleNamespace):
    role: Role = "device"

    def __init__(self, app: web.Application) -> None:
        super().__init__(app)
        self._credentials: DeviceCredentials | None = None
        self._swept_epoch: str | None = None
        self._check_again = False
        self._rounds_unswept = 0

    @property
    def credentials(self) -> DeviceCredentials:
        """The devices' verified credentials (:mod:`server.credentials`), made on first use:
        the records exist once the app has started."""
        if self._credentials is None:
            self._credentials = DeviceCredentials(
                self._app[RECORDS], max_entries=self.settings.device_cache_size
            )
        return self._credentials

    async def authenticate(self, auth: Any, environ: dict[str, Any]) -> DeviceIdentity:
        creds = self.check_protocol(auth, m.DeviceAuth)
        verified = await self.credentials.verify(creds.device_id, creds.device_secret)
        if verified is None:
            raise ProtocolError(
                ErrorCode.UNAUTHORIZED,
                "unknown device or wrong secret; register again with POST /api/devices",
            )
        if verified.identity.kind == "web":
            await self._check_site_origin(
                self._app[RECORDS], verified.site_id, environ.get("HTTP_ORIGIN")
            )
        return verified.identity

    @staticmethod
    async def _check_site_origin(records: Records, site_id: str | None, origin: str | None) -> None:
        """A web visitor connects only from a page of its own site.

        Engine.IO let the handshake through if its origin is any site's (or the console's); here
        it must be on the list of the site that created this visitor, read from the records, so a
        site's origins removed a moment ago are refused at once. No Origin means no browser page.
        """
        site = await records.site(site_id=site_id) if site_id else None
        if site is None or origin not in site.origins:
            raise ProtocolError(
                ErrorCode.FORBIDDEN,
                f"this web visitor connects only from its site's pages; the origin "
                f"{str(origin)[:200]} is not allowed for its site",
            )

    async def drop_revoked(self) -> None:
        """Re-check the sockets' devices only when credentials were taken away somewhere.

        Every removal writes a new credential epoch (``server/device_records.py``): while it
        stays the same, no device of ours can have lost its record, and a round costs one read of
        the epoch instead of a query per 500 sockets. A new epoch is followed by two full
        rounds (the second catches a connect that was verified while the removal committed);
        every :data:`FULL_CHECK_ROUNDS` rounds one runs anyway, for records deleted behind the
        server's back (by hand in SQL, a restored backup), and the credentials kept are
        forgotten, so that those devices cannot sign in again from memory either.
        """
        epoch = await self._app[RECORDS].credential_epoch()
        self._rounds_unswept += 1
        if (
            epoch == self._swept_epoch
            and not self._check_again
            and self._rounds_unswept < FULL_CHECK_ROUNDS
        ):
            return
        if epoch == self._swept_epoch and not self._check_again:
            self.credentials.clear()
        await super().drop_revoked()
        self._check_again = epoch != self._swept_epoch
        self._swept_epoch = epoch
        self._rounds_unswept = 0

    async def revoked(self, sockets: dict[str, Identity]) -> Sequence[str]:
        existing = await self._app[RECORDS].existing_devices(
            list({identity.id for identity in sockets.values()})
        )
        return [sid for sid, identity in sockets.items() if identity.id not in existing]

    async def connected(self, identity: DeviceIdentity, sid: str) -> None:
        await self.desk.device_connected(identity, sid)

    async def disconnected(self, identity: DeviceIdentity, sid: str) -> None:
        await self.desk.device_disconnected(identity, sid)


class AgentNamespace(RoleNamespace):
    role: Role = "agent"

    async def authenticate(self, auth: Any, environ: dict[str, Any]) -> AgentIdentity:
        creds = self.check_protocol(auth, m.AgentAuth)
        origin = environ.get("HTTP_ORIGIN")
        # Engine.IO also lets the sites' pages through (for web visitors): the console, and so
        # an agent, comes only from the console's origins, as before sites existed.
        if origin is not None and not self._app[ORIGINS].console_allows(origin, environ):
            raise ProtocolError(
                ErrorCode.FORBIDDEN,
                f"agents connect from the console; the origin {origin[:200]} is not the console's",
            )
        signer: TokenSigner = self._app[SIGNER]
        claims = signer.verify(creds.token)
        row = await current_agent(self._app[RECORDS], claims)
        return AgentIdentity(
            id=row.id,
            name=row.shown_name,
            languages=tuple(row.languages),
            skills=tuple(row.skills),
            generation=row.token_generation,
            account_role=row.role if row.role in ACCOUNT_ROLES else "agent",
        )

    async def revoked(self, sockets: dict[str, Identity]) -> Sequence[str]:
        generations = await self._app[RECORDS].token_generations(
            list({identity.id for identity in sockets.values()})
        )
        return [
            sid
            for sid, identity in sockets.items()
            if not isinstance(identity, AgentIdentity)
            or generations.get(identity.id) != identity.generation
        ]

    async def connected(self, identity: AgentIdentity, sid: str) -> None:
        await self.desk.agent_connected(identity, sid)

    async def disconnected(self, identity: AgentIdentity, sid: str) -> None:
        self.desk.wallboard.unsubscribe(sid)
        await self.desk.agent_disconnected(identity, sid)


async def drop_agent_sockets(app: web.Application, agent_id: str) -> None:
    """Close the agent's sockets now that its tokens were revoked: its current socket wherever it
    is (socket.io's manager passes a disconnect on to the process that holds it), then any other
    of this process's. Sockets of other processes that were not current yet (a connect racing the
    revocation) are left to that process's next check."""
    try:
        presence = await app[STORE].get_agent(agent_id)
    except UNAVAILABLE_ERRORS:
        # Redis is away: the tokens are revoked all the same (the database has it), and every
        # process's periodic check closes the socket (``credential_check_s``).
        log.warning("credentials.drop_deferred", agent_id=agent_id)
        presence = None
    if presence is not None and presence.sid is not None and presence.lost_at is None:
        await app[SIO].disconnect(presence.sid, namespace=NAMESPACES["agent"])
    namespace = app[SIO].namespace_handlers.get(NAMESPACES["agent"])
    if isinstance(namespace, AgentNamespace):
        await namespace.drop_revoked()
