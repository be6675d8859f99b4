"""The end of a session, by the agent or the customer, and the customer's rating.

A rating counts only when the server has recorded it: the step reads it back the way the console
does (``GET /api/sessions/{id}``). Ending also closes the books on the session
(``session_duration``, ``fps``, ``fps_peak``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Annotated

import aiohttp
from pydantic import Field

from signaling import ProtocolError

from ..errors import StepFailed
from .base import Actor, Flow, Json, Seconds, Step

if TYPE_CHECKING:
    from ..customer import CustomerRun

__all__ = ["End"]


class End(Step):
    kind = "end"
    primary = "by"
    summary = "End the session; optionally the customer rates it and the server must record it."
    flow = Flow(frozenset({"session"}), then="ended")
    waits = 2  # for the end, then for the rating card and the recorded rating
    by: Actor = Field(default="agent", description="who ends it: agent or customer")
    reason: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        default="resolved", description="session.end reason (agent only)"
    )
    rating: Annotated[int, Field(ge=1, le=5)] | None = Field(
        default=None, description="the customer then taps this many stars"
    )
    timeout: Seconds = Field(
        default=10.0, description="for each of: the end, the rating card, the recorded rating"
    )

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        pooled = customer.bound_agent()
        device = customer.device
        session_id = customer.record.session_id
        started = time.perf_counter()
        if self.by == "agent":
            try:
                await pooled.agent.end_session(self.reason)
            except ProtocolError as exc:
                raise StepFailed(
                    f"the server refused session.end: {exc.code.value}: {exc.message}"
                ) from None
        else:
            await customer.customer_tap("customer.end")
            await customer.customer_tap("customer.end_yes")  # "End the session with …?" Yes
        ended = await customer.until(
            device.ended.is_set, self.timeout, "the session ending on the device (session.ended)"
        )
        customer.session_over(ended)
        customer.mark("end", f"ended by the {self.by}", started)
        if self.rating is None:
            return
        await customer.until(
            lambda: customer.tablet.customer_view.rating_requested,
            self.timeout,
            "the rating card showing on the tablet",
        )
        await customer.customer_tap(f"customer.rate.{self.rating}")
        rated = await _recorded_rating(customer, session_id, self.rating, self.timeout)
        customer.mark("rating", f"rated {self.rating}", rated)
        detail.update(rating=self.rating)


async def _recorded_rating(
    customer: CustomerRun, session_id: str | None, rating: int, timeout: float
) -> float:
    """Wait until ``GET /api/sessions/{id}`` shows the rating (as the console would read it)."""
    ctx = customer.ctx
    headers = {"Authorization": f"Bearer {ctx.pool.any_token()}"}
    deadline = time.perf_counter() + timeout
    seen: object = None
    attempt = 0
    while True:
        url = f"{ctx.rest_url(attempt)}/api/sessions/{session_id}"
        attempt += 1
        with contextlib.suppress(aiohttp.ClientError):
            async with ctx.http.get(url, headers=headers) as response:
                if response.status == 200:
                    seen = (await response.json()).get("rating")
                    if seen == rating:
                        return time.perf_counter()
        if time.perf_counter() > deadline:
            raise StepFailed(
                f"the server never recorded the rating {rating} for {session_id} "
                f"(it shows {seen!r} after {timeout:g} s)"
            )
        await asyncio.sleep(0.1)
