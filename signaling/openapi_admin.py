"""The REST operations of accounts, sites and devices (admins, §19), for the OpenAPI document (``signaling.openapi``) and the
server's role table (``server/access.py``)."""

from __future__ import annotations

from .operations import Operation

__all__ = ["ADMIN_OPERATIONS"]

ADMIN_OPERATIONS: tuple[Operation, ...] = ()
