"""CPython's cycle collector in a server process that holds tens of thousands of sockets.

CPython collects its oldest generation whenever the objects promoted into it since the last full
collection reach a quarter of those living there. A process holding 10,000 device sockets and
their tickets has millions of long-lived objects: each full collection then stops the event loop
for a few hundred milliseconds, and a busy desk promotes that many objects every few seconds
(``bench/bigqueue.py`` measured 300 ms pauses every 1-3 s with 11,000 sockets). Every ring and
every answer waits behind such a pause.

So, while the server runs, the oldest generation is collected on a timer instead, every
``FULL_COLLECTION_INTERVAL_S``; the young generations are collected as usual (most cyclic
garbage dies young, and they are cheap). What the process built before it serves (modules,
the app) is frozen out of the collector's sight first (``gc.freeze``), so no collection scans it
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator

import structlog

__all__ = ["FULL_COLLECTION_INTERVAL_S", "collected_on_a_timer"]

FULL_COLLECTION_INTERVAL_S = 300.0
"""How often the oldest generation is collected while serving: cyclic garbage that outlived the
young collections waits at most this long."""
_NEVER = 2**31 - 1
"""A threshold the oldest generation's counter never reaches."""

log = structlog.get_logger("mayday.collector")


@contextlib.asynccontextmanager
async def collected_on_a_timer(
    interval_s: float = FULL_COLLECTION_INTERVAL_S,
) -> AsyncIterator[None]:
    """While inside: full collections every ``interval_s`` only; the thresholds as they were
    afterwards."""
    young, middle, oldest = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(young, middle, _NEVER)

    async def collect_forever() -> None:
        while True:
            await asyncio.sleep(interval_s)
            started = time.perf_counter()
            found = gc.collect()
            log.debug(
                "gc.full_collection",
                collected=found,
                pause_ms=round((time.perf_counter() - started) * 1000, 1),
            )

    task = asyncio.create_task(collect_forever(), name="full-collection")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        gc.set_threshold(young, middle, oldest)
        gc.unfreeze()
