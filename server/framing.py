"""How the socket layer reads a Socket.IO packet: python-socketio's parser with the protocol's limits.

python-socketio parses every text frame with ``json.loads`` before any namespace sees it, and lets
through, unchecked, things protocol 1 never uses. Measured with python-socketio 5.18 (see
``tests/test_limits.py``), each of these was logged by Engine.IO as an unhandled exception
(``message async handler error`` and a traceback) and left the client without an ack:

* JSON nested ~990 levels deep or more: ``RecursionError`` in ``json.loads`` (shallower than that
  it parsed, and ~950 levels then failed again in the dispatcher's size count, as ``internal``);
* a frame that is not JSON, an event packet whose data is not ``[name, ...]``;
* a binary frame (text frames only, §2).

And binary attachments were buffered without bound: a ``BINARY_EVENT`` header announces up to
9 999 999 999 attachments, each one frame of up to the Engine.IO cap, held until the last arrives,
and never freed if the connection closes first (300 MB sent: RSS +320 MB, kept after the close).

:class:`BoundedPacket` is the packet class of the server (python-socketio's ``serializer``). It
refuses all of that *before* parsing, without raising: the packet becomes an ordinary event whose
one payload is a :class:`Refused`, which the dispatcher (``server/sockets.py``) answers with an
error ack like any other refusal, counted by the rate limit like any other event. An event
packet that announces attachments is turned into such an event at once, so python-socketio never
waits for, or keeps, an attachment; the binary frames that follow, and any other binary frame,
become events of the unused default namespace ``/``, which python-socketio drops.

A client event named ``connect`` or ``disconnect`` would reach the namespace's
``trigger_event`` exactly as python-socketio's own connect and disconnect do (it does not filter
reserved names on the server side): it is refused here as ``unknown_event``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from socketio import packet as sio_packet

from signaling import ErrorCode

__all__ = [
    "MAX_JSON_DEPTH",
    "BoundedPacket",
    "Refused",
    "json_depth_exceeds",
    "quiet_unknown_packet_types",
]

MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects accepted in a frame or REST body. The deepest payload of
protocol 1 is 4 levels inside a frame (``[name, {events: [{...}]}]``)."""

RESERVED_EVENTS = frozenset({"connect", "disconnect"})

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_EVENT_NAME = re.compile(r'\s*\[\s*"([^"\\]{1,64})"')
"""The event's name at the start of an event packet's JSON, read without parsing the rest."""


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``text`` (JSON, or what claims to be) nests arrays and objects deeper than ``limit``.

    Checked before ``json.loads``, at C speed: with no more than ``limit`` opening brackets the
    answer is no (nearly every frame: an SDP offer has two). Otherwise the strings are cut out,
    then everything but brackets, then innermost ``[]``/``{}`` pairs are removed one level per
    round, at most ``limit`` rounds (a 128 kB frame of brackets: ~3 ms). Unbalanced brackets count
    as too deep; ``json.loads`` would refuse them anyway.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(limit):
        if not brackets:
            return False
        shorter = brackets.replace("[]", "").replace("{}", "")
        if len(shorter) == len(brackets):
            return True
        brackets = shorter
    return bool(brackets)


@dataclass(frozen=True)
class Refused:
    """The payload of an event refused while it was read: the dispatcher answers it with
    ``{"error": {"code": code, "message": "<event>: <message>"}}``. Not JSON, so nothing else can
    mistake it for a payload."""

    code: ErrorCode
    message: str


REFUSED_EVENT = "(refused)"
"""The event name of a packet whose own name could not be read, and of a dropped one."""


