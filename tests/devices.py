"""A customer's device registered with a running desk, as the end-to-end tests and the benchmarks
set one up: register over REST, then a :class:`~device_agent.DeviceAgent` with those credentials."""

from __future__ import annotations

from typing import Any

import aiohttp

from device_agent import DeviceAgent
from device_agent.screens.base import ScreenSource

from .support import register_device

__all__ = ["registered_device"]


async def registered_device(
    http: aiohttp.ClientSession,
    url: str,
    source: ScreenSource,
    *,
    name: str = "tablet",
    **options: Any,
) -> DeviceAgent:
    """A device showing ``source``, registered as ``name`` with the desk at ``url``; not started.

    ``options`` go to the :class:`~device_agent.DeviceAgent` (``fade_s``, ``fps``, ``codec``...).
    """
    registered = await register_device(http, url, name)
    return DeviceAgent(
        url,
        device_id=registered["device_id"],
        device_secret=registered["device_secret"],
        source=source,
        **options,
    )
