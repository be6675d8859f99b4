"""QA tooling that drives the system from outside, through the same protocol as real clients.

:class:`HeadlessAgent` is imported on first use, so ``mayday --help`` does not load aiortc.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .agent import HeadlessAgent

__all__ = ["HeadlessAgent"]


def __getattr__(name: str) -> Any:
    if name == "HeadlessAgent":
        from .agent import HeadlessAgent

        return HeadlessAgent
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
