"""The socket layer: turns socket.io frames into typed messages and desk calls, and back.

Nothing else in the server knows about frames. Every inbound event goes through
:meth:`RoleNamespace.trigger_event`, which authenticates at connect; every other event goes through
one dispatcher, the same checks in the same order for each: the socket is signed in, within its
event rate (:mod:`.ratelimit`; a flooding socket is disconnected), the frame was read within the
protocol's limits (:mod:`.framing`, the server's packet parser, refuses deep, broken and binary
frames before parsing them), it sent one payload, the payload is within the byte cap, the
sender's account role may send the event at all (``signaling.EVENT_ROLES``: a supervisor's event
is refused to an agent before its payload is read), ``signaling.decode`` accepts it for the
sender's role; then the event's row in
:data:`.handlers.HANDLERS` calls the desk and shapes the ack. Any failure
becomes an error ack here, in one place. A bad payload, an unknown event or a bug in a handler is
answered, logged, and never raised into socket.io, so one client's garbage cannot disturb anyone
else's session. The namespaces (:mod:`server.namespaces`) only say how each role signs in and
tells the desk it came and went.

Credentials are checked at connect, and again for as long as the socket stays: every
``credential_check_s`` each namespace reads, in one query per 500 sockets, whether the identities
of the sockets this process holds are still in force (the agent exists with the same token
generation, the device record exists) and disconnects those that are not. That covers every way
credentials die, including ``mayday agents remove`` in another process that no server hears of.
Sign-out and a password change do not wait for it:
:func:`server.namespaces.drop_agent_sockets` disconnects the agent's socket at once, through the
socket.io manager on whichever process holds it.

Each namespace also reports its sign-ins to the connection's
:class:`~server.throttle.SocketConnection`, which closes an Engine.IO connection that has no
signed-in namespace for ``socket_auth_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from typing import Any, TypeVar

import socketio
import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError

from signaling import PROTOCOL_VERSION, ErrorCode, ProtocolError, Role, decode, error_body
from signaling.codec import describe_validation_error

from .access import ensure_event_role
from .appkeys import DESK, METRICS, SETTINGS
from .desk import HelpDesk
from .framing import REFUSED_EVENT, BoundedPacket, Refused, quiet_unknown_packet_types
from .handlers import HANDLERS, Ack
from .identity import Identity
from .metrics import Metrics
from .outage import UNAVAILABLE_ERRORS, UNAVAILABLE_MESSAGE
from .ratelimit import EventLimiter
from .settings import Settings
from .throttle import SOCKET_CONNECTION, SOCKET_GUARD, SocketConnection, SocketGuard

__all__ = ["RoleNamespace"]

log = structlog.get_logger("mayday.sockets")

A = TypeVar("A", bound=BaseModel)

CHECK_BATCH = 500
"""Identities re-checked per query: well below any database's limit of bound parameters."""
FLOOD_CLOSE_S = 0.2
"""After a flood disconnect, how long the client has to read its acks and the ``41``."""

SignedIn = tuple[Identity, SocketConnection | None]
"""A signed-in socket's identity, and its Engine.IO connection's sign-in state."""


class RoleNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    """Shared dispatch for one role's namespace; subclasses say how the role signs in."""

    role: Role

    def __init__(self, app: web.Application) -> None:
        super().__init__(f"/{self.role}")
        self._app = app
        self._signed_in: dict[str, SignedIn] = {}
        """This process's signed-in sockets of this namespace, re-checked by :meth:`_watch`: the
        one place a socket's identity is kept (not socket.io's session, a dict per socket)."""
        self._watch_task: asyncio.Task[None] | None = None
        settings = app[SETTINGS]
        self._limiter = EventLimiter(
            rate_per_s=settings.event_rate_per_s,
            burst=settings.event_burst,
            flood_events=settings.event_flood_events,
        )
        self._floods: set[asyncio.Task[None]] = set()
        # The namespaces are made with the app, before it starts: the one place of the socket
        # layer that sees it then. On startup the resources (the records) exist already.
        if SOCKET_GUARD not in app:
            app[SOCKET_GUARD] = SocketGuard(
                max_per_address=settings.max_connections_per_address,
                auth_timeout_s=settings.socket_auth_timeout_s,
            )
        app.on_startup.append(self._start_watch)
        app.on_shutdown.append(self._stop_watch)

    def _set_server(self, server: socketio.AsyncServer) -> None:
        """python-socketio hands the namespace its server when it is registered: from then on the
        server reads every frame within the protocol's limits (:mod:`server.framing`); frames are
        the socket layer's business, like everything else about them."""
        super()._set_server(server)
        server.packet_class = BoundedPacket
        quiet_unknown_packet_types(server.eio.logger)

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
            sid, environ, auth = args[0], args[1], args[2] if len(args) > 2 else None
            return await self._connect(sid, environ, auth)
        if event == "disconnect":
            await self._disconnect(args[0])
            return None
        sid, *data = args
        return await self._dispatch(sid, event, data)

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any) -> bool:
        connection = _connection(environ)
        if connection is not None:
            connection.sign_in_started()
        try:
            identity = await self.authenticate(auth, environ)
        except ProtocolError as exc:
            log.warning("connect.refused", role=self.role, code=exc.code.value, reason=exc.message)
            if connection is not None:
                connection.sign_in_ended(ok=False)
            raise socketio.exceptions.ConnectionRefusedError(exc.message, exc.body()) from None
        except Exception:
            log.exception("connect.failed", role=self.role)
            if connection is not None:
                connection.sign_in_ended(ok=False)
            body = error_body(ErrorCode.INTERNAL, "the server could not check your credentials")
            raise socketio.exceptions.ConnectionRefusedError("internal error", body) from None
        if connection is not None:
            connection.sign_in_ended(ok=True)
        self._signed_in[sid] = (identity, connection)
        self.metrics.sockets.labels(role=self.role).inc()
        try:
            await self.connected(identity, sid)
        except UNAVAILABLE_ERRORS as exc:
            # The desk could not take note of the socket (Redis is away): refuse it, so that the
            # client connects again once it is back, instead of a socket nobody rings.
            log.warning(
                "connect.unavailable", role=self.role, identity=identity.id, error=repr(exc)
            )
            self._signed_in.pop(sid, None)
            self.metrics.sockets.labels(role=self.role).dec()
            if connection is not None:
                connection.signed_out()
            body = error_body(ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE)
            raise socketio.exceptions.ConnectionRefusedError(UNAVAILABLE_MESSAGE, body) from None
        except Exception:
            log.exception("connect.setup_failed", role=self.role, identity=identity.id)
        return True

    async def _disconnect(self, sid: str) -> None:
        signed_in = self._signed_in.pop(sid, None)
        if signed_in is None:
            return
        identity, connection = signed_in
        if connection is not None:
            connection.signed_out()
        self.metrics.sockets.labels(role=self.role).dec()
        try:
            await self.disconnected(identity, sid)
        except Exception:
            log.exception("disconnect.failed", role=self.role, identity=identity.id)

    async def _dispatch(self, sid: str, event: str, data: list[Any]) -> Ack:
        """Check, decode and handle one inbound event; every failure comes back as its error ack.

        The order of the checks is part of the protocol (an event over the rate is refused
        before anything else; a too-large payload is refused before it is decoded, so its code is
        ``payload_too_large`` even if it is also malformed).
        """
        identity = self._identity(sid)
        if identity is not None and not self._within_rate(sid, identity, str(event)):
            return error_body(
                ErrorCode.RATE_LIMITED,
                f"too many events: at most {self._limiter.rate_per_s:g} a second "
                f"({self._limiter.burst} at once); this one was not processed",
            )
        try:
            if identity is None:
                raise ProtocolError(ErrorCode.UNAUTHORIZED, "this socket is not signed in")
            payload = data[0] if data else None
            if isinstance(payload, Refused):  # refused while the frame was read (framing.py)
                where = "" if event == REFUSED_EVENT else f"{event}: "
                raise ProtocolError(payload.code, where + payload.message)
            if len(data) > 1:
                raise ProtocolError(ErrorCode.BAD_REQUEST, f"{event}: send one payload object")
            if _encoded_size(payload) > self.settings.max_message_bytes:
                raise ProtocolError(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"{event}: payload over {self.settings.max_message_bytes} bytes",
                )
            ensure_event_role(identity, str(event))  # before the payload is even read
            name, message = decode(self.role, str(event), payload)
            return await HANDLERS[name](self.desk, identity, sid, message)
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
        except UNAVAILABLE_ERRORS as exc:
            log.warning(
                "event.unavailable", role=self.role, socket_event=str(event)[:64], error=repr(exc)
            )
            return error_body(ErrorCode.UNAVAILABLE, f"{str(event)[:64]}: {UNAVAILABLE_MESSAGE}")
        except Exception:
            log.exception("event.failed", role=self.role, socket_event=str(event)[:64])
            return error_body(
                ErrorCode.INTERNAL, f"{str(event)[:64]} failed on the server; nothing was changed"
            )

    def _within_rate(self, sid: str, identity: Identity, event: str) -> bool:
        """Take a token for this event (:mod:`server.ratelimit`); a socket that floods is
        disconnected once its refusal is answered. Logged once per run of refusals, not per
        event: a flood must not become a flood of log lines."""
        verdict = self._limiter.take(identity.id)
        if verdict.allowed:
            return True
        if verdict.first:
            log.warning(
                "event.rate_limited", role=self.role, identity=identity.id, socket_event=event[:64]
            )
        if verdict.flooding:
            log.warning("event.flood_disconnect", role=self.role, identity=identity.id)
            self._limiter.forgive(identity.id)
            task = asyncio.create_task(self._drop_flooder(sid), name="flood-disconnect")
            self._floods.add(task)
            task.add_done_callback(self._floods.discard)
        return False

    async def _drop_flooder(self, sid: str) -> None:
        """Disconnect the socket from its namespace (``41``: Socket.IO clients do not reconnect
        after that), then close its connection: otherwise Engine.IO would read, one by one, every
        frame the flooder had sent already (measured: ~60 000 per disconnect, 5 s of CPU)."""
        signed_in = self._signed_in.get(sid)
        if signed_in is not None and signed_in[1] is not None:
            signed_in[1].close_soon(FLOOD_CLOSE_S)
        await self.server.disconnect(sid, namespace=self.namespace)

    def _identity(self, sid: str) -> Identity | None:
        signed_in = self._signed_in.get(sid)
        return None if signed_in is None else signed_in[0]

    def check_protocol(self, auth: Any, model: type[A]) -> A:
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

    # --- credentials re-checked while the socket stays ----------------------------------------

    async def _start_watch(self, _app: web.Application) -> None:
        self._watch_task = asyncio.create_task(self._watch(), name=f"credentials{self.namespace}")

    async def _stop_watch(self, _app: web.Application) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.settings.credential_check_s)
            try:
                await self.drop_revoked()
            except Exception:  # the database away for a moment: try again next time
                log.exception("credentials.check_failed", role=self.role)

    async def drop_revoked(self) -> None:
        """Disconnect this process's sockets whose credentials are no longer in force."""
        sockets = [(sid, identity) for sid, (identity, _) in self._signed_in.items()]
        for start in range(0, len(sockets), CHECK_BATCH):
            batch = dict(sockets[start : start + CHECK_BATCH])
            for sid in await self.revoked(batch):
                identity = batch[sid]
                log.warning("connect.revoked", role=self.role, identity=identity.id)
                await self.server.disconnect(sid, namespace=self.namespace, ignore_queue=True)

    # --- for subclasses -------------------------------------------------------------------------

    async def revoked(self, sockets: dict[str, Identity]) -> Sequence[str]:
        """Of these sockets (by sid), the ones whose identity's credentials are no longer valid."""
        raise NotImplementedError

    async def authenticate(self, auth: Any, environ: dict[str, Any]) -> Identity:
        """Who connects, from the ``auth`` object and the handshake's environ (its ``Origin``)."""
        raise NotImplementedError

    async def connected(self, identity: Any, sid: str) -> None:
        raise NotImplementedError

    async def disconnected(self, identity: Any, sid: str) -> None:
        raise NotImplementedError


