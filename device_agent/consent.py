"""The device's own record of the customer's consent: the one place that decides whether agent
input is applied.

It moves only on what happens on this device: the customer's Allow, Deny and Stop control, the
socket dropping, the lease running out. The server's ``control.state`` can take consent away
but can never create it: a ``granted`` from the server is only accepted as a resume of a grant
this device gave itself, within its own lease.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Consent", "ConsentState"]


class ConsentState(StrEnum):
    NONE = "none"
    ASKED = "asked"
    GRANTED = "granted"
    SUSPENDED = "suspended"


@dataclass
class _Request:
    session_id: str
    request_id: str
    agent_name: str
    organisation: str


class Consent:
    def __init__(
        self, *, lease_s: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.lease_s = lease_s
        self._clock = clock
        self.state = ConsentState.NONE
        self.request: _Request | None = None
        self.session_id: str | None = None
        self._suspended_at: float | None = None

    def ask(self, session_id: str, request_id: str, agent_name: str, organisation: str) -> None:
        """The server forwards the agent's request: show the dialog (unless control is on)."""
        if self.state in (ConsentState.GRANTED, ConsentState.SUSPENDED):
            return
        self.state = ConsentState.ASKED
        self.request = _Request(session_id, request_id, agent_name, organisation)

    def allow(self) -> _Request | None:
        """The customer tapped Allow; returns the request to answer, if one is open."""
        if self.state is not ConsentState.ASKED or self.request is None:
            return None
        self.state = ConsentState.GRANTED
        self.session_id = self.request.session_id
        return self.request

    def deny(self) -> _Request | None:
        request = self.request if self.state is ConsentState.ASKED else None
        self.reset()
        return request

    def reset(self) -> None:
        """No consent: Stop control, a denial, the agent's release, the session's end, expiry."""
        self.state = ConsentState.NONE
        self.request = None
        self.session_id = None
        self._suspended_at = None

    def suspend(self) -> None:
        """The connection dropped: stop applying input at once, keep the grant for the lease."""
        if self.state is ConsentState.GRANTED:
            self.state = ConsentState.SUSPENDED
            self._suspended_at = self._clock()
        elif self.state is ConsentState.ASKED:
            self.reset()

    def resume(self, session_id: str) -> bool:
        """The same session is back: resume without a dialog if the lease still runs."""
        if (
            self.state is ConsentState.SUSPENDED
            and self.session_id == session_id
            and self._suspended_at is not None
            and self._clock() - self._suspended_at <= self.lease_s
        ):
            self.state = ConsentState.GRANTED
            self._suspended_at = None
            return True
        if self.state is ConsentState.SUSPENDED:
            self.reset()
        return False

    def lease_over(self) -> bool:
        """Expire a suspension whose lease ran out; ``True`` if consent was dropped now."""
        if (
            self.state is ConsentState.SUSPENDED
            and self._suspended_at is not None
            and self._clock() - self._suspended_at > self.lease_s
        ):
            self.reset()
            return True
        return False

    def allows(self, session_id: str) -> bool:
        """Apply agent input for ``session_id`` now?"""
        return self.state is ConsentState.GRANTED and self.session_id == session_id

    @property
    def control_visible(self) -> bool:
        """Whether the customer should see "Stop control" (granted, or suspended in its lease)."""
        return self.state in (ConsentState.GRANTED, ConsentState.SUSPENDED)
