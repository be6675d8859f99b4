"""The socket layer: turns socket.io frames into typed messages and desk calls, and back.

Nothing else in the server knows about frames. Every inbound event goes through
:meth:`RoleNamespace.trigger_event`, which authenticates at connect, decodes and validates the
payload for the sender's role, calls the desk, and converts any failure into an error ack. A bad
payload, an unknown event or a bug in a handler is answered, logged, and never raised into
socket.io, so one client's garbage cannot disturb anyone else's session.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError

from signaling import (
    PROTOCOL_VERSION,
    ErrorCode,
    Event,
    ProtocolError,
    Role,
    decode,
    error_body,
    ok,
)
from signaling import models as m
from signaling.codec import describe_validation_error

from .appkeys import DESK, METRICS, RECORDS, SETTINGS, SIGNER
from .auth import TokenSigner, verify_device_secret
from .desk import HelpDesk
from .identity import AgentIdentity, DeviceIdentity, Identity
from .metrics import Metrics
from .records import Records
from .settings import Settings

__all__ = ["AgentNamespace", "DeviceNamespace", "RoleNamespace"]

log = structlog.get_logger("mayday.sockets")

Handler = Callable[[Any, str, Any], Awaitable[dict[str, Any]]]


class RoleNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """Shared dispatch for one role's namespace; subclasses authenticate and name handlers."""

    role: Role

    def __init__(self, app: web.Application) -> None:
        super().__init__(f"/{self.role}")
        self._app = app

    @property
    def desk(self) -> HelpDesk:
        return self._app[DESK]

    @property
    def settings(self) -> Settings:
        return self._app[SETTINGS]

    @property
    def metrics(self) -> Metrics:
        return self._app[METRICS]

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event == "connect":
            sid, _environ, auth = args[0], args[1], args[2] if len(args) > 2 else None
            return await self._connect(sid, auth)
        if event == "disconnect":
            await self._disconnect(args[0])
            return None
        sid, *data = args
        return await self._dispatch(sid, event, data)

    async def _connect(self, sid: str, auth: Any) -> bool:
        try:
            identity = await self.authenticate(auth)
        except ProtocolError as exc:
            log.warning("connect.refused", role=self.role, code=exc.code.value, reason=exc.message)
            raise socketio.exceptions.ConnectionRefusedError(exc.message, exc.body()) from None
        except Exception:
            log.exception("connect.failed", role=self.role)
            body = error_body(ErrorCode.INTERNAL, "the server could not check your credentials")
            raise socketio.exceptions.ConnectionRefusedError("internal error", body) from None
        await self.save_session(sid, {"identity": identity})
        self.metrics.sockets.labels(role=self.role).inc()
        try:
            await self.connected(identity, sid)
        except Exception:
            log.exception("connect.setup_failed", role=self.role, identity=identity.id)
        return True

    async def _disconnect(self, sid: str) -> None:
        identity = await self._identity(sid)
        if identity is None:
            return
        self.metrics.sockets.labels(role=self.role).dec()
        try:
            await self.disconnected(identity, sid)
        except Exception:
            log.exception("disconnect.failed", role=self.role, identity=identity.id)

    async def _dispatch(self, sid: str, event: str, data: list[Any]) -> dict[str, Any]:
        identity = await self._identity(sid)
        try:
            if identity is None:
                raise ProtocolError(ErrorCode.UNAUTHORIZED, "this socket is not signed in")
            if len(data) > 1:
                raise ProtocolError(ErrorCode.BAD_REQUEST, f"{event}: send one payload object")
            payload = data[0] if data else None
            if _encoded_size(payload) > self.settings.max_message_bytes:
                raise ProtocolError(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"{event}: payload over {self.settings.max_message_bytes} bytes",
                )
            name, message = decode(self.role, str(event), payload)
            handler = self.handlers()[name]
            return await handler(identity, sid, message)
        except ProtocolError as exc:
            log.warning(
                "event.refused",
                role=self.role,
                identity=identity.id if identity else None,
                socket_event=str(event)[:64],
                code=exc.code.value,
                reason=exc.message,
            )
            return exc.body()
        except Exception:
            log.exception("event.failed", role=self.role, socket_event=str(event)[:64])
            return error_body(
                ErrorCode.INTERNAL, f"{str(event)[:64]} failed on the server; nothing was changed"
            )

    async def _identity(self, sid: str) -> Identity | None:
        try:
            session = await self.get_session(sid)
        except KeyError:
            return None
        identity = session.get("identity") if isinstance(session, dict) else None
        return identity if isinstance(identity, DeviceIdentity | AgentIdentity) else None

    def check_protocol(self, auth: Any, model: type[BaseModel]) -> BaseModel:
        if not isinstance(auth, dict):
            raise ProtocolError(
                ErrorCode.UNAUTHORIZED, "send your credentials as the connect auth object"
            )
        if auth.get("protocol") != PROTOCOL_VERSION:
            raise ProtocolError(
                ErrorCode.PROTOCOL_MISMATCH,
                f"this server speaks protocol {PROTOCOL_VERSION}, the client sent "
                f"{str(auth.get('protocol'))[:16]}; update the client",
            )
        try:
            return model.model_validate(auth)
        except ValidationError as exc:
            raise ProtocolError(
                ErrorCode.UNAUTHORIZED, f"malformed credentials: {describe_validation_error(exc)}"
            ) from None

    # --- handlers both roles share ----------------------------------------------------------

    async def _session_end(self, party: Identity, _sid: str, end: m.SessionEnd) -> dict[str, Any]:
        await self.desk.end_by_party(party, end.session_id, end.reason)
        return ok()

    def _relay(self, event: Event) -> Handler:
        async def relay(party: Identity, _sid: str, payload: Any) -> dict[str, Any]:
            await self.desk.relay(party, event, payload)
            return ok()

        return relay

    async def _rtc_state(self, party: Identity, _sid: str, report: m.RtcState) -> dict[str, Any]:
        await self.desk.rtc_state(party, report)
        return ok()

    async def _chat(self, party: Identity, _sid: str, payload: m.ChatSend) -> dict[str, Any]:
        message = await self.desk.chat(party, payload)
        return ok(seq=message.seq)

    def _session_handlers(self) -> dict[Event, Handler]:
        return {
            Event.CHAT_SEND: self._chat,
            Event.SESSION_END: self._session_end,
            Event.RTC_OFFER: self._relay(Event.RTC_OFFER),
            Event.RTC_ANSWER: self._relay(Event.RTC_ANSWER),
            Event.RTC_ICE: self._relay(Event.RTC_ICE),
            Event.RTC_STATE: self._rtc_state,
        }

    # --- for subclasses -------------------------------------------------------------------------

    async def authenticate(self, auth: Any) -> Identity:
        raise NotImplementedError

    async def connected(self, identity: Any, sid: str) -> None:
        raise NotImplementedError

    async def disconnected(self, identity: Any, sid: str) -> None:
        raise NotImplementedError

    def handlers(self) -> dict[Event, Handler]:
        raise NotImplementedError


