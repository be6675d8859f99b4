"""Identifiers with a readable prefix (``ses_…``, ``dev_…``) so logs say what an id names."""

from __future__ import annotations

import secrets

__all__ = ["new_id"]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(12)}"
