"""One customer of a run: their device and tablet, the agent who answers them, and what is measured.

The customer is a real :class:`~device_agent.DeviceAgent` on a fresh
:class:`~device_agent.screens.tablet.SimulatedTablet`; the customer's taps go through the tablet
(``origin="customer"``), exactly where a finger would land. The agent is a pooled
:class:`~sim.agent.HeadlessAgent` that speaks the console's protocol; its input goes through
``control.input`` and comes back only as video. Where a step needs to know where something is (an
element's rectangle), it asks the tablet, as a person looking at the screen would; what the agent
*sees* is only ever judged from the frames it decoded.

:class:`CustomerRun` is what the steps (:mod:`sim.steps`) work on: the customer's state between
steps and the helpers they share (waiting with a deadline, tapping, reading frames, recording
marks and intervals). It knows nothing of the steps themselves, which is what lets a step module
be added without touching it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from device_agent.agent import DeviceAgent
from device_agent.customer import CustomerView
from device_agent.screens.base import Rect
from device_agent.screens.tablet import SimulatedTablet

from . import pixels as px
from .errors import StepFailed
from .failover import Failover
from .pool import AgentPool, DeviceSlot, PooledAgent, RingOffer
from .records import Interval, Mark, SessionRecord

__all__ = ["CustomerRun", "SimContext", "TabletStart"]

POLL_S = 0.005

Json = dict[str, Any]


@dataclass
class SimContext:
    """What every run of a simulation shares: the server, the HTTP client, the agents, the clock."""

    url: str
    http: aiohttp.ClientSession
    pool: AgentPool
    origin: float
    """``perf_counter()`` at the start of the simulation; records use seconds since then."""
    urls: list[str] = field(default_factory=list)
    """Every server process's URL when there are several (``url`` is the first)."""

    def rest_url(self, attempt: int = 0) -> str:
        """Where a REST request goes: ``url``, or with several processes the next one on each
        attempt (a request to a process that is restarting fails; another answers the same)."""
        urls = self.urls or [self.url]
        return urls[attempt % len(urls)]

    def rel(self, t: float) -> float:
        return t - self.origin


class TabletStart(Protocol):
    """How the customer's tablet starts (a scenario's ``tablet:``)."""

    @property
    def bluetooth(self) -> bool: ...
    @property
    def wifi(self) -> bool: ...
    @property
    def brightness(self) -> int: ...
    @property
    def locale(self) -> str: ...
    @property
    def topic(self) -> str: ...


