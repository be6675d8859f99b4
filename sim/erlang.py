"""Erlang C: the M/M/N queue a help desk is staffed by, in a few numerically stable functions.

Customers arrive at random (Poisson, ``arrivals`` per hour), each needs an agent for a random
(exponential) handle time of mean ``aht_s``, N agents answer them first come first served, and
nobody gives up. The offered load is ``A = arrivals · aht_s / 3600`` erlangs; with N > A agents:

* probability of waiting  ``C(N, A) = N·B / (N − A·(1 − B))``, B being Erlang B;
* service level           ``SL(t) = 1 − C · exp(−(N − A)·t / aht_s)`` (share answered within t);
* average speed of answer ``ASA = C · aht_s / (N − A)``;
* the p-quantile of waits ``aht_s / (N − A) · ln(C / (1 − p))`` (0 when ``C ≤ 1 − p``).

Erlang B comes from its recursion ``B(k) = A·B(k−1) / (k + A·B(k−1))``, which never forms ``A^N``
or ``N!``: it stays exact for thousands of agents where the textbook sum overflows.

Why here and not a library: pyworkforce has an ``ErlangC`` but depends on OR-Tools (a large
native solver) and pandas for it, too much for a server install; these are twenty lines. It sits
in ``sim/`` because both ``mayday forecast`` (``mayday/``, above) and the replay of a forecast hour
(:mod:`sim.arrivals`) need it, and ``sim`` may not import ``mayday``.
"""

from __future__ import annotations

import math

__all__ = [
    "agents_needed",
    "average_speed_of_answer",
    "erlang_b",
    "erlang_c",
    "offered_load",
    "service_level",
    "wait_quantile",
]

MAX_EXTRA_AGENTS = 10_000
"""A search bound far above any real answer (an answer is about A + a few √A)."""


def offered_load(arrivals_per_hour: float, aht_s: float) -> float:
    """The work arriving, in erlangs: agents that would be busy all the time on average."""
    return max(0.0, arrivals_per_hour) * max(0.0, aht_s) / 3600.0


def erlang_b(agents: int, load: float) -> float:
    """Erlang B: the share of arrivals that would find all ``agents`` busy (lost-calls model)."""
    if agents < 0 or load < 0:
        raise ValueError("agents and load must not be negative")
    blocked = 1.0
    for k in range(1, agents + 1):
        blocked = load * blocked / (k + load * blocked)
    return blocked


def erlang_c(agents: int, load: float) -> float:
    """Erlang C: the probability an arrival has to wait; 1 when the agents cannot keep up."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return 1.0
    blocked = erlang_b(agents, load)
    return agents * blocked / (agents - load * (1.0 - blocked))


def service_level(agents: int, load: float, aht_s: float, within_s: float) -> float:
    """The share of customers answered within ``within_s`` seconds (0 when overloaded)."""
    if load <= 0:
        return 1.0
    if agents <= load:
        return 0.0
    waiting = erlang_c(agents, load)
    return max(0.0, 1.0 - waiting * math.exp(-(agents - load) * within_s / aht_s))


def average_speed_of_answer(agents: int, load: float, aht_s: float) -> float:
    """The mean wait of all customers, seconds (those answered at once count 0); inf overloaded."""
    if load <= 0:
        return 0.0
    if agents <= load:
        return math.inf
    return erlang_c(agents, load) * aht_s / (agents - load)


def wait_quantile(agents: int, load: float, aht_s: float, share: float) -> float:
    """The wait ``share`` (0..1) of customers stay within, seconds; inf when overloaded."""
    if not 0.0 < share < 1.0:
        raise ValueError("share must be between 0 and 1")
    if load <= 0:
        return 0.0
    if agents <= load:
        return math.inf
    waiting = erlang_c(agents, load)
    if waiting <= 1.0 - share:
        return 0.0
    return aht_s / (agents - load) * math.log(waiting / (1.0 - share))


def agents_needed(arrivals_per_hour: float, aht_s: float, target: float, within_s: float) -> int:
    """The fewest agents who answer ``target`` (0..1) of customers within ``within_s`` seconds.

    No arrivals (or no handle time) need no agents: nobody has to be there for nobody.
    """
    if not 0.0 < target < 1.0:
        raise ValueError("the service level target is a share between 0 and 1 (e.g. 0.8)")
    load = offered_load(arrivals_per_hour, aht_s)
    if load <= 0:
        return 0
    agents = math.floor(load) + 1
    for _ in range(MAX_EXTRA_AGENTS):
        if service_level(agents, load, aht_s, within_s) >= target:
            return agents
        agents += 1
    raise ArithmeticError(f"no staffing found for {load:g} erlangs")  # pragma: no cover
