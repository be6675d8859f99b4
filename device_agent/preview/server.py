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

Safety: the server listens on 127.0.0.1 unless told otherwise. Every request must name the
server by an IP literal or ``localhost`` in its ``Host`` header (a DNS-rebinding page cannot),
and a browser's WebSocket upgrade must come from the page's own origin. Clients without an
``Origin`` header (not browsers) are let through: they could forge one anyway. The page carries a
strict Content-Security-Policy with hashes of its inline script and style, and cannot be framed.

``render`` and ``inject`` are blocking and always run in worker threads; ``revision`` is called
on the event loop and must be cheap. Frames are rendered and encoded once per change and shared
by all pages; a slow page skips to the newest frame instead of queueing old ones.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import html
import io
import ipaddress
import json
import math
import re
from collections.abc import Callable, Hashable
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import structlog
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.typedefs import Handler
from PIL import Image

from .screens.base import Drag, Frame, InputEvent, Key, ScreenSource, Scroll, Tap, Text

if TYPE_CHECKING:
    from .agent import DeviceAgent

__all__ = [
    "KEEPALIVE_S",
    "MAX_MESSAGE_BYTES",
    "MAX_SCROLL_PX",
    "MAX_TEXT",
    "NAMED_KEYS",
    "POLL_S",
    "BadMessage",
    "PreviewServer",
    "encode_jpeg",
    "parse_input",
]

log = structlog.get_logger("mayday.preview")

POLL_S: Final = 1 / 30
"""How often ``revision()`` is polled while a page is connected."""
KEEPALIVE_S: Final = 2.0
"""A fresh frame at least this often, changed or not."""
JPEG_QUALITY: Final = 80
MAX_MESSAGE_BYTES: Final = 64 * 1024
"""Larger WebSocket messages close the socket (aiohttp's ``max_msg_size``)."""
MAX_TEXT: Final = 1000
"""Characters in one ``text`` message (a paste); longer ones are dropped whole."""
MAX_SCROLL_PX: Final = 5000
MAX_CLIENTS: Final = 8
BAD_MESSAGES_LOGGED: Final = 3
"""Per connection; the rest are only counted, so a misbehaving page cannot flood the log."""
NAMED_KEYS: Final = frozenset(
    {
        "Enter",
        "Backspace",
        "Tab",
        "Escape",
        "ArrowLeft",
        "ArrowRight",
        "ArrowUp",
        "ArrowDown",
        "Home",
        "End",
        "Delete",
    }
)

_FIELDS: Final[dict[str, frozenset[str]]] = {
    "tap": frozenset({"type", "x", "y"}),
    "drag": frozenset({"type", "x0", "y0", "x1", "y1"}),
    "scroll": frozenset({"type", "x", "y", "dx", "dy"}),
    "key": frozenset({"type", "key"}),
    "text": frozenset({"type", "text"}),
}


class BadMessage(ValueError):
    """An input message that is not valid; the text says why (for the log)."""


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


