"""The customer pauses and resumes sharing their screen.

While sharing is paused the device sends a paused card instead of the screen; both steps pass only
when the agent's video shows the change (``pause_latency``: tap → seen).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import Field

from .. import pixels as px
from .base import IN_SESSION, Json, Seconds, Step

if TYPE_CHECKING:
    from ..customer import CustomerRun

__all__ = ["PauseSharing", "ResumeSharing"]


# Two steps alike in shape (as control.py's are): each declares its own fields, with the
# descriptions the schema shows. What they do alike is _tap_until_seen.
class PauseSharing(Step):
    kind = "pause_sharing"
    summary = "The customer taps Pause; the agent's video must show the paused card."
    flow = IN_SESSION
    timeout: Seconds = Field(default=10.0, description="for the paused card in the video")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        agent = customer.bound_agent().agent
        tapped, seen = await _tap_until_seen(
            customer,
            "customer.pause",
            px.is_paused_card,
            self.timeout,
            "the paused card never showed in the agent's video",
        )
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
        tapped, seen = await _tap_until_seen(
            customer,
            "customer.resume",
            lambda image: not px.is_paused_card(image),
            self.timeout,
            "the screen never came back in the agent's video",
        )
        customer.close("paused", tapped)
        customer.mark("pause", "the customer resumed sharing", tapped)
        detail.update(latency_s=round(seen - tapped, 4))


async def _tap_until_seen(
    customer: CustomerRun,
    button: str,
    shows: Callable[[px.Image], bool],
    timeout: float,
    never: str,
) -> tuple[float, float]:
    """The customer taps ``button``, then a frame the agent decodes must be one that ``shows``
    the change (``never``: the failure): when the finger landed and when the frame arrived,
    ``pause_latency`` apart."""
    since = customer.bound_agent().agent.frames_received
    tapped = await customer.customer_tap(button)
    seen, _ = await customer.wait_frame(shows, since, timeout, never)
    customer.record.add("pause_latency", seen - tapped)
    return tapped, seen
