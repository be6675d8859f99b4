"""Wait estimates from observed handling times and the agents online, not from a constant.

Two questions, two formulas:

* *A customer at position k*: with ``n`` agents staffed, each finishing a session on average every
  ``h`` seconds, the desk frees an agent every ``h / n`` seconds; the customer needs ``k - free``
  agents to come free before theirs does, so the wait is ``(k - free) * h / n`` (zero when a
  matching agent is free now).
* *A customer who would ask now* (shown to agents and operators): the Erlang C average speed of
  answer for ``n`` agents, arrival rate ``λ`` and handling time ``h``. It is only defined while the
  desk keeps up (``λ h < n``); otherwise the position formula with the whole queue is used.
"""

from __future__ import annotations

import math

__all__ = ["erlang_c", "wait_at_position", "wait_for_new_arrival"]


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival has to wait, for ``servers`` agents and offered ``load`` (Erl).

    Uses the numerically stable Erlang B recursion, then converts B to C.
    """
    if servers <= 0:
        return 1.0
    if load <= 0:
        return 0.0
    if load >= servers:
        return 1.0
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return servers * blocking / (servers - load * (1 - blocking))


def wait_at_position(
    position: int, *, staffed: int, free: int, handling_time_s: float
) -> float | None:
    """Expected seconds until an agent takes the customer at ``position`` (1 = next)."""
    if staffed <= 0:
        return None
    ahead = position - max(0, free)
    if ahead <= 0:
        return 0.0
    return ahead * handling_time_s / staffed


def wait_for_new_arrival(
    *, staffed: int, free: int, queued: int, arrival_rate: float, handling_time_s: float
) -> float | None:
    """Expected seconds a customer asking for help now would wait."""
    if staffed <= 0:
        return None
    if free > queued:
        return 0.0  # an agent is free right now
    load = arrival_rate * handling_time_s
    if load < staffed and queued == 0:
        probability = erlang_c(staffed, load)
        if not math.isfinite(probability):
            return None
        return probability * handling_time_s / (staffed - load)
    return wait_at_position(queued + 1, staffed=staffed, free=free, handling_time_s=handling_time_s)