def encode_jpeg(frame: Frame, quality: int = JPEG_QUALITY) -> bytes:
    """An RGB frame as JPEG bytes. Blocking (about 3 ms for 1280×800, 40–80 KiB)."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 frame, got {frame.shape} {frame.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(frame)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


class PreviewServer:
    """Serves the page and its WebSocket; see the module docstring."""

    def __init__(
        self,
        *,
        render: Callable[[], Frame],
        inject: Callable[[InputEvent], None],
        revision: Callable[[], Hashable],
        size: tuple[int, int],
        title: str = "mayday device",
    ) -> None:
        width, height = size
        if width <= 0 or height <= 0:
            raise ValueError(f"bad screen size {size}")
        self._render = render
        self._inject = inject
        self._revision = revision
        self.size = (width, height)
        self.title = title
        self._page = _page(title, width, height).encode()
        self._runner: web.AppRunner | None = None
        self._url: str | None = None
        self._bound_host = ""
        self._sockets: set[web.WebSocketResponse] = set()
        self._producer: asyncio.Task[None] | None = None
        self._has_clients = asyncio.Event()
        self._wake = asyncio.Event()
        self._fresh_wanted = False
        self._producing = False
        """Whether the frame producer polls (pages are watching) rather than waits for one."""
        self._frames = asyncio.Condition()
        self._seq = 0
        self._jpeg = b""
        self.frames_encoded = 0
        """Frames rendered and encoded so far (for tests and benchmarks)."""
        self.inputs_applied = 0
        self.bad_messages = 0

    @classmethod
    def of_device(cls, device: DeviceAgent, source: ScreenSource, title: str) -> PreviewServer:
        """The customer's view of ``device``: what it shows them, and their input on ``source``."""

        def inject(event: InputEvent) -> None:
            source.inject(event, "customer")

        return cls(
            render=device.render_for_customer,
            inject=inject,
            revision=lambda: device.customer_revision,
            size=source.size,
            title=title,
        )

    @property
    def url(self) -> str | None:
        return self._url

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 picks a free port); returns the page's URL."""
        if self._runner is not None:
            raise RuntimeError("preview server already started")
        app = web.Application(middlewares=[self._host_guard])
        app.router.add_get("/", self._index)
        app.router.add_get("/ws", self._socket)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._bound_host = host
        bound_port = runner.addresses[0][1]
        shown = f"[{host}]" if ":" in host else host
        self._url = f"http://{shown}:{bound_port}/"
        self._producer = asyncio.create_task(self._produce(), name="preview-frames")
        log.info("preview.started", url=self._url)
        return self._url

    async def stop(self) -> None:
        """Close every page's socket and stop listening. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._producer is not None:
            self._producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._producer
            self._producer = None
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"preview stopped")
        await runner.cleanup()
        self._url = None
        log.info("preview.stopped")

    # ------------------------------------------------------------------ HTTP

    @web.middleware
    async def _host_guard(
        self,
        request: web.Request,
        handler: Handler,
    ) -> web.StreamResponse:
        if not self._host_allowed(request.host):
            log.warning("preview.bad_host", host=request.host[:100])
            raise web.HTTPMisdirectedRequest(text="unknown host\n")
        return await handler(request)

    def _host_allowed(self, host: str) -> bool:
        """An IP literal, ``localhost`` or the name we were told to bind: no DNS rebinding."""
        if host.startswith("["):
            name = host[1 : host.find("]")] if "]" in host else ""
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        name = name.lower()
        if not name:
            return False
        if name in ("localhost", self._bound_host.lower()):
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    async def _index(self, request: web.Request) -> web.Response:
        connect = f"ws://{request.host} wss://{request.host}"
        return web.Response(
            body=self._page,
            content_type="text/html",
            charset="utf-8",
            headers={
                "Content-Security-Policy": (
                    f"default-src 'none'; script-src '{_SCRIPT_HASH}'; "
                    f"style-src '{_STYLE_HASH}'; connect-src 'self' {connect}; "
                    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
                ),
                "X-Frame-Options": "DENY",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            },
        )

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        expected = f"{request.scheme}://{request.host}".lower()
        if origin is not None and origin.lower() != expected:
            log.warning("preview.foreign_origin", origin=origin[:200])
            raise web.HTTPForbidden(text="foreign origin\n")
        if len(self._sockets) >= MAX_CLIENTS:
            raise web.HTTPServiceUnavailable(text="too many preview pages open\n")
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, heartbeat=20.0)
        await ws.prepare(request)
        width, height = self.size
        await ws.send_json({"type": "hello", "width": width, "height": height, "title": self.title})
        if self._producing:
            # Other pages watch, so the shared frame is current (polled ~30 times a second):
            # send it at once, or the first one when it is ready.
            seen = max(0, self._seq - 1)
        else:
            # The producer was idle: whatever it has is stale; it renders anew for us.
            seen = self._seq
            self._fresh_wanted = True
            self._wake.set()
        self._sockets.add(ws)
        self._has_clients.set()
        sender = asyncio.create_task(self._send_frames(ws, seen), name="preview-send")
        bad = 0
        try:
            async for message in ws:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                try:
                    if message.type is WSMsgType.BINARY:
                        raise BadMessage("binary message")  # input is JSON text only
                    event = parse_input(message.data, self.size)
                except BadMessage as exc:
                    bad += 1
                    self.bad_messages += 1
                    if bad <= BAD_MESSAGES_LOGGED:
                        log.warning("preview.bad_message", reason=str(exc))
                    continue
                await self._apply(event)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            self._sockets.discard(ws)
            if not self._sockets:
                self._has_clients.clear()
            if bad > BAD_MESSAGES_LOGGED:
                log.warning("preview.bad_messages", count=bad)
        return ws

    async def _apply(self, event: InputEvent) -> None:
        try:
            await asyncio.to_thread(self._inject, event)
        except Exception:
            log.exception("preview.inject_failed", event=type(event).__name__)
            return
        self.inputs_applied += 1
        self._wake.set()  # show the result now, not at the next poll

    # ------------------------------------------------------------------ frames

    async def _produce(self) -> None:
        """Render and encode a frame when the picture changed; share it with every page."""
        loop = asyncio.get_running_loop()
        never = object()
        last_revision: Hashable = never
        last_at = -math.inf
        while True:
            if not self._has_clients.is_set():
                self._producing = False
                await self._has_clients.wait()
                self._producing = True
            try:
                revision = self._revision()
            except Exception:
                log.exception("preview.revision_failed")
                revision = never
            now = loop.time()
            if self._fresh_wanted or revision != last_revision or now - last_at >= KEEPALIVE_S:
                self._fresh_wanted = False
                try:
                    jpeg = await asyncio.to_thread(self._encode)
                except Exception:
                    log.exception("preview.render_failed")
                    await asyncio.sleep(1.0)
                    continue
                last_revision, last_at = revision, now
                async with self._frames:
                    self._seq += 1
                    self._jpeg = jpeg
                    self._frames.notify_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)
            self._wake.clear()

    def _encode(self) -> bytes:
        jpeg = encode_jpeg(self._render())
        self.frames_encoded += 1
        return jpeg

    def _newer_than(self, seq: int) -> bool:
        return self._seq > seq

    async def _send_frames(self, ws: web.WebSocketResponse, seen: int) -> None:
        """One page's frames after ``seen``: always the newest, never a queue of old ones."""
        try:
            while not ws.closed:
                async with self._frames:
                    await self._frames.wait_for(partial(self._newer_than, seen))
                    seen, jpeg = self._seq, self._jpeg
                await ws.send_bytes(jpeg)
        except (ConnectionError, RuntimeError) as exc:  # the page went away mid-send
            log.debug("preview.send_stopped", error=str(exc))


