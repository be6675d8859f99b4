"""One run of a scenario: each customer's device and the agent who answers, step by step, measured.

Each customer is a :class:`~sim.customer.CustomerRun`; each step is run by its own ``execute``
(:mod:`sim.steps`), so this module only sequences them: it times and records every step, stops a
customer at the first failing one, bounds the whole run, and always cleans up (the session is
ended, the ticket cancelled, rings still waiting are declined). A step fails with a reason
(:class:`~sim.errors.StepFailed`).
"""

from __future__ import annotations

import asyncio
import time

import structlog

from signaling import ProtocolError

from .customer import CustomerRun, SimContext
from .errors import StepFailed
from .pool import DeviceSlot
from .records import RunRecord, StepRecord
from .scenario import Scenario
from .steps import Json

__all__ = ["SimContext", "StepFailed", "run_scenario"]

log = structlog.get_logger("mayday.sim.runner")


async def _execute(customer: CustomerRun, scenario: Scenario) -> None:
    """The scenario's steps for one customer, until the first that fails."""
    for spec in scenario.steps:
        customer.current_step = spec.index
        started = time.perf_counter()
        detail: Json = {}
        error: str | None = None
        try:
            await spec.step.execute(customer, detail)
        except StepFailed as exc:
            error = str(exc)
        except ProtocolError as exc:
            error = f"the server answered {exc.code.value}: {exc.message}"
        except Exception as exc:
            log.exception("sim.step_crashed", step=spec.kind)
            error = f"unexpected {type(exc).__name__}: {exc}"
        ended = time.perf_counter()
        customer.record.steps.append(
            StepRecord(
                index=spec.index,
                kind=spec.kind,
                line=spec.line,
                start=customer.ctx.rel(started),
                end=customer.ctx.rel(ended),
                ok=error is None,
                error=error,
                detail=detail,
            )
        )
        if error is not None:
            customer.fail(f"{spec.where(scenario.file)}: {error}", ended)
            return


def _guard_seconds(scenario: Scenario) -> float:
    """A bound on a run's length: every step at its timeout (as often as it can wait), and some."""
    total = 30.0
    for spec in scenario.steps:
        step = spec.step
        for name in ("timeout", "first_frame_timeout", "seconds", "delay"):
            value = getattr(step, name, None)
            if isinstance(value, int | float) and not isinstance(value, bool):
                total += float(value)
        for _ in range(step.waits - 1):
            total += float(getattr(step, "timeout", 0.0))
    return total


async def run_scenario(
    ctx: SimContext, scenario: Scenario, run: int, slots: list[DeviceSlot]
) -> RunRecord:
    """Run ``scenario`` once with one customer per slot, all at the same time."""
    group = len(slots) > 1
    customers = [
        CustomerRun(
            ctx,
            scenario=scenario.name,
            file=scenario.file,
            tablet=scenario.tablet,
            run=run,
            customer=index + 1 if group else 0,
            slot=slot,
        )
        for index, slot in enumerate(slots)
    ]
    record = RunRecord(
        scenario=scenario.name, file=scenario.file, run=run, customers=[c.record for c in customers]
    )
    setups = await asyncio.gather(*(c.setup() for c in customers), return_exceptions=True)
    ready = []
    for customer, outcome in zip(customers, setups, strict=True):
        if isinstance(outcome, BaseException):
            customer.fail(f"the device {customer.slot.name} could not connect: {outcome}")
        else:
            ready.append(customer)
    guard = _guard_seconds(scenario)

    async def execute(customer: CustomerRun) -> None:
        try:
            await asyncio.wait_for(_execute(customer, scenario), guard)
        except TimeoutError:
            spec = scenario.steps[max(0, customer.current_step - 1)]
            customer.fail(f"{spec.where(scenario.file)}: the run did not finish within {guard:g} s")

    try:
        await asyncio.gather(*(execute(c) for c in ready))
    finally:
        for customer in customers:
            customer.finish()
        await asyncio.gather(*(c.cleanup() for c in customers), return_exceptions=True)
    failed = [c.record for c in customers if not c.record.ok]
    if failed:
        record.ok = False
        first = failed[0]
        who = f"customer {first.customer} of {len(customers)}: " if group else ""
        record.failure = f"{who}{first.failure}"
    expect = scenario.expect
    if record.ok and expect.min_waited:
        waited = [
            c
            for c in customers
            if any(v > expect.waited_s for v in c.record.metrics.get("time_to_ring", []))
        ]
        if len(waited) < expect.min_waited:
            where = (
                f"{scenario.file}:{scenario.expect_line}" if scenario.expect_line else scenario.file
            )
            record.ok = False
            record.failure = (
                f"expect.min_waited ({where}): {len(waited)} of {len(customers)} customers waited "
                f"longer than {expect.waited_s:g} s for an agent, expected at least "
                f"{expect.min_waited}"
            )
    return record
