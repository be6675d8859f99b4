"""A client's end of the signaling socket: one namespace, typed calls, error acks as exceptions.

Used by the device and by the headless agent, so both speak the protocol exactly as documented.
socket.io reconnects by itself and sends the same ``auth`` again; the server then resumes the
session or the queue place.

While the socket reconnects, a call waits for it (at most :data:`RECONNECT_WAIT_S`) instead of
failing at once (python-socketio would raise ``BadNamespaceError``), as socket.io-client buffers
its emits. A call whose socket drops before its answer came is sent again on the next socket (at
most :data:`CALL_ATTEMPTS` sends in all) instead of waiting out :data:`CALL_TIMEOUT_S`: a server
process that stops gracefully answers every event it handled before it closes a transport, so an
event without an answer was not applied (docs/protocol.md §9). When the network itself dropped,
the server may have applied an event whose answer was lost on the way back; the event is then
delivered twice, as with socket.io-client's ``retries``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
import structlog
from pydantic import BaseModel
from socketio.exceptions import BadNamespaceError

from signaling import PROTOCOL_VERSION, ErrorCode, Event, ProtocolError, Role

__all__ = ["SignalingClient"]

log = structlog.get_logger("mayday.client")

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
CALL_TIMEOUT_S = 10.0
RECONNECT_WAIT_S = 10.0
"""How long a call made while the socket reconnects waits for it before it fails."""
CALL_ATTEMPTS = 3
"""How often a call is sent at most, when the socket it went out on drops before the answer."""


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
        self.resent = 0
        """Calls sent again because their socket dropped before they were answered."""
        self._reconnect = reconnect
        self._ever_connected = False
        self._up = asyncio.Event()
        """Set while the namespace is connected."""
        self._dropped = asyncio.Event()
        """Set when the current socket drops; a new one for each connection."""
        self._connect_handlers: list[Callable[[], Awaitable[None]]] = []
        self._disconnect_handlers: list[Callable[..., Awaitable[None]]] = []
        self.sio.on("connect_error", self._on_connect_error, namespace=self.namespace)
        self.sio.on("connect", self._on_connect, namespace=self.namespace)
        self.sio.on("disconnect", self._on_disconnect, namespace=self.namespace)

    async def _on_connect_error(self, data: Any = None) -> None:
        self.connect_error = data

    async def _on_connect(self) -> None:
        self._ever_connected = True
        self._dropped = asyncio.Event()
        self._up.set()
        for handler in self._connect_handlers:
            await handler()

    async def _on_disconnect(self, *args: Any) -> None:
        self._up.clear()
        self._dropped.set()
        for handler in self._disconnect_handlers:
            await handler(*args)

    def on(self, event: Event | str, handler: EventHandler) -> None:
        name = event.value if isinstance(event, Event) else event

        async def dispatch(data: Any = None) -> None:
            try:
                await handler(data if isinstance(data, dict) else {})
            except Exception:
                log.exception("client.handler_failed", role=self.role, socket_event=name)

        self.sio.on(name, dispatch, namespace=self.namespace)

    def on_connect(self, handler: Callable[[], Awaitable[None]]) -> None:
        self._connect_handlers.append(handler)

    def on_disconnect(self, handler: Callable[..., Awaitable[None]]) -> None:
        """``handler`` gets python-socketio's disconnect reason, if it takes an argument."""
        self._disconnect_handlers.append(handler)

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
        ack = await self._send(event.value, data or {})
        if isinstance(ack, dict) and ack.get("ok") is True:
            return ack
        error = ack.get("error", {}) if isinstance(ack, dict) else {}
        try:
            code = ErrorCode(str(error.get("code")))
        except ValueError:
            code = ErrorCode.INTERNAL
        raise ProtocolError(code, str(error.get("message", f"unexpected ack {ack!r}")))

    async def _send(self, name: str, data: dict[str, Any]) -> Any:
        """The answer to ``name``, sent again on the next socket if its socket drops first."""
        for _ in range(CALL_ATTEMPTS - 1):
            if not await self._wait_up():
                break
            dropped = self._dropped
            answer = asyncio.ensure_future(
                self.sio.call(name, data, namespace=self.namespace, timeout=CALL_TIMEOUT_S)
            )
            lost = asyncio.ensure_future(dropped.wait())
            try:
                await asyncio.wait({answer, lost}, return_when=asyncio.FIRST_COMPLETED)
            except BaseException:
                answer.cancel()
                raise
            finally:
                lost.cancel()
            # Not sent (the namespace was gone already) or sent and never answered: send again.
            unsent = answer.done() and isinstance(answer.exception(), BadNamespaceError)
            if answer.done() and not (unsent and dropped.is_set()):
                return answer.result()
            answer.cancel()
            self.resent += 1
            log.info("client.call_resent", role=self.role, socket_event=name)
        await self._wait_up()
        return await self.sio.call(name, data, namespace=self.namespace, timeout=CALL_TIMEOUT_S)

    async def _wait_up(self) -> bool:
        """Whether the socket is connected, after waiting for a reconnect in progress."""
        if self._up.is_set() or not (self._reconnect and self._ever_connected):
            return self._up.is_set()
        try:
            await asyncio.wait_for(self._up.wait(), RECONNECT_WAIT_S)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        await self.sio.disconnect()
