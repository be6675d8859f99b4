"""Handing the customer on: the session's agent transfers them to a colleague or to the queue.

What a QA engineer wants to know of a transfer is whether the customer only noticed what they
should: the device keeps its socket (nobody starts over), the screen says they are being handed on
and asks for no rating, the next agent is rung with the note and takes them, and the screen flows
to that agent. ``transfer_to_first_frame`` is the transfer sent → the next agent's first decoded
frame (the ring and the accept included). Remote control given to the first agent is over: consent
is given to a person. From then on the new agent is the customer's
(:attr:`~sim.customer.CustomerRun.bound`), so the steps after it act with them.

Which colleague (``to: agent``): ``agent: free``, the default, is whoever of the pool is free
first, as a person picks one from the console's list of available colleagues; a number or a name
picks one agent of the pool, and the step waits for them to be free. Two transfers at once never
pick the same colleague (the pool's claim), and a simulation with transfers to colleagues signs in
one agent more than customers run at once (:mod:`sim.simulation`), so that one is always free.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from device_agent.consent import ConsentState
from signaling import ProtocolError

from ..errors import StepFailed
from .base import Flow, Json, Seconds, Step

if TYPE_CHECKING:
    from ..customer import CustomerRun
    from ..pool import AgentPool, PooledAgent, RingOffer

__all__ = ["Transfer"]

RETRY_S = 0.05
"""How soon a transfer the server refused because the colleague was busy is tried again."""

AgentChoice = (
    Annotated[int, Field(ge=1, le=500)] | Annotated[str, Field(min_length=1, max_length=64)]
)


class Transfer(Step):
    kind = "transfer"
    primary = "to"
    summary = (
        "The agent hands the customer on, to a colleague or to the queue, with a note; the next "
        "agent must get the note, take the customer and see their screen."
    )
    flow = Flow(
        frozenset({"session"}),
        "an agent can only hand on a customer it is helping: put transfer after wait_for_agent "
        "(and before end)",
    )
    waits = 2  # for a free colleague, then for the ring (the first frame has its own timeout)
    to: Literal["agent", "queue"] = Field(
        default="agent", description="agent (a colleague takes over) or queue (whoever is next)"
    )
    agent: AgentChoice = Field(
        default="free",
        description="with to: agent, who takes over: free (whoever is free first), or one agent "
        "of the pool by number (1 = the first, e.g. sim-agent-1) or by name",
    )
    topic: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")] | None = Field(
        default=None, description="with to: queue, the topic the next agent needs"
    )
    locale: Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")] | None = Field(
        default=None, description="with to: queue, the language the next agent speaks"
    )
    note: Annotated[str, Field(max_length=1000)] = Field(
        default="", description="for the next agent; its ring must carry it"
    )
    timeout: Seconds = Field(
        default=30.0, description="for a free colleague, and then for the next agent's ring"
    )
    first_frame_timeout: Seconds = Field(
        default=20.0, description="the next agent's accept to its first decoded frame"
    )

    def extra_problems(self) -> list[tuple[tuple[str, ...], str]]:
        problems: list[tuple[tuple[str, ...], str]] = []
        if self.to == "queue" and "agent" in self.model_fields_set:
            problems.append((("agent",), "agent goes with to: agent, not to: queue"))
        if self.to == "agent":
            problems.extend(
                ((name,), f"{name} goes with to: queue (a colleague takes the customer as is)")
                for name in ("topic", "locale")
                if getattr(self, name) is not None
            )
        return problems

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        pool = customer.ctx.pool
        device = customer.device
        handing = customer.bound_agent()
        session_id = handing.agent.session_id
        losses = customer.socket_losses
        controlled = handing.agent.control == "granted"
        colleague, ticket_id, sent = await self._hand_on(customer, handing)
        try:
            await self._customer_told(customer, session_id, sent)
            await customer.release_supervisor()  # the session it watched is over
            customer.ticket_id = ticket_id
            customer.declined_by.clear()
            customer.consent_request = None
            customer.begin("queue", sent, "handed on")
            offer = await self._ring(customer, ticket_id, handing, colleague)
        finally:
            if colleague is not None:
                pool.claimed.discard(colleague.name)
        taker = offer.agent
        try:
            new_session = await taker.agent.accept(offer.ring_id)
        except ProtocolError as exc:
            raise StepFailed(
                f"{taker.name} could not take the handed-on customer: {exc.code.value}: "
                f"{exc.message}"
            ) from None
        accepted = time.perf_counter()
        customer.bound = taker
        taker.sessions += 1
        customer.accepted_at = accepted
        customer.frame_times = taker.agent.frame_times
        customer.record.agents.append(taker.name)
        customer.record.session_id = new_session
        customer.close("queue", accepted)
        customer.begin("connecting", accepted, f"{taker.name} took over")
        customer.mark("accept", f"{taker.name} took over", accepted)
        detail.update(agent=taker.name, session_id=new_session, previous_session_id=session_id)
        try:
            at, _ = await taker.agent.wait_first_frame(timeout=self.first_frame_timeout)
        except TimeoutError:
            raise StepFailed(
                f"no video frame reached {taker.name} within {self.first_frame_timeout:g} s of "
                "taking the handed-on customer"
            ) from None
        customer.first_frame_at = at
        customer.record.add("transfer_to_first_frame", at - sent)
        await customer.until(
            lambda: (
                (device.session or {}).get("session_id") == new_session
                and (device.session or {}).get("agent", {}).get("name") == taker.shown_name
            ),
            self.first_frame_timeout,
            f"the device's session with {taker.name} starting (session.started)",
        )
        await customer.until(
            device.media_connected.is_set,
            self.first_frame_timeout,
            "the device seeing its new media connection up",
        )
        await customer.until(
            lambda: (taker.agent.session or {}).get("session_id") == new_session,
            self.first_frame_timeout,
            f"{taker.name} getting session.started",
        )
        customer.close("connecting", at)
        customer.begin("session", at, f"with {taker.name}")
        customer.mark("first_frame", "first video frame after the transfer", at)
        self._after_checks(customer, sent, losses, taker)
        detail.update(
            transfer_to_first_frame_s=round(at - sent, 4),
            control_was_granted=controlled,
        )

    async def _hand_on(
        self, customer: CustomerRun, handing: PooledAgent
    ) -> tuple[PooledAgent | None, str, float]:
        """Send ``session.transfer`` (to a free colleague, waiting for one): (the colleague, the
        new ticket, when it was sent). A colleague picked is claimed in the pool until taken."""
        pool = customer.ctx.pool
        deadline = time.perf_counter() + self.timeout
        session_id = handing.agent.session_id
        while True:
            colleague = self._colleague(pool, handing) if self.to == "agent" else None
            if self.to == "queue" or colleague is not None:
                if colleague is not None:
                    pool.claimed.add(colleague.name)
                sent = time.perf_counter()
                try:
                    ticket_id = await handing.agent.transfer(
                        self.to,
                        agent_id=colleague.id if colleague is not None else None,
                        topic=self.topic,
                        locale=self.locale,
                        note=self.note,
                    )
                except ProtocolError as exc:
                    if colleague is not None:
                        pool.claimed.discard(colleague.name)
                    running = (customer.device.session or {}).get("session_id") == session_id
                    if not (colleague is not None and exc.code.value == "conflict" and running):
                        raise StepFailed(
                            f"the server refused session.transfer: {exc.code.value}: {exc.message}"
                        ) from None
                    # The colleague was rung for someone else meanwhile: another, or later.
                else:
                    target = colleague.name if colleague is not None else "the queue"
                    customer.mark("transfer", f"{handing.name} handed on to {target}", sent)
                    return colleague, ticket_id, sent
            if time.perf_counter() > deadline:
                wanted = "" if self.agent == "free" else f" ({self.agent})"
                raise StepFailed(
                    f"no colleague{wanted} of {handing.name} was free to take the customer within "
                    f"{self.timeout:g} s ({len(pool.agents)} agents in the simulation, the others "
                    "busy: give more with --agents)"
                )
            await asyncio.sleep(RETRY_S)

    def _colleague(self, pool: AgentPool, handing: PooledAgent) -> PooledAgent | None:
        """Whom to hand on to now, or ``None`` while nobody fitting is free."""
        free = pool.free_colleagues(handing)
        if self.agent == "free":
            return free[0] if free else None
        wanted = pool.find_agent(self.agent)
        if wanted is None:
            raise StepFailed(
                f"the simulation has no agent {self.agent!r} (its agents: "
                f"{', '.join(p.name for p in pool.agents)})"
            )
        if wanted is handing:
            raise StepFailed(
                f"{wanted.name} is this customer's agent already: a transfer goes to someone else "
                "(agent: free picks whoever is free)"
            )
        return wanted if wanted in free else None

    async def _customer_told(self, customer: CustomerRun, session_id: str, sent: float) -> None:
        """The device sees its session end as transferred, and is waiting again (no rating)."""
        device = customer.device
        told = await customer.until(
            lambda: customer.view_since(sent, lambda v: v.transferred) is not None,
            self.timeout,
            f"the customer's screen saying they are handed on (session.ended transferred for "
            f"{session_id})",
        )
        # The device's ``ended`` is the end step's signal: this end was not the customer's last.
        device.ended.clear()
        customer.session_over(customer.view_since(sent, lambda v: v.transferred) or told)

    async def _ring(
        self,
        customer: CustomerRun,
        ticket_id: str,
        handing: PooledAgent,
        colleague: PooledAgent | None,
    ) -> RingOffer:
        """The ring for the customer's new ticket, to whom it must go, with the note."""
        pool = customer.ctx.pool
        deadline = time.perf_counter() + self.timeout
        while True:
            remaining = deadline - time.perf_counter()
            try:
                offer = await asyncio.wait_for(customer.board.get(), max(0.0, remaining))
            except TimeoutError:
                whom = colleague.name if colleague is not None else "any agent"
                raise StepFailed(
                    f"{whom} was not rung for the handed-on customer within {self.timeout:g} s"
                ) from None
            if offer.ticket_id != ticket_id:
                await pool.decline(offer)  # a ring for the ticket before
                continue
            if offer.ring_id in pool.cancelled_rings:
                continue
            break
        customer.mark("ring", f"rang {offer.agent.name}", offer.received_at)
        if offer.agent is handing:
            raise StepFailed(f"{handing.name} was rung again for the customer it handed on")
        if colleague is not None and offer.agent is not colleague:
            raise StepFailed(
                f"{offer.agent.name} was rung for the customer handed to {colleague.name}"
            )
        handed_on = offer.ticket.get("handed_on") or {}
        if not isinstance(handed_on, dict) or handed_on.get("note", "") != self.note:
            got = handed_on.get("note") if isinstance(handed_on, dict) else handed_on
            raise StepFailed(
                f"{offer.agent.name}'s ring does not carry the note: ticket.handed_on.note is "
                f"{got!r}, expected {self.note!r}"
            )
        giver = (handed_on.get("from_agent") or {}).get("name")
        if giver != handing.shown_name or handed_on.get("to") != self.to:
            raise StepFailed(
                f"{offer.agent.name}'s ring says the customer was handed on by {giver!r} to "
                f"{handed_on.get('to')!r}, expected {handing.shown_name!r} to {self.to!r}"
            )
        return offer

    def _after_checks(
        self, customer: CustomerRun, sent: float, losses: int, taker: PooledAgent
    ) -> None:
        """What must hold once the new agent has the screen."""
        device = customer.device
        if customer.socket_losses != losses or not device.client.connected:
            raise StepFailed("the device lost its socket during the transfer")
        if customer.view_since(sent, lambda v: v.rating_requested) is not None:
            raise StepFailed("the customer was asked to rate the session that was handed on")
        if device.consent.state is not ConsentState.NONE or device.consent.control_visible:
            raise StepFailed(
                f"remote control outlived the transfer: the device's consent is "
                f"'{device.consent.state.value}'"
            )
        if customer.tablet.customer_view.control_active:
            raise StepFailed("the customer's screen still shows remote control after the transfer")
        if taker.agent.control != "none":
            raise StepFailed(f"{taker.name} starts with control '{taker.agent.control}'")
