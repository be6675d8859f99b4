"""Remote control and the customer's consent: asked, allowed or denied, stopped, released.

The agent only ever knows control through its ``control.state`` updates, so every step here waits
for the update that proves it (``granted``, ``none`` with the reason) and fails on the opposite
one. ``consent_round_trip`` counts the protocol's share of the dialog, not the customer's think
time: (request → dialog shows) + (the customer answers → the agent sees it).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Annotated, ClassVar

from pydantic import Field

from signaling import ProtocolError

from ..errors import StepFailed
from .base import IN_SESSION, Json, Seconds, Step

if TYPE_CHECKING:
    from ..customer import CustomerRun

__all__ = [
    "CustomerAllows",
    "CustomerDenies",
    "CustomerStopsControl",
    "ReleaseControl",
    "RequestControl",
]


# One class per step, alike in shape (kind, summary, flow, timeout, execute) as sharing.py's are:
# each declares its own fields, with the descriptions the schema shows. Shared logic: _Answer.
class RequestControl(Step):
    kind = "request_control"
    summary = "The agent asks for remote control; the consent dialog must appear on the tablet."
    flow = IN_SESSION
    timeout: Seconds = Field(default=10.0, description="for the dialog to show")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        agent = customer.bound_agent().agent
        customer.drain_control()
        requested = time.perf_counter()
        try:
            await agent.request_control()
        except ProtocolError as exc:
            raise StepFailed(
                f"the server refused control.request: {exc.code.value}: {exc.message}"
            ) from None
        await customer.until(
            lambda: customer.tablet.customer_view.consent_requested,
            self.timeout,
            "the consent dialog showing on the tablet",
        )
        shown = customer.view_since(requested, lambda v: v.consent_requested) or time.perf_counter()
        customer.consent_request = (requested, shown)
        customer.mark("control", "control requested", requested)
        detail.update(dialog_after_s=round(shown - requested, 4))


class _Answer(Step):
    """The customer answers the consent dialog after ``delay``; the agent must see the answer.

    Allowing and denying differ only in the button and what follows from it (``allow``); each
    subclass is a step type of its own, with its ``kind`` and its ``timeout``'s description."""

    primary = "delay"
    flow = IN_SESSION
    allow: ClassVar[bool]
    delay: Annotated[float, Field(ge=0, le=600)] = Field(
        default=0.0, description="think time first"
    )
    timeout: Seconds

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if not customer.tablet.customer_view.consent_requested:
            raise StepFailed(
                "there is no consent dialog on the customer's screen "
                f"(the agent's control is '{customer.bound_agent().agent.control}')"
            )
        allow, timeout = self.allow, self.timeout
        tapped = await customer.customer_tap("customer.allow" if allow else "customer.deny")
        if allow:
            _, answered = await customer.control_state("granted", {"granted"}, timeout, {"none"})
        else:
            _, answered = await customer.control_state("none", {"denied"}, timeout, {"granted"})
        if customer.consent_request is not None:
            requested, shown = customer.consent_request
            customer.record.add("consent_round_trip", (shown - requested) + (answered - tapped))
            customer.consent_request = None
        if allow:
            customer.begin("control", answered, "remote control")
        customer.mark(
            "control", "customer allowed control" if allow else "customer denied control", tapped
        )
        detail.update(answered_after_s=round(answered - tapped, 4))


class CustomerAllows(_Answer):
    kind = "customer_allows"
    summary = "The customer taps Allow in the consent dialog; the agent must see 'granted'."
    allow = True
    timeout: Seconds = Field(default=10.0, description="for the agent to see 'granted'")


class CustomerDenies(_Answer):
    kind = "customer_denies"
    summary = "The customer taps Deny; the agent must see control 'none' (denied)."
    allow = False
    timeout: Seconds = Field(default=10.0, description="for the agent to see 'none'")


class CustomerStopsControl(Step):
    kind = "customer_stops_control"
    summary = "The customer taps Stop control; the agent must see control 'none' (revoked)."
    flow = IN_SESSION
    timeout: Seconds = Field(default=10.0, description="for the agent to see 'none'")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        device = customer.device
        session_id = (device.session or {}).get("session_id", "")
        if not customer.tablet.customer_view.control_active:
            raise StepFailed("there is no Stop control button: control is not active on the tablet")
        tapped = await customer.customer_tap("customer.stop_control")
        await customer.until(
            lambda: not device.consent.allows(session_id),
            1.0,
            "the device withdrawing consent at once",
        )
        _, seen = await customer.control_state("none", {"revoked"}, self.timeout, set())
        customer.record.add("revoke_latency", seen - tapped)
        customer.close("control", seen)
        customer.mark("control", "customer stopped control", tapped)
        detail.update(revoke_latency_s=round(seen - tapped, 4))


class ReleaseControl(Step):
    kind = "release_control"
    summary = "The agent gives control back; both sides must see control 'none'."
    flow = IN_SESSION
    timeout: Seconds = Field(default=10.0, description="for both sides to see 'none'")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        agent = customer.bound_agent().agent
        customer.drain_control()
        await agent.release_control()
        _, seen = await customer.control_state("none", {"released"}, self.timeout, set())
        await customer.until(
            lambda: not customer.tablet.customer_view.control_active,
            self.timeout,
            "the Stop control button going away on the tablet",
        )
        customer.close("control", seen)
        customer.mark("control", "agent released control", seen)
