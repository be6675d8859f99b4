"""Assertions: the device is in a given state, or the agent's video shows a given colour.

``expect_state`` reads the state the simulator can see directly (the tablet, the device agent, the
agent's view of control: :data:`STATE_KEYS`, documented in ``docs/scenarios.md``); ``expect_pixels``
judges only what the agent decoded, as a person looking at the console would.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import ConfigDict, Field

from device_agent.screens.base import Rect

from .. import pixels as px
from ..errors import StepFailed
from ..source import suggest
from .base import IN_SESSION, Color, ElementName, Json, Point, Seconds, Step

if TYPE_CHECKING:
    from ..customer import CustomerRun

__all__ = ["COMPARISON", "STATE_KEYS", "ExpectPixels", "ExpectState"]

StateKind = Literal["bool", "int", "str", "str?", "int?", "list"]
# (kind, description) by key: a table, like report/charts.py's PHASES in shape only.
STATE_KEYS: dict[str, tuple[StateKind, str]] = {
    # the simulated tablet (SimulatedTablet.state())
    "current_app": ("str", "home, settings, books, mail, browser, photos, signin"),
    "wifi": ("bool", "Wi-Fi switch"),
    "bluetooth": ("bool", "Bluetooth switch"),
    "brightness": ("int", "0..100"),
    "focused_field": ("str?", "email, password or null"),
    "fields.email": ("str", "the sign-in form's email field"),
    "fields.password": ("str", "the sign-in form's password field"),
    "signed_in_as": ("str?", "the account signed in, or null"),
    "sign_in_error": ("str?", "the sign-in form's error, or null"),
    "paired_devices": ("list", "names of paired Bluetooth devices"),
    "scroll_offset": ("int", "Bluetooth list scroll, pixels"),
    "open_book": ("str?", "title of the open book, or null"),
    "selected_mail": ("int", "index of the selected mail"),
    "open_photo": ("int?", "index of the open photo, or null"),
    "customer_phase": ("str", "idle, queued, connecting, connected, ended"),
    # the device agent
    "consent": ("str", "the device's own consent: none, asked, granted, suspended"),
    "sharing_paused": ("bool", "the customer paused sharing"),
    "inputs_applied": ("int", "agent input events the device applied in this run"),
    "inputs_dropped": ("int", "agent input events the device refused in this run"),
    "annotations_visible": ("int", "marks on the customer's screen now"),
    "in_session": ("bool", "the device has a running session"),
    # the headless agent
    "control": ("str", "the agent's view of control: none, requested, granted, suspended"),
}
COMPARISON = re.compile(r"^\s*(==|!=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
"""A number state key may be compared instead of matched: ``">= 1"``."""

_KIND_SCHEMAS: dict[StateKind, Json] = {
    "bool": {"type": "boolean"},
    "int": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": COMPARISON.pattern}]},
    "int?": {
        "anyOf": [
            {"type": "integer"},
            {"type": "null"},
            {"type": "string", "pattern": COMPARISON.pattern},
        ]
    },
    "str": {"type": "string"},
    "str?": {"type": ["string", "null"]},
    "list": {"type": "array", "items": {"type": "string"}},
}


class ExpectState(Step):
    """Any key of :data:`STATE_KEYS` with the value it must have, plus ``timeout``."""

    model_config = ConfigDict(extra="allow")
    kind = "expect_state"
    summary = "Wait until the device (and agent) state has every given value."
    timeout: Seconds = Field(default=5.0, description="how long the state may take to get there")

    @property
    def expected(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    @classmethod
    def bare(cls) -> bool:
        return False  # it needs at least one state key

    @classmethod
    def adjust_schema(cls, definition: Json) -> None:
        """The state keys are fields too (the model takes them as extras): list them."""
        definition.pop("additionalProperties", None)
        properties = definition.setdefault("properties", {})
        for key, (kind, description) in STATE_KEYS.items():
            properties[key] = {**_KIND_SCHEMAS[kind], "description": description}
        definition["additionalProperties"] = False

    def extra_problems(self) -> list[tuple[tuple[str, ...], str]]:
        problems: list[tuple[tuple[str, ...], str]] = []
        if not self.expected:
            problems.append(((), "expect_state needs at least one key, e.g. bluetooth: true"))
        for key, value in self.expected.items():
            if key not in STATE_KEYS:
                problems.append(
                    (
                        (key,),
                        f"unknown state key '{key}'{suggest(key, tuple(STATE_KEYS))}; known: "
                        + ", ".join(STATE_KEYS),
                    )
                )
                continue
            problem = _value_problem(key, value)
            if problem:
                problems.append(((key,), problem))
        return problems

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        expected = self.expected
        deadline = time.perf_counter() + self.timeout
        while True:
            state = customer.state()
            wrong = [
                problem
                for key, want in expected.items()
                if (problem := _mismatch(key, state.get(key), want)) is not None
            ]
            if not wrong:
                detail.update(state={key: state.get(key) for key in expected})
                return
            if time.perf_counter() > deadline:
                raise StepFailed("; ".join(wrong) + f" (waited {self.timeout:g} s)")
            await asyncio.sleep(0.02)


def _value_problem(key: str, value: object) -> str | None:
    """Why ``value`` cannot be what state key ``key`` is expected to be, if it cannot."""
    kind, _ = STATE_KEYS[key]
    if kind == "bool":
        return None if isinstance(value, bool) else f"{key} is true or false, not {value!r}"
    if kind in ("int", "int?"):
        if value is None and kind == "int?":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        if isinstance(value, str) and COMPARISON.match(value):
            return None
        return f'{key} takes a number or a comparison such as ">= 1", not {value!r}'
    if kind in ("str", "str?"):
        if value is None and kind == "str?":
            return None
        return None if isinstance(value, str) else f"{key} takes text, not {value!r}"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    return f"{key} takes a list of names, not {value!r}"


def _mismatch(key: str, actual: Any, want: Any) -> str | None:
    """How the state differs from what is expected of ``key``, or ``None`` when it holds."""
    if isinstance(want, str) and STATE_KEYS[key][0] in ("int", "int?"):
        match = COMPARISON.match(want)
        if match and isinstance(actual, int | float) and not isinstance(actual, bool):
            op, bound = match.group(1), float(match.group(2))
            ok = {
                "==": actual == bound,
                "!=": actual != bound,
                ">=": actual >= bound,
                "<=": actual <= bound,
                ">": actual > bound,
                "<": actual < bound,
            }[op]
            return None if ok else f"{key} is {actual}, expected {op} {match.group(2)}"
    if isinstance(want, list) and isinstance(actual, list):
        if sorted(map(str, want)) == sorted(map(str, actual)):
            return None
    elif actual == want and type(actual) is type(want):
        return None
    return f"{key} is {json.dumps(actual)}, expected {json.dumps(want)}"


class ExpectPixels(Step):
    kind = "expect_pixels"
    summary = "A named element (or point) has a colour in the agent's received video."
    flow = IN_SESSION
    element: ElementName | None = Field(default=None, description="the element to look at")
    point: Point | None = Field(default=None, description="instead of element: a 9×9 patch here")
    color: Annotated[Color, Field(description="expected colour")]
    tolerance: Annotated[float, Field(gt=0, le=255)] = Field(
        default=48.0, description="largest per-channel difference that counts as this colour"
    )
    min_fraction: Annotated[float, Field(gt=0, le=1)] = Field(
        default=0.25, description="share of the element's pixels that must have the colour"
    )
    timeout: Seconds = Field(default=5.0, description="for a frame with the colour to arrive")

    def extra_problems(self) -> list[tuple[tuple[str, ...], str]]:
        if (self.element is None) == (self.point is None):
            return [((), "give exactly one of element or point")]
        return []

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        if self.element is not None:
            rect = await customer.element(self.element)
            what = self.element
        else:
            assert self.point is not None
            width, height = customer.tablet.size
            x, y = round(self.point[0] * (width - 1)), round(self.point[1] * (height - 1))
            rect = Rect(x - 4, y - 4, 9, 9)
            what = f"the point ({self.point[0]:g}, {self.point[1]:g})"
        colour = px.hex_rgb(self.color)
        best_fraction, best_colour = [0.0], ["none"]

        def matches(image: px.Image) -> bool:
            region = px.crop(image, rect)
            fraction = px.fraction_near(region, colour, self.tolerance)
            if fraction >= best_fraction[0]:
                best_fraction[0], best_colour[0] = fraction, px.dominant_colour(region)
            return fraction >= self.min_fraction

        agent = customer.bound_agent().agent
        try:
            await customer.wait_frame(
                matches, max(0, agent.frames_received - 1), self.timeout, "no match"
            )
        except StepFailed:
            raise StepFailed(
                f"{what} is not {self.color} in the agent's video: at best "
                f"{best_fraction[0]:.0%} of its pixels were within {self.tolerance:g} of it "
                f"(need {self.min_fraction:.0%}); its main colour there is {best_colour[0]} "
                f"(waited {self.timeout:g} s)"
            ) from None
        detail.update(fraction=round(best_fraction[0], 3))
