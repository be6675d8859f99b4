"""The end of a session, by the agent or the customer, and the customer's rating (and answer to
"Was your problem solved?").

A rating counts only when the server has recorded it: the step reads it back the way the console
does (``GET /api/sessions/{id}``), the solved answer too. Ending also closes the books on the session
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
    waits = 3  # for the end, the rating card and the recorded rating, the recorded answer
    by: Actor = Field(default="agent", description="who ends it: agent or customer")
    reason: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        default="resolved", description="session.end reason (agent only)"
    )
    rating: Annotated[int, Field(ge=1, le=5)] | None = Field(
        default=None, description="the customer then taps this many stars"
    )
    solved: bool | None = Field(
        default=None,
        description='then the customer answers "Was your problem solved?" (true: Yes, false: No);'
        " needs rating",
    )
    timeout: Seconds = Field(
        default=10.0,
        description="for each of: the end, the rating card, the recorded rating, the recorded answer",
    )

    def extra_problems(self) -> list[tuple[tuple[str, ...], str]]:
        if self.solved is not None and self.rating is None:
            return [(("solved",), "the question comes after the stars: give rating too")]
        return []

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
        rated = await _recorded(
            customer, session_id, "rating", self.rating, self.timeout, token=pooled.token
        )
        customer.mark("rating", f"rated {self.rating}", rated)
        detail.update(rating=self.rating)
        if self.solved is None:
            return
        answer = "yes" if self.solved else "no"
        await customer.customer_tap(f"customer.solved.{answer}")
        answered = await _recorded(
            customer, session_id, "solved", self.solved, self.timeout, token=pooled.token
        )
        customer.mark("rating", f"solved: {answer}", answered)
        detail.update(solved=self.solved)


async def _recorded(
    customer: CustomerRun,
    session_id: str | None,
    field: str,
    expected: object,
    timeout: float,
    *,
    token: str,
) -> float:
    """Wait until ``GET /api/sessions/{id}`` shows ``field`` (the rating, the solved answer) as
    expected, as the session's agent reads it in its console (another agent may not read the
    session, §19.1)."""
    ctx = customer.ctx
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.perf_counter() + timeout
    seen: object = None
    attempt = 0
    while True:
        url = f"{ctx.rest_url(attempt)}/api/sessions/{session_id}"
        attempt += 1
        with contextlib.suppress(aiohttp.ClientError):
            async with ctx.http.get(url, headers=headers) as response:
                if response.status == 200:
                    seen = (await response.json()).get(field)
                    if seen == expected and type(seen) is type(expected):
                        return time.perf_counter()
        if time.perf_counter() > deadline:
            raise StepFailed(
                f"the server never recorded the {field} {expected!r} for {session_id} "
                f"(it shows {seen!r} after {timeout:g} s)"
            )
        await asyncio.sleep(0.1)
