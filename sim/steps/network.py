"""The device loses its network for a while and comes back by itself.

The drop is real where it matters: the device's socket and (with ``media``) its WebRTC connection
close, and its own socket.io client has to find the server again, with its usual back-off. Only
where it reconnects *to* is bent: while the network is down, its attempts go to a port where
nothing listens (:data:`UNREACHABLE_URL`).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from ..errors import StepFailed
from .base import Json, Seconds, Step

if TYPE_CHECKING:
    from ..customer import CustomerRun

__all__ = ["UNREACHABLE_URL", "DropNetwork"]

UNREACHABLE_URL = "http://127.0.0.1:9"
"""Where the device's reconnect attempts go while its network is down (nothing listens there)."""


class DropNetwork(Step):
    kind = "drop_network"
    primary = "seconds"
    summary = "The device loses its network for N seconds, then comes back by itself."
    seconds: Annotated[float, Field(gt=0, le=600)] = Field(
        default=3.0, description="how long the network stays down"
    )
    media: bool = Field(
        default=True, description="the media connection drops too (restarted on return)"
    )
    control_after: Literal["resumed", "none", "any"] = Field(
        default="any", description="what control must be once the network is back"
    )
    timeout: Seconds = Field(default=30.0, description="from the network's return to video again")

    async def execute(self, customer: CustomerRun, detail: Json) -> None:
        device = customer.device
        client = device.client
        sio = client.sio
        if not client.connected:
            raise StepFailed("the device is not connected, so there is no network to drop")
        bound = customer.bound
        agent = bound.agent if device.session is not None and bound is not None else None
        control_before = agent.control if agent is not None else "none"
        if self.control_after == "resumed" and control_before != "granted":
            raise StepFailed(
                f"control_after: resumed, but control was '{control_before}' before the drop"
            )
        # The network goes: reconnect attempts fail, the socket closes, media stops.
        customer.real_url = str(sio.connection_url)
        sio.connection_url = UNREACHABLE_URL
        dropped = time.perf_counter()
        customer.begin("network_down", dropped, f"network down {self.seconds:g} s")
        if self.media and device.peer is not None:
            await device.peer.close()
        if sio.eio.ws is not None:
            await sio.eio.ws.close()
        await customer.until(lambda: not client.connected, 5.0, "the device noticing the drop")
        await asyncio.sleep(max(0.0, self.seconds - (time.perf_counter() - dropped)))
        # The network is back: the client's own reconnect logic finds the server again.
        since = agent.frames_received if agent is not None else 0
        sio.connection_url, customer.real_url = customer.real_url, None
        back = time.perf_counter()
        customer.close("network_down", back)
        customer.mark("network", f"network down for {self.seconds:g} s", dropped)
        connected = await customer.until(
            lambda: client.connected,
            self.timeout,
            "the device's socket reconnecting after the network came back",
        )
        customer.record.add("reconnect_time", connected - back)
        detail.update(reconnect_s=round(connected - back, 4), control_before=control_before)
        if agent is None:
            customer.mark("network", "back in the queue", connected)
            return
        if self.media:
            seen, _ = await customer.wait_frame(
                lambda _: True,
                since,
                max(0.1, self.timeout - (time.perf_counter() - back)),
                "video never came back to the agent after the network returned",
            )
            customer.record.add("resume_time", seen - back)
            customer.mark("network", f"video back after {(seen - back) * 1000:.0f} ms", seen)
            detail.update(resume_s=round(seen - back, 4))
        if self.control_after == "resumed":
            try:
                _, resumed = await customer.control_state(
                    "granted", {"resumed"}, self.timeout, {"none"}
                )
            except StepFailed as exc:
                raise StepFailed(
                    f"control did not resume after the network came back: {exc}"
                ) from None
            detail.update(control_resumed_s=round(resumed - back, 4))
        elif self.control_after == "none":
            await customer.until(
                lambda: agent.control == "none",
                self.timeout,
                "control ending after the drop",
            )
            customer.close("control", time.perf_counter())
