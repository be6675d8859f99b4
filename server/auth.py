"""Credentials: agent passwords (argon2), agent tokens (signed JWT), device secrets (SHA-256).

Device secrets are 256 random bits made by the server, so a fast hash is enough: nobody can guess
one, and a slow password hash would only make every device reconnect cost ~50 ms of CPU. Agent
passwords are chosen by people, so they get argon2, verified in a worker thread to keep the
event loop free.

A token names its agent and the agent's *token generation* (``gen``). A token is honoured only
while its agent exists and the generation in the records is still the one it was signed with:
sign-out and a password change raise the generation, which revokes every token of that agent at
once, in every process, without a list of revoked tokens. The check costs one primary-key read
per REST call and socket connect (:func:`current_agent`); sockets already open are re-checked
by ``server/sockets.py``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from signaling import ErrorCode, ProtocolError

from .records import AgentRow, Records

__all__ = [
    "AgentClaims",
    "TokenSigner",
    "current_agent",
    "hash_device_secret",
    "hash_password",
    "new_device_secret",
    "verify_device_secret",
    "verify_password",
]

_hasher = PasswordHasher()
_TOKEN_AUDIENCE = "mayday-agent"  # noqa: S105 (a JWT audience, not a secret)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; with no hash (no such agent), spend the same time and say no.

    Answering an unknown name faster than a wrong password would tell a guesser which names exist.
    """

    def check() -> bool:
        try:
            matches = _hasher.verify(password_hash or _unknown_agent_hash(), password)
        except (VerificationError, InvalidHashError):
            return False
        return matches and password_hash is not None

    return await asyncio.to_thread(check)


@functools.cache
def _unknown_agent_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def new_device_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_device_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def verify_device_secret(secret_hash: str, secret: str) -> bool:
    return hmac.compare_digest(secret_hash, hash_device_secret(secret))


@dataclass(frozen=True)
class AgentClaims:
    agent_id: str
    name: str
    expires_at: float
    generation: int = 0
    """The agent's token generation when the token was signed (0 in tokens from before it)."""


class TokenSigner:
    """Issues and checks the short-lived bearer tokens agents use for REST and their socket."""

    def __init__(self, key: str, ttl_s: int) -> None:
        self._key = key
        self.ttl_s = ttl_s

    def issue(
        self, agent_id: str, name: str, *, generation: int = 0, now: float | None = None
    ) -> tuple[str, float]:
        issued = time.time() if now is None else now
        expires = issued + self.ttl_s
        claims = {
            "sub": agent_id,
            "name": name,
            "gen": generation,
            "aud": _TOKEN_AUDIENCE,
            "iat": int(issued),
            "exp": int(expires),
        }
        return jwt.encode(claims, self._key, algorithm="HS256"), float(int(expires))

    def verify(self, token: str) -> AgentClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=_TOKEN_AUDIENCE,
                options={"require": ["sub", "exp", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise ProtocolError(
                ErrorCode.TOKEN_EXPIRED, "the agent token has expired; sign in again"
            ) from None
        except jwt.InvalidTokenError:
            raise ProtocolError(
                ErrorCode.UNAUTHORIZED, "the agent token is not valid; sign in again"
            ) from None
        generation = claims.get("gen", 0)
        if type(generation) is not int:
            raise ProtocolError(
                ErrorCode.UNAUTHORIZED, "the agent token is not valid; sign in again"
            )
        return AgentClaims(
            agent_id=str(claims["sub"]),
            name=str(claims.get("name", "")),
            expires_at=float(claims["exp"]),
            generation=generation,
        )


async def current_agent(records: Records, claims: AgentClaims) -> AgentRow:
    """The agent a verified token speaks for, if the token is still in force.

    A well-signed token is not enough: its agent may have been removed since, or have revoked its
    tokens by signing out or changing its password.
    """
    row = await records.agent_by_id(claims.agent_id)
    if row is None:
        raise ProtocolError(ErrorCode.UNAUTHORIZED, "this agent account no longer exists")
    if row.token_generation != claims.generation:
        raise ProtocolError(
            ErrorCode.UNAUTHORIZED,
            "the agent token was revoked (signed out or password changed); sign in again",
        )
    return row
