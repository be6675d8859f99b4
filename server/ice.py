"""ICE servers for both peers, with TURN credentials in coturn's ``use-auth-secret`` style.

coturn checks ``username = "<expiry unix time>:<user>"`` and
``credential = base64(HMAC-SHA1(static-auth-secret, username))``; it refuses the pair after the
expiry, so a leaked credential is worth little. The server and coturn share only the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from signaling.models import IceServer

from .settings import Settings

__all__ = ["ice_servers", "turn_credentials"]


def turn_credentials(
    secret: str, user: str, ttl_s: int, *, now: float | None = None
) -> tuple[str, str]:
    expiry = int((time.time() if now is None else now) + ttl_s)
    username = f"{expiry}:{user}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(settings: Settings, user: str, *, turn: bool = True) -> list[IceServer]:
    """STUN for anyone; TURN credentials (``turn``) only for a party of a live session: a relay
    costs bandwidth, and a credential handed to whoever asks would make it an open one."""
    servers: list[IceServer] = []
    if settings.stun_urls:
        servers.append(IceServer(urls=list(settings.stun_urls)))
    if turn and settings.turn_urls and settings.turn_secret:
        username, credential = turn_credentials(settings.turn_secret, user, settings.turn_ttl_s)
        servers.append(
            IceServer(urls=list(settings.turn_urls), username=username, credential=credential)
        )
    return servers
