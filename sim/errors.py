"""The one failure a step raises.

It lives below both the customer's run (:mod:`sim.customer`, whose helpers raise it) and the step
modules (:mod:`sim.steps`, which raise and the runner catches), so neither imports the other for it.
"""

from __future__ import annotations

__all__ = ["StepFailed"]


class StepFailed(Exception):
    """A step did not do what the scenario says; the message is the reason, for people."""
