"""Nobody waits in vain (docs/protocol.md §20): overflow to any free agent, and callback instead
of waiting.

``ask_callback`` taps "Call me back" on the waiting tablet; ``answer_callback`` waits until the
server holds a free agent and rings the customer back, then connects, says "Not now" or lets it
pass; ``wait_for_overflow`` waits until routing widens for a customer nobody signed in matches.
Measured: the free agent held → the customer connected (``callback_answer``), the share of
callbacks answered (``callback_answered``), and Help → widened routing (``time_to_overflow``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ..errors import StepFailed
from .base import Flow, Json, Seconds, Step
from .session import bind_session, next_ring

if TYPE_CHECKING:
    from ..customer import CustomerRun

__all__ = ["AnswerCallback", "AskCallback", "WaitForOverflow"]

_NEEDS_WAITING = "needs a waiting customer: put press_help before it"
_WAITING = Flow(frozenset({"waiting"}), _NEEDS_WAITING)


class AskCallback(Step):
    kind = "ask_callback"
    summary = 'While waiting, the customer taps "Call me back": off the line, the place kept.'
    flow = _WAITING
    timeout: Seconds = Field(default=10.0, description="for the server to take the request")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        device = customer.device
        at = await customer.customer_tap("customer.callback", wait=self.timeout)
        await customer.until(
            lambda: bool((device.ticket or {}).get("callback")) or device.session is not None,
            self.timeout,
            "the ticket turning into a callback (the callback.request ack)",
        )
        customer.mark("callback", "the customer asked for a callback", at)
        detail.update(position=(device.ticket or {}).get("position"))


class AnswerCallback(Step):
    kind = "answer_callback"
    summary = (
        "The server holds a free agent and rings the customer back; the customer connects, says "
        '"Not now", or lets it pass.'
    )
    flow = _WAITING
    primary = "answer"
    answer: Literal["connect", "not_now", "miss"] = Field(
        default="connect",
        description="connect: tap Connect now (the session starts); not_now: tap Not now; miss: "
        "let the ring pass (both are missed callbacks: the customer keeps the place)",
    )
    after: Seconds = Field(default=0.5, description="the customer's delay before answering")
    timeout: Seconds = Field(
        default=120.0, description="for the callback ring (includes time in the queue)"
    )
    first_frame_timeout: Seconds = Field(
        default=20.0, description="connected to the first decoded frame"
    )

    def placement(self) -> Flow:
        """Connected, the customer is in a session; otherwise still waiting."""
        return Flow(
            _WAITING.allowed, _NEEDS_WAITING, "session" if self.answer == "connect" else None
        )

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        offer = await next_ring(customer, self.timeout)
        if not offer.callback:
            raise StepFailed(
                f"{offer.agent.name} was rung for this customer as for anyone waiting on the "
                "line: put ask_callback before answer_callback"
            )
        pooled = offer.agent
        detail.update(agent=pooled.name)
        customer.mark("callback_ring", f"{pooled.name} is held; the customer is rung")
        if self.answer == "miss":
            await customer.until(
                lambda: offer.ring_id in customer.ctx.pool.cancelled_rings,
                self.timeout,
                "the callback ring running out",
            )
            customer.record.add("callback_answered", 0.0)
            customer.mark("callback_missed", "the customer let the callback pass")
            return
        await customer.until(
            lambda: time.perf_counter() >= offer.received_at + self.after, self.after + 1, "delay"
        )
        if self.answer == "not_now":
            await customer.customer_tap("customer.callback_decline")
            await customer.until(
                lambda: offer.ring_id in customer.ctx.pool.cancelled_rings,
                10.0,
                'the agent being told the customer said "Not now"',
            )
            customer.record.add("callback_answered", 0.0)
            customer.mark("callback_declined", 'the customer said "Not now"')
            return
        pooled.agent.prepare()
        await customer.customer_tap("customer.callback_accept")
        started = await pooled.agent.sessions.get()
        connected = time.perf_counter()
        customer.record.add("callback_answer", connected - offer.received_at)
        customer.record.add("callback_answered", 100.0)
        await bind_session(
            customer,
            pooled,
            str(started["session_id"]),
            connected,
            self.first_frame_timeout,
            detail,
        )


class WaitForOverflow(Step):
    kind = "wait_for_overflow"
    summary = (
        "Nobody signed in speaks the customer's language or knows the topic: the customer is "
        "told at once, and routing widens to any free agent after MAYDAY_OVERFLOW_S."
    )
    flow = _WAITING
    timeout: Seconds = Field(default=90.0, description="for routing to widen")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        device = customer.device
        ticket = device.ticket or {}
        if ticket.get("matched", True) and not ticket.get("widened"):
            raise StepFailed(
                "an agent signed in can serve this customer (language "
                f"{device.locale!r}, topic {device.topic!r}), so routing never widens: run the "
                "scenario with agents who do not speak the tablet's locale (tablet.locale, "
                "agent_languages)"
            )
        at = await customer.until(
            lambda: bool((device.ticket or {}).get("widened")) or device.session is not None,
            self.timeout,
            "routing widening to any free agent (ticket.widened)",
        )
        if customer.t_help is not None:
            customer.record.add("time_to_overflow", at - customer.t_help)
        customer.mark("overflow", "routing widened to any free agent", at)
