"""One run of a scenario: each customer's device and the agent who answers, step by step, measured.

The customer is a real :class:`~device_agent.DeviceAgent` on a fresh
:class:`~device_agent.screens.tablet.SimulatedTablet`; the customer's taps go through the tablet
(``origin="customer"``), exactly where a finger would land. The agent is a pooled
:class:`~sim.agent.HeadlessAgent` that speaks the console's protocol; its input goes
through ``control.input`` and comes back only as video. Where a step needs to know where
something is (an element's rectangle), the runner asks the tablet, as a person looking at the
screen would; what the agent *sees* is only ever judged from the frames it decoded.

A step fails with a reason (:class:`StepFailed`); the run stops at the first failing step and
always cleans up: the session is ended, the ticket cancelled, rings still waiting are declined.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import numpy as np
import structlog

from device_agent.agent import DeviceAgent
from device_agent.customer import CustomerView
from device_agent.screens.base import InputEvent, Key, Rect, Scroll, Tap, Text
from device_agent.screens.tablet import SimulatedTablet
from signaling import ProtocolError
from signaling.annotations import Clear, Laser, Stroke

from . import pixels as px
from .metrics import Interval, Mark, RunRecord, SessionRecord, StepRecord
from .pool import AgentPool, DeviceSlot, PooledAgent, RingOffer
from .scenario import (
    STATE_KEYS,
    AgentDeclines,
    Annotate,
    ClearAnnotations,
    CustomerAllows,
    CustomerCancels,
    CustomerDenies,
    CustomerStopsControl,
    DropNetwork,
    End,
    ExpectPixels,
    ExpectState,
    InputStep,
    PauseSharing,
    PressHelp,
    PressKey,
    ReleaseControl,
    RequestControl,
    ResumeSharing,
    Scenario,
    ScrollElement,
    Step,
    TapElement,
    TypeText,
    Wait,
    WaitForAgent,
)

__all__ = ["SimContext", "StepFailed", "run_scenario"]

log = structlog.get_logger("mayday.sim.runner")

UNREACHABLE_URL = "http://127.0.0.1:9"
"""Where the device's reconnect attempts go while its network is down (nothing listens there)."""
POLL_S = 0.005
HIGHLIGHT_ALPHA = 0.35
"""How opaque the device draws a highlight (device_agent.overlay)."""


class StepFailed(Exception):
    """A step did not do what the scenario says; the message is the reason, for people."""


@dataclass
class SimContext:
    url: str
    http: aiohttp.ClientSession
    pool: AgentPool
    origin: float
    """``perf_counter()`` at the start of the simulation; records use seconds since then."""

    def rel(self, t: float) -> float:
        return t - self.origin


Json = dict[str, Any]


