"""python-socketio's Redis manager, made to notice when it stops hearing the channel and recover.

Emits for a socket held by another process travel over the Redis channel; a process whose
listener is not subscribed silently misses them (its agents are never rung). The stock
:class:`socketio.AsyncRedisManager` retries a lost connection, but with a back-off that doubles up
to 60 s: after a 15 s Redis outage it measured deaf for over a minute after Redis was back. It
also only connects at the first socket.io connection, so a fresh process is not subscribed at all.

So every process checks the whole path end to end: each second it publishes a probe addressed to
itself on the channel, through a client of its own, and watches for it coming back through the
listener. Heard lately: subscribed (``/readyz`` reports it). Published fine but not heard for
:data:`DEAF_AFTER_S`: Redis is reachable but the listener is deaf or still asleep in its back-off,
so the listener task is restarted at once (a fresh connection and ``SUBSCRIBE``). A probe that
cannot even be published means Redis is down: nothing to restart, the listener retries itself;
the first probe that gets through again restarts it if it has not heard the channel lately.

Probes are filtered out before python-socketio parses anything, in every process. The listener
loop itself is python-socketio's; only the probe hook and the restart are added here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import AsyncIterator
from typing import Any

import socketio
import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from .rooms import IndexedRooms

__all__ = ["CHANNEL", "DEAF_AFTER_S", "PROBE_INTERVAL_S", "FanoutManager"]

log = structlog.get_logger("mayday.fanout")

CHANNEL = "mayday-socketio"
PROBE_INTERVAL_S = 1.0
"""How often each process sends itself a probe through the channel."""
DEAF_AFTER_S = 3.0
"""Not heard its own probe for this long while publishing works: the listener is restarted."""
TIMEOUT_S = 2.0
"""Connect and command timeout for the manager's and the probe's Redis clients: a Redis that
does not answer must fail an emit quickly, not hold the handler that emits."""
_PROBE_PREFIX = b'{"mayday_probe": '


def _redis_options() -> dict[str, Any]:
    """A few quick retries ride out a blip (a reconnect re-subscribes by itself); more would only
    hold every emit during a real outage, which the probe handles."""
    return {
        "socket_connect_timeout": TIMEOUT_S,
        "socket_timeout": TIMEOUT_S,
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
    }


class FanoutManager(IndexedRooms, socketio.AsyncRedisManager):  # type: ignore[misc]
    """The Redis manager plus a probe that proves, end to end, that this process is subscribed
    (and each socket's rooms indexed, :mod:`server.rooms`)."""

    thread: asyncio.Future[None]
    """python-socketio's listener task, set by :meth:`initialize`."""

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__(url, channel=channel, redis_options=_redis_options())
        self._probe = _PROBE_PREFIX + json.dumps(self.host_id).encode() + b"}"
        self._heard_at = -math.inf
        self._expect_from = -math.inf
        self._reachable = True  # until a probe fails: a fresh listener gets DEAF_AFTER_S first
        self._watch: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self.restarts = 0
        """How often the listener was found deaf and restarted (for the logs and the tests)."""

    # --- what the rest of the server asks -------------------------------------------------------

    @property
    def subscribed(self) -> bool:
        """This process heard its own probe through Redis within :data:`DEAF_AFTER_S`."""
        return _now() - self._heard_at <= DEAF_AFTER_S

    def start(self) -> None:
        """Subscribe now rather than at the first socket.io connection, and start probing.

        python-socketio calls :meth:`initialize` itself on the first connection unless
        ``manager_initialized`` is set; this sets it, so it happens exactly once.
        """
        if not self.server.manager_initialized:
            self.server.manager_initialized = True
            self.initialize()

    async def close(self) -> None:
        for task in (self._watch, getattr(self, "thread", None), *self._closing):
            if task is not None:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        with contextlib.suppress(Exception):
            if self.pubsub is not None:
                await self.pubsub.aclose()
            if self.redis is not None:
                await self.redis.aclose()

    # --- python-socketio's hooks ----------------------------------------------------------------

    def initialize(self) -> None:
        super().initialize()
        self._expect_from = _now()
        self._watch = asyncio.create_task(self._watch_forever(), name="fanout-probe")

    async def _listen(self) -> AsyncIterator[Any]:
        async for data in super()._listen():
            if isinstance(data, bytes) and data.startswith(_PROBE_PREFIX):
                if data == self._probe:
                    self._heard_at = _now()
                continue  # nobody's business but the prober's
            yield data

    # --- the probe --------------------------------------------------------------------------------

    async def _watch_forever(self) -> None:
        client: Redis = Redis.from_url(self.redis_url, **_redis_options())
        try:
            while True:
                await asyncio.sleep(PROBE_INTERVAL_S)
                try:
                    await self._probe_once(client)
                except Exception:  # a bug here must not end the probing for good
                    log.exception("fanout.probe_failed")
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    async def _probe_once(self, client: Redis) -> None:
        try:
            await client.publish(self.channel, self._probe)
        except (RedisError, OSError) as exc:
            if self._reachable:
                log.warning("fanout.redis_unreachable", error=type(exc).__name__)
            self._reachable = False
            return
        now = _now()
        if not self._reachable:
            self._reachable = True
            log.info("fanout.redis_reachable")
            if not self.subscribed:
                # Back after an outage: the listener is asleep in its back-off (or reconnected
                # on its own a moment ago, and a restart costs it one more SUBSCRIBE).
                self._restart_listener()
            return
        if now - max(self._heard_at, self._expect_from) > DEAF_AFTER_S:
            self._restart_listener()

    def _restart_listener(self) -> None:
        """Cancel python-socketio's listener task (asleep in its back-off, or reading a dead
        subscription) and start a new one, which connects and subscribes at once."""
        self.restarts += 1
        log.warning("fanout.listener_restarted", restarts=self.restarts)
        old_pubsub, old_redis = self.pubsub, self.redis
        self.thread.cancel()
        self.connected = False  # the next publish connects afresh too
        self.thread = self.server.start_background_task(self._thread)
        self._expect_from = _now()
        closing = asyncio.create_task(_close_later(old_pubsub, old_redis), name="fanout-close")
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)


async def _close_later(pubsub: Any, redis: Any) -> None:
    """Close the replaced connections, after a moment in which a publish may still use them."""
    with contextlib.suppress(Exception):
        if pubsub is not None:
            await asyncio.wait_for(pubsub.aclose(), TIMEOUT_S)
    await asyncio.sleep(TIMEOUT_S)
    with contextlib.suppress(Exception):
        if redis is not None:
            await asyncio.wait_for(redis.aclose(), TIMEOUT_S)


def _now() -> float:
    return asyncio.get_running_loop().time()
