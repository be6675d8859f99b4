"""The cycle collector while serving (``server/collector.py``): the oldest generation is
collected on the timer only, what existed before is frozen, and everything is as it was after."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

from server.collector import collected_on_a_timer


async def test_the_oldest_generation_is_collected_on_the_timer_only() -> None:
    before = gc.get_threshold()
    full: list[float] = []

    def note(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(asyncio.get_running_loop().time())

    async with collected_on_a_timer(interval_s=0.1):
        young, middle, oldest = gc.get_threshold()
        assert (young, middle) == before[:2]
        assert oldest > 10**9  # never reached by the counter: no full collection on its own
        assert gc.get_freeze_count() > 0  # what the process built before serving
        gc.callbacks.append(note)
        try:
            await asyncio.sleep(0.45)
        finally:
            gc.callbacks.remove(note)
    assert len(full) >= 2  # the timer's
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_cyclic_garbage_that_outlived_the_young_collections_is_freed() -> None:
    class Node:
        partner: Node

    freed = asyncio.Event()
    async with collected_on_a_timer(interval_s=0.1):
        first, second = Node(), Node()
        first.partner, second.partner = second, first
        gc.collect(1)  # both now live in the oldest generation, out of the young ones' reach
        weakref.finalize(first, freed.set)
        del first, second
        await asyncio.wait_for(freed.wait(), 5)