class BoundedPacket(sio_packet.Packet):  # type: ignore[misc]
    """python-socketio's packet, decoded within the protocol's limits (see the module docstring).

    Encoding (everything the server sends) is python-socketio's own.
    """

    packet_type: int
    namespace: str | None
    id: int | None
    data: Any
    attachment_count: int

    def __init__(self, *args: Any, encoded_packet: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, encoded_packet=encoded_packet, **kwargs)
        if encoded_packet is not None and not encoded_packet:
            # An empty Engine.IO message ("4"): python-socketio would not decode it at all and
            # then fail on an event without data.
            self._drop()

    def decode(self, encoded_packet: Any) -> int:
        self.attachment_count = 0
        if not isinstance(encoded_packet, str):
            # A binary frame: an attachment nobody waits for (see the module docstring).
            return self._drop()
        header, body = _split(encoded_packet)
        try:
            attachments = super().decode(header)
        except ValueError:  # a packet type that is no number, an id of 100 digits
            return self._drop()
        if self.packet_type not in _FROM_CLIENTS:
            return self._drop()
        if attachments or self.packet_type == sio_packet.BINARY_EVENT:
            self.packet_type = sio_packet.EVENT
            return self._refuse(
                ErrorCode.BAD_REQUEST, "payloads are JSON text: binary attachments are not accepted"
            )
        if body:
            if json_depth_exceeds(body):
                named = _EVENT_NAME.match(body)
                self.data = [named.group(1)] if named else None
                return self._refuse(
                    ErrorCode.BAD_REQUEST,
                    f"the payload is nested deeper than {MAX_JSON_DEPTH} levels",
                )
            try:
                self.data = self.json.loads(body)
            except (ValueError, RecursionError):
                return self._refuse(ErrorCode.BAD_REQUEST, "the payload is not valid JSON")
        if self.packet_type == sio_packet.EVENT:
            data = self.data
            if not isinstance(data, list) or not data or not isinstance(data[0], str):
                return self._refuse(
                    ErrorCode.BAD_REQUEST, "an event is a JSON array: [name, payload]"
                )
            if data[0] in RESERVED_EVENTS:
                return self._refuse(
                    ErrorCode.UNKNOWN_EVENT, f"{data[0]!r} is not an event a client sends"
                )
        return 0

    def _refuse(self, code: ErrorCode, message: str) -> int:
        """Make this event's one payload the refusal, keeping its namespace and id so that the
        ack reaches the client's callback. A connect gets the refusal as its auth (refused as
        malformed credentials); an ack or a disconnect carries no data that is read."""
        refused = Refused(code, message)
        if self.packet_type != sio_packet.EVENT:
            self.data = refused
            return 0
        name = REFUSED_EVENT
        data = self.data
        if isinstance(data, list) and data and isinstance(data[0], str):
            name = data[0][:64] if data[0] not in RESERVED_EVENTS else name
        self.data = [name, refused]
        return 0

    def _drop(self) -> int:
        """Make this an event of the default namespace ``/``, never connected, which
        python-socketio drops: binary frames, packet types a client never sends, garbage."""
        self.packet_type, self.namespace, self.id = sio_packet.EVENT, None, None
        self.data = [REFUSED_EVENT]
        return 0


_FROM_CLIENTS = frozenset(
    {
        sio_packet.CONNECT,
        sio_packet.DISCONNECT,
        sio_packet.EVENT,
        sio_packet.ACK,
        sio_packet.BINARY_EVENT,
    }
)
"""Packet types a client may send (python-socketio raises on the others, CONNECT_ERROR among them;
BINARY_ACK answers a server's binary event, which this server never sends)."""


def _split(encoded: str) -> tuple[str, str]:
    """The packet's header (type, attachments, namespace, id) and its JSON, as python-socketio's
    ``decode`` splits them; the JSON starts at the first ``[``, ``{`` or ``"`` after the header."""
    position = 1
    dash = encoded.find("-", position)
    if dash > position and encoded[position:dash].isdigit():
        position = dash + 1
    if encoded[position : position + 1] == "/":
        comma = encoded.find(",", position)
        position = len(encoded) if comma == -1 else comma + 1
    while position < len(encoded) and encoded[position].isdigit():
        position += 1
    return encoded[:position], encoded[position:]


class _UnknownPacketType(logging.Filter):
    """Drops python-engineio's ``Unknown receive error`` for a frame whose Engine.IO packet type
    is a digit past 6 (``"9"``): it fails while *logging* the packet's name (``IndexError``), with
    a traceback per frame, and the connection carries on. Measured: 1 000 such frames from a
    connection that never signed in wrote 8 000 log lines. Other errors are kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (record.msg == "Unknown receive error" and isinstance(error, IndexError))


_UNKNOWN_PACKET_TYPE = _UnknownPacketType()


def quiet_unknown_packet_types(logger: logging.Logger) -> None:
    """Install the filter on python-engineio's logger (once; ``addFilter`` keeps no duplicate)."""
    logger.addFilter(_UNKNOWN_PACKET_TYPE)
