"""From the history to the week's plan: arrivals per hour forecast, then agents per hour by Erlang C.

**Hours** are wall-clock hours of the desk's time zone (``MAYDAY_TIME_ZONE``, default UTC): the
week is Monday 00:00 to Sunday 24:00 there, as rosters are written. On the spring DST night the
hour that does not exist is listed with nothing in it; in autumn the repeated hour's arrivals
fall into one row.

**Arrivals** are forecast from the help requests per hour of the history (at most ``weeks`` weeks
before the forecast week; the newest hour is the week's start, or now, or for a file the end of
the day of its last request):

* two weeks or more: Holt-Winters (statsmodels' ``ExponentialSmoothing``), additive seasonality
  with a period of 168 hours, no trend (a trend fitted on a few weeks of hourly counts mostly
  extrapolates noise into the staffing);
* one to two weeks: the mean of each hour of the week over the days there are (Holt-Winters
  needs two whole seasons to tell the level from the weekly pattern);
* less than a week: no forecast (:class:`ForecastError`): a few days cannot tell a Monday from
  a Saturday, and staffing a week on them would be a guess presented as a plan.

An hour of the week in which the history has no help request at all is forecast 0 (typically
outside the opening hours) and needs 0 agents; negative forecasts are cut to 0.

**Handle time** is each answered request's accept → end (every leg of it, see
:mod:`mayday.forecast.history`), per hour of the week where that hour has at least
:data:`MIN_AHT_SAMPLES` answered requests, else over the whole history, plus the wrap-up seconds
given (wrap-up is not recorded per session).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from sim import erlang

from .history import History, Request

__all__ = [
    "HOURS_PER_WEEK",
    "ForecastError",
    "HourPlan",
    "IsoWeek",
    "Plan",
    "forecast_arrivals",
    "plan_week",
]

HOURS_PER_WEEK = 168
MIN_AHT_SAMPLES = 10
"""Answered requests an hour of the week needs for its own handle time."""
ZERO = 1e-9

Counts = npt.NDArray[np.float64]


class ForecastError(Exception):
    """No forecast can be made (too little history); the message says what is missing."""


@dataclass(frozen=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """``2027-W03`` (ISO 8601 week: Monday to Sunday, week 1 holds the year's first Thursday)."""
        head, sep, tail = text.strip().upper().partition("-W")
        try:
            year, week = int(head), int(tail)
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO week like 2027-W03") from None
        if not sep:
            raise ValueError(f"{text!r} is not an ISO week like 2027-W03")
        return cls(year, week)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> datetime:
        """Monday 00:00 of the week, wall-clock (naive)."""
        day = date.fromisocalendar(self.year, self.week, 1)
        return datetime(day.year, day.month, day.day)


@dataclass(frozen=True)
class HourPlan:
    start: datetime
    """The hour's start, aware, in the desk's time zone."""
    arrivals: float
    aht_s: float
    agents: int
    exists: bool = True
    """False for the hour a spring DST change skips."""
    within_s: float = 15.0
    """The service level's threshold: answered within this many seconds."""

    @property
    def load(self) -> float:
        return erlang.offered_load(self.arrivals, self.aht_s)

    @property
    def service_level(self) -> float | None:
        if self.agents == 0:
            return None
        return erlang.service_level(self.agents, self.load, self.aht_s, self.within_s)

    @property
    def asa_s(self) -> float | None:
        return (
            None
            if self.agents == 0
            else erlang.average_speed_of_answer(self.agents, self.load, self.aht_s)
        )

    @property
    def wait_probability(self) -> float | None:
        return None if self.agents == 0 else erlang.erlang_c(self.agents, self.load)

    @property
    def occupancy(self) -> float | None:
        return None if self.agents == 0 else self.load / self.agents

    def to_json(self) -> dict[str, object]:
        def rounded(value: float | None, digits: int) -> float | None:
            return None if value is None else round(value, digits)

        return {
            "start": self.start.isoformat(),
            "start_utc": self.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "weekday": self.start.strftime("%a"),
            "hour": self.start.hour,
            "arrivals": round(self.arrivals, 3),
            "aht_s": round(self.aht_s, 1),
            "traffic_erlangs": round(self.load, 4),
            "agents": self.agents,
            "service_level": rounded(self.service_level, 4),
            "asa_s": rounded(self.asa_s, 2),
            "wait_probability": rounded(self.wait_probability, 4),
            "occupancy": rounded(self.occupancy, 4),
        }


CSV_COLUMNS = tuple(
    HourPlan(datetime(2027, 1, 18, tzinfo=UTC), 0.0, 0.0, 0).to_json()  # the names, in order
)


@dataclass
class Plan:
    week: IsoWeek
    time_zone: str
    target: float
    within_s: float
    wrapup_s: float
    method: str
    history: dict[str, object]
    hours: list[HourPlan]
    notes: list[str] = field(default_factory=list)

    @property
    def agent_hours(self) -> int:
        return sum(h.agents for h in self.hours)

    @property
    def arrivals(self) -> float:
        return sum(h.arrivals for h in self.hours)

    def to_json(self) -> dict[str, object]:
        return {
            "mayday_forecast": 1,
            "week": str(self.week),
            "time_zone": self.time_zone,
            "service_level_target": self.target,
            "within_s": self.within_s,
            "wrapup_s": self.wrapup_s,
            "method": self.method,
            "history": self.history,
            "totals": {"arrivals": round(self.arrivals, 2), "agent_hours": self.agent_hours},
            "notes": self.notes,
            "hours": [h.to_json() for h in self.hours],
        }


def local_hour(epoch: float, zone: ZoneInfo) -> datetime:
    """The wall-clock hour (naive) an instant falls in."""
    moment = datetime.fromtimestamp(epoch, zone).replace(tzinfo=None)
    return moment.replace(minute=0, second=0, microsecond=0)


def _hours_between(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 3600)


def _slot(moment: datetime) -> int:
    """The hour of the week, 0 = Monday 00:00."""
    return moment.weekday() * 24 + moment.hour


def forecast_arrivals(
    requests: Sequence[Request], zone: ZoneInfo, week: IsoWeek, end: datetime, weeks: int
) -> tuple[Counts, str, list[str]]:
    """Expected help requests for each of the week's 168 wall-clock hours, the method, notes.

    ``end`` (naive wall-clock, on the hour) closes the history; it is at most the week's start.
    """
    end = min(end, week.monday)
    hours = [local_hour(r.at, zone) for r in requests]
    hours = [h for h in hours if h < end]
    if not hours:
        raise ForecastError(
            "no help requests recorded before the forecast week: a forecast needs at least one "
            "day of history"
        )
    first = min(hours).replace(hour=0)
    start = max(first, end - timedelta(weeks=weeks))
    length = _hours_between(start, end)
    if length < HOURS_PER_WEEK:
        raise ForecastError(
            f"the history is too short: {length / 24:.1f} days of recorded help requests before "
            f"{week}; a forecast needs at least one week (7 days), two for Holt-Winters"
        )
    series = np.zeros(length)
    for moment in hours:
        index = _hours_between(start, moment)
        if 0 <= index < length:
            series[index] += 1
    lead = _hours_between(end, week.monday)
    notes: list[str] = []
    slots = np.array([_slot(start + timedelta(hours=i)) for i in range(length)])
    if length >= 2 * HOURS_PER_WEEK:
        forecast = _holt_winters(series, lead + HOURS_PER_WEEK)[lead:]
        seen = np.array([series[slots == s].sum() > 0 for s in range(HOURS_PER_WEEK)])
        method = (
            f"Holt-Winters, additive weekly seasonality (168 h), "
            f"{length / HOURS_PER_WEEK:.1f} weeks of history"
        )
    else:
        forecast = np.array([series[slots == s].mean() for s in range(HOURS_PER_WEEK)])
        seen = forecast > 0
        method = f"mean of each hour of the week over {length / 24:.1f} days of history"
        notes.append(
            "less than two weeks of history: each hour is the mean of the same hour of the week "
            "so far (Holt-Winters needs two weeks)"
        )
    forecast = np.where(seen, np.clip(forecast, 0.0, None), 0.0)
    forecast[forecast < ZERO] = 0.0
    return forecast, method, notes


def _holt_winters(series: Counts, steps: int) -> Counts:
    """Holt-Winters with additive weekly seasonality, ``steps`` hours ahead of the series."""
    from statsmodels.tsa.holtwinters import (  # type: ignore[import-untyped]
        ExponentialSmoothing,
    )

    model = ExponentialSmoothing(
        series,
        trend=None,
        seasonal="add",
        seasonal_periods=HOURS_PER_WEEK,
        initialization_method="estimated",
    )
    with warnings.catch_warnings():
        # Convergence chatter of the optimiser on sparse counts: the fit is still the best found.
        warnings.simplefilter("ignore")
        fitted = model.fit()
        predicted = np.asarray(fitted.forecast(steps), dtype=np.float64)
    if not np.all(np.isfinite(predicted)):
        raise ForecastError("Holt-Winters gave no finite forecast for this history")
    return predicted


def handle_time_profile(
    requests: Sequence[Request], zone: ZoneInfo, default_s: float
) -> tuple[Counts, float, int]:
    """Mean handle time per hour of the week (the overall mean where an hour has few), the
    overall mean, and how many answered requests it is from (``default_s`` when none)."""
    by_slot: list[list[float]] = [[] for _ in range(HOURS_PER_WEEK)]
    for request in requests:
        if request.handle_s is not None:
            by_slot[_slot(local_hour(request.at, zone))].append(request.handle_s)
    every = [value for values in by_slot for value in values]
    overall = float(np.mean(every)) if every else default_s
    profile = np.array(
        [float(np.mean(v)) if len(v) >= MIN_AHT_SAMPLES else overall for v in by_slot]
    )
    return profile, overall, len(every)


def plan_week(
    history: History,
    *,
    week: IsoWeek,
    zone: ZoneInfo,
    zone_name: str,
    end: datetime,
    target: float,
    within_s: float,
    wrapup_s: float,
    weeks: int,
    default_aht_s: float,
) -> Plan:
    """The week's staffing: for each hour the forecast arrivals and the agents Erlang C asks for."""
    used = [r for r in history.requests if local_hour(r.at, zone) < min(end, week.monday)]
    arrivals, method, notes = forecast_arrivals(used, zone, week, end, weeks)
    recent = [
        r for r in used if local_hour(r.at, zone) >= min(end, week.monday) - timedelta(weeks=weeks)
    ]
    profile, overall, answered = handle_time_profile(recent, zone, default_aht_s)
    if answered == 0:
        notes.append(
            f"no answered help request in the history: handle time taken as {default_aht_s:g} s "
            "(MAYDAY_DEFAULT_HANDLING_TIME_S)"
        )
    hours: list[HourPlan] = []
    for index in range(HOURS_PER_WEEK):
        wall = week.monday + timedelta(hours=index)
        aware = wall.replace(tzinfo=zone)
        exists = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
        rate = float(arrivals[index]) if exists else 0.0
        aht = float(profile[index]) + wrapup_s
        agents = erlang.agents_needed(rate, aht, target, within_s) if rate > 0 else 0
        hours.append(HourPlan(aware, rate, aht, agents, exists, within_s=within_s))
    first, last = history.first, history.last
    summary: dict[str, object] = {
        "source": history.source,
        "help_requests": len(used),
        "answered": answered,
        "first": None if first is None else _utc(first),
        "last": None if last is None else _utc(last),
        "ends": end.replace(tzinfo=zone).isoformat(),
        "aht_s": round(overall + wrapup_s, 1),
        "handle_s": round(overall, 1),
    }
    return Plan(
        week,
        zone_name,
        target,
        within_s,
        wrapup_s,
        method,
        summary,
        hours,
        [*history.notes, *notes],
    )


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def ceil_hour(moment: datetime) -> datetime:
    """The next whole hour at or after ``moment``."""
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(hours=1)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def is_finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
