"""Input on the tablet: taps, typing, keys and scrolling, by the agent or by the customer.

The agent's input goes through the protocol (``control.input`` with normalized coordinates) and
counts only when the device has applied it (``control_apply_latency``) and the change has come
back in the agent's video (``control_latency``). The customer's input lands on the tablet
directly, as a finger would. ``expect: refused`` turns each step into the opposite check: the
input must change nothing (the server refuses it, the device drops it, or the tablet ignores it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from device_agent.screens.base import InputEvent, Key, Scroll, Tap, Text

from .. import pixels as px
from ..errors import StepFailed
from .base import ANYWHERE, IN_SESSION, Actor, ElementName, Expect, Flow, Json, Seconds, Step

if TYPE_CHECKING:
    from ..customer import CustomerRun

__all__ = ["InputStep", "PressKey", "ScrollElement", "TapElement", "TypeText"]


class InputStep(Step):
    """What every input step has: who gives it, whether it must apply, how long it may take."""

    waits = 2  # for the device to apply it, then for the video to show it
    by: Actor = Field(default="agent", description="who produces the input")
    expect: Expect = Field(
        default="applied", description="applied: the device changes; refused: it must not"
    )
    timeout: Seconds = Field(
        default=5.0, description="for the device to apply it and the agent to see it"
    )

    def placement(self) -> Flow:
        """The agent's input needs a session; the customer can touch the tablet any time."""
        return IN_SESSION if self.by == "agent" else ANYWHERE


class TapElement(InputStep):
    kind = "tap"
    primary = "element"
    summary = "Tap the centre of a named element (agent: through remote control)."
    element: ElementName

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        rect = await customer.element(self.element)
        what = f"tap on {self.element}"
        if self.by == "customer":
            cx, cy = rect.x + rect.width // 2, rect.y + rect.height // 2
            await _customer_input(customer, Tap(cx, cy), self, what, detail)
            return
        x, y = customer.centre(rect)
        await _agent_input(customer, {"type": "tap", "x": x, "y": y}, self, what, detail)


class TypeText(InputStep):
    kind = "type_text"
    primary = "text"
    summary = "Type text, after tapping into an element if one is given."
    text: Annotated[str, Field(min_length=1, max_length=256, description="the text typed")]
    into: ElementName | None = Field(default=None, description="tap this element first")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        if self.into is not None:
            into: Json = {}
            detail["into"] = into
            tap = TapElement(
                element=self.into, by=self.by, expect=self.expect, timeout=self.timeout
            )
            await tap.execute(customer, into)
        what = f"typing {self.text!r}"
        if self.by == "customer":
            await _customer_input(customer, Text(self.text), self, what, detail)
        else:
            event = {"type": "text", "text": self.text}
            await _agent_input(customer, event, self, what, detail)


# Alike in shape to wait.py's Wait, as the steps with one primary field are: each declares its own.
class PressKey(InputStep):
    kind = "key"
    primary = "key"
    summary = "Press a key (Enter, Tab, Backspace, Escape, Home, or one character)."
    key: Annotated[str, Field(min_length=1, max_length=16, description="the key's name")]

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        what = f"the {self.key} key"
        if self.by == "customer":
            await _customer_input(customer, Key(self.key), self, what, detail)
        else:
            await _agent_input(customer, {"type": "key", "key": self.key}, self, what, detail)


class ScrollElement(InputStep):
    kind = "scroll"
    primary = "element"
    summary = "Scroll inside a named element by dy (a fraction of the screen height)."
    element: ElementName
    dy: Annotated[float, Field(ge=-1, le=1)] = Field(
        default=0.25,
        description="how far, as a fraction of the screen height; positive shows more below",
    )

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        rect = await customer.element(self.element)
        what = f"scrolling {self.element}"
        if self.by == "customer":
            height = customer.tablet.size[1]
            cx, cy = rect.x + rect.width // 2, rect.y + rect.height // 2
            event = Scroll(cx, cy, 0, round(self.dy * height))
            await _customer_input(customer, event, self, what, detail)
            return
        x, y = customer.centre(rect)
        agent_event = {"type": "scroll", "x": x, "y": y, "dx": 0.0, "dy": self.dy}
        await _agent_input(customer, agent_event, self, what, detail)


