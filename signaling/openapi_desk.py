"""The REST operations of the live desk and reports (supervisors, §19), for the OpenAPI document (``signaling.openapi``) and the
server's role table (``server/access.py``)."""

from __future__ import annotations

from .operations import Operation

__all__ = ["DESK_OPERATIONS"]

DESK_OPERATIONS: tuple[Operation, ...] = ()
