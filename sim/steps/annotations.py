"""The agent's marks on the customer's screen, sent on the ``annotations`` data channel.

A mark only counts when it comes back in the agent's own video: the step works out a pixel the
mark must cover (a *probe*) and the colour it must have there, and waits for a decoded frame that
shows it. ``annotation_latency`` is mark sent → mark seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field

from device_agent.screens.base import Rect
from signaling.annotations import Clear, Laser, Stroke

from .. import pixels as px
from ..errors import StepFailed
from .base import IN_SESSION, Color, ElementName, Json, Point, Seconds, Step

if TYPE_CHECKING:
    from ..customer import CustomerRun

__all__ = ["Annotate", "ClearAnnotations"]

HIGHLIGHT_ALPHA = 0.35
"""How opaque the device draws a highlight (device_agent.overlay)."""

Tool = Literal["arrow", "pen", "circle", "highlight", "laser"]


class Annotate(Step):
    kind = "annotate"
    primary = "tool"
    summary = "The agent draws a mark; it must come back in the agent's video."
    flow = IN_SESSION
    waits = 2
    tool: Tool = Field(default="arrow", description="arrow, pen, circle, highlight or laser")
    color: Annotated[Color, Field(description="mark colour")] = "#ff00ff"
    width: Annotated[float, Field(gt=0, le=0.05)] = Field(
        default=0.008, description="line width, a fraction of the screen width"
    )
    element: ElementName | None = Field(
        default=None, description="point at (arrow) or ring this element"
    )
    from_: Point | None = Field(default=None, alias="from", description="start point, normalized")
    to: Point | None = Field(default=None, description="end point, normalized")
    pinned: bool = Field(default=False, description="pinned marks do not fade")
    tolerance: Annotated[float, Field(gt=0, le=255)] = Field(
        default=60.0, description="per-channel difference that still counts as the mark's colour"
    )
    timeout: Seconds = Field(default=5.0, description="for the mark to show in the video")

    def extra_problems(self) -> list[tuple[tuple[str, ...], str]]:
        if self.element is not None and (self.from_ is not None or self.to is not None):
            return [(("element",), "give either element or from/to, not both")]
        if self.tool == "laser" and self.to is not None:
            return [(("to",), "a laser is one point: give from (or element), not to")]
        return []

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        agent = customer.bound_agent().agent
        tablet = customer.tablet
        rect = await customer.element(self.element) if self.element else None
        points, (x, y), radius = self._geometry(tablet.size, rect)
        colour = px.hex_rgb(self.color)
        baseline = px.patch_mean(await customer.latest_image(), x, y, radius)
        expected = colour.astype(np.float64)
        if self.tool == "highlight":
            # Translucent over the screen itself (marks replace each other in the overlay).
            screen = await asyncio.to_thread(lambda: tablet.capture().astype(np.int16))
            expected = (
                px.patch_mean(screen, x, y, radius) * (1 - HIGHLIGHT_ALPHA)
                + expected * HIGHLIGHT_ALPHA
            )
        contrast = px.colour_distance(baseline, expected)
        if contrast < 24:
            raise StepFailed(
                f"the {self.tool} in {self.color} would not stand out at ({x}, {y}), where the "
                f"screen is already {px.rgb_hex(baseline)}; choose another color or place"
            )
        tolerance = min(self.tolerance, contrast / 2)
        customer.marks_sent += 1
        message: Stroke | Laser
        if self.tool == "laser":
            message = Laser(x=points[0][0], y=points[0][1], color=self.color)
        else:
            record = customer.record
            message = Stroke(
                id=f"sim-{record.run}-{record.customer}-{customer.marks_sent}",
                tool=self.tool,
                color=self.color,
                width=self.width,
                points=points,
                pinned=self.pinned,
            )
        since = agent.frames_received
        sent = await agent.annotate(message)
        seen, _ = await customer.wait_frame(
            lambda image: (
                px.colour_distance(px.patch_mean(image, x, y, radius), expected) <= tolerance
            ),
            since,
            self.timeout,
            f"the {self.tool} never showed at ({x}, {y}) in the agent's video",
        )
        customer.record.add("annotation_latency", seen - sent)
        customer.mark("annotation", f"{self.tool} seen after {(seen - sent) * 1000:.0f} ms", seen)
        detail.update(latency_s=round(seen - sent, 4), probe=[x, y])

    def _geometry(
        self, size: tuple[int, int], rect: Rect | None
    ) -> tuple[list[tuple[float, float]], tuple[int, int], int]:
        """The mark's points (normalized), the pixel where it must show, and a probe radius."""
        width, height = size
        line = max(1, round(self.width * width))
        clamp: Callable[[float], float] = lambda v: min(0.98, max(0.02, v))  # noqa: E731
        if rect is not None:
            x0, y0 = rect.x / width, rect.y / height
            x1, y1 = (rect.x + rect.width) / width, (rect.y + rect.height) / height
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            pad_x, pad_y = 10 / width, 10 / height
            points = {
                "arrow": [(clamp(cx - 0.12), clamp(cy + 0.12)), (cx, cy)],
                "circle": [
                    (clamp(x0 - pad_x), clamp(y0 - pad_y)),
                    (clamp(x1 + pad_x), clamp(y1 + pad_y)),
                ],
                "pen": [(x0, clamp(y1 + pad_y)), (x1, clamp(y1 + pad_y))],
                "highlight": [(x0, cy), (x1, cy)],
                "laser": [(cx, cy)],
            }[self.tool]
        else:
            start = self.from_ or ((0.5, 0.5) if self.tool == "laser" else (0.3, 0.6))
            if self.to is not None:
                end = self.to
            elif self.tool == "circle":
                end = (clamp(start[0] + 0.2), clamp(start[1] + 0.15))
            else:
                end = (clamp(start[0] + 0.2), start[1])
            points = [start] if self.tool == "laser" else [start, end]
        if self.tool == "laser":
            (x, y), radius = points[0], 2
            return points, (round(x * width), round(y * height)), radius
        (sx, sy), (ex, ey) = points[0], points[-1]
        if self.tool == "circle":
            left, right = min(sx, ex) * width, max(sx, ex) * width
            top = min(sy, ey) * height
            probe = (round((left + right) / 2), round(top + line / 2))
        else:
            along = 0.4 if self.tool == "arrow" else 0.5
            probe = (
                round((sx + (ex - sx) * along) * width),
                round((sy + (ey - sy) * along) * height),
            )
        radius = max(0, min(2, (line * (5 if self.tool == "highlight" else 1) - 2) // 2))
        return points, probe, radius


class ClearAnnotations(Step):
    kind = "clear_annotations"
    summary = "The agent clears every mark."
    flow = IN_SESSION

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        await customer.bound_agent().agent.annotate(Clear())
        customer.mark("annotation", "cleared the marks")
