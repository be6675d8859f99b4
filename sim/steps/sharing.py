"""The customer pauses and resumes sharing their screen.

While sharing is paused the device sends a paused card instead of the screen; both steps pass only
when the agent's video shows the change (``pause_latency``: tap → seen).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from .. import pixels as px
from .base import IN_SESSION, Json, Seconds, Step

if TYPE_CHECKING:
    from ..customer import CustomerRun

__all__ = ["PauseSharing", "ResumeSharing"]


class PauseSharing(Step):
    kind = "pause_sharing"
    summary = "The customer taps Pause; the agent's video must show the paused card."
    flow = IN_SESSION
    timeout: Seconds = Field(default=10.0, description="for the paused card in the video")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        agent = customer.bound_agent().agent
        since = agent.frames_received
        tapped = await customer.customer_tap("customer.pause")
        seen, _ = await customer.wait_frame(
            px.is_paused_card,
            since,
            self.timeout,
            "the paused card never showed in the agent's video",
        )
        customer.record.add("pause_latency", seen - tapped)
        customer.begin("paused", tapped, "sharing paused")
        customer.mark("pause", "the customer paused sharing", tapped)
        await customer.until(
            lambda: agent.device_status.get("sharing_paused") is True,
            self.timeout,
            "the device's status telling the agent that sharing is paused",
        )
        detail.update(latency_s=round(seen - tapped, 4))


class ResumeSharing(Step):
    kind = "resume_sharing"
    summary = "The customer taps Resume; the agent's video must show the screen again."
    flow = IN_SESSION
    timeout: Seconds = Field(default=10.0, description="for the screen in the video")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        agent = customer.bound_agent().agent
        since = agent.frames_received
        tapped = await customer.customer_tap("customer.resume")
        seen, _ = await customer.wait_frame(
            lambda image: not px.is_paused_card(image),
            since,
            self.timeout,
            "the screen never came back in the agent's video",
        )
        customer.record.add("pause_latency", seen - tapped)
        customer.close("paused", tapped)
        customer.mark("pause", "the customer resumed sharing", tapped)
        detail.update(latency_s=round(seen - tapped, 4))