# ---------------------------------------------------------------------- the page

_STYLE = """
*{box-sizing:border-box}
html,body{margin:0;height:100%}
body{display:flex;flex-direction:column;overflow:hidden;background:#2f3136;color:#b9bcc2;
  font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
#stage{flex:1 1 auto;min-height:0;display:flex;align-items:center;justify-content:center}
#screen{flex:none;display:block;border:0;padding:0;background:#1b1c1f;border-radius:3px;
  box-shadow:0 10px 30px rgba(0,0,0,.45);touch-action:none;user-select:none;cursor:pointer;
  outline:none;transition:opacity .3s,filter .3s}
body.offline #screen{opacity:.5;filter:grayscale(1)}
#caption{flex:none;display:flex;flex-wrap:wrap;gap:2px 8px;align-items:center;
  justify-content:center;padding:0 16px 12px;text-align:center}
#caption>span{white-space:nowrap;max-width:100%;overflow:hidden;text-overflow:ellipsis}
#caption>span+span::before{content:"\\00b7";margin-right:8px;opacity:.45}
#caption b{color:#e8eaed;font-weight:600}
#dot{display:inline-block;width:8px;height:8px;margin-right:6px;border-radius:50%;
  background:#9aa0a6;vertical-align:1px}
body.live #dot{background:#34a853}
body.offline #dot{background:#ea4335}
"""

