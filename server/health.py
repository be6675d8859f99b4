"""Readiness (``GET /readyz``): may a load balancer send this process new work right now?

``/healthz`` says the process is alive and must stay 200 through a Redis or database outage (a
restart would not help and would drop every socket). ``/readyz`` says whether the process can do
its job: it answers 503 while the records database or, when configured, Redis is unreachable,
while this process's socket.io Redis manager does not hear the channel (then emits from other
processes, such as rings for agents connected here, would be lost), and from the moment a graceful
stop begins (:attr:`Readiness.draining`, answered at once, without checking anything).

It is open like ``/healthz``, so it must be cheap and say nothing secret: each check has a short
timeout, one result serves every request for :data:`CACHE_S` (concurrent requests share one
check in flight), and the body names checks and fixed reasons, never URLs or error messages.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["CACHE_S", "CHECK_TIMEOUT_S", "DRAINING", "READINESS", "Readiness", "readyz"]

CACHE_S = 1.0
"""How long one answer is reused."""
CHECK_TIMEOUT_S = 1.0
"""A dependency that takes longer than this to answer counts as unreachable."""

Probe = Callable[[], Awaitable[Any]]

DRAINING: dict[str, Any] = {
    "ready": False,
    "draining": True,
    "checks": {"process": {"ok": False, "error": "draining"}},
}
"""The answer while the process stops gracefully (SIGTERM): take it out of rotation."""


@dataclass(eq=False)
class Readiness:
    """The checks of one process: probes that must answer, flags that must be up."""

    probes: dict[str, Probe]
    """``records``, ``redis``: a cheap round trip each (``SELECT 1``, ``PING``)."""
    flags: dict[str, Callable[[], bool]] = field(default_factory=dict)
    """``fanout``: the socket.io manager heard its own probe lately (no I/O here)."""
    draining: bool = field(default=False, init=False)
    """Set when a graceful stop begins; from then on every answer is :data:`DRAINING`."""
    _answer: tuple[float, dict[str, Any]] | None = field(default=None, init=False)
    _running: asyncio.Task[dict[str, Any]] | None = field(default=None, init=False)

    async def check(self) -> dict[str, Any]:
        """``{"ready": bool, "checks": {name: {"ok": bool, "error"?: str}}}``, cached."""
        if self.draining:
            return DRAINING
        if self._answer is not None and time.monotonic() - self._answer[0] < CACHE_S:
            return self._answer[1]
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._check_now(), name="readiness")
        # Shielded: a client that hangs up must not cancel the check others are waiting for.
        return await asyncio.shield(self._running)

    async def _check_now(self) -> dict[str, Any]:
        names = list(self.probes)
        results = await asyncio.gather(*(_probe(self.probes[name]) for name in names))
        checks: dict[str, dict[str, Any]] = dict(zip(names, results, strict=True))
        for name, flag in self.flags.items():
            checks[name] = {"ok": True} if flag() else {"ok": False, "error": "not subscribed"}
        answer = {"ready": all(check["ok"] for check in checks.values()), "checks": checks}
        self._answer = (time.monotonic(), answer)
        return answer


async def _probe(probe: Probe) -> dict[str, Any]:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_S)
    except TimeoutError:
        return {"ok": False, "error": "timeout"}
    except Exception:  # whatever the driver raises; its message may name hosts or users
        return {"ok": False, "error": "unreachable"}
    return {"ok": True}


READINESS = web.AppKey("readiness", Readiness)


async def readyz(request: web.Request) -> web.Response:
    answer = await request.app[READINESS].check()
    return web.json_response(answer, status=200 if answer["ready"] else 503)
