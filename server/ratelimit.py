"""How many events a socket may send: a token bucket per identity, in each server process.

Every inbound event that reaches the dispatcher (``server/sockets.py``) takes one token, whatever
becomes of it afterwards: a malformed, oversized or unknown event costs as much as a good one. The
bucket holds ``burst`` tokens and refills at ``rate_per_s``; an event that finds it empty is not
processed and is answered ``rate_limited``. Refused events are counted too, in a second count that
drains at the same rate: a socket that goes on sending at well over the rate (over twice it,
sustained, or a burst of ``flood_events`` refusals at once) lets that count pass
``flood_events``; that is a flood, not a burst, and the dispatcher disconnects the socket from its
namespace and closes its connection. A socket that sends somewhat over the rate is only refused the excess.

The bucket belongs to the identity (the device or agent), not to the socket, so a client cannot
refill it by reconnecting to the same process; a reconnect that lands on another process starts
with a full one there. Buckets that have refilled are forgotten, so the table holds only the
identities that sent something in the last ``burst / rate_per_s`` seconds.

The defaults (``MAYDAY_EVENT_RATE_PER_S`` 100, ``MAYDAY_EVENT_BURST`` 200) are well above what the
shipped clients send. Measured per socket over the browser flows (console, widget), ``mayday sim``
and the control and media tests: at most 57 events in one second and 20 within 100 ms (an agent's
``control.input`` as fast as acks came back, and the device's ``control.dropped`` answering them);
``rtc.ice`` came in bursts of 3-5 on loopback (a machine with several interfaces and TURN servers
trickles some tens). By construction the console sends ``control.input`` one batch per ack, 12 ms
batching, the wheel every 50 ms, so at most ~83 a second whatever the user does; chat is typed.
Refilled at 50 a second, the busiest socket never needed more than 20 tokens; at 20 a second, 42.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["EventLimiter", "Verdict"]

SWEEP_EVERY = 1024
"""Sweep refilled buckets out of the table after this many new ones."""


@dataclass
class _Bucket:
    tokens: float
    at: float
    refused: float = 0.0
    """Refused events, draining at ``rate_per_s`` like the tokens refill."""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    first: bool = False
    """The first refusal since the last allowed event (log it; not the rest of the run)."""
    flooding: bool = False
    """Refused more than ``flood_events`` times in a row: disconnect the socket."""


class EventLimiter:
    def __init__(
        self,
        *,
        rate_per_s: float,
        burst: int,
        flood_events: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.flood_events = flood_events
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._added = 0

    def take(self, key: str) -> Verdict:
        """One event of ``key``: allowed (a token taken), or refused, and whether it floods."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            self._added += 1
            if self._added >= SWEEP_EVERY:
                self._sweep(now)
        else:
            refill = (now - bucket.at) * self.rate_per_s
            bucket.tokens = min(self.burst, bucket.tokens + refill)
            bucket.refused = max(0.0, bucket.refused - refill)
            bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict(allowed=True)
        first = bucket.refused < 1
        bucket.refused += 1
        return Verdict(allowed=False, first=first, flooding=bucket.refused > self.flood_events)

    def forgive(self, key: str) -> None:
        """The socket was disconnected for flooding: its next socket starts with an empty bucket
        (it still has to wait for tokens) but not already counted as flooding."""
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.refused = 0.0

    def __len__(self) -> int:
        return len(self._buckets)

    def _sweep(self, now: float) -> None:
        self._added = 0
        full_after_s = self.burst / self.rate_per_s
        for key in [k for k, b in self._buckets.items() if now - b.at >= full_after_s]:
            del self._buckets[key]
