"""``mayday sim``: run support sessions from scenario files, measure them, gate a release.

Exit status: 0 when every run passed and every ``--slo`` held; 1 when a run failed or an SLO was
violated; 2 when the scenarios or arguments are wrong (nothing ran); 3 when the simulation could
not start (server unreachable, agents cannot sign in).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from .metrics import RunRecord, ServerSampler
    from .simulation import SimResult

__all__ = ["add_arguments", "main", "run"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_SETUP = 0, 1, 2, 3


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return number


def _setting(value: str) -> tuple[str, str]:
    key, sep, setting = value.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError("expected NAME=VALUE, e.g. ring_timeout_s=15")
    return key.strip().lower(), setting.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run whole support sessions from scenario files with simulated tablets and headless "
        "agents; print percentiles and verdicts; exit non-zero when a run or an SLO fails."
    )
    parser.add_argument(
        "scenarios",
        nargs="*",
        type=Path,
        metavar="FILE|DIR",
        help="scenario files or directories of *.yaml (as --scenario)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        type=Path,
        metavar="FILE|DIR",
        help="a scenario file or a directory of *.yaml (repeatable; default: ./scenarios)",
    )
    parser.add_argument("--devices", type=_positive, default=2, help="device slots (default 2)")
    parser.add_argument("--agents", type=_positive, default=2, help="headless agents (default 2)")
    parser.add_argument(
        "--concurrency",
        type=_positive,
        help="customers in sessions at the same time (default: --devices)",
    )
    parser.add_argument(
        "--duration",
        type=_seconds,
        metavar="S",
        help="start runs round-robin until S seconds have passed (default: each scenario once "
        "per device slot)",
    )
    parser.add_argument("--runs", type=_positive, help="runs per scenario (instead of --duration)")
    parser.add_argument(
        "--server",
        action="append",
        metavar="URL[,URL...]",
        help="an existing server (default: an embedded one on a free port); its agents "
        "AGENT_PREFIX1..M must exist with --agent-password. Several processes of one system: "
        "give each (repeat --server, or a comma list); each simulated party connects to one and, "
        "when its socket is lost, reconnects to the next",
    )
    parser.add_argument(
        "--agent-prefix", default="sim-agent-", help="agent names (default sim-agent-1, -2, ...)"
    )
    parser.add_argument(
        "--supervisors",
        type=_count,
        metavar="N",
        help="supervisor accounts for the supervisor steps (default: as many as customers watched "
        "at once); with --server, SUPERVISOR_PREFIX1..N must exist as supervisors with "
        "--agent-password",
    )
    parser.add_argument(
        "--supervisor-prefix",
        default="sim-supervisor-",
        help="supervisor names (default sim-supervisor-1, -2, ...)",
    )
    parser.add_argument(
        "--agent-password",
        default=os.environ.get("MAYDAY_SIM_AGENT_PASSWORD"),
        help="the agents' password with --server (default: $MAYDAY_SIM_AGENT_PASSWORD)",
    )
    parser.add_argument(
        "--server-setting",
        action="append",
        type=_setting,
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the embedded server, e.g. ring_timeout_s=15 (repeatable)",
    )
    parser.add_argument(
        "--slo",
        action="append",
        default=[],
        metavar="METRIC_STAT=BOUND",
        help="e.g. time_to_first_frame_p95=1.0 or fps_p50>=2 (repeatable); see docs/scenarios.md",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write every metric as JSON")
    parser.add_argument("--report", type=Path, metavar="FILE", help="write the HTML report")
    parser.add_argument(
        "--check", action="store_true", help="only validate the scenarios, run nothing"
    )
    parser.add_argument(
        "--print-schema", action="store_true", help="print the scenario JSON Schema and exit"
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no live progress bar (e.g. in CI logs)"
    )
    replay = parser.add_argument_group(
        "replaying a forecast hour (docs/forecast.md): Poisson arrivals against embedded agents"
    )
    replay.add_argument(
        "--arrivals", type=Path, metavar="FORECAST.json", help="a `mayday forecast --json` file"
    )
    replay.add_argument("--hour", metavar="H", help="its hour: 0-167, peak, or 2027-01-19T10")
    replay.add_argument(
        "--speed", type=_seconds, default=60.0, metavar="K", help="time runs K times faster (60)"
    )
    replay.add_argument(
        "--scale",
        type=_seconds,
        metavar="F",
        help="agents x F, at most 1 (default: down to 6 agents)",
    )
    replay.add_argument(
        "--warmup", type=float, metavar="S", help="forecast seconds before the hour (2 AHT)"
    )
    replay.add_argument("--seed", type=int, help="the arrivals' random seed (default: random)")


def main(argv: list[str] | None = None) -> int:
    """``mayday sim`` on its own (tests call this)."""
    parser = argparse.ArgumentParser(prog="mayday sim")
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    import asyncio
    import json

    from rich.console import Console

    from server.logs import configure_logging

    from .pool import SimSetupError
    from .scenario import ScenarioError, load_scenarios
    from .schema import json_schema
    from .simulation import SimConfig, simulate
    from .slo import SloError, parse_slo

    out = Console(width=_width(), soft_wrap=False, highlight=False)
    err = Console(stderr=True, width=_width(), highlight=False)
    if getattr(args, "arrivals", None) is not None:
        from .arrivals_cli import run_arrivals

        return run_arrivals(args)
    if args.print_schema:
        print(json.dumps(json_schema(), indent=2))
        return EXIT_OK
    paths = [*args.scenarios, *(args.scenario or [])] or [Path("scenarios")]
    try:
        scenarios = load_scenarios(paths)
    except ScenarioError as exc:
        for problem in exc.problems:
            err.print(f"[red]error[/red] {problem}", markup=True, soft_wrap=True)
        return EXIT_USAGE
    try:
        slos = [parse_slo(text) for text in args.slo]
    except SloError as exc:
        err.print(f"[red]error[/red] {exc}", soft_wrap=True)
        return EXIT_USAGE
    if args.check:
        for scenario in scenarios:
            out.print(f"ok {scenario.file}: {scenario.name}, {len(scenario.steps)} steps")
        return EXIT_OK
    if args.server and not args.agent_password:
        err.print("[red]error[/red] --server needs --agent-password (or MAYDAY_SIM_AGENT_PASSWORD)")
        return EXIT_USAGE
    if args.runs is not None and args.duration is not None:
        err.print("[red]error[/red] give --runs or --duration, not both")
        return EXIT_USAGE
    from .failover import split_urls

    servers = split_urls(args.server or [])
    config = SimConfig(
        scenarios=scenarios,
        devices=args.devices,
        agents=args.agents,
        concurrency=args.concurrency or args.devices,
        duration=args.duration,
        runs=args.runs,
        server=servers[0] if servers else None,
        servers=servers,
        agent_prefix=args.agent_prefix,
        agent_password=args.agent_password,
        supervisors=args.supervisors,
        supervisor_prefix=args.supervisor_prefix,
        server_settings=dict(args.server_setting),
        slos=slos,
    )
    configure_logging(level="error")
    _quiet_libraries()
    observer = _RichObserver(err, enabled=not args.no_progress)
    try:
        with observer:
            result = asyncio.run(simulate(config, observer))
    except SimSetupError as exc:
        err.print(f"[red]error[/red] {exc}", soft_wrap=True)
        return EXIT_SETUP
    except KeyboardInterrupt:
        err.print("interrupted")
        return EXIT_FAILED
    _print_summary(out, result)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.to_json(), indent=1))
        out.print(f"metrics written to {args.json}")
    if args.report:
        from .report import render_report

        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(render_report(result), encoding="utf-8")
        out.print(f"report written to {args.report}")
    return EXIT_OK if result.ok else EXIT_FAILED


def _width() -> int | None:
    return None if sys.stdout.isatty() else 160


def _quiet_libraries() -> None:
    import logging

    for name in ("aioice", "aiortc", "socketio", "engineio", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


class _RichObserver:
    """The live progress bar: sessions done, failures, what runs now, server CPU and memory."""

    def __init__(self, console: Console, *, enabled: bool) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.enabled = enabled and console.is_terminal
        self.console = console
        self.progress: Progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=32),
            MofNCompleteColumn(),
            TextColumn(
                "[green]{task.fields[passed]} passed[/] [red]{task.fields[failed]} failed[/]"
            ),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
            disable=not self.enabled,
        )
        self.task: TaskID | None = None
        self.passed = 0
        self.failed = 0
        self.duration: float | None = None

    def __enter__(self) -> _RichObserver:
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.stop()

    def planned(self, sessions: int | None, duration: float | None) -> None:
        self.duration = duration
        self.task = self.progress.add_task(
            "sessions" if duration is None else f"{duration:g} s run",
            total=sessions if duration is None else duration,
            passed=0,
            failed=0,
            status="",
        )
        if not self.enabled:
            what = f"{sessions} sessions" if sessions is not None else f"{duration:g} s"
            self.console.print(f"mayday sim: {what}", highlight=False)

    def run_started(self, scenario: str, customers: int) -> None:
        return None

    def run_finished(self, record: RunRecord) -> None:
        for session in record.customers:
            if session.ok:
                self.passed += 1
            else:
                self.failed += 1
        if self.task is not None:
            if self.duration is None:
                self.progress.advance(self.task, len(record.customers))
            self.progress.update(self.task, passed=self.passed, failed=self.failed)
        if not self.enabled:
            verdict = "pass" if record.ok else f"FAIL: {record.failure}"
            self.console.print(f"  {record.scenario} #{record.run}: {verdict}", soft_wrap=True)

    def tick(self, sampler: ServerSampler, running: int) -> None:
        if self.task is None:
            return
        sample = sampler.latest
        status = f"running {running}"
        if sample is not None and sample.server_cpu_percent is not None:
            status += f" · server {sample.server_cpu_percent:.0f}% CPU"
        if sample is not None and sample.server_rss_mb is not None:
            status += f" {sample.server_rss_mb:.0f} MB"
        if sample is not None:
            status += f" · sim {sample.sim_cpu_percent:.0f}% CPU"
        self.progress.update(self.task, status=status)
        if self.duration is not None:
            import time

            elapsed = time.perf_counter() - sampler.origin
            self.progress.update(self.task, completed=min(self.duration, elapsed))


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "count":
        return f"{value:.0f}"
    return f"{value:.1f}"


def _print_summary(out: Console, result: SimResult) -> None:
    from rich import box
    from rich.table import Table

    from .metrics import METRICS

    scenarios = Table(title="Scenarios", box=box.SIMPLE_HEAVY, title_justify="left")
    for column in ("scenario", "customers", "runs", "passed", "failed", "verdict"):
        scenarios.add_column(column, justify="left" if column == "scenario" else "right")
    rows = result.scenario_rows()
    for row in rows:
        verdict = "[green]PASS[/]" if row["verdict"] == "pass" else "[red]FAIL[/]"
        scenarios.add_row(
            row["name"],
            row["customers"],
            str(row["runs"]),
            str(row["passed"]),
            str(row["failed"]),
            verdict,
        )
    out.print(scenarios)
    failures = [(row["name"], f) for row in rows for f in row["failures"]]
    if failures:
        out.print("[bold red]Failures[/]")
        for name, failure in failures:
            out.print(f"  {name} {failure}", soft_wrap=True, markup=False)
        out.print()

    metrics = Table(title="Metrics", box=box.SIMPLE_HEAVY, title_justify="left")
    metrics.add_column("metric")
    for column in ("n", "p50", "p90", "p95", "p99", "max"):
        metrics.add_column(column, justify="right")
    for name, info in METRICS.items():
        stats = result.summary.get(name, {"count": 0})
        if not stats.get("count"):
            continue
        unit = info.unit
        metrics.add_row(
            name if unit in ("s", "count") else f"{name} ({unit})",
            f"{stats['count']:.0f}",
            *(_format(stats.get(k), unit) for k in ("p50", "p90", "p95", "p99", "max")),
        )
    out.print(metrics)

    if result.slo_results:
        slos = Table(title="SLOs", box=box.SIMPLE_HEAVY, title_justify="left")
        for column in ("slo", "actual", "verdict"):
            slos.add_column(column)
        for slo in result.slo_results:
            slos.add_row(
                slo.slo.text,
                "no samples" if slo.actual is None else f"{slo.actual:.4g}",
                "[green]met[/]" if slo.ok else "[red]VIOLATED[/]",
            )
        out.print(slos)
    for note in result.notes:
        out.print(f"note: {note}", soft_wrap=True, markup=False)
    runs = len(result.runs)
    failed = sum(not r.ok for r in result.runs)
    violated = sum(not s.ok for s in result.slo_results)
    verdict = "[bold green]PASS[/]" if result.ok else "[bold red]FAIL[/]"
    out.print(
        f"{verdict}  {runs} runs, {sum(len(r.customers) for r in result.runs)} sessions, "
        f"{failed} failed runs, {violated} violated SLOs, in {result.duration_s:.1f} s"
    )
