"""``GET /api/colleagues``: who else is on the desk right now, so an agent can hand a customer on.

Every signed-in account reads it (an agent choosing whom to transfer to needs it; the wallboard is
for supervisors and shows far more). Only what a transfer needs: each signed-in colleague's name,
what it can take right now, its languages and skills. Never its sessions or customers.
"""

from __future__ import annotations

from aiohttp import web

from signaling import models as m
from signaling.models import rest as r

from .appkeys import STORE
from .desk.wallboard import agent_state
from .live.records import AgentPresence
from .rest import AGENT, json_response

__all__ = ["routes"]

routes = web.RouteTableDef()


_COLLEAGUE_STATES: dict[m.AgentDeskState, r.ColleagueState] = {
    "available": "available",
    "ringing": "busy",
    "in_session": "busy",
    "wrapup": "wrapup",
    "away": "away",
    "offline": "away",
}


def colleague_state(presence: AgentPresence) -> r.ColleagueState:
    """What the colleague can do now, the wallboard's state in fewer words: ``available`` means a
    transfer to it is accepted."""
    return _COLLEAGUE_STATES[agent_state(presence)]


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
