"""A client's end of the signaling socket: one namespace, typed calls, error acks as exceptions.

Used by the device and by the headless agent, so both speak the protocol exactly as documented.
socket.io reconnects by itself and sends the same ``auth`` again; the server then resumes the
session or the queue place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import socketio
import structlog
from pydantic import BaseModel

from signaling import PROTOCOL_VERSION, ErrorCode, Event, ProtocolError, Role

__all__ = ["SignalingClient"]

log = structlog.get_logger("mayday.client")

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
CALL_TIMEOUT_S = 10.0


class SignalingClient:
    def __init__(
        self, server_url: str, role: Role, credentials: dict[str, Any], *, reconnect: bool = True
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.role = role
        self.namespace = f"/{role}"
        self._auth = {"protocol": PROTOCOL_VERSION, **credentials}
        self.sio = socketio.AsyncClient(
            reconnection=reconnect,
            reconnection_delay=0.2,
            reconnection_delay_max=2,
            randomization_factor=0.2,
        )
        self.connect_error: Any = None
        self.sio.on("connect_error", self._on_connect_error, namespace=self.namespace)

    async def _on_connect_error(self, data: Any = None) -> None:
        self.connect_error = data

    def on(self, event: Event | str, handler: EventHandler) -> None:
        name = event.value if isinstance(event, Event) else event

        async def dispatch(data: Any = None) -> None:
            try:
                await handler(data if isinstance(data, dict) else {})
            except Exception:
                log.exception("client.handler_failed", role=self.role, socket_event=name)

        self.sio.on(name, dispatch, namespace=self.namespace)

    def on_connect(self, handler: Callable[[], Awaitable[None]]) -> None:
        self.sio.on("connect", handler, namespace=self.namespace)

    def on_disconnect(self, handler: Callable[..., Awaitable[None]]) -> None:
        self.sio.on("disconnect", handler, namespace=self.namespace)

    @property
    def connected(self) -> bool:
        return bool(self.sio.connected)

    async def connect(self) -> None:
        await self.sio.connect(
            self.server_url,
            namespaces=[self.namespace],
            auth=self._auth,
            transports=["websocket"],
            wait_timeout=CALL_TIMEOUT_S,
        )

    async def call(
        self, event: Event, payload: BaseModel | dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send ``event`` and return its ack; an error ack raises :class:`ProtocolError`."""
        data = (
            payload.model_dump(mode="json", exclude_none=True)
            if isinstance(payload, BaseModel)
            else payload
        )
        ack = await self.sio.call(
            event.value, data or {}, namespace=self.namespace, timeout=CALL_TIMEOUT_S
        )
        if isinstance(ack, dict) and ack.get("ok") is True:
            return ack
        error = ack.get("error", {}) if isinstance(ack, dict) else {}
        try:
            code = ErrorCode(str(error.get("code")))
        except ValueError:
            code = ErrorCode.INTERNAL
        raise ProtocolError(code, str(error.get("message", f"unexpected ack {ack!r}")))

    async def close(self) -> None:
        await self.sio.disconnect()
