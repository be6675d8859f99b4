"""The device side of a session: the help button, the queue, the stream, consent and control.

The device is the WebRTC offerer and the enforcement point of consent:

* it learns of its session from ``session.started`` and offers its screen (see :mod:`.peer`);
* it shows the consent dialog when the agent asks, and applies agent input only while its own
  :class:`~device_agent.consent.Consent` allows it; every input it does not apply is reported
  (``control.dropped``) for the session's timeline;
* "Stop control" takes effect on this device before anything is sent anywhere;
* a dropped socket suspends control at once; the same session back within the lease resumes it.

Customer actions (taps on the tablet's support controls, or the Tk window next to an X desktop)
arrive from whatever thread drew them and are handed to the event loop here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any

import numpy as np
import structlog

from signaling import Event, ProtocolError
from signaling import models as m
from signaling.annotations import Clear

from . import i18n
from .consent import Consent, ConsentState
from .customer import CustomerAction, CustomerView, Phase
from .media import ScreenTrack
from .overlay import AnnotationLayer, camera_tile
from .peer import DEFAULT_CODEC, DevicePeer
from .screens.base import Drag, Frame, InputEvent, Key, ScreenSource, Scroll, Tap, Text
from .signaling_client import SignalingClient

__all__ = ["DeviceAgent"]

log = structlog.get_logger("mayday.device")

CustomerSurface = Callable[[CustomerView], None]
CHAT_KEPT = 20
RECONNECT_OFFER_DELAY_S = 2.0
"""How long a disconnected peer connection may recover by itself before the device offers anew."""


class DeviceAgent:
    def __init__(
        self,
        server_url: str,
        *,
        device_id: str,
        device_secret: str,
        source: ScreenSource,
        locale: str = "en",
        topic: str = "general",
        fps: float = 30.0,
        keepalive_fps: float = 1.0,
        fade_s: float = 8.0,
        control_lease_s: float = 10.0,
        codec: str = DEFAULT_CODEC,
        customer_surface: CustomerSurface | None = None,
    ) -> None:
        self.device_id = device_id
        self.source = source
        self.locale = locale
        self.topic = topic
        self.fps = fps
        self.keepalive_fps = keepalive_fps
        self.codec = codec
        self.annotations = AnnotationLayer(fade_s=fade_s)
        self.consent = Consent(lease_s=control_lease_s)
        self.client = SignalingClient(
            server_url, "device", {"device_id": device_id, "device_secret": device_secret}
        )
        self.phase: Phase = "idle"
        self.ticket: dict[str, Any] | None = None
        self.session: dict[str, Any] | None = None
        self.last_session_id: str | None = None
        self.paused = False
        self.rating_requested = False
        self.chat: tuple[tuple[str, str], ...] = ()
        self.peer: DevicePeer | None = None
        self.inputs_applied = 0
        self.inputs_dropped = 0
        self.started = asyncio.Event()
        self.ended = asyncio.Event()
        self.media_connected = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._input_lock = asyncio.Lock()
        self._surface = customer_surface or getattr(source, "set_customer_view", None)
        bind = getattr(source, "on_customer_action", None)
        if callable(bind):
            bind(self.customer_action_from_thread)
        for event, handler in (
            (Event.TICKET_UPDATE, self._on_ticket),
            (Event.SESSION_STARTED, self._on_session_started),
            (Event.SESSION_ENDED, self._on_session_ended),
            (Event.SESSION_PEER, self._on_session_peer),
            (Event.RTC_ANSWER, self._on_answer),
            (Event.RTC_ICE, self._on_ice),
            (Event.CONTROL_REQUEST, self._on_control_request),
            (Event.CONTROL_STATE, self._on_control_state),
            (Event.CONTROL_INPUT, self._on_control_input),
            (Event.CHAT_MESSAGE, self._on_chat),
        ):
            self.client.on(event, handler)
        self.client.on_disconnect(self._on_socket_lost)
        self._show()

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.client.connect()

    async def close(self) -> None:
        await self._stop_media()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await self.client.close()

    def render_for_customer(self) -> Frame:
        """What the customer's screen shows: the screen, the agent's marks, the agent's camera."""
        frame = self.annotations.composite(self.source.capture())
        camera = self.peer.live_camera_frame() if self.peer is not None else None
        if camera is None:
            return frame
        return camera_tile(frame, np.asarray(camera.to_ndarray(format="rgb24"), dtype=np.uint8))

    @property
    def customer_revision(self) -> Hashable:
        """Changes whenever :meth:`render_for_customer` would draw something new."""
        camera = self.peer.live_camera_frame() if self.peer is not None else None
        frames = self.peer.camera_frames if self.peer is not None and camera is not None else 0
        return (self.source.revision, self.annotations.revision, frames)

    # --- customer actions -----------------------------------------------------------------------

    def customer_action_from_thread(self, action: CustomerAction, value: int | None) -> None:
        """Entry point for UIs drawing in other threads (the tablet's inject, Tk)."""
        self._loop.call_soon_threadsafe(self._spawn, self.customer_action(action, value))

    async def customer_action(self, action: CustomerAction, value: int | None = None) -> None:
        log.info("customer.action", action=action, device_id=self.device_id)
        if action == "help":
            await self.request_help()
        elif action == "cancel":
            await self.cancel_help()
        elif action == "allow":
            await self._allow()
        elif action == "deny":
            await self._deny()
        elif action == "stop_control":
            await self.stop_control()
        elif action in ("pause", "resume"):
            self.set_paused(action == "pause")
        elif action == "end":
            await self.end_session()
        elif action == "rate" and value is not None:
            await self.rate(value)

    async def request_help(
        self, topic: str | None = None, locale: str | None = None
    ) -> dict[str, Any]:
        self.ended.clear()
        self.rating_requested = False
        ack = await self.client.call(
            Event.HELP_REQUEST,
            m.HelpRequest(topic=topic or self.topic, locale=locale or self.locale),
        )
        self.ticket = ack["ticket"]
        self.phase = "queued"
        self._show()
        return ack["ticket"]  # type: ignore[no-any-return]

    async def cancel_help(self) -> None:
        if self.ticket is not None:
            await self.client.call(Event.HELP_CANCEL, m.HelpCancel(ticket_id=self.ticket["id"]))

    async def end_session(self, reason: str = "ended") -> None:
        if self.session is not None:
            await self.client.call(
                Event.SESSION_END,
                m.SessionEnd(session_id=self.session["session_id"], reason=reason),
            )

    async def stop_control(self) -> None:
        """ "Stop control": input stops on this device now, then the server and agent are told."""
        session_id = self.consent.session_id
        self.consent.reset()
        self._show()
        if session_id is not None:
            await self._revoke(session_id)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if self.peer is not None:
            self.peer.track.paused = paused
            self.peer.send_status()
        self._show()

    async def rate(self, rating: int) -> None:
        if self.last_session_id is None:
            return
        self.rating_requested = False
        self._show()
        await self.client.call(
            Event.SESSION_RATE, m.SessionRate(session_id=self.last_session_id, rating=rating)
        )

    async def _allow(self) -> None:
        request = self.consent.allow()
        self._show()
        if request is None:
            return
        try:
            await self.client.call(
                Event.CONTROL_GRANT,
                m.ControlAnswer(session_id=request.session_id, request_id=request.request_id),
            )
        except ProtocolError as exc:
            log.warning("control.grant_refused", reason=exc.message)
            self.consent.reset()
            self._show()

    async def _deny(self) -> None:
        request = self.consent.deny()
        self._show()
        if request is not None:
            with contextlib.suppress(ProtocolError):
                await self.client.call(
                    Event.CONTROL_DENY,
                    m.ControlAnswer(session_id=request.session_id, request_id=request.request_id),
                )

    # --- server events --------------------------------------------------------------------------

    async def _on_ticket(self, data: dict[str, Any]) -> None:
        self.ticket = data.get("ticket")
        if self.phase in ("idle", "queued", "ended"):
            self.phase = "queued"
        self._show()

    async def _on_session_started(self, data: dict[str, Any]) -> None:
        resumed = bool(data.get("resumed"))
        self.session = data
        self.ticket = None
        self.last_session_id = data["session_id"]
        self.started.set()
        if self.phase != "connected":
            self.phase = "connecting"
        if resumed:
            self.consent.lease_over()
        self._show()
        log.info("device.session_started", session_id=data["session_id"], resumed=resumed)
        if self.peer is not None and self.peer.connection_state == "connected":
            return
        await self._offer()

    async def _on_session_ended(self, data: dict[str, Any]) -> None:
        log.info(
            "device.session_ended", session_id=data.get("session_id"), reason=data.get("reason")
        )
        had_session = self.session is not None and self.session["session_id"] == data.get(
            "session_id"
        )
        self.session = None
        self.ticket = None
        self.chat = ()
        self.consent.reset()
        self.annotations.apply(Clear())
        await self._stop_media()
        self.phase = "ended" if had_session else "idle"
        self.rating_requested = had_session and data.get("reason") != "cancelled"
        self.started.clear()
        self.ended.set()
        self._show()

    async def _on_session_peer(self, data: dict[str, Any]) -> None:
        if not self._current(data):
            return
        if data.get("peer") == "agent" and data.get("connected"):
            await self._offer()  # the agent's new socket has no media connection

    async def _on_answer(self, data: dict[str, Any]) -> None:
        if self.peer is not None and self._current(data):
            await self.peer.apply_answer(str(data["sdp"]))

    async def _on_ice(self, data: dict[str, Any]) -> None:
        candidate = data.get("candidate")
        if self.peer is not None and self._current(data) and isinstance(candidate, dict):
            await self.peer.add_candidate(candidate)

    async def _on_chat(self, data: dict[str, Any]) -> None:
        if not self._current(data):
            return
        mine = data.get("sender") == "device"
        who = i18n.text(self.locale, "you") if mine else str(data.get("name", ""))
        self.chat = (*self.chat, (who, str(data.get("text", ""))))[-CHAT_KEPT:]
        self._show()

    async def send_chat(self, text: str) -> None:
        """The customer writes to the agent (the preview page, a QA scenario)."""
        if self.session is not None:
            await self.client.call(
                Event.CHAT_SEND, m.ChatSend(session_id=self.session["session_id"], text=text)
            )

    async def _on_control_request(self, data: dict[str, Any]) -> None:
        if not self._current(data):
            return
        self.consent.ask(
            data["session_id"],
            data["request_id"],
            agent_name=str(data.get("agent", {}).get("name", "")),
            organisation=str(data.get("organisation", "")),
        )
        self._show()

    async def _on_control_state(self, data: dict[str, Any]) -> None:
        """The server can take consent away, or confirm a resume; it can never grant it."""
        if not self._current(data):
            return
        state, reason = data.get("state"), data.get("reason")
        if state == "none":
            self.consent.reset()
        elif state == "granted" and reason == "resumed":
            if not self.consent.resume(data["session_id"]):
                await self.stop_control()
        elif state == "suspended":
            self.consent.suspend()
        self._show()

    async def _on_control_input(self, data: dict[str, Any]) -> None:
        # socket.io runs each event in its own task: without the lock, two batches arriving
        # close together would interleave their keystrokes.
        async with self._input_lock:
            await self._apply_control_input(data)

    async def _apply_control_input(self, data: dict[str, Any]) -> None:
        try:
            payload = m.ControlInput.model_validate(data)
        except ValueError:
            return
        if not self.consent.allows(payload.session_id) or not self._current(data):
            await self._drop(payload, "no_consent")
            return
        width, height = self.source.size
        applied = 0
        for event in payload.events:
            if not self.consent.allows(payload.session_id):  # Stop control mid-batch
                await self._drop(payload, "revoked", count=len(payload.events) - applied)
                return
            await asyncio.to_thread(self.source.inject, _to_pixels(event, width, height), "agent")
            applied += 1
        self.inputs_applied += applied

    async def _drop(self, payload: m.ControlInput, reason: str, count: int | None = None) -> None:
        dropped = count if count is not None else len(payload.events)
        self.inputs_dropped += dropped
        log.info(
            "control.input_dropped", session_id=payload.session_id, count=dropped, reason=reason
        )
        with contextlib.suppress(ProtocolError):
            await self.client.call(
                Event.CONTROL_DROPPED,
                m.ControlDropped(
                    session_id=payload.session_id, seq=payload.seq, count=dropped, reason=reason
                ),
            )

    async def _on_socket_lost(self, *_: Any) -> None:
        """The signaling socket dropped: suspend control at once (the lease may bring it back)."""
        was_granted = self.consent.state is ConsentState.GRANTED
        self.consent.suspend()  # a granted control pauses; an open dialog is withdrawn
        if was_granted:
            self._loop.call_later(self.consent.lease_s + 0.05, self._expire_lease)
        self._show()

    def _expire_lease(self) -> None:
        """The lease ran out on this device: consent is gone here, and the server is told."""
        session_id = self.consent.session_id
        if self.consent.lease_over():
            self._show()
            if session_id is not None and self.client.connected:
                self._spawn(self._revoke(session_id))

    async def _revoke(self, session_id: str) -> None:
        with contextlib.suppress(ProtocolError):
            await self.client.call(Event.CONTROL_REVOKE, m.SessionRef(session_id=session_id))

    # --- media ----------------------------------------------------------------------------------

    def _current(self, data: dict[str, Any]) -> bool:
        return self.session is not None and data.get("session_id") == self.session["session_id"]

    async def _offer(self) -> None:
        if self.session is None:
            return
        await self._stop_media()
        session_id = self.session["session_id"]
        track = ScreenTrack(
            self.source,
            fps=self.fps,
            keepalive_fps=self.keepalive_fps,
            annotations=self.annotations,
        )
        track.paused = self.paused
        self.media_connected.clear()
        peer = DevicePeer(
            session_id=session_id,
            track=track,
            annotations=self.annotations,
            ice_servers=self.session.get("ice_servers", []),
            ice_transport_policy=str(self.session.get("ice_transport_policy", "all")),
            on_state=lambda state: self._spawn(self._on_media_state(peer, state)),
            codec=self.codec,
        )
        self.peer = peer
        sdp = await peer.offer()
        if self.peer is peer:
            await self.client.call(Event.RTC_OFFER, m.RtcOffer(session_id=session_id, sdp=sdp))

    async def _on_media_state(self, peer: DevicePeer, state: str) -> None:
        if peer is not self.peer or self.session is None:
            return
        if state in ("connected", "disconnected", "failed"):
            with contextlib.suppress(ProtocolError):
                await self.client.call(
                    Event.RTC_STATE,
                    m.RtcState.model_validate({"session_id": peer.session_id, "state": state}),
                )
        if state == "connected":
            self.phase = "connected"
            self.media_connected.set()
            self._show()
        elif state == "failed":
            await self._offer()
        elif state == "disconnected":
            await asyncio.sleep(RECONNECT_OFFER_DELAY_S)
            if self.peer is peer and peer.connection_state != "connected":
                await self._offer()

    async def _stop_media(self) -> None:
        peer, self.peer = self.peer, None
        if peer is not None:
            peer.track.stop()
            await peer.close()

    # --- the customer's view --------------------------------------------------------------------

    def _show(self) -> None:
        if self._surface is None:
            return
        agent = (self.session or {}).get("agent", {})
        request = self.consent.request
        ticket = self.ticket or {}
        view = CustomerView(
            locale=self.locale,
            phase=self.phase,
            position=ticket.get("position"),
            estimated_wait_s=ticket.get("estimated_wait_s"),
            agent_name=agent.get("name") or (request.agent_name if request else None),
            organisation=(self.session or {}).get("organisation")
            or (request.organisation if request else None),
            consent_requested=self.consent.state is ConsentState.ASKED,
            control_active=self.consent.control_visible,
            sharing_paused=self.paused,
            rating_requested=self.rating_requested,
            chat=self.chat,
        )
        if request is not None and self.consent.state is ConsentState.ASKED:
            view = replace(view, agent_name=request.agent_name, organisation=request.organisation)
        self._surface(view)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _to_pixels(
    event: m.TapInput | m.DragInput | m.ScrollInput | m.KeyInput | m.TextInput,
    width: int,
    height: int,
) -> InputEvent:
    """Normalized wire coordinates to the source's pixels (clamped to the last pixel)."""

    def px(value: float, size: int) -> int:
        return min(size - 1, max(0, round(value * (size - 1))))

    if isinstance(event, m.TapInput):
        return Tap(px(event.x, width), px(event.y, height))
    if isinstance(event, m.DragInput):
        return Drag(
            px(event.x0, width), px(event.y0, height), px(event.x1, width), px(event.y1, height)
        )
    if isinstance(event, m.ScrollInput):
        return Scroll(
            px(event.x, width),
            px(event.y, height),
            round(event.dx * width),
            round(event.dy * height),
        )
    if isinstance(event, m.KeyInput):
        return Key(event.key)
    return Text(event.text)
