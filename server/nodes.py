"""Server processes as the others see them: by their heartbeats in the shared live store.

Every process writes a heartbeat each sweep (:data:`HEARTBEAT_INTERVAL_S`). A socket lives in one
process, so when that process dies without a word (``kill -9``, a lost machine) its parties must
still count as lost, from the moment it was last known alive: remote control is suspended from
then and its lease runs from then (``docs/protocol.md`` §10.6), never from when somebody noticed.

Two thresholds, for two decisions:

* **silent** (:data:`SILENT_AFTER_S`, three missed beats), or not heard from since the loss that
  suspended control: a party held by such a process is not counted as connected when deciding
  whether suspended control may resume (:func:`vouched_for`). A false alarm (a process stalled
  for a moment) only delays a resume until the next sweep.
* **dead** (:data:`DEAD_AFTER_S`): the process is gone; one other process claims it and treats
  every party whose socket lived there as lost at its last heartbeat.
"""

from __future__ import annotations

from .live.store import LiveStore

__all__ = [
    "DEAD_AFTER_S",
    "HEARTBEAT_INTERVAL_S",
    "SILENT_AFTER_S",
    "dead_nodes",
    "last_seen",
    "vouched_for",
]

HEARTBEAT_INTERVAL_S = 0.5
"""How often each process beats (and sweeps for what has come due)."""
SILENT_AFTER_S = 3 * HEARTBEAT_INTERVAL_S
"""A process that missed this long of beats does not count as holding a live socket."""
DEAD_AFTER_S = 5.0
"""A process whose heartbeat is older than this is taken for dead; its sockets count as lost."""


def vouched_for(
    node: str | None, beats: dict[str, float], *, since: float | None, now: float, me: str
) -> bool:
    """May a socket held by ``node`` count as connected, for a resume of control suspended at
    ``since``? This process vouches for itself; another must have beaten *after* the loss (a
    process that died at the loss never will) and lately. A process with no heartbeat on record
    is new or was already dealt with as dead (its parties are then marked lost)."""
    if node is None or node == me or node not in beats:
        return True
    beat = beats[node]
    return beat >= now - SILENT_AFTER_S and (since is None or beat > since)


async def dead_nodes(store: LiveStore, now: float, *, me: str) -> dict[str, float]:
    """Processes other than ``me`` taken for dead, with their last heartbeat."""
    return {
        node: at
        for node, at in (await store.beats()).items()
        if at < now - DEAD_AFTER_S and node != me
    }


def last_seen(beats: dict[str, float], node: str | None, now: float) -> float:
    """When a socket of ``node`` was last known alive: its process's last beat, at most now."""
    if node is None:
        return now
    return min(now, beats.get(node, now))