class CustomerRun:
    def __init__(
        self, ctx: SimContext, scenario: Scenario, run: int, customer: int, slot: DeviceSlot
    ) -> None:
        self.ctx = ctx
        self.scenario = scenario
        self.slot = slot
        self.record = SessionRecord(
            scenario=scenario.name,
            file=scenario.file,
            run=run,
            customer=customer,
            device=slot.name,
            start=ctx.rel(time.perf_counter()),
        )
        self.tablet: SimulatedTablet | None = None
        self.device: DeviceAgent | None = None
        self.board: asyncio.Queue[RingOffer] = asyncio.Queue()
        self.bound: PooledAgent | None = None
        self.views: list[tuple[float, CustomerView]] = []
        self.t_help: float | None = None
        self.first_ring_at: float | None = None
        self.ticket_id: str | None = None
        self.declined_by: set[str] = set()
        self.consent_request: tuple[float, float] | None = None
        self.accepted_at: float | None = None
        self.first_frame_at: float | None = None
        self.frame_times: list[float] | None = None
        self.current_step = 0
        self.max_position: int | None = None
        self._open: dict[str, Interval] = {}
        self._real_url: str | None = None
        self._marks = 0

    # --- lifecycle ------------------------------------------------------------------------------

    async def setup(self) -> None:
        setup = self.scenario.tablet
        tablet = SimulatedTablet(
            bluetooth=setup.bluetooth, wifi=setup.wifi, brightness=setup.brightness
        )
        self.tablet = tablet
        self.board = self.ctx.pool.open_board(self.slot.name)
        self.device = DeviceAgent(
            self.ctx.url,
            device_id=self.slot.device_id,
            device_secret=self.slot.device_secret,
            source=tablet,
            locale=setup.locale,
            topic=setup.topic,
            customer_surface=self._on_view,
        )
        await asyncio.to_thread(tablet.elements)  # the first render, off the event loop
        await self.device.start()

    def _on_view(self, view: CustomerView) -> None:
        if self.tablet is not None:
            self.tablet.set_customer_view(view)
        self.views.append((time.perf_counter(), view))
        if view.position is not None:
            self.max_position = max(self.max_position or 0, view.position)

    async def execute(self) -> None:
        for spec in self.scenario.steps:
            self.current_step = spec.index
            started = time.perf_counter()
            detail: Json = {}
            error: str | None = None
            try:
                await self._run_step(spec.step, detail)
            except StepFailed as exc:
                error = str(exc)
            except ProtocolError as exc:
                error = f"the server answered {exc.code.value}: {exc.message}"
            except Exception as exc:
                log.exception("sim.step_crashed", step=spec.kind)
                error = f"unexpected {type(exc).__name__}: {exc}"
            ended = time.perf_counter()
            self.record.steps.append(
                StepRecord(
                    index=spec.index,
                    kind=spec.kind,
                    line=spec.line,
                    start=self.ctx.rel(started),
                    end=self.ctx.rel(ended),
                    ok=error is None,
                    error=error,
                    detail=detail,
                )
            )
            if error is not None:
                self.fail(f"{spec.where(self.scenario.file)}: {error}", ended)
                return

    def fail(self, reason: str, at: float | None = None) -> None:
        if not self.record.ok:
            return
        self.record.ok = False
        self.record.failure = reason
        self._mark("failure", reason, at, ok=False)

    def finish(self) -> None:
        now = time.perf_counter()
        if self.bound is not None:
            self._session_over(now)
        for kind in list(self._open):
            self._close(kind, now)
        if self.max_position is not None:
            self.record.add("queue_position", float(self.max_position))
        self.record.end = self.ctx.rel(now)

    async def cleanup(self) -> None:
        device = self.device
        if device is None:
            return
        if self._real_url is not None:
            device.client.sio.connection_url = self._real_url
            self._real_url = None
            with contextlib.suppress(Exception):
                await self._until(lambda: device.client.connected, 10, "reconnect")
        with contextlib.suppress(Exception):
            if device.session is not None:
                if self.bound is not None:
                    await self.bound.agent.end_session("sim_cleanup")
                else:
                    await device.end_session("sim_cleanup")
                await self._until(device.ended.is_set, 5, "end")
            elif device.ticket is not None:
                await device.cancel_help()
                await self._until(device.ended.is_set, 5, "cancel")
        await self.ctx.pool.close_board(self.slot.name)
        with contextlib.suppress(Exception):
            await device.close()

    # --- helpers --------------------------------------------------------------------------------

    def _mark(self, kind: str, label: str, at: float | None = None, ok: bool = True) -> None:
        t = time.perf_counter() if at is None else at
        self.record.marks.append(Mark(self.ctx.rel(t), kind, label, ok))

    def _begin(self, kind: str, at: float, label: str = "") -> None:
        self._close(kind, at)
        interval = Interval(kind, self.ctx.rel(at), None, label)
        self._open[kind] = interval
        self.record.intervals.append(interval)

    def _close(self, kind: str, at: float) -> None:
        interval = self._open.pop(kind, None)
        if interval is not None:
            interval.end = self.ctx.rel(at)

    @property
    def _tablet(self) -> SimulatedTablet:
        assert self.tablet is not None
        return self.tablet

    @property
    def _device(self) -> DeviceAgent:
        assert self.device is not None
        return self.device

    def _agent(self) -> PooledAgent:
        if self.bound is None:
            raise StepFailed("no agent is in a session with this customer")
        return self.bound

    async def _until(self, condition: Callable[[], bool], timeout: float, what: str) -> float:
        """``perf_counter()`` when ``condition`` first holds; fails after ``timeout``."""
        deadline = time.perf_counter() + timeout
        while True:
            if condition():
                return time.perf_counter()
            if time.perf_counter() > deadline:
                raise StepFailed(f"{what} did not happen within {timeout:g} s")
            await asyncio.sleep(POLL_S)

    def _view_since(self, since: float, predicate: Callable[[CustomerView], bool]) -> float | None:
        for at, view in self.views:
            if at >= since and predicate(view):
                return at
        return None

    async def _element(self, name: str) -> Rect:
        elements = await asyncio.to_thread(self._tablet.elements)
        rect = elements.get(name)
        if rect is None:
            app = self._tablet.state()["current_app"]
            shown = ", ".join(sorted(elements))
            raise StepFailed(f"'{name}' is not on the screen now (app {app}; on screen: {shown})")
        return rect

    async def _customer_tap(self, name: str, wait: float = 3.0) -> float:
        """The customer taps a named element; returns when the finger landed.

        Like a person, the customer waits a moment for a button that is about to show (the Pause
        button appears once the device itself sees its media connected)."""
        deadline = time.perf_counter() + wait
        while name not in await asyncio.to_thread(self._tablet.elements):
            if time.perf_counter() > deadline:
                await self._element(name)  # fails, listing what is on the screen
            await asyncio.sleep(0.02)
        at = time.perf_counter()
        landed = await asyncio.to_thread(self._tablet.tap, name, "customer")
        if not landed:
            raise StepFailed(f"the customer's tap on '{name}' did nothing")
        return at

    def _centre(self, rect: Rect) -> tuple[float, float]:
        """The element's centre as normalized input coordinates (the device maps v·(size−1))."""
        width, height = self._tablet.size
        cx, cy = rect.x + rect.width // 2, rect.y + rect.height // 2
        return cx / (width - 1), cy / (height - 1)

    async def _wait_frame(
        self, predicate: Callable[[px.Image], bool], since: int, timeout: float, what: str
    ) -> tuple[float, px.Image]:
        """The first frame decoded after frame ``since`` that satisfies ``predicate``."""
        agent = self._agent().agent
        size = self._tablet.size
        deadline = time.perf_counter() + timeout
        last = since

        def check(frame: Any) -> tuple[bool, px.Image]:
            image = px.rgb(frame, size)
            return predicate(image), image

        while True:
            for index, at, frame in list(agent.recent_frames):
                if index <= last:
                    continue
                last = index
                ok, image = await asyncio.to_thread(check, frame)
                if ok:
                    return at, image
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise StepFailed(f"{what} within {timeout:g} s")
            agent.frame_event.clear()
            if agent.frames_received > last:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(agent.frame_event.wait(), remaining)

    async def _latest_image(self, timeout: float = 5.0) -> px.Image:
        agent = self._agent().agent
        if agent.recent_frames:
            frame = agent.recent_frames[-1][2]
            return await asyncio.to_thread(px.rgb, frame, self._tablet.size)
        _, image = await self._wait_frame(lambda _: True, 0, timeout, "no video frame arrived")
        return image

    async def _control_state(
        self, state: str, reasons: set[str], timeout: float, wrong: set[str]
    ) -> tuple[Json, float]:
        """Wait for the agent's ``control.state`` ``state`` (with one of ``reasons``)."""
        agent = self._agent().agent
        deadline = time.perf_counter() + timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise StepFailed(
                    f"the agent never saw control '{state}' within {timeout:g} s "
                    f"(its control is '{agent.control}')"
                )
            try:
                update = await asyncio.wait_for(agent.control_states.get(), remaining)
            except TimeoutError:
                continue
            got, reason = update.get("state"), update.get("reason")
            if got == state and (not reasons or reason in reasons):
                return update, time.perf_counter()
            if got in wrong:
                raise StepFailed(f"control became '{got}' ({reason}) instead of '{state}'")

    def _drain_control(self) -> None:
        queue = self._agent().agent.control_states
        while not queue.empty():
            queue.get_nowait()

    def _state(self) -> dict[str, Any]:
        device = self._device
        state: dict[str, Any] = dict(self._tablet.state())
        fields = state.pop("fields")
        state["fields.email"] = fields["email"]
        state["fields.password"] = fields["password"]
        state["consent"] = device.consent.state.value
        state["sharing_paused"] = device.paused
        state["inputs_applied"] = device.inputs_applied
        state["inputs_dropped"] = device.inputs_dropped
        state["annotations_visible"] = len(device.annotations.visible())
        state["in_session"] = device.session is not None
        state["control"] = self.bound.agent.control if self.bound is not None else "none"
        return state

    def _session_over(self, at: float) -> None:
        """The agent is no longer this customer's: close the books on the session."""
        pooled, self.bound = self.bound, None
        for kind in ("connecting", "session", "control", "paused"):
            self._close(kind, at)
        if pooled is not None and self.accepted_at is not None:
            pooled.busy.append((self.ctx.rel(self.accepted_at), self.ctx.rel(at)))
            self.record.add("session_duration", at - self.accepted_at)
        self._frame_rates(at)

    def _frame_rates(self, until: float) -> None:
        times = [t for t in (self.frame_times or []) if t <= until]
        self.frame_times = None
        if len(times) >= 2 and times[-1] > times[0]:
            self.record.add("fps", (len(times) - 1) / (times[-1] - times[0]))
        if times:
            origin = times[0]
            series = [0] * (int(times[-1] - origin) + 1)
            for t in times:
                series[int(t - origin)] += 1
            self.record.fps_series = series
            self.record.fps_origin = self.ctx.rel(origin)
            self.record.add("fps_peak", float(max(series)))

    # --- steps ----------------------------------------------------------------------------------

    async def _run_step(self, step: Step, detail: Json) -> None:
        handlers: dict[type[Step], Callable[[Any, Json], Awaitable[None]]] = {
            PressHelp: self._press_help,
            WaitForAgent: self._wait_for_agent,
            AgentDeclines: self._agent_declines,
            CustomerCancels: self._customer_cancels,
            Annotate: self._annotate,
            ClearAnnotations: self._clear_annotations,
            RequestControl: self._request_control,
            CustomerAllows: self._customer_answers,
            CustomerDenies: self._customer_answers,
            CustomerStopsControl: self._customer_stops_control,
            ReleaseControl: self._release_control,
            TapElement: self._tap,
            TypeText: self._type_text,
            PressKey: self._key,
            ScrollElement: self._scroll,
            ExpectState: self._expect_state,
            ExpectPixels: self._expect_pixels,
            PauseSharing: self._pause_sharing,
            ResumeSharing: self._resume_sharing,
            DropNetwork: self._drop_network,
            Wait: self._wait,
            End: self._end,
        }
        await handlers[type(step)](step, detail)

    async def _press_help(self, step: PressHelp, detail: Json) -> None:
        device = self._device
        if step.topic:
            device.topic = step.topic
        if step.locale:
            device.locale = step.locale
        self.first_ring_at, self.ticket_id = None, None
        self.declined_by.clear()
        at = await self._customer_tap("customer.help")
        self.t_help = at
        self._begin("queue", at, "waiting for an agent")
        self._mark("help", "the customer tapped Help", at)
        await self._until(
            lambda: device.ticket is not None or device.session is not None,
            step.timeout,
            "the ticket opening (the help.request ack)",
        )
        ticket = device.ticket or {}
        self.ticket_id = str(ticket.get("id") or (device.session or {}).get("session_id") or "")
        detail.update(ticket=self.ticket_id, position=ticket.get("position"))

    async def _next_ring(self, timeout: float) -> RingOffer:
        deadline = time.perf_counter() + timeout
        while True:
            remaining = deadline - time.perf_counter()
            try:
                offer = await asyncio.wait_for(self.board.get(), max(0.0, remaining))
            except TimeoutError:
                agents = len(self.ctx.pool.agents)
                hint = ""
                if self.declined_by and len(self.declined_by) >= agents:
                    hint = (
                        f"; every agent ({agents}) has declined this customer, and the server "
                        "never rings an agent again for a customer it declined"
                    )
                elif self.declined_by and agents == 1:
                    hint = "; declining needs a second agent (--agents 2 or more)"
                raise StepFailed(
                    f"no agent was rung for this customer within {timeout:g} s "
                    f"({agents} agents in the simulation){hint}"
                ) from None
            if self.ticket_id and offer.ticket_id and offer.ticket_id != self.ticket_id:
                await self.ctx.pool.decline(offer)  # a ring for an earlier ticket of this device
                continue
            if offer.ring_id in self.ctx.pool.cancelled_rings:
                continue  # over already (e.g. the device dropped off while it rang)
            if self.first_ring_at is None:
                self.first_ring_at = offer.received_at
                if self.t_help is not None:
                    self.record.add("time_to_ring", offer.received_at - self.t_help)
            self._mark("ring", f"rang {offer.agent.name}", offer.received_at)
            return offer

    async def _wait_for_agent(self, step: WaitForAgent, detail: Json) -> None:
        deadline = time.perf_counter() + step.timeout
        while True:
            offer = await self._next_ring(max(0.01, deadline - time.perf_counter()))
            pooled = offer.agent
            if pooled.name in self.declined_by:
                raise StepFailed(f"{pooled.name} declined this customer, yet was rung for it again")
            accepted = time.perf_counter()
            try:
                session_id = await pooled.agent.accept(offer.ring_id)
                break
            except ProtocolError as exc:
                if offer.ring_id in self.ctx.pool.cancelled_rings or exc.code.value in (
                    "conflict",
                    "not_found",
                ):
                    # The ring was over before the accept arrived; the customer is rung again.
                    self._mark("ring", f"{pooled.name}'s ring was over: {exc.message}")
                    continue
                raise StepFailed(
                    f"{pooled.name} could not accept the ring: {exc.code.value}: {exc.message}"
                ) from None
        self.bound = pooled
        pooled.sessions += 1
        self.accepted_at = accepted
        self.frame_times = pooled.agent.frame_times
        self.record.agents.append(pooled.name)
        self.record.session_id = session_id
        self._close("queue", accepted)
        self._begin("connecting", accepted, f"{pooled.name} accepted")
        self._mark("accept", f"{pooled.name} accepted", accepted)
        detail.update(agent=pooled.name, session_id=session_id)
        try:
            at, _ = await pooled.agent.wait_first_frame(timeout=step.first_frame_timeout)
        except TimeoutError:
            raise StepFailed(
                f"no video frame reached {pooled.name} within {step.first_frame_timeout:g} s of "
                "accepting"
            ) from None
        self.first_frame_at = at
        self.record.add("time_to_first_frame", at - accepted)
        device = self._device
        await self._until(
            device.media_connected.is_set,
            step.first_frame_timeout,
            "the device seeing its media connection up",
        )
        self._close("connecting", at)
        self._begin("session", at, f"with {pooled.name}")
        self._mark("first_frame", "first video frame", at)

    async def _agent_declines(self, step: AgentDeclines, detail: Json) -> None:
        offer = await self._next_ring(step.timeout)
        try:
            await offer.agent.agent.decline(offer.ring_id)
        except ProtocolError as exc:
            raise StepFailed(
                f"{offer.agent.name} could not decline: {exc.code.value}: {exc.message}"
            ) from None
        self.declined_by.add(offer.agent.name)
        self._mark("decline", f"{offer.agent.name} declined")
        detail.update(agent=offer.agent.name)

    async def _customer_cancels(self, step: CustomerCancels, detail: Json) -> None:
        device = self._device
        at = await self._customer_tap("customer.cancel")
        done = await self._until(
            device.ended.is_set, step.timeout, "the server ending the ticket (session.ended)"
        )
        self._close("queue", done)
        self._mark("cancel", "the customer cancelled", at)
        detail.update(seconds=round(done - at, 4))

    # --- annotations ----------------------------------------------------------------------------

    def _mark_geometry(
        self, step: Annotate, rect: Rect | None
    ) -> tuple[list[tuple[float, float]], tuple[int, int], int]:
        """The mark's points (normalized), the pixel where it must show, and a probe radius."""
        width, height = self._tablet.size
        line = max(1, round(step.width * width))
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
            }[step.tool]
        else:
            start = step.from_ or ((0.5, 0.5) if step.tool == "laser" else (0.3, 0.6))
            if step.to is not None:
                end = step.to
            elif step.tool == "circle":
                end = (clamp(start[0] + 0.2), clamp(start[1] + 0.15))
            else:
                end = (clamp(start[0] + 0.2), start[1])
            points = [start] if step.tool == "laser" else [start, end]
        if step.tool == "laser":
            (x, y), radius = points[0], 2
            return points, (round(x * width), round(y * height)), radius
        (sx, sy), (ex, ey) = points[0], points[-1]
        if step.tool == "circle":
            left, right = min(sx, ex) * width, max(sx, ex) * width
            top = min(sy, ey) * height
            probe = (round((left + right) / 2), round(top + line / 2))
        else:
            along = 0.4 if step.tool == "arrow" else 0.5
            probe = (
                round((sx + (ex - sx) * along) * width),
                round((sy + (ey - sy) * along) * height),
            )
        radius = max(0, min(2, (line * (5 if step.tool == "highlight" else 1) - 2) // 2))
        return points, probe, radius

    async def _annotate(self, step: Annotate, detail: Json) -> None:
        agent = self._agent().agent
        rect = await self._element(step.element) if step.element else None
        points, (x, y), radius = self._mark_geometry(step, rect)
        colour = px.hex_rgb(step.color)
        baseline = px.patch_mean(await self._latest_image(), x, y, radius)
        expected = colour.astype(np.float64)
        if step.tool == "highlight":
            # Translucent over the screen itself (marks replace each other in the overlay).
            screen = await asyncio.to_thread(lambda: self._tablet.capture().astype(np.int16))
            expected = (
                px.patch_mean(screen, x, y, radius) * (1 - HIGHLIGHT_ALPHA)
                + expected * HIGHLIGHT_ALPHA
            )
        contrast = px.colour_distance(baseline, expected)
        if contrast < 24:
            raise StepFailed(
                f"the {step.tool} in {step.color} would not stand out at ({x}, {y}), where the "
                f"screen is already {px.rgb_hex(baseline)}; choose another color or place"
            )
        tolerance = min(step.tolerance, contrast / 2)
        self._marks += 1
        message: Stroke | Laser
        if step.tool == "laser":
            message = Laser(x=points[0][0], y=points[0][1], color=step.color)
        else:
            message = Stroke(
                id=f"sim-{self.record.run}-{self.record.customer}-{self._marks}",
                tool=step.tool,
                color=step.color,
                width=step.width,
                points=points,
                pinned=step.pinned,
            )
        since = agent.frames_received
        sent = await agent.annotate(message)
        seen, _ = await self._wait_frame(
            lambda image: (
                px.colour_distance(px.patch_mean(image, x, y, radius), expected) <= tolerance
            ),
            since,
            step.timeout,
            f"the {step.tool} never showed at ({x}, {y}) in the agent's video",
        )
        self.record.add("annotation_latency", seen - sent)
        self._mark("annotation", f"{step.tool} seen after {(seen - sent) * 1000:.0f} ms", seen)
        detail.update(latency_s=round(seen - sent, 4), probe=[x, y])

    async def _clear_annotations(self, _step: ClearAnnotations, _detail: Json) -> None:
        await self._agent().agent.annotate(Clear())
        self._mark("annotation", "cleared the marks")

    # --- consent and control --------------------------------------------------------------------

    async def _request_control(self, step: RequestControl, detail: Json) -> None:
        agent = self._agent().agent
        self._drain_control()
        requested = time.perf_counter()
        try:
            await agent.request_control()
        except ProtocolError as exc:
            raise StepFailed(
                f"the server refused control.request: {exc.code.value}: {exc.message}"
            ) from None
        await self._until(
            lambda: self._tablet.customer_view.consent_requested,
            step.timeout,
            "the consent dialog showing on the tablet",
        )
        shown = self._view_since(requested, lambda v: v.consent_requested) or time.perf_counter()
        self.consent_request = (requested, shown)
        self._mark("control", "control requested", requested)
        detail.update(dialog_after_s=round(shown - requested, 4))

    async def _customer_answers(self, step: CustomerAllows | CustomerDenies, detail: Json) -> None:
        allow = isinstance(step, CustomerAllows)
        if step.delay:
            await asyncio.sleep(step.delay)
        if not self._tablet.customer_view.consent_requested:
            raise StepFailed(
                "there is no consent dialog on the customer's screen "
                f"(the agent's control is '{self._agent().agent.control}')"
            )
        tapped = await self._customer_tap("customer.allow" if allow else "customer.deny")
        if allow:
            _, answered = await self._control_state("granted", {"granted"}, step.timeout, {"none"})
        else:
            _, answered = await self._control_state("none", {"denied"}, step.timeout, {"granted"})
        if self.consent_request is not None:
            requested, shown = self.consent_request
            self.record.add("consent_round_trip", (shown - requested) + (answered - tapped))
            self.consent_request = None
        if allow:
            self._begin("control", answered, "remote control")
        self._mark(
            "control", "customer allowed control" if allow else "customer denied control", tapped
        )
        detail.update(answered_after_s=round(answered - tapped, 4))

    async def _customer_stops_control(self, step: CustomerStopsControl, detail: Json) -> None:
        device = self._device
        session_id = (device.session or {}).get("session_id", "")
        if not self._tablet.customer_view.control_active:
            raise StepFailed("there is no Stop control button: control is not active on the tablet")
        tapped = await self._customer_tap("customer.stop_control")
        await self._until(
            lambda: not device.consent.allows(session_id),
            1.0,
            "the device withdrawing consent at once",
        )
        _, seen = await self._control_state("none", {"revoked"}, step.timeout, set())
        self.record.add("revoke_latency", seen - tapped)
        self._close("control", seen)
        self._mark("control", "customer stopped control", tapped)
        detail.update(revoke_latency_s=round(seen - tapped, 4))

    async def _release_control(self, step: ReleaseControl, _detail: Json) -> None:
        agent = self._agent().agent
        self._drain_control()
        await agent.release_control()
        _, seen = await self._control_state("none", {"released"}, step.timeout, set())
        await self._until(
            lambda: not self._tablet.customer_view.control_active,
            step.timeout,
            "the Stop control button going away on the tablet",
        )
        self._close("control", seen)
        self._mark("control", "agent released control", seen)

    # --- input ----------------------------------------------------------------------------------

    async def _tap(self, step: TapElement, detail: Json) -> None:
        rect = await self._element(step.element)
        if step.by == "customer":
            cx, cy = rect.x + rect.width // 2, rect.y + rect.height // 2
            await self._customer_input(Tap(cx, cy), step, f"tap on {step.element}", detail)
            return
        x, y = self._centre(rect)
        await self._agent_input(
            {"type": "tap", "x": x, "y": y}, step, f"tap on {step.element}", detail
        )

    async def _type_text(self, step: TypeText, detail: Json) -> None:
        if step.into is not None:
            into: Json = {}
            detail["into"] = into
            await self._tap(
                TapElement(element=step.into, by=step.by, expect=step.expect, timeout=step.timeout),
                into,
            )
        what = f"typing {step.text!r}"
        if step.by == "customer":
            await self._customer_input(Text(step.text), step, what, detail)
        else:
            await self._agent_input({"type": "text", "text": step.text}, step, what, detail)

    async def _key(self, step: PressKey, detail: Json) -> None:
        what = f"the {step.key} key"
        if step.by == "customer":
            await self._customer_input(Key(step.key), step, what, detail)
        else:
            await self._agent_input({"type": "key", "key": step.key}, step, what, detail)

    async def _scroll(self, step: ScrollElement, detail: Json) -> None:
        rect = await self._element(step.element)
        what = f"scrolling {step.element}"
        if step.by == "customer":
            height = self._tablet.size[1]
            cx, cy = rect.x + rect.width // 2, rect.y + rect.height // 2
            await self._customer_input(
                Scroll(cx, cy, 0, round(step.dy * height)), step, what, detail
            )
            return
        x, y = self._centre(rect)
        event = {"type": "scroll", "x": x, "y": y, "dx": 0.0, "dy": step.dy}
        await self._agent_input(event, step, what, detail)

    async def _customer_input(
        self, event: InputEvent, step: InputStep, what: str, detail: Json
    ) -> None:
        before = self._state()
        landed = await asyncio.to_thread(self._tablet.inject, event, "customer")
        changes = _differences(before, self._state())
        if step.expect == "applied" and not landed:
            raise StepFailed(f"the customer's {what} did nothing")
        if step.expect == "refused" and (landed or changes):
            raise StepFailed(
                f"the customer's {what} was expected to do nothing, but {changes or 'it landed'}"
            )
        self._mark("input", f"customer: {what}")
        detail.update(changed=changes)

    async def _agent_input(self, event: Json, step: InputStep, what: str, detail: Json) -> None:
        pooled = self._agent()
        agent, device, tablet = pooled.agent, self._device, self._tablet
        before_state = self._state()
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
                    await self._until(
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
            changes = _differences(before_state, self._state(), ignore={"control", "consent"})
            if changes:
                raise StepFailed(
                    f"{what} was expected to be refused, but it changed the device: {changes}"
                )
            self._mark("input", f"agent: {what} ({how})")
            detail.update(refused=how)
            return
        if error:
            raise StepFailed(
                f"the server refused {what}: {error.get('code')}: {error.get('message')} "
                f"(the agent's control is '{agent.control}')"
            )
        done = await self._until(
            lambda: device.inputs_applied > applied or device.inputs_dropped > dropped,
            step.timeout,
            f"the device applying {what}",
        )
        if device.inputs_dropped > dropped:
            raise StepFailed(f"the device dropped {what}: its own consent does not allow it")
        self.record.add("control_apply_latency", done - sent)
        after, hidden = await asyncio.to_thread(
            lambda: (tablet.capture().copy(), tablet.sensitive_regions())
        )
        change = await asyncio.to_thread(px.Change.between, before, after, hidden)
        detail.update(apply_latency_s=round(done - sent, 4), changed_pixels=change.pixels)
        if change.pixels < 24:
            self._mark("input", f"agent: {what} (no visible change)", done)
            return
        seen, _ = await self._wait_frame(
            change.seen_in,
            since,
            step.timeout,
            f"the change from {what} never showed in the agent's video",
        )
        self.record.add("control_latency", seen - sent)
        self._mark("input", f"agent: {what}, seen after {(seen - sent) * 1000:.0f} ms", seen)
        detail.update(visible_latency_s=round(seen - sent, 4))

    # --- expectations ---------------------------------------------------------------------------

    async def _expect_state(self, step: ExpectState, detail: Json) -> None:
        expected = step.expected
        deadline = time.perf_counter() + step.timeout
        while True:
            state = self._state()
            wrong = [
                problem
                for key, want in expected.items()
                if (problem := _mismatch(key, state.get(key), want)) is not None
            ]
            if not wrong:
                detail.update(state={key: state.get(key) for key in expected})
                return
            if time.perf_counter() > deadline:
                raise StepFailed("; ".join(wrong) + f" (waited {step.timeout:g} s)")
            await asyncio.sleep(0.02)

    async def _expect_pixels(self, step: ExpectPixels, detail: Json) -> None:
        if step.element is not None:
            rect = await self._element(step.element)
            what = step.element
        else:
            assert step.point is not None
            width, height = self._tablet.size
            x, y = round(step.point[0] * (width - 1)), round(step.point[1] * (height - 1))
            rect = Rect(x - 4, y - 4, 9, 9)
            what = f"the point ({step.point[0]:g}, {step.point[1]:g})"
        colour = px.hex_rgb(step.color)
        best_fraction, best_colour = [0.0], ["none"]

        def matches(image: px.Image) -> bool:
            region = px.crop(image, rect)
            fraction = px.fraction_near(region, colour, step.tolerance)
            if fraction >= best_fraction[0]:
                best_fraction[0], best_colour[0] = fraction, px.dominant_colour(region)
            return fraction >= step.min_fraction

        agent = self._agent().agent
        try:
            await self._wait_frame(
                matches, max(0, agent.frames_received - 1), step.timeout, "no match"
            )
        except StepFailed:
            raise StepFailed(
                f"{what} is not {step.color} in the agent's video: at best "
                f"{best_fraction[0]:.0%} of its pixels were within {step.tolerance:g} of it "
                f"(need {step.min_fraction:.0%}); its main colour there is {best_colour[0]} "
                f"(waited {step.timeout:g} s)"
            ) from None
        detail.update(fraction=round(best_fraction[0], 3))

    # --- sharing and the network ----------------------------------------------------------------

    async def _pause_sharing(self, step: PauseSharing, detail: Json) -> None:
        agent = self._agent().agent
        since = agent.frames_received
        tapped = await self._customer_tap("customer.pause")
        seen, _ = await self._wait_frame(
            px.is_paused_card,
            since,
            step.timeout,
            "the paused card never showed in the agent's video",
        )
        self.record.add("pause_latency", seen - tapped)
        self._begin("paused", tapped, "sharing paused")
        self._mark("pause", "the customer paused sharing", tapped)
        await self._until(
            lambda: agent.device_status.get("sharing_paused") is True,
            step.timeout,
            "the device's status telling the agent that sharing is paused",
        )
        detail.update(latency_s=round(seen - tapped, 4))

    async def _resume_sharing(self, step: ResumeSharing, detail: Json) -> None:
        agent = self._agent().agent
        since = agent.frames_received
        tapped = await self._customer_tap("customer.resume")
        seen, _ = await self._wait_frame(
            lambda image: not px.is_paused_card(image),
            since,
            step.timeout,
            "the screen never came back in the agent's video",
        )
        self.record.add("pause_latency", seen - tapped)
        self._close("paused", tapped)
        self._mark("pause", "the customer resumed sharing", tapped)
        detail.update(latency_s=round(seen - tapped, 4))

    async def _drop_network(self, step: DropNetwork, detail: Json) -> None:
        device = self._device
        client = device.client
        sio = client.sio
        if not client.connected:
            raise StepFailed("the device is not connected, so there is no network to drop")
        in_session = device.session is not None and self.bound is not None
        agent = self.bound.agent if in_session and self.bound is not None else None
        control_before = agent.control if agent is not None else "none"
        if step.control_after == "resumed" and control_before != "granted":
            raise StepFailed(
                f"control_after: resumed, but control was '{control_before}' before the drop"
            )
        # The network goes: reconnect attempts fail, the socket closes, media stops.
        self._real_url = str(sio.connection_url)
        sio.connection_url = UNREACHABLE_URL
        dropped = time.perf_counter()
        self._begin("network_down", dropped, f"network down {step.seconds:g} s")
        if step.media and device.peer is not None:
            await device.peer.close()
        if sio.eio.ws is not None:
            await sio.eio.ws.close()
        await self._until(lambda: not client.connected, 5.0, "the device noticing the drop")
        await asyncio.sleep(max(0.0, step.seconds - (time.perf_counter() - dropped)))
        # The network is back: the client's own reconnect logic finds the server again.
        since = agent.frames_received if agent is not None else 0
        sio.connection_url, self._real_url = self._real_url, None
        back = time.perf_counter()
        self._close("network_down", back)
        self._mark("network", f"network down for {step.seconds:g} s", dropped)
        connected = await self._until(
            lambda: client.connected,
            step.timeout,
            "the device's socket reconnecting after the network came back",
        )
        self.record.add("reconnect_time", connected - back)
        detail.update(reconnect_s=round(connected - back, 4), control_before=control_before)
        if agent is None:
            self._mark("network", "back in the queue", connected)
            return
        if step.media:
            seen, _ = await self._wait_frame(
                lambda _: True,
                since,
                max(0.1, step.timeout - (time.perf_counter() - back)),
                "video never came back to the agent after the network returned",
            )
            self.record.add("resume_time", seen - back)
            self._mark("network", f"video back after {(seen - back) * 1000:.0f} ms", seen)
            detail.update(resume_s=round(seen - back, 4))
        if step.control_after == "resumed":
            try:
                _, resumed = await self._control_state(
                    "granted", {"resumed"}, step.timeout, {"none"}
                )
            except StepFailed as exc:
                raise StepFailed(
                    f"control did not resume after the network came back: {exc}"
                ) from None
            detail.update(control_resumed_s=round(resumed - back, 4))
        elif step.control_after == "none":
            await self._until(
                lambda: agent.control == "none",
                step.timeout,
                "control ending after the drop",
            )
            self._close("control", time.perf_counter())

    async def _wait(self, step: Wait, _detail: Json) -> None:
        await asyncio.sleep(step.seconds)

    async def _end(self, step: End, detail: Json) -> None:
        pooled = self._agent()
        device = self._device
        session_id = self.record.session_id
        started = time.perf_counter()
        if step.by == "agent":
            try:
                await pooled.agent.end_session(step.reason)
            except ProtocolError as exc:
                raise StepFailed(
                    f"the server refused session.end: {exc.code.value}: {exc.message}"
                ) from None
        else:
            await self._customer_tap("customer.end")
        ended = await self._until(
            device.ended.is_set, step.timeout, "the session ending on the device (session.ended)"
        )
        self._session_over(ended)
        self._mark("end", f"ended by the {step.by}", started)
        if step.rating is None:
            return
        await self._until(
            lambda: self._tablet.customer_view.rating_requested,
            step.timeout,
            "the rating card showing on the tablet",
        )
        await self._customer_tap(f"customer.rate.{step.rating}")
        rated = await self._recorded_rating(session_id, step.rating, step.timeout)
        self._mark("rating", f"rated {step.rating}", rated)
        detail.update(rating=step.rating)

    async def _recorded_rating(self, session_id: str | None, rating: int, timeout: float) -> float:
        """Wait until ``GET /api/sessions/{id}`` shows the rating (as the console would read it)."""
        url = f"{self.ctx.url}/api/sessions/{session_id}"
        headers = {"Authorization": f"Bearer {self.ctx.pool.any_token()}"}
        deadline = time.perf_counter() + timeout
        seen: object = None
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with self.ctx.http.get(url, headers=headers) as response:
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


# --------------------------------------------------------------------------------------------
# State comparisons

_COMPARE = re.compile(r"^\s*(==|!=|>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")


def _mismatch(key: str, actual: Any, want: Any) -> str | None:
    if isinstance(want, str) and STATE_KEYS[key][0] in ("int", "int?"):
        match = _COMPARE.match(want)
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


# --------------------------------------------------------------------------------------------
# A run


def _guard_seconds(scenario: Scenario) -> float:
    """A bound on a run's length: every step at its timeout, and some."""
    total = 30.0
    for spec in scenario.steps:
        step = spec.step
        for name in ("timeout", "first_frame_timeout", "seconds", "delay"):
            value = getattr(step, name, None)
            if isinstance(value, int | float) and not isinstance(value, bool):
                total += float(value)
        if isinstance(step, InputStep | Annotate | End):
            total += float(step.timeout)  # these can wait twice
    return total


async def run_scenario(
    ctx: SimContext, scenario: Scenario, run: int, slots: list[DeviceSlot]
) -> RunRecord:
    """Run ``scenario`` once with one customer per slot, all at the same time."""
    group = len(slots) > 1
    customers = [
        CustomerRun(ctx, scenario, run, index + 1 if group else 0, slot)
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
            await asyncio.wait_for(customer.execute(), guard)
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
