"""A customer's view for people: the device's screen, live, in a local browser page.

``mayday device --preview-port N`` serves one self-contained page (inline CSS and JS, nothing
fetched from elsewhere) that shows what the customer sees and lets a person act as the customer:
a click is a tap, press-move-release a drag, the wheel scrolls, named keys and typed characters
go to the focused field. It is how a person presses Help, allows control or stops it on a
simulated tablet.

Wire protocol, one WebSocket at ``/ws``:

* server → page: a text ``{"type": "hello", "width": W, "height": H, "title": ...}`` first, then
  every frame as a binary message holding one JPEG. A frame is sent when ``revision()`` changed
  (polled about 30 times a second, and at once after the page's own input), and every
  :data:`KEEPALIVE_S` seconds regardless, so a picture that changes without the revision knowing
  (a fading mark) still catches up.
* page → server: text JSON input, in screen pixels::

      {"type": "tap", "x": 10, "y": 20}
      {"type": "drag", "x0": 10, "y0": 20, "x1": 300, "y1": 20}
      {"type": "scroll", "x": 10, "y": 20, "dx": 0, "dy": 120}
      {"type": "key", "key": "Enter"}          # one of NAMED_KEYS
      {"type": "text", "text": "a"}            # 1..MAX_TEXT printable characters

  Every message is untrusted: exact field sets, integers only, coordinates inside the screen,
  bounded scroll and text. Bad ones are logged (the first few per connection) and dropped; the
  socket stays open. Only a message over :data:`MAX_MESSAGE_BYTES` closes it (aiohttp's limit).
* voice, for a device's preview (:mod:`device_agent.voice`): the server sends
  ``{"type": "voice", "session": bool, "talking": bool}`` after ``hello`` and on every change; a
  page that plays sound (after a gesture: "Tap to hear the agent") sends
  ``{"type": "listen", "on": true}`` and then gets the agent's voice as binary messages of
  :data:`AUDIO_TAG` followed by 20 ms of mono s16le PCM at 48 kHz (a JPEG starts with 0xFF
  instead). While ``talking`` the page records its microphone (``getUserMedia``, the AudioWorklet
  at ``/voice-worklet.js``) and sends it as binary messages of bare s16le PCM, at most
  :data:`MAX_MIC_SAMPLES` a message; they are dropped unless the customer tapped Talk.

The package has one module per job: :mod:`.server` (HTTP, WebSocket, the shared frames),
:mod:`.page` (the page's HTML, style and script) and :mod:`.messages` (the page's input messages
and their limits).
"""

from __future__ import annotations

from .messages import (
    AUDIO_TAG,
    MAX_MESSAGE_BYTES,
    MAX_MIC_SAMPLES,
    MAX_SCROLL_PX,
    MAX_TEXT,
    NAMED_KEYS,
    BadMessage,
    parse_input,
)
from .server import KEEPALIVE_S, POLL_S, PreviewServer, encode_jpeg

__all__ = [
    "AUDIO_TAG",
    "KEEPALIVE_S",
    "MAX_MESSAGE_BYTES",
    "MAX_MIC_SAMPLES",
    "MAX_SCROLL_PX",
    "MAX_TEXT",
    "NAMED_KEYS",
    "POLL_S",
    "BadMessage",
    "PreviewServer",
    "encode_jpeg",
    "parse_input",
]
