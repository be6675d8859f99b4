"""Bounds on what strangers can make the server do: password guesses per agent name (shared by
every process), and Engine.IO connections per client address and without a signed-in namespace.

**Sign-in throttling.** Failed ``POST /api/agents/login`` attempts are counted per name *and
client address* in the live store, so with Redis the count is the whole system's. Once a name has
``max_failures`` failures from one address inside ``window_s`` (counted from the first), every
further attempt of that name from that address is refused with ``rate_limited``, unchecked, until
the window ends; a successful sign-in from the address clears its count. An admin's unlock
(``mayday agents unlock``, ``POST /api/admin/agents/{name}/unlock``) raises the account's *unlock
generation* in the records, which is part of every counter's key: the name starts afresh from
every address, in every process, whether the counters live in Redis or in a server's memory (the
CLI reaches neither), and the old counters expire with their windows.

Within one process, the attempts for one name are checked one after another: otherwise a guesser
sending a thousand requests at once would have them all checked before the first failure is
counted. (Across a fleet of P processes, at most P guesses overlap.) Legitimate sign-ins are not
refused for being concurrent: they only wait for each other, about 50 ms of argon2 each.

Counting per name and address means nobody can lock a colleague out from elsewhere: a stranger's
failures lock only the stranger's address. The price is that a guesser with many addresses gets
``max_failures`` guesses per address and window, each costing it an argon2 check on the server;
behind a reverse proxy the address is the one the proxy reports (:func:`client_address`).

**Socket admission** (:class:`SocketGuard`). Every Engine.IO connection is one websocket request
(long-polling is refused), which stays inside its aiohttp handler for as long as it is open; the
error middleware takes each one's place with :meth:`SocketGuard.admit` before that handler runs
and gives it back with :meth:`SocketGuard.release` once it returned. So counting the requests in
flight counts the connections, per process and per address, with nothing to clean up after a
crash. Someone who opens a connection but never signs in to a namespace, or stays after
their last namespace left (an agent whose tokens were revoked), costs a socket and a task for
nothing: :class:`SocketConnection` closes it after ``socket_auth_timeout_s``. Closing means
closing the TCP connection (the middleware holds the request, not Engine.IO's socket), so such a
client sees the connection drop without a close frame.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from aiohttp import web

from signaling import ErrorCode, ProtocolError

from .live.store import LiveStore

__all__ = [
    "SOCKET_CONNECTION",
    "SOCKET_GUARD",
    "LoginAttempt",
    "LoginThrottle",
    "SocketConnection",
    "SocketGuard",
    "client_address",
]

log = structlog.get_logger("mayday.auth")


class LoginAttempt:
    """One sign-in under way: the handler reports how it ended."""

    def __init__(self, throttle: LoginThrottle, key: str) -> None:
        self._throttle = throttle
        self._key = key
        """The counter of this name from this address."""

    async def failed(self) -> None:
        await self._throttle.count_failure(self._key)

    async def succeeded(self) -> None:
        await self._throttle.clear(self._key)


class LoginThrottle:
    def __init__(self, store: LiveStore, *, max_failures: int, window_s: float) -> None:
        self.store = store
        self._max_failures = max_failures
        self._window_s = window_s
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        """Per-name lock and how many requests hold or wait for it (dropped at zero)."""

    @asynccontextmanager
    async def attempt(
        self, name: str, address: str, unlock_generation: int = 0
    ) -> AsyncIterator[LoginAttempt]:
        """Wait for this name's turn, refuse if its failures from ``address`` are used up, else
        let it be checked. ``unlock_generation``: the account's (0 for a name of no account)."""
        key = self.key(name, address, unlock_generation)
        async with self._turn(name):
            count, remaining_s = await self.store.failures(key)
            if count >= self._max_failures:
                wait_s = max(1, math.ceil(remaining_s))
                raise ProtocolError(
                    ErrorCode.RATE_LIMITED,
                    f"too many failed sign-ins for this name: try again in {wait_s} s",
                    retry_after_s=wait_s,
                )
            yield LoginAttempt(self, key)

    async def count_failure(self, key: str) -> None:
        count = await self.store.count_failure(key, self._window_s)
        if count == self._max_failures:
            log.warning("agent.login_locked", key=key[:200], window_s=self._window_s)

    async def clear(self, key: str) -> None:
        await self.store.clear_failures(key)

    @staticmethod
    def key(name: str, address: str, unlock_generation: int = 0) -> str:
        # The name's length keeps one name's keys apart from another's, whatever they hold.
        return f"login:{len(name)}:{name}:{unlock_generation}@{address}"

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


# --- socket admission -----------------------------------------------------------------------------


