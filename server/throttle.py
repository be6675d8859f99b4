"""Sign-in throttling: a bound on password guesses per agent name, shared by every process.

Every ``POST /api/agents/login`` for a name is counted in the live store before its password is
checked (so with Redis the count is the whole system's, and concurrent guesses cannot slip past
the bound); a successful sign-in clears the count. Once a name has had ``max_failures`` attempts
inside ``window_s`` (counted from the first) without a success, every further attempt is refused
with ``rate_limited``, unchecked, until the window ends.

Counting by name rather than by address is deliberate: behind a reverse proxy every request comes
from the proxy's address, and a guesser can change addresses but not the account it is after. The
price is that a stranger can lock an agent out for one window; the refusal says when to retry.
"""

from __future__ import annotations

import math

import structlog

from signaling import ErrorCode, ProtocolError

from .live.store import LiveStore

__all__ = ["LoginThrottle"]

log = structlog.get_logger("mayday.auth")


class LoginThrottle:
    def __init__(self, store: LiveStore, *, max_failures: int, window_s: float) -> None:
        self._store = store
        self._max_failures = max_failures
        self._window_s = window_s

    async def attempt(self, name: str) -> None:
        """Count a sign-in attempt for ``name``; refuse it if the name's failures are used up."""
        count, remaining_s = await self._store.count_attempt(self._key(name), self._window_s)
        if count <= self._max_failures:
            return
        if count == self._max_failures + 1:
            log.warning("agent.login_locked", name=name[:80], window_s=self._window_s)
        wait_s = max(1, math.ceil(remaining_s))
        raise ProtocolError(
            ErrorCode.RATE_LIMITED,
            f"too many failed sign-ins for this name: try again in {wait_s} s",
            retry_after_s=wait_s,
        )

    async def succeeded(self, name: str) -> None:
        await self._store.clear_attempts(self._key(name))

    @staticmethod
    def _key(name: str) -> str:
        return f"login:{name}"
