"""One REST operation as the OpenAPI document (``signaling.openapi``) describes it, and as the
server enforces it: the ``role`` of each is the least account role that may call it, the one
table of ``server/access.py``.

Its own module so that the groups of operations (the core in ``signaling.openapi``, the desk's in
``signaling.openapi_desk``, the admin's in ``signaling.openapi_admin``) each stay with their subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from .errors import ErrorCode
from .roles import AccountRole

__all__ = ["IMAGES", "PROMETHEUS", "Operation"]

IMAGES: Literal["images"] = "images"
PROMETHEUS = "text/plain; version=1.0.0; charset=utf-8"


@dataclass(frozen=True)
class Operation:
    """One method on one path, as §14's table has it."""

    method: str
    path: str
    operation_id: str
    summary: str
    bearer: bool
    """Needs an agent token (``Authorization: Bearer``); the rest are open."""
    status: int
    """The success status."""
    response: type[BaseModel] | Literal["prometheus", "images"] | None
    """The success body: a model, the Prometheus text format, an image (PNG or JPEG), or none."""
    body: type[BaseModel] | Literal["images"] | None = None
    """The request body: a model (JSON), or an image (PNG or JPEG)."""
    errors: tuple[ErrorCode, ...] = ()
    """Refusals besides the ones every such operation has (see :func:`_error_statuses`)."""
    origin: bool = False
    """Takes the page's ``Origin`` header (web visitors, §18)."""
    also: tuple[int, ...] = ()
    """Other statuses that answer with the success body (``/readyz``: 503)."""
    query: tuple[dict[str, Any], ...] = ()
    """Query parameters, as OpenAPI parameter objects."""
    role: AccountRole = "agent"
    """With a token: the least account role that may call it (``signaling.roles``)."""

    @property
    def needs(self) -> AccountRole | None:
        """The least role that may call it, ``None`` if it is open."""
        return self.role if self.bearer else None
