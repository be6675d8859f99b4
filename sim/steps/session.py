"""Getting help: the customer asks, waits in the queue, and an agent answers (or declines).

These steps move the customer from *idle* to *waiting* to *in a session*, or back out of the queue
(``customer_cancels``). Which agent is rung is the server's choice, as in production; whoever
accepts becomes the customer's agent (:attr:`~sim.customer.CustomerRun.bound`).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from pydantic import Field

from signaling import ProtocolError

from ..errors import StepFailed
from .base import Flow, Json, Seconds, Step

if TYPE_CHECKING:
    from ..customer import CustomerRun
    from ..pool import PooledAgent, RingOffer

__all__ = [
    "AgentDeclines",
    "CustomerCancels",
    "PressHelp",
    "WaitForAgent",
    "bind_session",
    "next_ring",
]

_NEEDS_WAITING = "needs a waiting customer: put press_help before it"
DECLINE_HELD_AT_LEAST_S = 1.0
"""A server rings an agent again for a customer they declined only after its decline hold
(``MAYDAY_DECLINE_HOLD_S``, 60 s by default; the simulation cannot know the server's): one that
rings them within a second has ignored the decline."""


class PressHelp(Step):
    kind = "press_help"
    summary = "The customer taps the Help button; a ticket opens in the queue."
    flow = Flow(
        frozenset({"idle", "ended"}),
        "the customer is already waiting or in a session",
        then="waiting",
    )
    topic: str | None = Field(
        default=None, description="help.request topic (default: the tablet's)"
    )
    locale: str | None = Field(
        default=None, description="help.request locale (default: the tablet's)"
    )
    timeout: Seconds = Field(default=10.0, description="for the ticket to open")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        device = customer.device
        if self.topic:
            device.topic = self.topic
        if self.locale:
            device.locale = self.locale
        customer.first_ring_at, customer.ticket_id = None, None
        customer.declined_by.clear()
        at = await customer.customer_tap("customer.help")
        customer.t_help = at
        customer.begin("queue", at, "waiting for an agent")
        customer.mark("help", "the customer tapped Help", at)
        await customer.until(
            lambda: device.ticket is not None or device.session is not None,
            self.timeout,
            "the ticket opening (the help.request ack)",
        )
        ticket = device.ticket or {}
        customer.ticket_id = str(ticket.get("id") or (device.session or {}).get("session_id") or "")
        detail.update(ticket=customer.ticket_id, position=ticket.get("position"))


class WaitForAgent(Step):
    kind = "wait_for_agent"
    summary = "An agent is rung for this customer, accepts, and receives the first video frame."
    flow = Flow(frozenset({"waiting"}), _NEEDS_WAITING, then="session")
    timeout: Seconds = Field(default=60.0, description="for the ring (includes time in the queue)")
    first_frame_timeout: Seconds = Field(
        default=20.0, description="accept to the first decoded frame"
    )

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        pool = customer.ctx.pool
        deadline = time.perf_counter() + self.timeout
        while True:
            offer = await next_ring(customer, max(0.01, deadline - time.perf_counter()))
            if offer.callback:
                raise StepFailed(
                    f"{offer.agent.name} is held for a callback to this customer, who asked for "
                    "one: answer it with answer_callback, not wait_for_agent"
                )
            pooled = offer.agent
            declined = customer.declined_by.get(pooled.name)
            if declined is not None and offer.received_at - declined < DECLINE_HELD_AT_LEAST_S:
                raise StepFailed(
                    f"{pooled.name} declined this customer, yet was rung for it again "
                    f"{offer.received_at - declined:.2f} s later"
                )
            accepted = time.perf_counter()
            try:
                session_id = await pooled.agent.accept(offer.ring_id)
                break
            except ProtocolError as exc:
                if offer.ring_id in pool.cancelled_rings or exc.code.value in (
                    "conflict",
                    "not_found",
                ):
                    # The ring was over before the accept arrived; the customer is rung again.
                    customer.mark("ring", f"{pooled.name}'s ring was over: {exc.message}")
                    continue
                raise StepFailed(
                    f"{pooled.name} could not accept the ring: {exc.code.value}: {exc.message}"
                ) from None
        await bind_session(customer, pooled, session_id, accepted, self.first_frame_timeout, detail)


async def bind_session(
    customer: CustomerRun,
    pooled: PooledAgent,
    session_id: str,
    accepted: float,
    first_frame_timeout: float,
    detail: Json,
) -> None:
    """The session started with ``pooled``: bind them and wait for the first frame both ways."""
    customer.bound = pooled
    pooled.sessions += 1
    customer.accepted_at = accepted
    customer.frame_times = pooled.agent.frame_times
    customer.record.agents.append(pooled.name)
    customer.record.session_id = session_id
    customer.close("queue", accepted)
    customer.begin("connecting", accepted, f"{pooled.name} accepted")
    customer.mark("accept", f"{pooled.name} accepted", accepted)
    detail.update(agent=pooled.name, session_id=session_id)
    try:
        at, _ = await pooled.agent.wait_first_frame(timeout=first_frame_timeout)
    except TimeoutError:
        raise StepFailed(
            f"no video frame reached {pooled.name} within {first_frame_timeout:g} s of accepting"
        ) from None
    customer.first_frame_at = at
    customer.record.add("time_to_first_frame", at - accepted)
    await customer.until(
        customer.device.media_connected.is_set,
        first_frame_timeout,
        "the device seeing its media connection up",
    )
    customer.close("connecting", at)
    customer.begin("session", at, f"with {pooled.name}")
    customer.mark("first_frame", "first video frame", at)


class AgentDeclines(Step):
    kind = "agent_declines"
    summary = "The agent who is rung for this customer declines; the customer keeps their place."
    flow = Flow(frozenset({"waiting"}), _NEEDS_WAITING)
    timeout: Seconds = Field(default=60.0, description="for the ring")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        offer = await next_ring(customer, self.timeout)
        try:
            await offer.agent.agent.decline(offer.ring_id)
        except ProtocolError as exc:
            raise StepFailed(
                f"{offer.agent.name} could not decline: {exc.code.value}: {exc.message}"
            ) from None
        customer.declined_by[offer.agent.name] = time.perf_counter()
        customer.mark("decline", f"{offer.agent.name} declined")
        detail.update(agent=offer.agent.name)


class CustomerCancels(Step):
    kind = "customer_cancels"
    summary = "The customer taps Cancel while waiting; the ticket ends as cancelled."
    flow = Flow(
        frozenset({"waiting"}),
        "the customer can only cancel while waiting for an agent",
        then="ended",
    )
    timeout: Seconds = Field(default=10.0, description="for the server to end the ticket")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        device = customer.device
        at = await customer.customer_tap("customer.cancel")
        done = await customer.until(
            device.ended.is_set, self.timeout, "the server ending the ticket (session.ended)"
        )
        customer.close("queue", done)
        customer.mark("cancel", "the customer cancelled", at)
        detail.update(seconds=round(done - at, 4))


async def next_ring(customer: CustomerRun, timeout: float) -> RingOffer:
    """The next ring for this customer's current ticket (the first one is ``time_to_ring``)."""
    pool = customer.ctx.pool
    deadline = time.perf_counter() + timeout
    while True:
        remaining = deadline - time.perf_counter()
        try:
            offer = await asyncio.wait_for(customer.board.get(), max(0.0, remaining))
        except TimeoutError:
            agents = len(pool.agents)
            hint = ""
            if customer.declined_by and len(customer.declined_by) >= agents:
                hint = (
                    f"; every agent ({agents}) has declined this customer, and the server "
                    "rings an agent again for a customer it declined only after the decline "
                    "hold (MAYDAY_DECLINE_HOLD_S, 60 s by default)"
                )
            elif customer.declined_by and agents == 1:
                hint = "; declining needs a second agent (--agents 2 or more)"
            raise StepFailed(
                f"no agent was rung for this customer within {timeout:g} s "
                f"({agents} agents in the simulation){hint}"
            ) from None
        if customer.ticket_id and offer.ticket_id and offer.ticket_id != customer.ticket_id:
            await pool.decline(offer)  # a ring for an earlier ticket of this device
            continue
        if offer.ring_id in pool.cancelled_rings:
            continue  # over already (e.g. the device dropped off while it rang)
        if customer.first_ring_at is None:
            customer.first_ring_at = offer.received_at
            if customer.t_help is not None:
                customer.record.add("time_to_ring", offer.received_at - customer.t_help)
        customer.mark("ring", f"rang {offer.agent.name}", offer.received_at)
        return offer
