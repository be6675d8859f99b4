"""aiortc helpers shared by the device and the headless agent: configuration from the server."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCIceTransportPolicy, RTCPeerConnection

from signaling import Event
from signaling.models import RtcState

from .signaling_client import SignalingClient

__all__ = ["peer_connection", "report_connection_state"]


def peer_connection(
    ice_servers: Sequence[dict[str, Any]] = (), policy: str = "all"
) -> RTCPeerConnection:
    """A peer connection configured as the server said: its ICE servers and transport policy.

    ``relay`` gathers no host or server-reflexive candidates at all, so media flows through TURN
    only and neither side learns the other's addresses.
    """
    servers = [
        RTCIceServer(
            urls=server["urls"],
            username=server.get("username"),
            credential=server.get("credential"),
        )
        for server in ice_servers
    ]
    transport = RTCIceTransportPolicy.RELAY if policy == "relay" else RTCIceTransportPolicy.ALL
    return RTCPeerConnection(
        RTCConfiguration(iceServers=servers or None, iceTransportPolicy=transport)
    )


def report_connection_state(
    pc: RTCPeerConnection, client: SignalingClient, session_id: str
) -> None:
    """Tell the server when this peer connection connects, drops or fails (``rtc.state``).

    The first ``connected`` makes the session active; the others go to its audit timeline.
    """

    @pc.on("connectionstatechange")
    async def report() -> None:
        state = pc.connectionState
        if state not in ("connected", "disconnected", "failed"):
            return
        with contextlib.suppress(Exception):
            await client.call(
                Event.RTC_STATE,
                RtcState.model_validate({"session_id": session_id, "state": state}),
            )
