"""Who may call what: the account role each REST route and socket event needs, and which sessions
an agent reads.

One table, :data:`ROUTE_ROLES`, names every route the server has and the least role that may call
it (``None``: open, no account), taken from the operations the OpenAPI document describes. The error middleware looks each request's route up in it after
authenticating, so a handler never checks roles itself, and a route missing from the table is
refused for everyone (a test compares the table with the routes the app has, and the protocol
document with the table). Which *session* an agent may read is a question about the session, so
the handlers ask :func:`ensure_reads_session`.

The roles are ``signaling.roles``' ladder: agent < supervisor < admin.
"""

from __future__ import annotations

from aiohttp import web

from signaling import EVENT_ROLES, AccountRole, ErrorCode, Event, ProtocolError, at_least
from signaling.openapi import OPERATIONS

from .appkeys import DESK, RECORDS
from .identity import AgentIdentity, Identity
from .records import AgentRow

__all__ = [
    "ROUTE_ROLES",
    "ensure_event_role",
    "ensure_reads_session",
    "ensure_role",
    "route_key",
]

Route = tuple[str, str]
"""``(method, path pattern)``, the pattern as aiohttp's canonical form (``/api/sessions/{session_id}``)."""

ROUTE_ROLES: dict[Route, AccountRole | None] = {
    (operation.method.upper(), operation.path): operation.needs for operation in OPERATIONS
}
"""Every route and the least role that may call it (``None``: open): the OpenAPI document's
operations (``signaling.openapi``), so what is documented and what is enforced are one table."""

_ROLE_WORDS: dict[AccountRole, str] = {
    "agent": "an agent account",
    "supervisor": "a supervisor or admin account",
    "admin": "an admin account",
}


OPEN_PATHS = frozenset(path for (_, path), needs in ROUTE_ROLES.items() if needs is None)
"""Paths with an open route: a wrong method on them is answered 405 without asking for a token."""


def route_key(request: web.Request) -> Route | None:
    """The request's ``(method, pattern)``, or ``None`` if it matched no route of ours. ``HEAD``
    is ``GET`` (aiohttp answers it with the ``GET`` handler)."""
    resource = request.match_info.route.resource
    if resource is None:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    return method, resource.canonical


def is_open(request: web.Request) -> bool:
    """Whether the request needs no account: an open route, or a wrong method on an open path."""
    key = route_key(request)
    if key is None:
        return request.path in OPEN_PATHS
    return key in ROUTE_ROLES and ROUTE_ROLES[key] is None


def ensure_role(request: web.Request, agent: AgentRow) -> None:
    """Refuse (``forbidden``) an account whose role is below what the route needs."""
    key = route_key(request)
    if key is None:  # no such route: the router answers 404 or 405 after this
        return
    if key not in ROUTE_ROLES:  # a route nobody gave a role: refused, never open by mistake
        raise ProtocolError(ErrorCode.FORBIDDEN, f"{request.method} {request.path} is not allowed")
    needed = ROUTE_ROLES[key]
    if needed is not None and not at_least(agent.role, needed):
        raise ProtocolError(ErrorCode.FORBIDDEN, f"this needs {_ROLE_WORDS[needed]}")


async def ensure_reads_session(request: web.Request, agent: AgentRow, session_id: str) -> None:
    """Refuse an agent reading a session it did not take part in.

    Supervisors and admins read every session. An agent reads the sessions it was the agent of,
    and, while it helps a customer, that customer's earlier sessions (the console's Customer tab,
    the session a transfer handed on): what the person in front of it has been through. The answer
    for a session of someone else is ``not_found``, as for one that does not exist, so an agent
    cannot learn which session ids exist.
    """
    if at_least(agent.role, "supervisor"):
        return
    desk = request.app[DESK]
    live = await desk.session(session_id)
    if live is not None:
        agent_id, device_id = live.agent_id, live.device_id
    else:
        row = await request.app[RECORDS].session(session_id)
        if row is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no session {session_id}")
        agent_id, device_id = row.agent_id, row.device_id
    if agent_id == agent.id or await serves_device(request, agent, device_id):
        return
    raise ProtocolError(ErrorCode.NOT_FOUND, f"no session {session_id} of yours")


async def serves_device(request: web.Request, agent: AgentRow, device_id: str) -> bool:
    """Whether ``agent`` is helping the customer ``device_id`` in a live session right now."""
    current = await request.app[DESK].current_session_of_agent(agent.id)
    return current is not None and current.device_id == device_id


def ensure_event_role(identity: Identity, event: str) -> None:
    """Refuse an event the sender's account role may not send (``signaling.EVENT_ROLES``); an
    unknown name is left to the decoder, which says it is unknown."""
    try:
        needed = EVENT_ROLES.get(Event(event), "agent")
    except ValueError:
        return
    if isinstance(identity, AgentIdentity) and not at_least(identity.account_role, needed):
        raise ProtocolError(
            ErrorCode.FORBIDDEN, f"{event}: only a {needed} (or an admin) account may send it"
        )
