"""While the customer waits: what the queue says (overflow, opening hours) and the callback.

The server says everything in ``ticket.update`` (``matched``, ``widens_at``, ``widened``,
``opens_at``, ``callback``) and in ``callback.ring`` / ``callback.cancelled`` (docs/protocol.md
§20). :class:`Waiting` turns that into the fields of :class:`~device_agent.customer.CustomerView`
that every surface draws, and sends the customer's "Call me back", "Connect now" and "Not now".

Two things count down on the customer's screen, both in whole seconds: the time until any free
agent may answer (``widens_at``, a server timestamp read against this device's clock) and the
ring's ``timeout_s`` (read against the monotonic clock from when the ring arrived). A small task
redraws the view when the shown number changes, and only while one is shown.

A missed callback is said at once ("We missed you… we'll try N more times"). N is the rings
still to come: the ticket's ``tries_left`` (misses it survives) plus the one ring after the last
survivable miss, read from the ``ticket.update`` that follows the ``callback.cancelled``; until
that arrives, the ticket's previous ``tries_left``, which is what the update will make it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import structlog

from signaling import ErrorCode, Event, ProtocolError
from signaling import models as m

from .customer import CallbackPrompt, CustomerAction, CustomerView
from .signaling_client import SignalingClient
from .voice import FRAME_SAMPLES, SAMPLE_RATE, Pcm

__all__ = ["CALLBACK_MISSED", "WAITING_ACTIONS", "Waiting", "ring_tone"]

log = structlog.get_logger("mayday.device.waiting")

CALLBACK_MISSED = "callback_missed"
"""``session.ended`` reason: the callback went unanswered too often; the ticket is over."""
WAITING_ACTIONS: frozenset[CustomerAction] = frozenset(
    {"callback", "callback_accept", "callback_decline"}
)
"""The customer's actions :meth:`Waiting.action` answers."""
MISSED = frozenset({"timeout", "declined"})
"""``callback.cancelled`` reasons that are the customer's: a missed callback."""

Ticket = dict[str, Any]


def ring_tone() -> list[Pcm]:
    """A short two-note chime (E5, A5; 0.36 s) in 20 ms chunks of mono 48 kHz PCM: short enough
    that a preview page plays it without re-buffering (its queue holds 25 chunks)."""
    notes: list[Pcm] = []
    for frequency in (659.25, 880.0):
        t = np.arange(int(SAMPLE_RATE * 0.18)) / SAMPLE_RATE
        envelope = np.minimum(1.0, t / 0.01) * np.exp(-t * 9)
        notes.append((np.sin(2 * np.pi * frequency * t) * envelope * 9000).astype(np.int16))
    pcm = np.concatenate(notes)
    pcm = np.pad(pcm, (0, -len(pcm) % FRAME_SAMPLES))
    return [pcm[i : i + FRAME_SAMPLES] for i in range(0, len(pcm), FRAME_SAMPLES)]


@dataclass
class _Ring:
    ring_id: str
    agent_name: str | None
    deadline: float | None
    """``time.monotonic()`` when the ring is over unanswered; ``None`` when not told."""
    attempt: int


