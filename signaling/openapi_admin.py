"""The REST operations of accounts, sites and devices (admins, §19), for the OpenAPI document (``signaling.openapi``) and the
server's role table (``server/access.py``).

Every one needs an admin's token: the role is checked by the server's error middleware from
these operations, never by the handlers (``server/rest_admin.py``).
"""

from __future__ import annotations

from typing import Any

from . import models as m
from .errors import ErrorCode
from .operations import Operation

__all__ = ["ADMIN_OPERATIONS"]

AGENTS = "/api/admin/agents"
AGENT = AGENTS + "/{name}"
SITES = "/api/admin/sites"
DEVICES = "/api/admin/devices"
DEVICES_LIMIT = 1000
"""The most devices one page of ``GET /api/admin/devices`` holds."""
OFFSET_MAX = 2**31 - 1
"""The largest ``offset`` it takes (every database's integer)."""


def _name(what: str) -> dict[str, Any]:
    """The ``{name}`` path parameter: the account's or the site's name (percent-encoded).

    Given as one of the operation's ``query`` parameter objects, which the document lists as they
    are: ``signaling.openapi`` describes only the id path parameters itself."""
    return {
        "name": "name",
        "in": "path",
        "required": True,
        "description": f"The {what}'s name; any other answers 404.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 80},
    }


DEVICE_QUERY: tuple[dict[str, Any], ...] = (
    {
        "name": "kind",
        "in": "query",
        "required": False,
        "description": "Only devices (`device`) or only web visitors (`web`); default both.",
        "schema": {"type": "string", "enum": ["device", "web"]},
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "How many at most (default 100).",
        "schema": {"type": "integer", "minimum": 1, "maximum": DEVICES_LIMIT},
    },
    {
        "name": "offset",
        "in": "query",
        "required": False,
        "description": "How many of the newest to skip (default 0).",
        "schema": {"type": "integer", "minimum": 0, "maximum": OFFSET_MAX},
    },
)

ADMIN_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        AGENTS,
        "adminListAgents",
        "Every account, by name",
        True,
        200,
        m.AdminAccounts,
        role="admin",
    ),
    Operation(
        "post",
        AGENTS,
        "adminAddAgent",
        "Create an account (as `mayday agents add`)",
        True,
        201,
        m.AdminAccount,
        body=m.AdminAccountCreate,
        errors=(ErrorCode.CONFLICT,),
        role="admin",
    ),
    Operation(
        "patch",
        AGENT,
        "adminChangeAgent",
        "Change an account: a new role or password signs it out everywhere at once; languages, "
        "skills and display name apply from its next sign-in",
        True,
        200,
        m.AdminAccount,
        body=m.AdminAccountChange,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.CONFLICT),
        query=(_name("account"),),
        role="admin",
    ),
    Operation(
        "delete",
        AGENT,
        "adminRemoveAgent",
        "Delete an account: its tokens die and its socket is closed at once",
        True,
        200,
        m.AdminOk,
        errors=(ErrorCode.NOT_FOUND, ErrorCode.CONFLICT),
        query=(_name("account"),),
        role="admin",
    ),
    Operation(
        "post",
        AGENT + "/unlock",
        "adminUnlockAgent",
        "Let an account locked out by failed sign-ins try again from every address",
        True,
        200,
        m.AdminOk,
        errors=(ErrorCode.NOT_FOUND,),
        query=(_name("account"),),
        role="admin",
    ),
    Operation(
        "get", SITES, "adminListSites", "Every site, by name", True, 200, m.AdminSites, role="admin"
    ),
    Operation(
        "post",
        SITES,
        "adminAddSite",
        "Register a site whose pages embed the widget (as `mayday sites add`)",
        True,
        201,
        m.AdminSite,
        body=m.AdminSiteCreate,
        errors=(ErrorCode.CONFLICT,),
        role="admin",
    ),
    Operation(
        "delete",
        SITES + "/{name}",
        "adminRemoveSite",
        "Delete a site and its web visitors",
        True,
        200,
        m.AdminOk,
        errors=(ErrorCode.NOT_FOUND,),
        query=(_name("site"),),
        role="admin",
    ),
    Operation(
        "get",
        DEVICES,
        "adminListDevices",
        "Registered devices and web visitors, newest first, a page at a time",
        True,
        200,
        m.AdminDevices,
        errors=(ErrorCode.BAD_REQUEST,),
        query=DEVICE_QUERY,
        role="admin",
    ),
    Operation(
        "delete",
        DEVICES + "/{device_id}",
        "adminRemoveDevice",
        "Delete a device's or web visitor's record: it can no longer connect",
        True,
        200,
        m.AdminOk,
        errors=(ErrorCode.NOT_FOUND,),
        role="admin",
    ),
)
"""The admin's operations (§19): accounts, sites, devices."""