async def _customer_input(
    customer: CustomerRun, event: InputEvent, step: InputStep, what: str, detail: Json
) -> None:
    before = customer.state()
    landed = await asyncio.to_thread(customer.tablet.inject, event, "customer")
    changes = _differences(before, customer.state())
    if step.expect == "applied" and not landed:
        raise StepFailed(f"the customer's {what} did nothing")
    if step.expect == "refused" and (landed or changes):
        raise StepFailed(
            f"the customer's {what} was expected to do nothing, but {changes or 'it landed'}"
        )
    customer.mark("input", f"customer: {what}")
    detail.update(changed=changes)


async def _agent_input(
    customer: CustomerRun, event: Json, step: InputStep, what: str, detail: Json
) -> None:
    pooled = customer.bound_agent()
    agent, device, tablet = pooled.agent, customer.device, customer.tablet
    before_state = customer.state()
    before = await asyncio.to_thread(lambda: tablet.capture().copy())
    applied, dropped = device.inputs_applied, device.inputs_dropped
    since = agent.frames_received
    sent = time.perf_counter()
    ack = await agent.send_input(event)
    error = ack.get("error") if isinstance(ack.get("error"), dict) else None
    if step.expect == "refused":
        how = f"refused by the server ({error.get('code')})" if error else ""
        if not error:
            with contextlib.suppress(StepFailed):
                await customer.until(
                    lambda: device.inputs_dropped > dropped or device.inputs_applied > applied,
                    2.0,
                    "the device handling the input",
                )
            how = (
                "dropped by the device"
                if device.inputs_dropped > dropped
                else "ignored by the tablet"
            )
        await asyncio.sleep(0.3)
        changes = _differences(before_state, customer.state(), ignore={"control", "consent"})
        if changes:
            raise StepFailed(
                f"{what} was expected to be refused, but it changed the device: {changes}"
            )
        customer.mark("input", f"agent: {what} ({how})")
        detail.update(refused=how)
        return
    if error:
        raise StepFailed(
            f"the server refused {what}: {error.get('code')}: {error.get('message')} "
            f"(the agent's control is '{agent.control}')"
        )
    done = await customer.until(
        lambda: device.inputs_applied > applied or device.inputs_dropped > dropped,
        step.timeout,
        f"the device applying {what}",
    )
    if device.inputs_dropped > dropped:
        raise StepFailed(f"the device dropped {what}: its own consent does not allow it")
    customer.record.add("control_apply_latency", done - sent)
    after, hidden = await asyncio.to_thread(
        lambda: (tablet.capture().copy(), tablet.sensitive_regions())
    )
    change = await asyncio.to_thread(px.Change.between, before, after, hidden)
    detail.update(apply_latency_s=round(done - sent, 4), changed_pixels=change.pixels)
    if change.pixels < 24:
        customer.mark("input", f"agent: {what} (no visible change)", done)
        return
    seen, _ = await customer.wait_frame(
        change.seen_in,
        since,
        step.timeout,
        f"the change from {what} never showed in the agent's video",
    )
    customer.record.add("control_latency", seen - sent)
    customer.mark("input", f"agent: {what}, seen after {(seen - sent) * 1000:.0f} ms", seen)
    detail.update(visible_latency_s=round(seen - sent, 4))


def _differences(
    before: dict[str, Any], after: dict[str, Any], ignore: set[str] | None = None
) -> str:
    skip = {"inputs_applied", "inputs_dropped", *(ignore or set())}
    changed = [
        f"{key} {json.dumps(before[key])} → {json.dumps(after.get(key))}"
        for key in before
        if key not in skip and before[key] != after.get(key)
    ]
    return ", ".join(changed)
