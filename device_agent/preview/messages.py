"""What the preview page may send, and how a message becomes an input event in screen pixels.

Every message is untrusted: exact field sets, integers only, coordinates inside the screen,
bounded scroll and text, and only the named keys of :data:`NAMED_KEYS`. Pure functions, no I/O:
the server (:mod:`.server`) only reads a socket's text and hands it here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from signaling.keys import EDITING_KEYS

from ..screens.base import Drag, InputEvent, Key, Scroll, Tap, Text
from ..voice import SAMPLE_RATE, Pcm

__all__ = [
    "AUDIO_TAG",
    "MAX_MESSAGE_BYTES",
    "MAX_MIC_SAMPLES",
    "MAX_SCROLL_PX",
    "MAX_TEXT",
    "NAMED_KEYS",
    "BadMessage",
    "Listen",
    "parse_input",
    "parse_microphone",
    "parse_page_message",
]

MAX_MESSAGE_BYTES: Final = 64 * 1024
"""Larger WebSocket messages close the socket (aiohttp's ``max_msg_size``)."""
MAX_TEXT: Final = 1000
"""Characters in one ``text`` message (a paste); longer ones are dropped whole."""
MAX_SCROLL_PX: Final = 5000
NAMED_KEYS: Final = frozenset(EDITING_KEYS)
"""The keys the page sends as ``key`` messages (the page's script is built from the same table)."""

AUDIO_TAG: Final = 0x01
"""First byte of a server → page binary message of the agent's voice (a JPEG frame starts 0xFF)."""
MAX_MIC_SAMPLES: Final = SAMPLE_RATE // 4
"""The most microphone samples one page message may carry (250 ms)."""

_FIELDS: Final[dict[str, frozenset[str]]] = {
    "tap": frozenset({"type", "x", "y"}),
    "drag": frozenset({"type", "x0", "y0", "x1", "y1"}),
    "scroll": frozenset({"type", "x", "y", "dx", "dy"}),
    "key": frozenset({"type", "key"}),
    "text": frozenset({"type", "text"}),
}


class BadMessage(ValueError):
    """An input message that is not valid; the text says why (for the log)."""


@dataclass(frozen=True)
class Listen:
    """``{"type": "listen", "on": true}``: the page plays the agent's voice (the person turned
    the sound on, which a browser only allows after a gesture), so send it."""

    on: bool


def parse_page_message(raw: str | bytes, size: tuple[int, int]) -> InputEvent | Listen:
    """A page's text message: a :class:`Listen` or an input event (:func:`parse_input`)."""
    if len(raw) <= 64:
        try:
            data: object = json.loads(raw)
        except (ValueError, RecursionError):
            data = None
        if isinstance(data, dict) and data.get("type") == "listen":
            if data.keys() != {"type", "on"} or type(data["on"]) is not bool:
                raise BadMessage("listen: wrong fields")
            return Listen(data["on"])
    return parse_input(raw, size)


def parse_microphone(raw: bytes) -> Pcm:
    """A page's binary message: the customer's microphone, mono s16 little-endian at 48 kHz."""
    if not raw or len(raw) % 2 or len(raw) > 2 * MAX_MIC_SAMPLES:
        raise BadMessage("microphone: not 1..MAX_MIC_SAMPLES 16-bit samples")
    return np.frombuffer(raw, dtype="<i2").astype(np.int16)


def parse_input(raw: str | bytes, size: tuple[int, int]) -> InputEvent:
    """One page message as an input event, or :class:`BadMessage`. Never trusts ``raw``."""
    if len(raw) > MAX_MESSAGE_BYTES:
        raise BadMessage("too large")
    try:
        data: object = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadMessage("not JSON") from exc
    if not isinstance(data, dict):
        raise BadMessage("not an object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise BadMessage("unknown type")
    if data.keys() != _FIELDS[kind]:
        raise BadMessage(f"{kind}: wrong fields")
    width, height = size
    if kind == "tap":
        return Tap(_coord(data, "x", width), _coord(data, "y", height))
    if kind == "drag":
        return Drag(
            _coord(data, "x0", width),
            _coord(data, "y0", height),
            _coord(data, "x1", width),
            _coord(data, "y1", height),
        )
    if kind == "scroll":
        dx = _int(data, "dx", -MAX_SCROLL_PX, MAX_SCROLL_PX)
        dy = _int(data, "dy", -MAX_SCROLL_PX, MAX_SCROLL_PX)
        if dx == 0 and dy == 0:
            raise BadMessage("scroll: no movement")
        return Scroll(_coord(data, "x", width), _coord(data, "y", height), dx, dy)
    if kind == "key":
        key = data["key"]
        if not isinstance(key, str) or key not in NAMED_KEYS:
            raise BadMessage("key: not a named key")
        return Key(key)
    text = data["text"]
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
        raise BadMessage("text: not a string of 1..MAX_TEXT characters")
    if not text.isprintable():
        raise BadMessage("text: control or unprintable characters")
    return Text(text)


def _int(data: dict[str, Any], name: str, low: int, high: int) -> int:
    value = data[name]
    if type(value) is not int:  # bool is an int subclass; floats are refused too
        raise BadMessage(f"{name}: not an integer")
    if not low <= value <= high:
        raise BadMessage(f"{name}: out of range")
    return value


def _coord(data: dict[str, Any], name: str, limit: int) -> int:
    return _int(data, name, 0, limit - 1)
