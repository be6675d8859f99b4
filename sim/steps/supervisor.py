"""A supervisor in the customer's session: watching it, joined to it (drawing), leaving it.

The run borrows a supervisor from the pool (``supervisor`` accounts the simulation signs in besides
its agents, :mod:`sim.pool`) and keeps it until ``supervisor_leave``, the end of the session (the
end, a transfer) or the end of the run. What counts is what the customer is promised: their screen
says who watches, and how (``CustomerView.watchers``); the supervisor sees the screen over a
connection of its own (``watch_to_first_frame``: ``session.watch`` sent → the supervisor's first
decoded frame); a joined supervisor's marks are drawn on the device, a watching one's never are.

That last one is a negative, checked the only way a negative can be: the mark must stay off the
device for ``grace`` seconds after it was sent, while the same device draws what it should.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from signaling import ProtocolError
from signaling.annotations import Stroke

from ..errors import StepFailed
from ..source import Problem
from .base import Color, Flow, Json, Seconds, Step, StepSpec

if TYPE_CHECKING:
    from ..customer import CustomerRun
    from ..pool import PooledAgent

__all__ = ["SupervisorJoin", "SupervisorLeave", "watching_problems"]

_IN_SESSION = Flow(
    frozenset({"session"}),
    "a supervisor watches a running session: put it after wait_for_agent (and before end)",
)


class SupervisorJoin(Step):
    kind = "supervisor_join"
    primary = "mode"
    summary = (
        "A supervisor watches the session (or joins it to draw); the customer's screen must say "
        "so, and the screen must reach the supervisor."
    )
    flow = _IN_SESSION
    waits = 3  # for a free supervisor, the customer's screen, the mark
    mode: Literal["watch", "join"] = Field(
        default="watch", description="watch (sees the screen) or join (also draws)"
    )
    mark: bool = Field(
        default=False,
        description="the supervisor then draws a mark: joined, it must reach the device; only "
        "watching, it must not",
    )
    color: Annotated[Color, Field(description="the supervisor's mark colour")] = "#8000ff"
    grace: Annotated[float, Field(gt=0, le=10)] = Field(
        default=1.0, description="with watch and mark: how long the mark must stay off the device"
    )
    timeout: Seconds = Field(
        default=10.0,
        description="for each of: a free supervisor, the customer's screen naming them, the mark",
    )
    first_frame_timeout: Seconds = Field(
        default=20.0, description="session.watch to the supervisor's first decoded frame"
    )

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        session_id = customer.bound_agent().agent.session_id
        pooled = customer.supervisor or await _borrow(customer, self.timeout)
        customer.supervisor = pooled
        supervisor = pooled.agent
        already = (supervisor.session or {}).get("session_id") == session_id
        asked = time.perf_counter()
        try:
            await supervisor.watch(session_id, self.mode)
        except ProtocolError as exc:
            raise StepFailed(
                f"the server refused {pooled.name}'s session.watch: {exc.code.value}: {exc.message}"
            ) from None
        shown = (pooled.shown_name, self.mode)
        told = await customer.until(
            lambda: shown in customer.tablet.customer_view.watchers,
            self.timeout,
            f"the customer's screen saying {pooled.shown_name} watches ({self.mode})",
        )
        verb = "joined" if self.mode == "join" else "watches"
        customer.mark("watch", f"{pooled.name} {verb}", asked)
        detail.update(supervisor=pooled.name, mode=self.mode, told_after_s=round(told - asked, 4))
        if not already:
            try:
                at, _ = await supervisor.wait_first_frame(timeout=self.first_frame_timeout)
            except TimeoutError:
                raise StepFailed(
                    f"no video frame reached {pooled.name} within {self.first_frame_timeout:g} s "
                    "of session.watch"
                ) from None
            customer.record.add("watch_to_first_frame", at - asked)
            detail.update(first_frame_s=round(at - asked, 4))
        if self.mark:
            await self._draw(customer, pooled, detail)

    async def _draw(self, customer: CustomerRun, pooled: PooledAgent, detail: Json) -> None:
        device = customer.device
        customer.marks_sent += 1
        record = customer.record
        stroke = Stroke(
            id=f"sim-sup-{record.run}-{record.customer}-{customer.marks_sent}",
            tool="pen",
            color=self.color,
            width=0.01,
            points=[(0.25, 0.35), (0.6, 0.35)],
        )

        def drawn() -> bool:
            return any(mark.id == stroke.id for mark in device.annotations.visible())

        sent = await pooled.agent.annotate(stroke, timeout=self.timeout)
        if self.mode == "join":
            at = await customer.until(
                drawn, self.timeout, f"{pooled.name}'s mark being drawn on the device (joined)"
            )
            customer.mark("annotation", f"{pooled.name}'s mark drawn", at)
            detail.update(mark_drawn_after_s=round(at - sent, 4))
            return
        until = sent + self.grace
        while time.perf_counter() < until:
            if drawn():
                raise StepFailed(
                    f"{pooled.name} only watches, yet their mark was drawn on the customer's screen"
                )
            await asyncio.sleep(0.01)
        detail.update(mark_refused=True)


class SupervisorLeave(Step):
    kind = "supervisor_leave"
    summary = "The supervisor stops watching; the customer's screen must no longer name them."
    flow = _IN_SESSION
    timeout: Seconds = Field(default=10.0, description="for the customer's screen to drop them")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        pooled = customer.supervisor
        if pooled is None:
            raise StepFailed("no supervisor watches this session")
        try:
            await pooled.agent.leave()
        except ProtocolError as exc:
            raise StepFailed(
                f"the server refused {pooled.name}'s session.leave: {exc.code.value}: {exc.message}"
            ) from None
        left = time.perf_counter()
        await customer.release_supervisor()
        name = pooled.shown_name
        gone = await customer.until(
            lambda: all(watcher != name for watcher, _ in customer.tablet.customer_view.watchers),
            self.timeout,
            f"the customer's screen no longer naming {name}",
        )
        customer.mark("watch", f"{pooled.name} left", left)
        detail.update(supervisor=pooled.name, told_after_s=round(gone - left, 4))


async def _borrow(customer: CustomerRun, timeout: float) -> PooledAgent:
    pool = customer.ctx.pool
    try:
        return await pool.lease_supervisor(timeout)
    except LookupError:
        raise StepFailed("the simulation has no supervisors (--supervisors)") from None
    except TimeoutError:
        raise StepFailed(
            f"no supervisor was free within {timeout:g} s (all {len(pool.supervisors)} watch other "
            "runs' sessions: give more with --supervisors)"
        ) from None


def watching_problems(specs: list[StepSpec], file: str) -> list[Problem]:
    """``supervisor_leave`` only while a supervisor watches: after ``supervisor_join`` in the same
    session (an end or a transfer ends the session the supervisor watched)."""
    problems = []
    watching = False
    for spec in specs:
        if spec.kind == SupervisorJoin.kind:
            watching = True
        elif spec.kind == SupervisorLeave.kind:
            if not watching:
                problems.append(
                    Problem(
                        file,
                        spec.line,
                        f"step {spec.index} supervisor_leave: no supervisor watches here: put "
                        "supervisor_join before it, in the same session (an end or a transfer "
                        "ends the session the supervisor watched)",
                    )
                )
            watching = False
        elif spec.step.placement().then is not None or spec.kind == "transfer":
            watching = False
    return problems
