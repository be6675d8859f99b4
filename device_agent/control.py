"""The device's end of remote control: the customer's answer, the lease, and the agent's input.

The device is the enforcement point of consent (the console's ``agent_web/control.js`` is the
other end):

* the agent's request opens the consent dialog; the customer's Allow or Deny is sent back;
* agent input is applied only while the device's own :class:`~device_agent.consent.Consent`
  allows it, and every input it does not apply is reported (``control.dropped``) for the
  session's timeline;
* "Stop control" takes effect on this device before anything is sent anywhere;
* a dropped socket suspends control at once; the same session back within the lease resumes it,
  and a lease that runs out here is revoked on the server too.

:class:`RemoteControl` owns none of the session: :class:`~device_agent.agent.DeviceAgent` gives it
the consent record, the screen, a way to send, and three callbacks (redraw the customer's view,
tell whether a message belongs to the session in progress, run a task in the background).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from pydantic import BaseModel

from signaling import Event, ProtocolError
from signaling import models as m

from .consent import Consent, ConsentState
from .screens.base import Drag, InputEvent, Key, ScreenSource, Scroll, Tap, Text

__all__ = ["RemoteControl", "Sender", "to_pixels"]

log = structlog.get_logger("mayday.device")


class Sender(Protocol):
    """The two things control needs of the signaling socket (a :class:`SignalingClient`)."""

    @property
    def connected(self) -> bool: ...

    async def call(
        self, event: Event, payload: BaseModel | dict[str, Any] | None = None
    ) -> dict[str, Any]: ...


@dataclass(eq=False, kw_only=True)
class RemoteControl:
    """Consent prompts and agent input for one device; see the module docstring."""

    consent: Consent
    source: ScreenSource
    client: Sender
    show: Callable[[], None]
    """Redraw the customer's view (after every change of consent)."""
    is_current: Callable[[dict[str, Any]], bool]
    """Whether a server message belongs to the session in progress."""
    spawn: Callable[[Coroutine[Any, Any, None]], None]
    """Run a task in the background."""
    inputs_applied: int = field(default=0, init=False)
    inputs_dropped: int = field(default=0, init=False)
    _input_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    # --- the customer ---------------------------------------------------------------------------

    async def stop(self) -> None:
        """ "Stop control": input stops on this device now, then the server and agent are told."""
        session_id = self.consent.session_id
        self.consent.reset()
        self.show()
        if session_id is not None:
            await self._revoke(session_id)

    async def allow(self) -> None:
        request = self.consent.allow()
        self.show()
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
            self.show()

    async def deny(self) -> None:
        request = self.consent.deny()
        self.show()
        if request is not None:
            with contextlib.suppress(ProtocolError):
                await self.client.call(
                    Event.CONTROL_DENY,
                    m.ControlAnswer(session_id=request.session_id, request_id=request.request_id),
                )

    # --- the server -----------------------------------------------------------------------------

    async def on_request(self, data: dict[str, Any]) -> None:
        if not self.is_current(data):
            return
        self.consent.ask(
            data["session_id"],
            data["request_id"],
            agent_name=str(data.get("agent", {}).get("name", "")),
            organisation=str(data.get("organisation", "")),
        )
        self.show()

    async def on_state(self, data: dict[str, Any]) -> None:
        """The server can take consent away, or confirm a resume; it can never grant it."""
        if not self.is_current(data):
            return
        state, reason = data.get("state"), data.get("reason")
        if state == "none":
            self.consent.reset()
        elif state == "granted" and reason == "resumed":
            if not self.consent.resume(data["session_id"]):
                await self.stop()
        elif state == "suspended":
            self.consent.suspend()
        self.show()

    async def on_input(self, data: dict[str, Any]) -> None:
        # socket.io runs each event in its own task: without the lock, two batches arriving
        # close together would interleave their keystrokes.
        async with self._input_lock:
            await self._apply(data)

    async def _apply(self, data: dict[str, Any]) -> None:
        try:
            payload = m.ControlInput.model_validate(data)
        except ValueError:
            return
        if not self.consent.allows(payload.session_id) or not self.is_current(data):
            await self._drop(payload, "no_consent")
            return
        width, height = self.source.size
        applied = skipped = 0
        for event in payload.events:
            if not self.consent.allows(payload.session_id):  # Stop control mid-batch
                await self._drop(payload, "revoked", count=len(payload.events) - applied - skipped)
                return
            if not isinstance(event, SCREEN_INPUT):
                skipped += 1  # a web page's element events (§11): nothing to aim at on a screen
                continue
            await asyncio.to_thread(self.source.inject, to_pixels(event, width, height), "agent")
            applied += 1
        self.inputs_applied += applied
        if skipped:
            await self._drop(payload, "unsupported", count=skipped)

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

    # --- the connection -------------------------------------------------------------------------

    async def on_socket_lost(self, *_: Any) -> None:
        """The signaling socket dropped: suspend control at once (the lease may bring it back)."""
        was_granted = self.consent.state is ConsentState.GRANTED
        self.consent.suspend()  # a granted control pauses; an open dialog is withdrawn
        if was_granted:
            asyncio.get_running_loop().call_later(self.consent.lease_s + 0.05, self._expire_lease)
        self.show()

    def _expire_lease(self) -> None:
        """The lease ran out on this device: consent is gone here, and the server is told."""
        session_id = self.consent.session_id
        if self.consent.lease_over():
            self.show()
            if session_id is not None and self.client.connected:
                self.spawn(self._revoke(session_id))

    async def _revoke(self, session_id: str) -> None:
        with contextlib.suppress(ProtocolError):
            await self.client.call(Event.CONTROL_REVOKE, m.SessionRef(session_id=session_id))


SCREEN_INPUT = (m.TapInput, m.DragInput, m.ScrollInput, m.KeyInput, m.TextInput)
"""The input events a screen takes; the others target a web page's elements."""


def to_pixels(
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