_SCRIPT = """
"use strict";
(() => {
  const MARGIN = 16, DRAG_PX = 6, MAX_TEXT = 1000, MAX_SCROLL = 5000, WHEEL_MS = 50;
  const NAMED = new Set(["Enter", "Backspace", "Tab", "Escape", "ArrowLeft", "ArrowRight",
    "ArrowUp", "ArrowDown", "Home", "End", "Delete"]);
  const body = document.body;
  const stage = document.getElementById("stage");
  const canvas = document.getElementById("screen");
  const statusText = document.getElementById("status");
  const ctx = canvas.getContext("2d", {alpha: false});
  let W = Number(body.dataset.width) || 1, H = Number(body.dataset.height) || 1;
  // For tests and curious people: frames drawn and when (epoch ms), the screen's size.
  const stats = window.__preview = {frames: 0, shownAt: 0, width: W, height: H, live: false};

  function layout() {
    const r = stage.getBoundingClientRect();
    const s = Math.max(0, Math.min((r.width - 2 * MARGIN) / W, (r.height - 2 * MARGIN) / H));
    const w = Math.max(1, Math.floor(W * s));
    canvas.style.width = w + "px";
    canvas.style.height = Math.max(1, Math.round(w * H / W)) + "px";
  }
  new ResizeObserver(layout).observe(stage);
  layout();

  function placeholder(text) {
    ctx.fillStyle = "#1b1c1f";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = "#9aa0a6";
    ctx.font = Math.round(canvas.height / 24) + "px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(text, canvas.width / 2, canvas.height / 2);
  }
  placeholder("Connecting\\u2026");

  function setStatus(state, text) {
    body.classList.toggle("live", state === "live");
    body.classList.toggle("offline", state === "offline");
    statusText.textContent = text;
    stats.live = state === "live";
  }

  // ---------------------------------------------------------------- the socket
  let ws = null, retries = 0, received = 0, drawn = 0;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + "/ws");
    socket.binaryType = "blob";
    socket.onopen = () => { retries = 0; setStatus("live", "live"); };
    socket.onmessage = (ev) => {
      if (typeof ev.data === "string") onText(ev.data); else onFrame(ev.data);
    };
    socket.onclose = () => {
      if (ws === socket) ws = null;
      setStatus("offline", "disconnected \\u2014 reconnecting\\u2026");
      setTimeout(connect, Math.min(5000, 250 * 2 ** retries++));
    };
    ws = socket;
  }

  function onText(text) {
    let msg;
    try { msg = JSON.parse(text); } catch { return; }
    if (msg && msg.type === "hello" && msg.width > 0 && msg.height > 0 &&
        (msg.width !== W || msg.height !== H)) {
      W = stats.width = canvas.width = msg.width;
      H = stats.height = canvas.height = msg.height;
      layout();
    }
  }

  async function onFrame(blob) {
    const seq = ++received;
    let bitmap;
    try { bitmap = await createImageBitmap(blob); } catch { return; }
    if (seq < drawn) { bitmap.close(); return; }  // a newer frame was decoded first
    drawn = seq;
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    stats.frames += 1;
    stats.shownAt = performance.timeOrigin + performance.now();
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  // ---------------------------------------------------------------- pointer
  // The canvas box is exactly the screen (no border or padding; the letterbox bars are the
  // stage around it), so a page point maps to a screen pixel by the box's scale alone.
  function toScreen(e, clamp) {
    const r = canvas.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) return null;
    const fx = (e.clientX - r.left) / r.width, fy = (e.clientY - r.top) / r.height;
    if (!clamp && (fx < 0 || fx >= 1 || fy < 0 || fy >= 1)) return null;
    return {
      x: Math.min(W - 1, Math.max(0, Math.floor(fx * W))),
      y: Math.min(H - 1, Math.max(0, Math.floor(fy * H))),
    };
  }

  let press = null;
  canvas.addEventListener("pointerdown", (e) => {
    if (press || !e.isPrimary || e.button !== 0) return;
    const at = toScreen(e, false);
    if (!at) return;
    e.preventDefault();
    canvas.focus({preventScroll: true});
    canvas.setPointerCapture(e.pointerId);
    press = {id: e.pointerId, cx: e.clientX, cy: e.clientY, at, moved: false};
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!press || e.pointerId !== press.id || press.moved) return;
    press.moved = Math.hypot(e.clientX - press.cx, e.clientY - press.cy) > DRAG_PX;
  });
  canvas.addEventListener("pointerup", (e) => {
    if (!press || e.pointerId !== press.id) return;
    const start = press.at;
    const moved = press.moved || Math.hypot(e.clientX - press.cx, e.clientY - press.cy) > DRAG_PX;
    press = null;
    if (!moved) { send({type: "tap", x: start.x, y: start.y}); return; }
    const end = toScreen(e, true);
    if (end) send({type: "drag", x0: start.x, y0: start.y, x1: end.x, y1: end.y});
  });
  canvas.addEventListener("pointercancel", (e) => {
    if (press && e.pointerId === press.id) press = null;
  });
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());

  let wheel = null;
  const clampScroll = (v) => Math.max(-MAX_SCROLL, Math.min(MAX_SCROLL, Math.round(v)));
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const at = toScreen(e, true);
    if (!at) return;
    const r = canvas.getBoundingClientRect();
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? r.height : 1;
    const k = unit * W / r.width;  // page pixels to screen pixels
    if (!wheel) {
      wheel = {x: at.x, y: at.y, dx: 0, dy: 0};
      setTimeout(() => {
        const w = wheel;
        wheel = null;
        const dx = clampScroll(w.dx), dy = clampScroll(w.dy);
        if (dx || dy) send({type: "scroll", x: w.x, y: w.y, dx, dy});
      }, WHEEL_MS);
    }
    wheel.dx += e.deltaX * k;
    wheel.dy += e.deltaY * k;
  }, {passive: false});

  // ---------------------------------------------------------------- keyboard
  window.addEventListener("keydown", (e) => {
    if (e.isComposing) return;
    if ((e.ctrlKey || e.metaKey) && !e.getModifierState("AltGraph")) return;  // browser shortcuts
    if (NAMED.has(e.key)) {
      e.preventDefault();
      send({type: "key", key: e.key});
    } else if ([...e.key].length === 1) {
      e.preventDefault();
      send({type: "text", text: e.key});
    }
  });
  window.addEventListener("paste", (e) => {
    const raw = (e.clipboardData && e.clipboardData.getData("text/plain")) || "";
    const clean = [...raw.replace(/\\s+/g, " ")].filter((c) => c >= " " && c !== "\\x7f");
    e.preventDefault();
    if (clean.length) send({type: "text", text: clean.slice(0, MAX_TEXT).join("")});
  });

  connect();
})();
"""

_BODY = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>__TITLE__ \u2014 customer's view</title>
<style>__STYLE__</style>
</head>
<body data-width="__W__" data-height="__H__">
<main id="stage"><canvas id="screen" width="__W__" height="__H__" tabindex="0"
 aria-label="The device's screen. Click, drag, scroll and type to act as the customer."></canvas></main>
<footer id="caption"><span><span id="dot"></span><b>__TITLE__</b></span>
<span>customer's view: clicks, drags, wheel and keys act as the customer</span>
<span id="status">connecting\u2026</span></footer>
<script>__SCRIPT__</script>
</body>
</html>
"""


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "sha256-" + base64.b64encode(digest).decode()


_SCRIPT_HASH: Final = _csp_hash(_SCRIPT)
_STYLE_HASH: Final = _csp_hash(_STYLE)


def _page(title: str, width: int, height: int) -> str:
    # One pass, so nothing inserted is scanned again; script and style go in verbatim, so their
    # CSP hashes hold.
    values = {
        "TITLE": html.escape(title),
        "W": str(width),
        "H": str(height),
        "STYLE": _STYLE,
        "SCRIPT": _SCRIPT,
    }
    return re.sub(r"__([A-Z]+)__", lambda m: values[m.group(1)], _BODY)