class DeviceNamespace(RoleNamespace):
    role: Role = "device"

    async def authenticate(self, auth: Any) -> DeviceIdentity:
        creds = self.check_protocol(auth, m.DeviceAuth)
        assert isinstance(creds, m.DeviceAuth)
        records: Records = self._app[RECORDS]
        row = await records.device(creds.device_id)
        if row is None or not verify_device_secret(row.secret_hash, creds.device_secret):
            raise ProtocolError(
                ErrorCode.UNAUTHORIZED,
                "unknown device or wrong secret; register again with POST /api/devices",
            )
        return DeviceIdentity(id=row.id, name=row.name)

    async def connected(self, identity: DeviceIdentity, sid: str) -> None:
        await self.desk.device_connected(identity, sid)

    async def disconnected(self, identity: DeviceIdentity, sid: str) -> None:
        await self.desk.device_disconnected(identity, sid)

    def handlers(self) -> dict[Event, Handler]:
        return {
            Event.HELP_REQUEST: self._help_request,
            Event.HELP_CANCEL: self._help_cancel,
            Event.CONTROL_GRANT: self._control_grant,
            Event.CONTROL_DENY: self._control_deny,
            Event.CONTROL_REVOKE: self._control_revoke,
            Event.CONTROL_DROPPED: self._control_dropped,
            Event.SESSION_RATE: self._session_rate,
            **self._session_handlers(),
        }

    async def _help_request(
        self, device: DeviceIdentity, sid: str, request: m.HelpRequest
    ) -> dict[str, Any]:
        ticket = await self.desk.request_help(device, sid, request)
        return ok(ticket=ticket.model_dump(mode="json"))

    async def _help_cancel(
        self, device: DeviceIdentity, _sid: str, cancel: m.HelpCancel
    ) -> dict[str, Any]:
        await self.desk.cancel_help(device, cancel.ticket_id)
        return ok()

    async def _control_grant(
        self, device: DeviceIdentity, _sid: str, answer: m.ControlAnswer
    ) -> dict[str, Any]:
        state = await self.desk.control.answer(device, answer, grant=True)
        return ok(control=state.model_dump(mode="json"))

    async def _control_deny(
        self, device: DeviceIdentity, _sid: str, answer: m.ControlAnswer
    ) -> dict[str, Any]:
        state = await self.desk.control.answer(device, answer, grant=False)
        return ok(control=state.model_dump(mode="json"))

    async def _control_revoke(
        self, device: DeviceIdentity, _sid: str, ref: m.SessionRef
    ) -> dict[str, Any]:
        state = await self.desk.control.revoke(device, ref.session_id)
        return ok(control=state.model_dump(mode="json"))

    async def _control_dropped(
        self, device: DeviceIdentity, _sid: str, report: m.ControlDropped
    ) -> dict[str, Any]:
        await self.desk.control.dropped(device, report)
        return ok()

    async def _session_rate(
        self, device: DeviceIdentity, _sid: str, rate: m.SessionRate
    ) -> dict[str, Any]:
        await self.desk.rate(device, rate.session_id, rate.rating)
        return ok()


