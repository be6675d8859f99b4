"""``mayday sim --arrivals``'s command side: plan the replay, run it, print the comparison with
the forecast's promise, write ``--json``. The replay itself is :mod:`sim.arrivals`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from typing import TYPE_CHECKING

from .arrivals import (
    DEFAULT_MAX_AGENTS,
    ArrivalsError,
    ReplayPlan,
    ReplayResult,
    load_hour,
    plan_replay,
    replay,
)
from .metrics import percentile, summarise

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["run_arrivals"]


def run_arrivals(args: argparse.Namespace) -> int:
    """``mayday sim --arrivals``: plan, replay, print and (``--json``) write; the exit status
    of ``mayday sim`` (0 kept, 1 missed or a customer failed, 2 wrong input, 3 no start)."""
    from rich.console import Console

    from server.logs import configure_logging

    from .pool import SimSetupError

    out = Console(width=None if _tty() else 120, highlight=False)
    err = Console(stderr=True, highlight=False)
    if args.hour is None:
        err.print("[red]error[/red] --arrivals needs --hour (an index 0-167, peak, or a start)")
        return 2
    if args.server:
        err.print("[red]error[/red] --arrivals runs its own embedded server (no --server)")
        return 2
    try:
        hour = load_hour(args.arrivals, args.hour)
        plan = plan_replay(
            hour,
            speed=args.speed,
            scale=args.scale,
            max_agents=DEFAULT_MAX_AGENTS,
            warmup_s=args.warmup,
            seed=args.seed,
        )
    except ArrivalsError as error:
        err.print(f"[red]error[/red] {error}", markup=False, soft_wrap=True)
        return 2
    configure_logging(level="error")
    _print_plan(out, plan)

    def tick(elapsed: float, arrived: int) -> None:
        if not args.no_progress and err.is_terminal:
            err.print(f"  {elapsed:5.1f} / {plan.real_seconds:.0f} s: {arrived} arrived", end="\r")

    try:
        result = asyncio.run(replay(plan, tick))
    except SimSetupError as error:
        err.print(f"[red]error[/red] {error}", markup=False, soft_wrap=True)
        return 3
    except KeyboardInterrupt:
        err.print("interrupted")
        return 1
    _print_result(out, result)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.to_json(), indent=1) + "\n", encoding="utf-8")
        out.print(f"results written to {args.json}")
    return 0 if result.kept else 1


def _tty() -> bool:
    return sys.stdout.isatty()


def _print_plan(out: Console, plan: ReplayPlan) -> None:
    hour = plan.hour
    out.print(
        f"replaying hour {hour.index} ({hour.start}): {hour.arrivals:.1f} help requests, "
        f"AHT {hour.aht_s:.0f} s (wrap-up {hour.wrapup_s:g} s), {hour.agents} agents, promised "
        f"{_pct(hour.service_level)} within {hour.within_s:g} s",
        soft_wrap=True,
        markup=False,
    )
    out.print(
        f"scaled: {plan.agents} agents (x{plan.scale:.3g}) at {plan.arrivals:.1f} requests per "
        f"hour (occupancy {plan.load / plan.agents:.0%}, same Erlang C service level); time "
        f"x{plan.speed:g}: {plan.warmup_s:.0f} s warm-up + 3600 s in {plan.real_seconds:.0f} s; "
        f"seed {plan.seed}",
        soft_wrap=True,
        markup=False,
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def _secs(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.1f} s"


def _print_result(out: Console, result: ReplayResult) -> None:
    from rich import box
    from rich.table import Table

    plan, hour = result.plan, result.plan.hour
    stats = summarise(result.waits)
    interval = result.level_interval()
    table = Table(
        title=f"Forecast hour {hour.index} replayed: {len(result.waits)} customers counted "
        f"({len(result.customers)} arrived, {len(result.failures)} failed), in forecast seconds",
        box=box.SIMPLE_HEAVY,
        title_justify="left",
    )
    for column in ("", "replay", f"Erlang C, {plan.agents} agents", f"forecast, {hour.agents}"):
        table.add_column(column, justify="left" if not column else "right")
    measured = result.service_level
    table.add_row(
        f"answered within {hour.within_s:g} s",
        _pct(measured)
        + ("" if interval is None else f" ({interval[0] * 100:.0f}–{interval[1] * 100:.0f} %)"),
        _pct(plan.promised_level),
        _pct(hour.service_level),
    )
    asa = sum(result.waits) / len(result.waits) if result.waits else None
    table.add_row("ASA", _secs(asa), _secs(plan.promised_asa_s), _secs(hour.asa_s))
    for share in (0.5, 0.8, 0.9, 0.95):
        measured_wait = percentile(result.waits, share * 100) if result.waits else None
        table.add_row(
            f"wait p{share * 100:.0f}", _secs(measured_wait), _secs(plan.promised_wait(share)), "–"
        )
    table.add_row("wait max", _secs(stats.get("max")), "–", "–")
    table.add_row("wait min (system latency)", _secs(stats.get("min")), "0.0 s", "–")
    handles = [c.handle_s for c in result.counted if c.handle_s is not None]
    table.add_row(
        "talk time (accept → end)",
        _secs(sum(handles) / len(handles) if handles else None),
        _secs(hour.aht_s - hour.wrapup_s),
        _secs(hour.aht_s - hour.wrapup_s),
    )
    out.print(table)
    for failure in result.failures[:10]:
        out.print(f"  failed: {failure}", soft_wrap=True, markup=False)
    verdict = "[bold green]KEPT[/]" if result.kept else "[bold red]MISSED[/]"
    out.print(
        f"{verdict}  the promise of {_pct(min(hour.target, plan.promised_level))} within "
        f"{hour.within_s:g} s, replayed in {result.duration_s:.1f} s"
    )