class CustomerRun:
    """One customer going through a scenario's steps, and the state the steps leave for the next."""

    # Keyword-only parameters kept as attributes: a constructor, alike in shape only to others
    # (device_agent's Apps).
    def __init__(
        self,
        ctx: SimContext,
        *,
        scenario: str,
        file: str,
        tablet: TabletStart,
        run: int,
        customer: int,
        slot: DeviceSlot,
    ) -> None:
        self.ctx = ctx
        self.tablet_start = tablet
        self.slot = slot
        self.record = SessionRecord(
            scenario=scenario,
            file=file,
            run=run,
            customer=customer,
            device=slot.name,
            start=ctx.rel(time.perf_counter()),
        )
        self._tablet: SimulatedTablet | None = None
        self._device: DeviceAgent | None = None
        self.board: asyncio.Queue[RingOffer] = asyncio.Queue()
        """Rings for this customer's device, as the pool receives them."""
        self.bound: PooledAgent | None = None
        """The agent in a session with this customer, from the accept to the end."""
        self.views: list[tuple[float, CustomerView]] = []
        self.t_help: float | None = None
        self.first_ring_at: float | None = None
        self.ticket_id: str | None = None
        self.declined_by: dict[str, float] = {}
        """Agents who declined this customer's ticket, and when (``perf_counter``)."""
        self.consent_request: tuple[float, float] | None = None
        """(requested, dialog shown) of the control request waiting for the customer's answer."""
        self.accepted_at: float | None = None
        self.first_frame_at: float | None = None
        self.frame_times: list[float] | None = None
        self.current_step = 0
        self.max_position: int | None = None
        self.real_url: str | None = None
        """The server's URL while the device's network is down (see drop_network)."""
        self.marks_sent = 0
        self.socket_losses = 0
        """Times the device's socket went down (a transfer must not cost the customer theirs)."""
        self.supervisor: PooledAgent | None = None
        """The supervisor this run borrowed from the pool, while it watches this customer."""
        self._open: dict[str, Interval] = {}

    # --- lifecycle ------------------------------------------------------------------------------

    async def setup(self) -> None:
        setup = self.tablet_start
        tablet = SimulatedTablet(
            bluetooth=setup.bluetooth, wifi=setup.wifi, brightness=setup.brightness
        )
        self._tablet = tablet
        self.board = self.ctx.pool.open_board(self.slot.name)
        self._device = DeviceAgent(
            self.ctx.url,
            device_id=self.slot.device_id,
            device_secret=self.slot.device_secret,
            source=tablet,
            locale=setup.locale,
            topic=setup.topic,
            customer_surface=self._on_view,
        )
        Failover(self.ctx.urls or [self.ctx.url], self.slot.index).install(self._device.client)
        self._device.client.on_disconnect(self._on_socket_lost)
        await asyncio.to_thread(tablet.elements)  # the first render, off the event loop
        await self._device.start()

    async def _on_socket_lost(self, *_: object) -> None:
        self.socket_losses += 1

    def _on_view(self, view: CustomerView) -> None:
        if self._tablet is not None:
            self._tablet.set_customer_view(view)
        self.views.append((time.perf_counter(), view))
        if view.position is not None:
            self.max_position = max(self.max_position or 0, view.position)

    def fail(self, reason: str, at: float | None = None) -> None:
        if not self.record.ok:
            return
        self.record.ok = False
        self.record.failure = reason
        self.mark("failure", reason, at, ok=False)

    def finish(self) -> None:
        now = time.perf_counter()
        if self.bound is not None:
            self.session_over(now)
        for kind in list(self._open):
            self.close(kind, now)
        if self.max_position is not None:
            self.record.add("queue_position", float(self.max_position))
        self.record.end = self.ctx.rel(now)

    async def cleanup(self) -> None:
        """Leave the server clean for the next run: session ended, ticket cancelled, device gone."""
        device = self._device
        if device is None:
            return
        with contextlib.suppress(Exception):
            await self.release_supervisor()
        if self.real_url is not None:
            device.client.sio.connection_url = self.real_url
            self.real_url = None
            with contextlib.suppress(Exception):
                await self.until(lambda: device.client.connected, 10, "reconnect")
        with contextlib.suppress(Exception):
            if device.session is not None:
                if self.bound is not None:
                    await self.bound.agent.end_session("sim_cleanup")
                else:
                    await device.end_session("sim_cleanup")
                await self.until(device.ended.is_set, 5, "end")
            elif device.ticket is not None:
                await device.cancel_help()
                await self.until(device.ended.is_set, 5, "cancel")
        await self.ctx.pool.close_board(self.slot.name)
        with contextlib.suppress(Exception):
            await device.close()

    async def release_supervisor(self, timeout: float = 5.0) -> None:
        """Give the borrowed supervisor back to the pool, no longer watching anything: it leaves a
        session still running; one that ended (a transfer, the end) must first have reached it,
        or its late ``session.ended`` would end the next run's watch."""
        pooled, self.supervisor = self.supervisor, None
        if pooled is None:
            return
        agent = pooled.agent
        try:
            watched = (agent.session or {}).get("session_id")
            if watched is not None and watched == (self.device.session or {}).get("session_id"):
                with contextlib.suppress(Exception):
                    await agent.leave()
            elif watched is not None:
                with contextlib.suppress(StepFailed):
                    await self.until(lambda: agent.session is None, timeout, "session.ended")
                if agent.session is not None:
                    with contextlib.suppress(Exception):
                        await agent.leave()
        finally:
            self.ctx.pool.release_supervisor(pooled)

    # --- the record -----------------------------------------------------------------------------

    def mark(self, kind: str, label: str, at: float | None = None, ok: bool = True) -> None:
        """A moment on the session's timeline (``at``: ``perf_counter()``, default now)."""
        t = time.perf_counter() if at is None else at
        self.record.marks.append(Mark(self.ctx.rel(t), kind, label, ok))

    def begin(self, kind: str, at: float, label: str = "") -> None:
        """Open an interval of the timeline (queue, session, control, …), closing an open one."""
        self.close(kind, at)
        interval = Interval(kind, self.ctx.rel(at), None, label)
        self._open[kind] = interval
        self.record.intervals.append(interval)

    def close(self, kind: str, at: float) -> None:
        interval = self._open.pop(kind, None)
        if interval is not None:
            interval.end = self.ctx.rel(at)

    def session_over(self, at: float) -> None:
        """The agent is no longer this customer's: close the books on the session."""
        pooled, self.bound = self.bound, None
        for kind in ("connecting", "session", "control", "paused"):
            self.close(kind, at)
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

    # --- the parties ----------------------------------------------------------------------------

    @property
    def tablet(self) -> SimulatedTablet:
        assert self._tablet is not None
        return self._tablet

    @property
    def device(self) -> DeviceAgent:
        assert self._device is not None
        return self._device

    def bound_agent(self) -> PooledAgent:
        """The customer's agent; fails the step when there is none."""
        if self.bound is None:
            raise StepFailed("no agent is in a session with this customer")
        return self.bound

    def state(self) -> dict[str, Any]:
        """The state keys of ``expect_state``: the tablet's, the device's, the agent's control."""
        device = self.device
        state: dict[str, Any] = dict(self.tablet.state())
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

    # --- waiting and looking --------------------------------------------------------------------

    async def until(self, condition: Callable[[], bool], timeout: float, what: str) -> float:
        """``perf_counter()`` when ``condition`` first holds; fails after ``timeout``."""
        deadline = time.perf_counter() + timeout
        while True:
            if condition():
                return time.perf_counter()
            if time.perf_counter() > deadline:
                raise StepFailed(f"{what} did not happen within {timeout:g} s")
            await asyncio.sleep(POLL_S)

    def view_since(self, since: float, predicate: Callable[[CustomerView], bool]) -> float | None:
        """When the customer's screen first showed a view matching ``predicate`` after ``since``."""
        for at, view in self.views:
            if at >= since and predicate(view):
                return at
        return None

    async def element(self, name: str) -> Rect:
        """Where element ``name`` is on the screen now; fails listing what is there instead."""
        elements = await asyncio.to_thread(self.tablet.elements)
        rect = elements.get(name)
        if rect is None:
            app = self.tablet.state()["current_app"]
            shown = ", ".join(sorted(elements))
            raise StepFailed(f"'{name}' is not on the screen now (app {app}; on screen: {shown})")
        return rect

    async def customer_tap(self, name: str, wait: float = 3.0) -> float:
        """The customer taps a named element; returns when the finger landed.

        Like a person, the customer waits a moment for a button that is about to show (the Pause
        button appears once the device itself sees its media connected)."""
        deadline = time.perf_counter() + wait
        while name not in await asyncio.to_thread(self.tablet.elements):
            if time.perf_counter() > deadline:
                await self.element(name)  # fails, listing what is on the screen
            await asyncio.sleep(0.02)
        at = time.perf_counter()
        landed = await asyncio.to_thread(self.tablet.tap, name, "customer")
        if not landed:
            raise StepFailed(f"the customer's tap on '{name}' did nothing")
        return at

    def centre(self, rect: Rect) -> tuple[float, float]:
        """The element's centre as normalized input coordinates (the device maps v·(size−1))."""
        width, height = self.tablet.size
        cx, cy = rect.x + rect.width // 2, rect.y + rect.height // 2
        return cx / (width - 1), cy / (height - 1)

    async def wait_frame(
        self, predicate: Callable[[px.Image], bool], since: int, timeout: float, what: str
    ) -> tuple[float, px.Image]:
        """The first frame decoded after frame ``since`` that satisfies ``predicate``."""
        agent = self.bound_agent().agent
        size = self.tablet.size
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

    async def latest_image(self, timeout: float = 5.0) -> px.Image:
        """The agent's newest decoded frame (waiting for a first one)."""
        agent = self.bound_agent().agent
        if agent.recent_frames:
            frame = agent.recent_frames[-1][2]
            return await asyncio.to_thread(px.rgb, frame, self.tablet.size)
        _, image = await self.wait_frame(lambda _: True, 0, timeout, "no video frame arrived")
        return image

    async def control_state(
        self, state: str, reasons: set[str], timeout: float, wrong: set[str]
    ) -> tuple[Json, float]:
        """Wait for the agent's ``control.state`` ``state`` (with one of ``reasons``)."""
        agent = self.bound_agent().agent
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

    def drain_control(self) -> None:
        """Forget the agent's control updates so far (before asking for a new one)."""
        queue = self.bound_agent().agent.control_states
        while not queue.empty():
            queue.get_nowait()