def client_address(request: web.Request) -> str:
    """The address the per-client limits count (web visitors per address, connections per
    address).

    Like the origin check, which takes a proxy's ``X-Forwarded-Proto`` and ``-Host`` as given,
    this honours ``X-Forwarded-For`` without a list of trusted proxies. Of its entries it takes the
    last: the one the nearest proxy appended, the address that connected to it. The entries before
    it were written by the client (or by earlier proxies) and prove nothing, whereas a proxy sets
    ``-Proto`` and ``-Host`` itself. Behind a chain of proxies that is the address of the one
    before the last, so all its clients share one count. Without the header: the peer's address.
    """
    forwarded = request.headers.get("X-Forwarded-For", "")
    last = forwarded.split(",")[-1].strip()
    return last or request.remote or "unknown"


class SocketConnection:
    """One Engine.IO connection's sign-in state, as its namespaces report it.

    While no namespace is signed in and no sign-in is under way, a timer runs; when it fires, the
    connection is closed. A sign-in that is still checking credentials when the time is up (a slow
    database) is let finish: the timer starts again only if it fails.

    One is kept per open connection, for its whole life: hence the slots.
    """

    __slots__ = (
        "_flood_timer",
        "_timeout_s",
        "_timer",
        "_transport",
        "address",
        "closed_idle",
        "pending",
        "signed_in",
    )

    def __init__(
        self, transport: asyncio.BaseTransport | None, timeout_s: float, address: str
    ) -> None:
        self._transport = transport
        """The connection's TCP transport: closing it ends the websocket, whatever Engine.IO is
        doing (the request holds the transport, not Engine.IO's socket)."""
        self._timeout_s = timeout_s
        self.address = address
        self.signed_in = 0
        self.pending = 0
        self.closed_idle = False
        self._timer: asyncio.TimerHandle | None = None
        self._flood_timer: asyncio.TimerHandle | None = None
        self._arm()

    def close(self) -> None:
        """Close the connection now (its TCP transport)."""
        if self._transport is not None:
            self._transport.close()

    def sign_in_started(self) -> None:
        self.pending += 1
        self._disarm()

    def sign_in_ended(self, *, ok: bool) -> None:
        self.pending -= 1
        self.signed_in += int(ok)
        self._arm()

    def signed_out(self) -> None:
        self.signed_in = max(0, self.signed_in - 1)
        self._arm()

    def close_soon(self, delay_s: float) -> None:
        """Close the connection in ``delay_s`` whatever its namespaces (a flood: the client has
        that long to read what it was sent; what it sent meanwhile is never read)."""
        if self._flood_timer is None and self.signed_in >= 0:
            self._flood_timer = asyncio.get_running_loop().call_later(delay_s, self.close)

    def finish(self) -> None:
        """The connection is over: no timer may outlive it."""
        self._disarm()
        if self._flood_timer is not None:
            self._flood_timer.cancel()
            self._flood_timer = None
        self.signed_in = self.pending = -1  # never armed again

    def _arm(self) -> None:
        if self._timer is None and self.signed_in == 0 and self.pending == 0:
            self._timer = asyncio.get_running_loop().call_later(self._timeout_s, self._expire)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self) -> None:
        self._timer = None
        if self.signed_in == 0 and self.pending == 0:
            log.warning("socket.closed_unauthenticated", address=self.address[:64])
            self.closed_idle = True
            self.close()


SOCKET_CONNECTION = web.RequestKey("socket_connection", SocketConnection)
"""On the websocket request: its :class:`SocketConnection` (the namespaces find it in environ)."""


class SocketGuard:
    """Admits Engine.IO connections: at most ``max_per_address`` open at once per client address
    in this process, each closed when it has no signed-in namespace for ``auth_timeout_s``."""

    def __init__(self, *, max_per_address: int, auth_timeout_s: float) -> None:
        self.max_per_address = max_per_address
        self.auth_timeout_s = auth_timeout_s
        self._open: dict[str, int] = {}

    def open_from(self, address: str) -> int:
        return self._open.get(address, 0)

    def admit(self, address: str, transport: asyncio.BaseTransport | None) -> SocketConnection:
        """Take one connection's place, to be given back with :meth:`release` when it closed;
        refused with ``rate_limited`` if ``address`` has ``max_per_address`` open already.

        Synchronous, and no context manager: the caller's frame is the only one an open
        connection keeps (``server/rest.py``).
        """
        if self.open_from(address) >= self.max_per_address:
            log.warning("socket.refused_too_many", address=address[:64], open=self.max_per_address)
            raise ProtocolError(
                ErrorCode.RATE_LIMITED,
                f"too many connections from your address ({self.max_per_address} are open); "
                "close some before opening more",
            )
        self._open[address] = self.open_from(address) + 1
        return SocketConnection(transport, self.auth_timeout_s, address)

    def release(self, connection: SocketConnection) -> None:
        """The connection :meth:`admit` let in is over: its place is free, its timers stop."""
        connection.finish()
        left = self._open[connection.address] - 1
        if left:
            self._open[connection.address] = left
        else:
            del self._open[connection.address]


SOCKET_GUARD = web.AppKey("socket_guard", SocketGuard)
"""The process's :class:`SocketGuard`, made with the socket namespaces (``server/sockets.py``)."""
