"""The REST operations of the live desk and reports (supervisors, §19), for the OpenAPI document (``signaling.openapi``) and the
server's role table (``server/access.py``)."""

from __future__ import annotations

from typing import Any

from . import models as m
from .errors import ErrorCode
from .operations import Operation

__all__ = ["DESK_OPERATIONS", "REPORT_QUERY"]

REPORT_QUERY: tuple[dict[str, Any], ...] = (
    {
        "name": "from",
        "in": "query",
        "required": False,
        "description": "Start of the window (sessions by their creation): an ISO 8601 date "
        "(the server's local midnight), a date-time (without an offset: the server's local "
        "time), or epoch seconds. Default: today's midnight.",
        "schema": {"type": "string", "maxLength": 40},
    },
    {
        "name": "to",
        "in": "query",
        "required": False,
        "description": "End of the window, exclusive, as ``from``; a date means the end of that "
        "day. After ``from``, at most 366 days later. Default: the end of today.",
        "schema": {"type": "string", "maxLength": 40},
    },
    {
        "name": "format",
        "in": "query",
        "required": False,
        "description": "``json`` (default: epoch seconds, with the window's figures) or ``csv`` "
        "(RFC 4180, a header row, ISO 8601 UTC times, as an attachment).",
        "schema": {"type": "string", "enum": ["json", "csv"]},
    },
)

DESK_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        "/api/wallboard",
        "wallboard",
        "The live wallboard, as wallboard.update (§19)",
        True,
        200,
        m.Wallboard,
        role="supervisor",
    ),
    Operation(
        "get",
        "/api/reports/sessions",
        "sessionsReport",
        "Every session created in a window, with the window's figures, as JSON or CSV (§19)",
        True,
        200,
        m.SessionsReport,
        errors=(ErrorCode.BAD_REQUEST,),
        query=REPORT_QUERY,
        role="supervisor",
    ),
)
