"""Callback instead of waiting (protocol §20.3): the customer leaves the line but keeps their
place; when an agent is free, routing holds that agent and rings the customer's device or widget
("An agent is ready: connect now?"). An answer connects at once; a missed callback goes back to
the queue with its place, ``MAYDAY_CALLBACK_RETRIES`` times at most, then the ticket ends
(``callback_missed``) and the customer is told.

A callback's ring is an ordinary ring record (``RingRecord.callback``) with the roles turned
round: the customer answers it (``callback.answer``), its timeout is the customer's, and the
agent, held meanwhile (``callback.calling``), may withdraw with ``ring.decline``. So routing, the
ring timers, the sweeper and a lost party all work as they do for a ring at an agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import structlog

from signaling import ErrorCode, Event, ProtocolError
from signaling import models as m

from ..identity import DeviceIdentity
from ..live import ops
from ..live.records import Actor, LiveSession, RingRecord
from .context import DeskContext

if TYPE_CHECKING:
    from .queue import QueuePublisher


class Ringing(Protocol):
    """What callbacks need of :class:`~server.desk.rings.Rings` (which announces callbacks
    through this module, hence a protocol and not an import)."""

    def request_route(self) -> None: ...

    async def connect(self, ring: RingRecord, by: Actor) -> LiveSession: ...

    async def close_ring(
        self,
        ring_id: str,
        *,
        reason: Literal["timeout", "declined", "peer_lost", "callback_declined"],
        actor: Actor,
    ) -> bool: ...


__all__ = [
    "CALLBACK_MISSED",
    "Callbacks",
    "Ringing",
    "announce_callback",
    "tell_callback_over",
]

log = structlog.get_logger("mayday.desk")

CALLBACK_MISSED = "callback_missed"
"""End reason of a ticket whose callbacks the customer missed once more than the retries."""

_DEVICE_REASONS: dict[str, Literal["timeout", "declined", "agent_cancelled", "agent_lost"]] = {
    "timeout": "timeout",
    "callback_declined": "declined",
    "declined": "agent_cancelled",
    "peer_lost": "agent_lost",
}


async def announce_callback(
    context: DeskContext,
    session: LiveSession,
    ring: RingRecord,
    agent: m.AgentInfo,
    entry: m.QueueEntry,
) -> None:
    """Ring the customer and tell the held agent whom the desk is calling back for them."""
    timeout = ring.expires_at - ring.started_at
    await context.emit.send(
        "device",
        session.device_id,
        Event.CALLBACK_RING,
        m.CallbackRing(
            ring_id=ring.ring_id,
            ticket_id=session.id,
            agent=agent,
            timeout_s=timeout,
            attempt=session.callback_missed + 1,
        ),
    )
    await context.emit.send(
        "agent",
        ring.agent_id,
        Event.CALLBACK_CALLING,
        m.CallbackCalling(ring_id=ring.ring_id, ticket=entry, timeout_s=timeout),
    )
    log.info("callback.ringing", session_id=session.id, agent_id=ring.agent_id)


async def tell_callback_over(
    context: DeskContext, ring: RingRecord, reason: str, session: LiveSession | None
) -> None:
    """A callback's ring closed without a connection: tell the customer and the held agent."""
    missed = reason in ops.CALLBACK_MISSES
    if missed:
        context.metrics.callbacks.labels(outcome="missed").inc()
    if session is not None:
        await context.emit.send(
            "device",
            session.device_id,
            Event.CALLBACK_CANCELLED,
            m.CallbackCancelled(
                ring_id=ring.ring_id, reason=_DEVICE_REASONS.get(reason, "agent_lost")
            ),
        )
    await context.emit.send(
        "agent",
        ring.agent_id,
        Event.RING_CANCELLED,
        m.RingCancelled(
            ring_id=ring.ring_id,
            reason="callback_missed"
            if missed
            else "declined"
            if reason == "declined"
            else "peer_lost",
        ),
    )


@dataclass(eq=False)
class Callbacks:
    """The customer's side of callbacks: asking for one and answering its ring."""

    context: DeskContext
    queue: QueuePublisher
    rings: Ringing

    async def request(self, device: DeviceIdentity, ticket_id: str) -> m.Ticket:
        """``callback.request``: the customer's waiting ticket becomes a callback."""
        await self.context.session_of_party(device, ticket_id)
        now = self.context.clock()
        await self.context.store.atomically(
            lambda txn: ops.request_callback(txn, ticket_id, actor=device.actor(), now=now),
            sessions=[ticket_id],
        )
        log.info("callback.requested", device_id=device.id, session_id=ticket_id)
        self.context.metrics.callbacks.labels(outcome="requested").inc()
        self.queue.request()
        self.rings.request_route()
        return await self.queue.ticket_of(ticket_id)

    async def answer(self, device: DeviceIdentity, answer: m.CallbackAnswer) -> None:
        """``callback.answer``: connect now, or not now (a missed callback)."""
        ring = await self.context.store.get_ring(answer.ring_id)
        if ring is None or not ring.callback:
            raise ProtocolError(
                ErrorCode.NOT_FOUND, f"callback {answer.ring_id} is over (or never was)"
            )
        await self.context.session_of_party(device, ring.session_id)
        if answer.accept:
            await self.rings.connect(ring, device.actor())
        elif not await self.rings.close_ring(
            ring.ring_id, reason="callback_declined", actor=device.actor()
        ):
            raise ProtocolError(ErrorCode.NOT_FOUND, f"callback {answer.ring_id} is over")
