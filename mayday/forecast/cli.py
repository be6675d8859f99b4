"""``mayday forecast``: the agents each hour of a coming week needs, from the recorded history.

Prints the week as a grid (hours down, days across: agents needed, the forecast help requests
beside them), the totals and the method, and writes the hour-by-hour plan with ``--csv`` /
``--json`` (docs/forecast.md has the columns). Exit status: 0 done; 1 no forecast possible (too
little history); 2 wrong arguments or an unreadable history file.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from server.settings import Settings

    from .model import Plan

__all__ = ["add_arguments", "run"]

EXIT_OK, EXIT_NO_FORECAST, EXIT_USAGE = 0, 1, 2
DEFAULT_WEEKS = 8


def _share(value: str) -> float:
    try:
        number = float(value.rstrip("%")) / (100.0 if value.endswith("%") else 1.0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a share such as 0.8 or 80%") from None
    if not 0.0 < number < 1.0:
        raise argparse.ArgumentTypeError("a service level is between 0 and 1 (e.g. 0.8)")
    return number


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not math.isfinite(number) or number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more seconds")
    return number


def _weeks(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= number <= 104:
        raise argparse.ArgumentTypeError("between 1 and 104 weeks")
    return number


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Forecast the help requests of each hour of an ISO week from the recorded history and "
        "print the agents needed per hour (Erlang C) to answer the service level's share of "
        "customers within its seconds."
    )
    parser.add_argument("--week", required=True, help="the ISO week to plan, e.g. 2027-W03")
    parser.add_argument(
        "--service-level",
        type=_share,
        default=0.8,
        metavar="SHARE",
        help="share of customers to answer in time, e.g. 0.8 (default 0.8)",
    )
    parser.add_argument(
        "--within",
        type=_seconds,
        metavar="S",
        help="answered in time: within S seconds of the press (default: MAYDAY_SERVICE_LEVEL_S, 15)",
    )
    parser.add_argument(
        "--history",
        type=Path,
        metavar="PATH.csv",
        help="a sessions export (GET /api/reports/sessions?format=csv) instead of the records",
    )
    parser.add_argument(
        "--weeks",
        type=_weeks,
        default=DEFAULT_WEEKS,
        help=f"weeks of history to learn from, at most (default {DEFAULT_WEEKS})",
    )
    parser.add_argument(
        "--wrapup",
        type=_seconds,
        metavar="S",
        help="after-call work added to each handle time (default: MAYDAY_WRAPUP_S, the most "
        "the desk holds an agent in wrap-up; it is not recorded per session)",
    )
    parser.add_argument(
        "--time-zone",
        metavar="ZONE",
        help="the hours' time zone, an IANA name (default: MAYDAY_TIME_ZONE, else UTC)",
    )
    parser.add_argument("--csv", type=Path, metavar="PATH", help="write the plan hour by hour")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the plan as JSON")
    parser.add_argument(
        "--hours", action="store_true", help="also print every hour with its figures"
    )
    parser.add_argument("--data-dir", help="where the SQLite database lives (default .mayday)")


def _settings(args: argparse.Namespace) -> Settings:
    from server.settings import Settings

    if args.data_dir is not None:
        return Settings(data_dir=Path(args.data_dir))
    return Settings()


def run(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from rich.console import Console

    from server.logs import configure_logging

    from .history import HistoryError, from_csv, from_records
    from .model import ForecastError, IsoWeek, floor_hour, local_hour, plan_week

    configure_logging(level="warning")
    out = Console(width=None if sys.stdout.isatty() else 120, highlight=False)
    err = Console(stderr=True, highlight=False)
    try:
        week = IsoWeek.parse(args.week)
    except ValueError as error:
        err.print(f"[red]error[/red] --week: {error}")
        return EXIT_USAGE
    try:
        settings = _settings(args)
    except ValueError as error:  # a MAYDAY_* variable that does not validate
        err.print(f"[red]error[/red] the settings: {error}", markup=False)
        return EXIT_USAGE
    zone_name = (
        args.time_zone
        or getattr(settings, "time_zone", None)
        or os.environ.get("MAYDAY_TIME_ZONE")
        or "UTC"
    )
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        err.print(f"[red]error[/red] unknown time zone {zone_name!r} (an IANA name: Europe/Berlin)")
        return EXIT_USAGE
    within = args.within if args.within is not None else settings.service_level_s
    wrapup = args.wrapup if args.wrapup is not None else settings.wrapup_s
    start_of_week = week.monday
    try:
        if args.history is not None:
            history = from_csv(args.history)
            last = history.last
            # A file has no "now": its history ends with the day of its last help request.
            end = (
                start_of_week
                if last is None
                else local_hour(last, zone).replace(hour=0) + timedelta(days=1)
            )
        else:
            now = time.time()
            end = floor_hour(datetime.fromtimestamp(now, zone).replace(tzinfo=None))
            earliest = min(end, start_of_week) - timedelta(weeks=args.weeks)
            window_start = earliest.replace(tzinfo=zone).timestamp()
            history = asyncio.run(from_records(settings, window_start, now))
    except HistoryError as error:
        err.print(f"[red]error[/red] {error}", markup=False, soft_wrap=True)
        return EXIT_USAGE
    try:
        plan = plan_week(
            history,
            week=week,
            zone=zone,
            zone_name=zone_name,
            end=min(end, start_of_week),
            target=args.service_level,
            within_s=within,
            wrapup_s=wrapup,
            weeks=args.weeks,
            default_aht_s=settings.default_handling_time_s,
        )
    except ForecastError as error:
        err.print(f"[red]no forecast[/red] for {week}: {error}", soft_wrap=True)
        return EXIT_NO_FORECAST
    _print(out, plan, detail=args.hours)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(plan.to_json(), indent=1) + "\n", encoding="utf-8")
        out.print(f"plan written to {args.json}")
    if args.csv is not None:
        write_csv(plan, args.csv)
        out.print(f"plan written to {args.csv}")
    return EXIT_OK


def write_csv(plan: Plan, path: Path) -> None:
    """One row per hour (RFC 4180, like the sessions export); an empty cell where a figure has
    no value (no agents needed: no service level, ASA or occupancy)."""
    from .model import CSV_COLUMNS

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for hour in plan.hours:
            row = hour.to_json()
            writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _print(out: Console, plan: Plan, *, detail: bool) -> None:
    from rich import box
    from rich.table import Table

    days = [plan.hours[d * 24].start for d in range(7)]
    grid = Table(
        title=f"Agents needed, {plan.week} ({plan.time_zone}): "
        f"{plan.target * 100:g} % answered within {plan.within_s:g} s",
        caption="each cell: agents needed · forecast help requests in that hour",
        box=box.SIMPLE_HEAVY,
        title_justify="left",
    )
    grid.add_column("hour", justify="right", style="dim")
    for first_hour in days:
        grid.add_column(first_hour.strftime("%a %d %b"), justify="right")
    for hour in range(24):
        cells = []
        for day in range(7):
            slot = plan.hours[day * 24 + hour]
            if not slot.exists:
                cells.append("[dim]n/a[/]")
            elif slot.agents == 0:
                cells.append("[dim]0[/]")
            else:
                cells.append(f"[bold]{slot.agents}[/] [dim]· {slot.arrivals:.1f}[/]")
        grid.add_row(f"{hour:02d}:00", *cells)
    totals = []
    for day in range(7):
        hours = plan.hours[day * 24 : day * 24 + 24]
        totals.append(f"{sum(h.agents for h in hours)} h · {sum(h.arrivals for h in hours):.0f}")
    grid.add_section()
    grid.add_row("day", *totals)
    out.print(grid)
    if detail:
        table = Table(title="Hour by hour", box=box.SIMPLE, title_justify="left")
        for column in ("hour", "requests", "AHT", "erlangs", "agents", "SL", "ASA", "occupancy"):
            table.add_column(column, justify="left" if column == "hour" else "right")
        for slot in plan.hours:
            asa = slot.asa_s
            table.add_row(
                slot.start.strftime("%a %d %b %H:%M"),
                f"{slot.arrivals:.2f}",
                f"{slot.aht_s:.0f} s",
                f"{slot.load:.2f}",
                str(slot.agents),
                _percent(slot.service_level),
                "–" if asa is None else f"{asa:.1f} s",
                _percent(slot.occupancy),
            )
        out.print(table)
    busiest = max(plan.hours, key=lambda h: (h.agents, h.arrivals))
    history = plan.history
    out.print(
        f"week: {plan.arrivals:.0f} help requests forecast, {plan.agent_hours} agent-hours; "
        f"busiest hour {busiest.start:%a %H:%M}: {busiest.agents} agents for "
        f"{busiest.arrivals:.1f} requests, service level {_percent(busiest.service_level)}, "
        f"ASA {busiest.asa_s or 0:.1f} s",
        soft_wrap=True,
    )
    out.print(
        f"history: {history['help_requests']} help requests from {history['source']} "
        f"({history['first']} to {history['last']}), {history['answered']} answered; "
        f"handle time {history['handle_s']} s + wrap-up {plan.wrapup_s:g} s = "
        f"{history['aht_s']} s",
        soft_wrap=True,
        markup=False,
    )
    out.print(f"method: {plan.method}; staffing by Erlang C", soft_wrap=True, markup=False)
    for note in plan.notes:
        out.print(f"note: {note}", soft_wrap=True, markup=False)
