"""The preview's server: the page over HTTP, and one WebSocket per page for frames and input.

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
import contextlib
import io
import ipaddress
import math
from collections.abc import Callable, Hashable
from functools import partial
from typing import TYPE_CHECKING, Final

import numpy as np
import structlog
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.typedefs import Handler
from PIL import Image

from ..screens.base import Frame, InputEvent, ScreenSource
from ..voice import Pcm, Voice
from .messages import (
    AUDIO_TAG,
    MAX_MESSAGE_BYTES,
    BadMessage,
    Listen,
    parse_microphone,
    parse_page_message,
)
from .page import SCRIPT_HASH, STYLE_HASH, WORKLET, WORKLET_PATH, page

if TYPE_CHECKING:
    from ..agent import DeviceAgent

__all__ = ["KEEPALIVE_S", "POLL_S", "PreviewServer", "encode_jpeg"]

log = structlog.get_logger("mayday.preview")

POLL_S: Final = 1 / 30
"""How often ``revision()`` is polled while a page is connected."""
KEEPALIVE_S: Final = 2.0
"""A fresh frame at least this often, changed or not."""
JPEG_QUALITY: Final = 80
MAX_CLIENTS: Final = 8
AUDIO_QUEUE: Final = 25
"""Chunks of the agent's voice (20 ms each) waiting for one slow page before new ones are dropped."""
BAD_MESSAGES_LOGGED: Final = 3
"""Per connection; the rest are only counted, so a misbehaving page cannot flood the log."""


def encode_jpeg(frame: Frame, quality: int = JPEG_QUALITY) -> bytes:
    """An RGB frame as JPEG bytes. Blocking (about 3 ms for 1280×800, 40–80 KiB)."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 frame, got {frame.shape} {frame.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(frame)).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


class PreviewServer:
    """Serves the page and its WebSocket; the package docstring describes what goes over it."""

    def __init__(
        self,
        *,
        render: Callable[[], Frame],
        inject: Callable[[InputEvent], None],
        revision: Callable[[], Hashable],
        size: tuple[int, int],
        title: str = "mayday device",
        voice: Voice | None = None,
        locale: str | None = None,
    ) -> None:
        width, height = size
        if width <= 0 or height <= 0:
            raise ValueError(f"bad screen size {size}")
        self._render = render
        self._inject = inject
        self._revision = revision
        self.size = (width, height)
        self.title = title
        self.locale = locale
        """The customer's locale: the page's own words are in its language (English if unknown)."""
        self._page = page(title, width, height, locale).encode()
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
        self.voice = voice
        """The device's sound, if the page may play the agent's voice and record the customer."""
        self._listening: dict[
            web.WebSocketResponse, tuple[asyncio.Queue[bytes], asyncio.Task[None]]
        ] = {}
        self.audio_sent = 0
        """Chunks of the agent's voice sent to pages (for tests)."""
        self._notices: set[asyncio.Future[None]] = set()
        self.mic_chunks = 0
        """Chunks of the customer's microphone taken from pages while the customer talks."""
        if voice is not None:
            voice.listeners.append(self._on_agent_voice)
            voice.watchers.append(self._on_voice_change)

    @classmethod
    def of_device(cls, device: DeviceAgent, source: ScreenSource, title: str) -> PreviewServer:
        """The customer's view of ``device``: what it shows them, their input on ``source``, and
        the page's words in the device's language."""

        def inject(event: InputEvent) -> None:
            source.inject(event, "customer")

        return cls(
            render=device.render_for_customer,
            inject=inject,
            revision=lambda: device.customer_revision,
            size=source.size,
            title=title,
            voice=device.voice,
            locale=device.locale,
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
        app.router.add_get(WORKLET_PATH, self._worklet)
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
        if self.voice is not None:
            with contextlib.suppress(ValueError):
                self.voice.listeners.remove(self._on_agent_voice)
                self.voice.watchers.remove(self._on_voice_change)
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
                    # The microphone's AudioWorklet module is the one script loaded by URL.
                    f"default-src 'none'; script-src '{SCRIPT_HASH}' "
                    f"{request.scheme}://{request.host}{WORKLET_PATH}; "
                    f"style-src '{STYLE_HASH}'; connect-src 'self' {connect}; "
                    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
                ),
                "X-Frame-Options": "DENY",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-store",
            },
        )

    async def _worklet(self, request: web.Request) -> web.Response:
        return web.Response(
            text=WORKLET,
            content_type="text/javascript",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"},
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
        if self.voice is not None:
            await ws.send_json(self._voice_state())
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
                        if self.voice is None:
                            raise BadMessage("binary message")  # input is JSON text only
                        self._take_microphone(parse_microphone(message.data))
                        continue
                    event = parse_page_message(message.data, self.size)
                    if isinstance(event, Listen):
                        self._listen(ws, event.on)
                        continue
                except BadMessage as exc:
                    bad += 1
                    self.bad_messages += 1
                    if bad <= BAD_MESSAGES_LOGGED:
                        log.warning("preview.bad_message", reason=str(exc))
                    continue
                await self._apply(event)
        finally:
            self._listen(ws, False)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            self._sockets.discard(ws)
            if not self._sockets:
                self._has_clients.clear()
            if bad > BAD_MESSAGES_LOGGED:
                log.warning("preview.bad_messages", count=bad)
        return ws

    # ------------------------------------------------------------------ voice

    def _voice_state(self) -> dict[str, object]:
        voice = self.voice
        assert voice is not None
        return {"type": "voice", "session": voice.in_session, "talking": voice.talking}

    def _on_voice_change(self) -> None:
        """The customer tapped Talk or Mute, or a session began or ended: every page is told
        (the page with the microphone opens or closes it, all show it)."""
        state = self._voice_state()
        for ws in list(self._sockets):
            task = asyncio.ensure_future(self._send_quietly(ws, state))
            self._notices.add(task)
            task.add_done_callback(self._notices.discard)

    @staticmethod
    async def _send_quietly(ws: web.WebSocketResponse, data: dict[str, object]) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_json(data)

    def _listen(self, ws: web.WebSocketResponse, on: bool) -> None:
        """A page turned its sound on or off (or went away): start or stop its voice sender."""
        if on and ws not in self._listening:
            queue: asyncio.Queue[bytes] = asyncio.Queue(AUDIO_QUEUE)
            task = asyncio.create_task(self._send_voice(ws, queue), name="preview-voice")
            self._listening[ws] = (queue, task)
        elif not on and ws in self._listening:
            self._listening.pop(ws)[1].cancel()

    def _on_agent_voice(self, pcm: Pcm) -> None:
        message = bytes([AUDIO_TAG]) + pcm.astype("<i2").tobytes()
        for queue, _ in self._listening.values():
            with contextlib.suppress(asyncio.QueueFull):  # a slow page skips, never lags
                queue.put_nowait(message)

    async def _send_voice(self, ws: web.WebSocketResponse, queue: asyncio.Queue[bytes]) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                await ws.send_bytes(await queue.get())
                self.audio_sent += 1

    def _take_microphone(self, pcm: Pcm) -> None:
        """The customer's voice from a page; dropped unless the customer tapped Talk."""
        assert self.voice is not None
        if self.voice.talking:
            self.mic_chunks += 1
            self.voice.feed(pcm)

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
