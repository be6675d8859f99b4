"""``GET /api/colleagues``: who else is on the desk right now, so an agent can hand a customer on.

Every signed-in account reads it (an agent choosing whom to transfer to needs it; the wallboard is
for supervisors and shows far more). Only what a transfer needs: each signed-in colleague's name,
what it can take right now, its languages and skills. Never its sessions or customers.
"""

from __future__ import annotations

from aiohttp import web

from signaling.models import rest as r

from .appkeys import STORE
from .live.records import AgentPresence
from .rest import AGENT, json_response

__all__ = ["routes"]

routes = web.RouteTableDef()


def colleague_state(presence: AgentPresence) -> r.ColleagueState:
    """What the colleague can do now: ``available`` means a transfer to it is accepted."""
    if not presence.connected:
        return "away"
    if presence.session_id is not None or presence.ring_id is not None:
        return "busy"
    if presence.wrapup_until is not None:
        return "wrapup"
    return "available" if presence.status == "available" else "away"


@routes.get("/api/colleagues")
async def colleagues(request: web.Request) -> web.Response:
    me = request[AGENT].id
    present = sorted(
        (p for p in await request.app[STORE].agents() if p.agent_id != me),
        key=lambda p: (p.name.casefold(), p.agent_id),
    )
    return json_response(
        r.Colleagues(
            colleagues=[
                r.Colleague(
                    id=p.agent_id,
                    name=p.name,
                    state=colleague_state(p),
                    languages=list(p.languages),
                    skills=list(p.skills),
                )
                for p in present
            ]
        )
    )
