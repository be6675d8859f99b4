"""The device side of a session: the help button, the queue, the session, the stream, the chat.

The device is the WebRTC offerer: it learns of its session from ``session.started`` and offers
its screen (see :mod:`.peer`). It is also the enforcement point of consent; that part, from the
consent dialog to applying the agent's input, is :class:`~device_agent.control.RemoteControl`'s
(see :mod:`.control`), which this class feeds with the server's control events.

Customer actions (taps on the tablet's support controls, or the Tk window next to an X desktop)
arrive from whatever thread drew them and are handed to the event loop here.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Any

import numpy as np
import socketio
import structlog

from signaling import Event, ProtocolError
from signaling import models as m
from signaling.annotations import Clear

from .chat import CHAT_PEEK_S, CustomerChat
from .consent import Consent, ConsentState
from .control import RemoteControl
from .customer import CustomerAction, CustomerView, Phase
from .media import ScreenTrack
from .overlay import AnnotationLayer, camera_tile
from .peer import DEFAULT_CODEC, DevicePeer
from .rating import RatingCard
from .screens.base import Frame, ScreenSource
from .signaling_client import SignalingClient
from .voice import Voice
from .waiting import WAITING_ACTIONS, Waiting
from .watchers import WatcherConnections

__all__ = ["DeviceAgent"]

log = structlog.get_logger("mayday.device")

CustomerSurface = Callable[[CustomerView], None]
AGENT_LOST = "agent_lost"
TRANSFERRED = "transferred"
"""``session.ended`` reason: the agent did not come back, the customer is first in line again."""
RECONNECT_OFFER_DELAY_S = 2.0
"""How long a disconnected peer connection may recover by itself before the device offers anew."""
OFFER_ANSWER_TIMEOUT_S = 10.0
"""How long a new connection may take to come up before the device offers anew. Its offer (or
the answer) can be lost while a party's socket moves to another server process, and aiortc
reports no failure without an answer; or the offer reached the agent twice (sent again across a
lost socket) and the answer applied is that of a connection the agent has closed since, which
aiortc gives up on only after about 30 s."""


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
        chat_peek_s: float = CHAT_PEEK_S,
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
        self.rating = RatingCard()
        """The rating card after a session and the customer's answers on it (:mod:`.rating`)."""
        self.requeued = False
        """The agent was lost and the customer waits again, first in line (``agent_lost``)."""
        self.transferred = False
        """The customer waits again because the agent handed them on (``transferred``)."""
        self.chat = CustomerChat(peek_s=chat_peek_s, show=self._show)
        """The session's chat as the customer sees it (:mod:`.chat`)."""
        self.peer: DevicePeer | None = None
        self.watchers = WatcherConnections(
            client=self.client,
            source=source,
            annotations=self.annotations,
            fps=fps,
            keepalive_fps=keepalive_fps,
            codec=codec,
            spawn=self._spawn,
        )
        """The screen to supervisors watching the session (:mod:`.watchers`)."""
        self.voice = Voice()
        """The agent's voice to the customer and, after "Talk", the customer's back (:mod:`.voice`)."""
        self.waiting = Waiting(self.client, lambda: self.ticket, self._show, self.voice.listeners)
        """What the wait says: overflow, opening hours and the callback (:mod:`.waiting`)."""
        self.started = asyncio.Event()
        self.ended = asyncio.Event()
        self.media_connected = asyncio.Event()
        self.offer_answer_timeout_s = OFFER_ANSWER_TIMEOUT_S
        self._loop = asyncio.get_running_loop()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._surface = customer_surface or getattr(source, "set_customer_view", None)
        # Three callbacks rather than this agent: control needs no more of it (see .control).
        self.control = RemoteControl(
            consent=self.consent,
            source=source,
            client=self.client,
            show=self._show,
            is_current=self._current,
            spawn=self._spawn,
        )
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
            (Event.CONTROL_REQUEST, self.control.on_request),
            (Event.CONTROL_STATE, self.control.on_state),
            (Event.CONTROL_INPUT, self._on_control_input),
            (Event.CHAT_MESSAGE, self._on_chat),
            (Event.SESSION_WATCHERS, self._on_watchers),
            (Event.CALLBACK_RING, self.waiting.on_ring),
            (Event.CALLBACK_CANCELLED, self.waiting.on_cancelled),
        ):
            self.client.on(event, handler)
        self._socket_at = self._socket_since = 0.0
        """When the socket connected (``time.monotonic()``), and when the one before it did."""
        self.client.on_connect(self._on_socket)
        self.client.on_disconnect(self.control.on_socket_lost)
        self._show()

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.client.connect()

    async def close(self) -> None:
        self.chat.reset()
        self.waiting.close()
        await self._stop_media()
        await self.watchers.close()
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

    @property
    def inputs_applied(self) -> int:
        """Agent input events applied on this device so far."""
        return self.control.inputs_applied

    @property
    def inputs_dropped(self) -> int:
        """Agent input events refused on this device so far (and reported to the server)."""
        return self.control.inputs_dropped

    # --- customer actions -----------------------------------------------------------------------

    def customer_action_from_thread(self, action: CustomerAction, value: int | str | None) -> None:
        """Entry point for UIs drawing in other threads (the tablet's inject, Tk)."""
        self._loop.call_soon_threadsafe(self._spawn, self.customer_action(action, value))

    async def customer_action(self, action: CustomerAction, value: int | str | None = None) -> None:
        log.info("customer.action", action=action, device_id=self.device_id)
        if action == "help":
            await self.request_help()
        elif action == "cancel":
            await self.cancel_help()
        elif action == "allow":
            await self.control.allow()
        elif action == "deny":
            await self.control.deny()
        elif action == "stop_control":
            await self.control.stop()  # input stops here now, then the server and agent are told
        elif action in ("pause", "resume"):
            self.set_paused(action == "pause")
        elif action == "end":
            await self.end_session()
        elif action == "rate" and isinstance(value, int):
            await self.rate(value)
        elif action == "rate_solved" and value in ("yes", "no"):
            await self.rate_solved(value == "yes")
        elif action == "rate_comment" and isinstance(value, str):
            await self.rate_comment(value)
        elif action == "rate_done":
            self.rating.requested = False
            self._show()
        elif action in ("talk", "talk_stop"):
            self.set_talking(action == "talk")
        elif action in ("chat_open", "chat_close"):
            self.chat.set_state("open" if action == "chat_open" else "closed")
        elif action == "chat_send" and isinstance(value, str) and value.strip():
            await self.send_chat(value.strip())
        elif action in WAITING_ACTIONS and (ticket := await self.waiting.action(action)):
            await self._on_ticket({"ticket": ticket})  # "Call me back": the ack's ticket

    async def request_help(
        self, topic: str | None = None, locale: str | None = None
    ) -> dict[str, Any]:
        self.ended.clear()
        self.rating.reset()
        self.requeued = False
        self.transferred = False
        self.waiting.reset()
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

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if self.peer is not None:
            self.peer.track.paused = paused
            self.peer.send_status()
        self.watchers.set_paused(paused)
        self._show()

    def set_talking(self, talking: bool) -> None:
        """The customer's microphone on ("Talk") or off; only in a session, off at its end."""
        if talking and self.session is None:
            return
        self.voice.set_talking(talking)
        self._show()

    async def rate(self, rating: int) -> None:
        """The customer's stars: sent at once; the card thanks them, asks "Was it solved?"."""
        if self.last_session_id is not None and self.rating.give_stars(rating):
            await self._send_rating(self.last_session_id)

    async def rate_solved(self, solved: bool) -> None:
        """The customer's Yes / No to "Was your problem solved?": sent with the stars."""
        if self.last_session_id is not None and self.rating.answer_solved(solved):
            await self._send_rating(self.last_session_id)

    async def rate_comment(self, comment: str) -> None:
        """The customer's comment on the rating: sent with the stars (and the solved answer)."""
        if self.last_session_id is not None and self.rating.write_comment(comment):
            await self._send_rating(self.last_session_id)

    async def _send_rating(self, session_id: str) -> None:
        """Every answer on the card so far, in one ``session.rate`` (see :mod:`.rating`)."""
        self._show()
        await self.client.call(Event.SESSION_RATE, self.rating.message(session_id))

    # --- server events --------------------------------------------------------------------------

    async def _on_socket(self) -> None:
        self._socket_since, self._socket_at = self._socket_at, time.monotonic()

    async def _on_ticket(self, data: dict[str, Any]) -> None:
        self.ticket = data.get("ticket")
        if self.phase in ("idle", "queued", "ended"):
            self.phase = "queued"
        self._show()

    async def _on_session_started(self, data: dict[str, Any]) -> None:
        resumed = bool(data.get("resumed"))
        self.session = data
        self.ticket = None
        self.requeued = False
        self.transferred = False
        self.last_session_id = data["session_id"]
        self.waiting.reset()
        self.started.set()
        if not self.voice.in_session:
            self.voice.set_in_session(True)
        if self.phase != "connected":
            self.phase = "connecting"
        if resumed:
            self.consent.lease_over()
        self._show()
        log.info("device.session_started", session_id=data["session_id"], resumed=resumed)
        # A connected peer connection is kept (only the socket dropped) unless the media was cut
        # while the dropped socket was up or away: the network dropped, not just the socket. aiortc
        # still says "connected" then (it has no "disconnected" state and gives up on a dead path
        # after about 30 s), but the agent's picture may stay frozen until the next key frame.
        peer = self.peer
        if (
            peer is not None
            and peer.connection_state == "connected"
            and not (resumed and peer.went_silent_since(self._socket_since))
        ):
            return
        await self._offer()

    async def _on_session_ended(self, data: dict[str, Any]) -> None:
        log.info(
            "device.session_ended", session_id=data.get("session_id"), reason=data.get("reason")
        )
        had_session = self._current(data)
        # The agent was lost, or handed the customer on: the server has put the customer back in
        # line, first, and its ticket.update follows (it may have come first, from another
        # server process).
        requeued = data.get("reason") in (AGENT_LOST, TRANSFERRED)
        if not requeued or (self.ticket or {}).get("id") == data.get("session_id"):
            self.ticket = None
        self.session = None
        self.voice.set_in_session(False)
        self.chat.reset()
        self.consent.reset()
        self.annotations.apply(Clear())
        await self._stop_media()
        await self.watchers.close()
        self.requeued = requeued
        self.transferred = data.get("reason") == TRANSFERRED
        self.waiting.on_session_ended(data.get("reason"))
        self.phase = "queued" if requeued else "ended" if had_session else "idle"
        rated = data.get("reason") not in ("cancelled", AGENT_LOST, TRANSFERRED)
        self.rating.reset(requested=had_session and rated)
        self.started.clear()
        self.ended.set()
        self._show()

    async def _on_session_peer(self, data: dict[str, Any]) -> None:
        if not self._current(data):
            return
        if data.get("peer") == "agent" and data.get("connected"):
            await self._offer()  # the agent's new socket has no media connection

    async def _on_watchers(self, data: dict[str, Any]) -> None:
        await self.watchers.update(self.session, data)
        self._show()

    async def _on_answer(self, data: dict[str, Any]) -> None:
        if data.get("watcher_id") is not None:
            await self.watchers.on_answer(data)
        elif self.peer is not None and self._current(data):
            await self.peer.apply_answer(str(data["sdp"]))

    async def _on_ice(self, data: dict[str, Any]) -> None:
        if data.get("watcher_id") is not None:
            await self.watchers.on_ice(data)
            return
        candidate = data.get("candidate")
        if self.peer is not None and self._current(data) and isinstance(candidate, dict):
            await self.peer.add_candidate(candidate)

    async def _on_chat(self, data: dict[str, Any]) -> None:
        if self._current(data):
            self.chat.receive(data, self.locale)

    async def send_chat(self, text: str) -> None:
        """The customer writes to the agent (the tablet's keyboard, the Tk window, a scenario)."""
        if self.session is not None:
            await self.client.call(
                Event.CHAT_SEND, m.ChatSend(session_id=self.session["session_id"], text=text)
            )

    @property
    def chat_peek_s(self) -> float:
        """How long a new line peeks by itself (tests shorten it)."""
        return self.chat.peek_s

    @chat_peek_s.setter
    def chat_peek_s(self, value: float) -> None:
        self.chat.peek_s = value

    async def _on_control_input(self, data: dict[str, Any]) -> None:
        """Agent input, applied only with the customer's consent (see :mod:`.control`)."""
        await self.control.on_input(data)

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
            microphone=self.voice.track(),
            on_audio=self.voice.play,
        )
        self.peer = peer
        sdp = await peer.offer()
        if self.peer is peer:
            self._spawn(self._offer_again_unless_up(peer))
            await self.client.call(Event.RTC_OFFER, m.RtcOffer(session_id=session_id, sdp=sdp))

    async def _offer_again_unless_up(self, peer: DevicePeer) -> None:
        """Offer anew if ``peer`` never came up within the timeout while the socket is up (while
        it is down, the session's resume offers anew by itself)."""
        await asyncio.sleep(self.offer_answer_timeout_s)
        if (
            self.peer is peer
            and not peer.has_been_up
            and self.client.connected
            and self.session is not None
        ):
            log.info("device.offer_not_up", session_id=peer.session_id, answered=peer.answered)
            await self._offer()

    async def _on_media_state(self, peer: DevicePeer, state: str) -> None:
        if peer is not self.peer or self.session is None:
            return
        if state in ("connected", "disconnected", "failed"):
            # Only a report: whatever becomes of it (the socket may be down), recover the media.
            with contextlib.suppress(ProtocolError, socketio.exceptions.SocketIOError):
                await self.client.call(
                    Event.RTC_STATE,
                    m.RtcState.model_validate({"session_id": peer.session_id, "state": state}),
                )
            if peer is not self.peer:
                return  # replaced while the report waited for the socket (a resume offers anew)
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
            agents_online=ticket.get("agents_online"),
            agent_name=agent.get("name") or (request.agent_name if request else None),
            organisation=(self.session or {}).get("organisation")
            or (request.organisation if request else None),
            consent_requested=self.consent.state is ConsentState.ASKED,
            control_active=self.consent.control_visible,
            sharing_paused=self.paused,
            rating_requested=self.rating.requested,
            rating=self.rating.stars,
            rating_solved=self.rating.solved,
            rating_comment_sent=self.rating.comment_sent,
            requeued=self.requeued and self.phase == "queued",
            transferred=self.transferred,
            watchers=self.watchers.names if self.session is not None else (),
            chat=self.chat.lines,
            chat_state=self.chat.state,
            chat_unread=self.chat.unread,
            talking=self.voice.talking,
        )
        if request is not None and self.consent.state is ConsentState.ASKED:
            view = replace(view, agent_name=request.agent_name, organisation=request.organisation)
        self._surface(self.waiting.dress(view, self.ticket))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
