"""What the customer sees of a support session, whatever draws it (the simulated tablet's overlay,
the Tk window next to a real X desktop), and the actions the customer can take."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["CustomerAction", "CustomerActionCallback", "CustomerView", "Phase"]

Phase = Literal["idle", "queued", "connecting", "connected", "ended"]
CustomerAction = Literal[
    "help", "cancel", "allow", "deny", "stop_control", "pause", "resume", "end", "rate"
]
CustomerActionCallback = Callable[[CustomerAction, "int | None"], None]


@dataclass(frozen=True)
class CustomerView:
    """What the customer's support controls show; set by the device, drawn over everything."""

    locale: str = "en"
    phase: Phase = "idle"
    position: int | None = None
    estimated_wait_s: float | None = None
    agent_name: str | None = None
    organisation: str | None = None
    consent_requested: bool = False
    """The modal "X wants to control your screen" dialog with Allow / Deny."""
    control_active: bool = False
    """The agent controls the screen: a red Stop control button, a banner and a red frame."""
    sharing_paused: bool = False
    rating_requested: bool = False
    requeued: bool = False
    """The agent lost their connection and the customer is waiting again, first in line: said in
    plain words while waiting (no rating is asked for that session)."""
    chat: tuple[tuple[str, str], ...] = ()
    """The latest chat lines, oldest first, as (who, text); the customer sees them on screen."""
