"""Several server processes behind one simulation: each party picks one and fails over.

``mayday sim --server URL1,URL2`` (or ``--server`` repeated) runs against a fleet without a load
balancer in front. Every party's socket (agent *i*, device slot *j*) first connects to the URL
its number picks, so the parties spread over the processes. When its socket is lost, its client's
own reconnect logic (python-socketio's, with its usual back-off) tries the **next** URL first,
and every attempt that fails moves on again (a first connection tries each URL once): a party whose process stopped comes back through
another one, which resumes it (``docs/protocol.md`` §9), while the others stay where they are.

With several URLs, a call made while the socket is reconnecting waits for it (at most
:data:`RECONNECT_WAIT_S`) instead of failing at once, as the console's socket.io-client buffers
its emits while it reconnects; and a call whose socket closes before its answer came is sent
again once the socket is back (at most :data:`CALL_ATTEMPTS` times), as socket.io-client's
``retries`` does. That is safe against a server that stops gracefully: it answers every event it
handled before it closes a transport, and handles none after it started closing it
(``server/app.py``, ``Drain``). With one URL nothing changes.

Only connections to the given URLs are redirected: a scenario's ``drop_network`` still sends the
device's attempts to its unreachable address while its network is down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from device_agent.signaling_client import SignalingClient
from signaling import Event

__all__ = ["RECONNECT_WAIT_S", "Failover", "split_urls"]

RECONNECT_WAIT_S = 10.0
"""How long a call waits for a reconnecting socket (with several URLs)."""
CALL_ATTEMPTS = 3
"""How often a call is sent at most, when the socket it went out on closes before the answer."""
_POLL_S = 0.02


def split_urls(values: Sequence[str]) -> list[str]:
    """``--server`` values, each a URL or a comma-separated list, as one list of distinct URLs."""
    urls: list[str] = []
    for value in values:
        for part in value.split(","):
            url = part.strip().rstrip("/")
            if url and url not in urls:
                urls.append(url)
    return urls


class Failover:
    """Which of ``urls`` one party's socket connects to, starting with ``urls[first % n]``."""

    def __init__(self, urls: Sequence[str], first: int = 0) -> None:
        if not urls:
            raise ValueError("no server URL")
        self.urls = [url.rstrip("/") for url in urls]
        self.index = first % len(self.urls)
        self.failovers = 0
        """How often this party's socket came back through another process than it left."""
        self.resent = 0
        """Calls sent again because their socket closed before they were answered."""
        self._connected_to: str | None = None
        self._ever_connected = False

    @property
    def url(self) -> str:
        """Where the party connects first (and connected last)."""
        return self.urls[self.index]

    def _next(self) -> None:
        self.index = (self.index + 1) % len(self.urls)

    def install(self, client: SignalingClient) -> None:
        """Bend ``client``'s connection attempts (and, with several URLs, its calls)."""
        if len(self.urls) < 2:
            return
        sio = client.sio
        connect = sio.connect
        call = client.call

        async def connect_through_fleet(url: str, *args: Any, **kwargs: Any) -> None:
            if url.rstrip("/") not in self.urls:
                await connect(url, *args, **kwargs)  # e.g. drop_network's unreachable address
                return
            if self._connected_to is not None:
                self._next()  # the socket was lost: its process may be stopping; try another
                self._connected_to = None
            # A reconnect attempt tries one URL (the client's back-off paces the next); the first
            # connection, which the client does not retry, tries each once.
            tries = 1 if self._ever_connected else len(self.urls)
            for attempt in range(tries):
                try:
                    await connect(self.url, *args, **kwargs)
                    break
                except Exception:
                    self._next()
                    if attempt == tries - 1:
                        raise
            if url.rstrip("/") != self.url:
                self.failovers += 1
            self._connected_to = self.url
            self._ever_connected = True

        async def connected() -> bool:
            for _ in range(round(RECONNECT_WAIT_S / _POLL_S)):
                if client.connected:
                    return True
                await asyncio.sleep(_POLL_S)
            return client.connected

        async def lost(sid: str | None) -> None:
            """Returns when the socket the call went out on is gone (closed or replaced)."""
            while client.connected and sio.get_sid(client.namespace) == sid:  # noqa: ASYNC110 (no event to wait on)
                await asyncio.sleep(_POLL_S)

        async def call_resent_after_a_failover(event: Event, payload: Any = None) -> dict[str, Any]:
            for _ in range(CALL_ATTEMPTS - 1):
                if not await connected():
                    break
                answer = asyncio.ensure_future(call(event, payload))
                gone = asyncio.ensure_future(lost(sio.get_sid(client.namespace)))
                await asyncio.wait({answer, gone}, return_when=asyncio.FIRST_COMPLETED)
                gone.cancel()
                if answer.done():
                    return answer.result()
                # The transport closed before the answer: a draining server handled the event
                # only if it answered it, so send it again on the new connection.
                answer.cancel()
                self.resent += 1
            await connected()
            return await call(event, payload)

        sio.connect = connect_through_fleet
        client.call = call_resent_after_a_failover  # type: ignore[method-assign]
