"""Sign-in throttling: a bound on password guesses per agent name, shared by every process.

Failed ``POST /api/agents/login`` attempts are counted per name in the live store, so with Redis
the count is the whole system's. Once a name has ``max_failures`` failures inside ``window_s``
(counted from the first), every further attempt is refused with ``rate_limited``, unchecked, until
the window ends; a successful sign-in clears the count.

Within one process, the attempts for one name are checked one after another: otherwise a guesser
sending a thousand requests at once would have them all checked before the first failure is
counted. (Across a fleet of P processes, at most P guesses overlap.) Legitimate sign-ins are not
refused for being concurrent: they only wait for each other, about 50 ms of argon2 each.

Counting by name rather than by address is deliberate: behind a reverse proxy every request comes
from the proxy's address, and a guesser can change addresses but not the account it is after. The
price is that a stranger can lock an agent out for one window; the refusal says when to retry.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog

from signaling import ErrorCode, ProtocolError

from .live.store import LiveStore

__all__ = ["LoginAttempt", "LoginThrottle"]

log = structlog.get_logger("mayday.auth")


class LoginAttempt:
    """One sign-in under way: the handler reports how it ended."""

    def __init__(self, throttle: LoginThrottle, name: str) -> None:
        self._throttle = throttle
        self._name = name

    async def failed(self) -> None:
        await self._throttle.count_failure(self._name)

    async def succeeded(self) -> None:
        await self._throttle.clear(self._name)


class LoginThrottle:
    def __init__(self, store: LiveStore, *, max_failures: int, window_s: float) -> None:
        self.store = store
        self._max_failures = max_failures
        self._window_s = window_s
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        """Per-name lock and how many requests hold or wait for it (dropped at zero)."""

    @asynccontextmanager
    async def attempt(self, name: str) -> AsyncIterator[LoginAttempt]:
        """Wait for this name's turn, refuse if its failures are used up, else let it be checked."""
        async with self._turn(name):
            count, remaining_s = await self.store.failures(self.key(name))
            if count >= self._max_failures:
                wait_s = max(1, math.ceil(remaining_s))
                raise ProtocolError(
                    ErrorCode.RATE_LIMITED,
                    f"too many failed sign-ins for this name: try again in {wait_s} s",
                    retry_after_s=wait_s,
                )
            yield LoginAttempt(self, name)

    async def count_failure(self, name: str) -> None:
        count = await self.store.count_failure(self.key(name), self._window_s)
        if count == self._max_failures:
            log.warning("agent.login_locked", name=name[:80], window_s=self._window_s)

    async def clear(self, name: str) -> None:
        await self.store.clear_failures(self.key(name))

    @staticmethod
    def key(name: str) -> str:
        return f"login:{name}"

    @asynccontextmanager
    async def _turn(self, name: str) -> AsyncIterator[None]:
        if name not in self._locks:
            self._locks[name] = (asyncio.Lock(), 0)
        lock, users = self._locks[name]
        self._locks[name] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[name]
            if users == 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)
