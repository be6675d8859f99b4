"""Typed keys for the resources one application owns (aiohttp's ``web.AppKey``)."""

from __future__ import annotations

import socketio
from aiohttp import web

from .auth import TokenSigner
from .desk import HelpDesk
from .live.store import LiveStore
from .metrics import Metrics
from .origins import Origins
from .records import Records
from .settings import Settings
from .throttle import LoginThrottle
from .writer import RecordWriter

__all__ = [
    "DESK",
    "METRICS",
    "NODE",
    "ORIGINS",
    "RECORDS",
    "SETTINGS",
    "SIGNER",
    "SIO",
    "STORE",
    "THROTTLE",
    "WRITER",
]

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
RECORDS = web.AppKey("records", Records)
STORE = web.AppKey("store", LiveStore)
WRITER = web.AppKey("writer", RecordWriter)
SIGNER = web.AppKey("signer", TokenSigner)
THROTTLE = web.AppKey("throttle", LoginThrottle)
DESK = web.AppKey("desk", HelpDesk)
SIO = web.AppKey("sio", socketio.AsyncServer)
ORIGINS = web.AppKey("origins", Origins)
"""The browser origins this process accepts: the console's, and the sites' (refreshed)."""
NODE = web.AppKey("node", str)
"""This server process's name in the live store (host, pid, random)."""