def _connection(environ: dict[str, Any]) -> SocketConnection | None:
    """The Engine.IO connection's sign-in state, which the error middleware put on its request."""
    request = environ.get("aiohttp.request")
    return request.get(SOCKET_CONNECTION) if isinstance(request, web.Request) else None


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
"""What ``json.dumps(payload, separators=(",", ":"), ensure_ascii=False)`` builds for every call;
an encoder keeps no state between calls, so one serves them all."""


def _encoded_size(payload: Any) -> int:
    """Bytes of the payload as compact UTF-8 JSON (what ``MAYDAY_MAX_MESSAGE_BYTES`` caps).

    A payload JSON cannot encode is refused here: a socket.io binary attachment (``bytes``) would
    otherwise pass the cap uncounted and reach a ``str`` field, and a lone surrogate is no text.

    The payload is serialised once to measure it, but not copied again into UTF-8 when it is ASCII
    (SDP, ICE, ids: nearly every frame), where characters and bytes are the same count. It is not
    measured from the frame as received: socket.io does not hand that to a namespace, and the
    client's spelling (spaces, ``\\u`` escapes, ``1e3``) would make the cap depend on the
    client's JSON writer. Summing the size over the parsed structure in Python, with json's
    escaping rules copied, was exact but measured twice as slow on an SDP offer, so not taken.
    """
    try:
        text = _COMPACT.encode(payload)
        return len(text) if text.isascii() else len(text.encode())
    except (TypeError, ValueError):  # bytes and other non-JSON values; a lone surrogate
        raise ProtocolError(
            ErrorCode.BAD_REQUEST, "payloads are JSON text: binary attachments are not accepted"
        ) from None