class AgentNamespace(RoleNamespace):
    role: Role = "agent"

    async def authenticate(self, auth: Any) -> AgentIdentity:
        creds = self.check_protocol(auth, m.AgentAuth)
        assert isinstance(creds, m.AgentAuth)
        signer: TokenSigner = self._app[SIGNER]
        claims = signer.verify(creds.token)
        records: Records = self._app[RECORDS]
        row = await records.agent_by_id(claims.agent_id)
        if row is None:
            raise ProtocolError(ErrorCode.UNAUTHORIZED, "this agent account no longer exists")
        return AgentIdentity(
            id=row.id, name=row.name, languages=tuple(row.languages), skills=tuple(row.skills)
        )

    async def connected(self, identity: AgentIdentity, sid: str) -> None:
        await self.desk.agent_connected(identity, sid)

    async def disconnected(self, identity: AgentIdentity, sid: str) -> None:
        await self.desk.agent_disconnected(identity, sid)

    def handlers(self) -> dict[Event, Handler]:
        return {
            Event.PRESENCE_SET: self._presence_set,
            Event.RING_ACCEPT: self._ring_accept,
            Event.RING_DECLINE: self._ring_decline,
            Event.CONTROL_REQUEST: self._control_request,
            Event.CONTROL_RELEASE: self._control_release,
            Event.CONTROL_INPUT: self._control_input,
            Event.SESSION_NOTE: self._session_note,
            **self._session_handlers(),
        }

    async def _presence_set(
        self, agent: AgentIdentity, _sid: str, presence: m.PresenceSet
    ) -> dict[str, Any]:
        await self.desk.set_presence(agent, presence.status)
        return ok(status=presence.status)

    async def _ring_accept(
        self, agent: AgentIdentity, _sid: str, accept: m.RingAccept
    ) -> dict[str, Any]:
        session = await self.desk.accept_ring(agent, accept.ring_id)
        return ok(session_id=session.id)

    async def _ring_decline(
        self, agent: AgentIdentity, _sid: str, decline: m.RingDecline
    ) -> dict[str, Any]:
        await self.desk.decline_ring(agent, decline.ring_id)
        return ok()

    async def _control_request(
        self, agent: AgentIdentity, _sid: str, ref: m.SessionRef
    ) -> dict[str, Any]:
        state = await self.desk.control.request(agent, ref.session_id)
        return ok(control=state.model_dump(mode="json"))

    async def _control_release(
        self, agent: AgentIdentity, _sid: str, ref: m.SessionRef
    ) -> dict[str, Any]:
        state = await self.desk.control.release(agent, ref.session_id)
        return ok(control=state.model_dump(mode="json"))

    async def _session_note(
        self, agent: AgentIdentity, _sid: str, note: m.SessionNote
    ) -> dict[str, Any]:
        await self.desk.note(agent, note)
        return ok()

    async def _control_input(
        self, agent: AgentIdentity, _sid: str, payload: m.ControlInput
    ) -> dict[str, Any]:
        await self.desk.control.input(agent, payload)
        return ok()


def _encoded_size(payload: Any) -> int:
    """Bytes of the payload as UTF-8 JSON, the way it travelled."""
    try:
        return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    except (TypeError, ValueError):
        return 0