class Waiting:
    """The waiting customer's overflow, opening-hours and callback state (module docstring).

    It gets the narrow interface it needs, not the device: the socket, the device's current
    ticket, a way to redraw, and where sound plays (for the ring's chime).
    """

    def __init__(
        self,
        client: SignalingClient,
        ticket: Callable[[], Ticket | None],
        show: Callable[[], None],
        sound: list[Callable[[Pcm], None]] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._ticket = ticket
        self._show = show
        self._sound = sound if sound is not None else []
        """Whatever plays sound for the customer (the voice's listeners: a preview page with its
        sound on, the desktop's speakers during a session): the ring's chime goes there."""
        self._clock = clock
        self.ring: _Ring | None = None
        self._missed: tuple[int, int] | None = None
        """After a missed callback: the ticket's ``(missed, tries_left)`` before it."""
        self.given_up = False
        """The callback ended unanswered: said until the customer asks for help again."""
        self._ticker: asyncio.Task[None] | None = None

    # --- the customer ---------------------------------------------------------------------------

    async def action(self, action: CustomerAction) -> Ticket | None:
        """ "Call me back" (the ticket in its ack, returned), "Connect now" or "Not now"."""
        if action == "callback":
            return await self.request()
        await self.answer(action == "callback_accept")
        return None

    async def request(self) -> Ticket | None:
        """Leave the line for a callback, keeping the place; the updated ticket, or ``None`` when
        the server refused (an agent is being rung for the customer, or the ticket ended)."""
        ticket = self._ticket()
        if ticket is None or ticket.get("callback"):
            return None
        try:
            ack = await self._client.call(
                Event.CALLBACK_REQUEST, m.CallbackRequest(ticket_id=ticket["id"])
            )
        except ProtocolError as error:
            log.info("callback.request_refused", code=error.code, ticket_id=ticket["id"])
            return None
        answered: Ticket = ack["ticket"]
        return answered

    async def answer(self, accept: bool) -> None:
        """The customer's answer to the ring; the prompt goes at once either way."""
        ring, self.ring = self.ring, None
        if ring is None:
            return
        self._show()
        try:
            await self._client.call(
                Event.CALLBACK_ANSWER, m.CallbackAnswer(ring_id=ring.ring_id, accept=accept)
            )
        except ProtocolError as error:
            if error.code is not ErrorCode.NOT_FOUND:  # the ring was over already: nothing lost
                raise
            log.info("callback.answer_late", ring_id=ring.ring_id)

    # --- the server -----------------------------------------------------------------------------

    async def on_ring(self, data: dict[str, Any]) -> None:
        agent = data.get("agent") if isinstance(data.get("agent"), dict) else {}
        timeout = data.get("timeout_s")
        self.ring = _Ring(
            ring_id=str(data.get("ring_id")),
            agent_name=str(agent.get("name")) if agent and agent.get("name") else None,
            deadline=time.monotonic() + float(timeout)
            if isinstance(timeout, int | float)
            else None,
            attempt=int(data.get("attempt") or 1),
        )
        self._missed = None
        log.info("callback.ring", ring_id=self.ring.ring_id, attempt=self.ring.attempt)
        for chunk in ring_tone():
            for play in list(self._sound):
                play(chunk)
        self._show()

    async def on_cancelled(self, data: dict[str, Any]) -> None:
        reason = data.get("reason")
        if self.ring is not None and self.ring.ring_id == data.get("ring_id"):
            self.ring = None
        if reason in MISSED:
            callback = (self._ticket() or {}).get("callback") or {}
            self._missed = (int(callback.get("missed", 0)), int(callback.get("tries_left", 0)))
        log.info("callback.cancelled", ring_id=data.get("ring_id"), reason=reason)
        self._show()

    def on_session_ended(self, reason: object) -> None:
        self.ring = None
        self._missed = None
        self.given_up = reason == CALLBACK_MISSED

    def reset(self) -> None:
        """A new request for help, or a session started: nothing of the last wait is said."""
        self.ring = None
        self._missed = None
        self.given_up = False

    def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()

    # --- the view -------------------------------------------------------------------------------

    def dress(self, view: CustomerView, ticket: Ticket | None) -> CustomerView:
        """``view`` with what the wait says now: the fields of §20 and the callback's prompt."""
        ticket = ticket or {}
        callback = ticket.get("callback") or None
        waiting = view.phase == "queued"
        widens_in = self._widens_in(ticket) if waiting else None
        ring = self.ring if waiting else None
        opens_at = ticket.get("opens_at")
        view = replace(
            view,
            matched=ticket.get("matched") is not False,
            widens_in_s=widens_in,
            widened=bool(ticket.get("widened")),
            opens_at=float(opens_at) if isinstance(opens_at, int | float) else None,
            callback_offered=waiting
            and callback is None
            and ticket.get("state", "queued") == "queued",
            callback=waiting and callback is not None,
            callback_missed=self._tries_left(callback) if waiting else None,
            callback_given_up=self.given_up and view.phase in ("idle", "ended"),
            callback_ring=CallbackPrompt(ring.agent_name, _left(ring.deadline), ring.attempt)
            if ring is not None
            else None,
        )
        if view.widens_in_s is not None or view.callback_ring is not None:
            self._tick_soon()
        return view

    def _widens_in(self, ticket: Ticket) -> int | None:
        widens_at = ticket.get("widens_at")
        if ticket.get("matched") is not False or ticket.get("widened"):
            return None
        if not isinstance(widens_at, int | float):
            return None
        return max(0, math.ceil(widens_at - self._clock()))

    def _tries_left(self, callback: dict[str, Any] | None) -> int | None:
        """After a miss, the rings still to come: ``tries_left`` is the misses the ticket
        survives, so one more ring comes than that (none once the ticket ended)."""
        if self._missed is None or callback is None:
            return None
        missed_before, tries_before = self._missed
        if int(callback.get("missed", 0)) > missed_before:
            return int(callback.get("tries_left", 0)) + 1  # the update after the miss came
        return tries_before  # (tries_before - 1) + 1; 0: this miss ends the ticket

    # --- the countdowns -------------------------------------------------------------------------

    def _tick_soon(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.ensure_future(self._tick())

    async def _tick(self) -> None:
        """Redraw whenever a shown countdown's whole second changes, while one is shown."""
        with contextlib.suppress(asyncio.CancelledError):
            while (wait := self._next_change()) is not None:
                await asyncio.sleep(wait)
                self._show()

    def _next_change(self) -> float | None:
        """Seconds until a shown number changes (just after it), or ``None`` if none is shown."""
        remaining: list[float] = []
        ticket = self._ticket() or {}
        widens_at = ticket.get("widens_at")
        if self._widens_in(ticket) and isinstance(widens_at, int | float):
            remaining.append(widens_at - self._clock())
        if self.ring is not None and self.ring.deadline is not None:
            remaining.append(self.ring.deadline - time.monotonic())
        live = [r for r in remaining if r > 0]
        if not live:
            return None
        return min((r % 1.0) or 1.0 for r in live) + 0.01


def _left(deadline: float | None) -> int | None:
    if deadline is None:
        return None
    return max(0, math.ceil(deadline - time.monotonic()))
