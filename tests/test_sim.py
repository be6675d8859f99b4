"""``mayday sim``: the shipped scenarios pass end to end, verdicts name their reasons, the outputs
(summary, JSON, HTML report) carry the numbers and the plots, and bad input is refused with the
file and line.

The simulations run as real ``mayday sim`` processes (a real server process each, real devices
and headless agents), at small scale so that the whole file stays around a minute.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from sim.embedded import EmbeddedServer
from sim.metrics import METRICS, percentile
from sim.scenario import ScenarioError, load_scenarios, parse_scenario
from sim.schema import json_schema
from sim.slo import SloError, parse_slo
from sim.steps import STEP_TYPES

from .browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs" / "scenarios.md"


def mayday_sim(*args: str, timeout: float = 110) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mayday.cli", "sim", "--no-progress", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------
# End to end


@pytest.mark.timeout(150)
def test_the_shipped_scenarios_pass_and_report_numbers_and_pictures(tmp_path: Path) -> None:
    out_json, report = tmp_path / "sim.json", tmp_path / "sim.html"
    result = mayday_sim(
        "--scenario", "scenarios", "--devices", "3", "--agents", "2", "--concurrency", "3",
        "--runs", "1", "--json", str(out_json), "--report", str(report),
        "--slo", "time_to_first_frame_p95=10", "--slo", "pass_rate=1",
        "--server-setting", "overflow_s=2", "--server-setting", "callback_retry_s=1",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS" in result.stdout

    data = json.loads(out_json.read_text())
    assert data["verdict"] == "pass"
    shipped = {p.stem for p in SCENARIOS.glob("*.yaml")}
    assert {row["name"] for row in data["scenarios"]} == shipped
    assert all(row["verdict"] == "pass" for row in data["scenarios"]), data["scenarios"]
    for name in (
        "time_to_ring",
        "time_to_first_frame",
        "annotation_latency",
        "control_apply_latency",
        "control_latency",
        "consent_round_trip",
        "revoke_latency",
        "pause_latency",
        "reconnect_time",
        "resume_time",
        "session_duration",
        "time_to_overflow",
        "callback_answer",
        "callback_answered",
        "fps",
        "server_cpu_percent",
        "server_rss_mb",
    ):
        metric = data["metrics"][name]
        assert metric["count"] > 0, name
        assert len(metric["samples"]) == metric["count"]
        assert 0 <= metric["p50"] <= metric["p95"] <= metric["max"], name
    assert set(data["metrics"]) == set(METRICS)
    assert data["metrics"]["server_rss_mb"]["max"] > 20
    assert data["metrics"]["annotation_latency"]["max"] < 5
    overflow = next(r for r in data["runs"] if r["scenario"] == "queue_overflow")
    assert len(overflow["sessions"]) == 4  # agents+2
    assert sum(s["metrics"]["time_to_ring"][0] > 2.0 for s in overflow["sessions"]) >= 2
    happy = next(r for r in data["runs"] if r["scenario"] == "happy_path_control")["sessions"][0]
    end = next(step for step in happy["steps"] if step["kind"] == "end")
    assert end["detail"] == {"rating": 5, "solved": True}, "rated, and Yes was recorded"
    # Every callback customer said "Not now" once and connected the second time (§20.3).
    assert data["metrics"]["callback_answered"]["mean"] == 50
    blip = next(r for r in data["runs"] if r["scenario"] == "network_blip")["sessions"][0]
    assert any(i["kind"] == "network_down" for i in blip["intervals"])
    assert [s["ok"] for s in data["slos"]] == [True, True]

    ARTIFACTS.mkdir(exist_ok=True)
    rendered = _render(report, ARTIFACTS / "sim-report.png")
    assert rendered["title"].startswith("mayday sim")
    assert rendered["histograms"] >= 10, rendered
    assert rendered["bars"] >= 30, rendered
    assert rendered["lines"] >= 2, rendered
    assert rendered["lanes"] == sum(len(r["sessions"]) for r in data["runs"]), rendered
    assert rendered["phases"] >= rendered["lanes"], rendered
    assert rendered["scalable"], "every chart has a viewBox and no fixed size"
    assert rendered["scripts"] == 0, "the report runs no script: its tooltips are SVG <title>s"
    assert rendered["external"] == 0, "the report must not load anything"


def _render(report: Path, screenshot: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report.as_uri())
            page.screenshot(path=str(screenshot), full_page=True)
            counts: dict[str, Any] = page.evaluate(
                """() => ({
                    title: document.title,
                    histograms: [...document.querySelectorAll('.grid .chart svg')]
                        .filter(s => s.querySelector('[id*="-bar-"] > title')).length,
                    bars: document.querySelectorAll('.grid .chart svg [id*="-bar-"] > title')
                        .length,
                    lines: document.querySelectorAll('.chart svg [id*="-line-"] > title').length,
                    lanes: [...document.querySelectorAll('.chart svg [id*="-lane-"]')]
                        .filter(g => g.querySelector(':scope > title')
                            && /#\\d/.test(g.querySelector('text').textContent)).length,
                    phases: document.querySelectorAll('.chart svg [id*="-queue-"] title').length,
                    scalable: [...document.querySelectorAll('.chart svg')]
                        .every(s => s.getAttribute('viewBox') && !s.hasAttribute('width')),
                    scripts: document.querySelectorAll('script, [onload], [onmouseover]').length,
                    visible: [...document.querySelectorAll('.chart svg')]
                        .every(s => s.getBoundingClientRect().width > 100),
                })"""
            )
            counts["external"] = sum(not url.startswith("file:") for url in requests)
            assert counts["visible"], "an SVG is not laid out"
            return counts
        finally:
            browser.close()


MUST_FAIL = """\
name: denied_but_bluetooth_on
description: claims Bluetooth is on although the customer denied control
steps:
  - press_help
  - wait_for_agent
  - request_control
  - customer_denies
  - tap: {element: app.settings, expect: refused}
  - expect_state: {bluetooth: true, timeout: 1}
  - end
"""


def test_a_false_expectation_fails_with_the_step_and_line(tmp_path: Path) -> None:
    scenario = write(tmp_path / "denied.yaml", MUST_FAIL)
    out_json = tmp_path / "sim.json"
    result = mayday_sim(
        "--scenario", str(scenario), "--devices", "1", "--agents", "1", "--json", str(out_json)
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    expected = f"step 6 expect_state ({scenario}:9): bluetooth is false, expected true"
    assert expected in result.stdout
    data = json.loads(out_json.read_text())
    assert data["verdict"] == "fail"
    (row,) = data["scenarios"]
    assert row["verdict"] == "fail"
    assert expected in row["failures"][0]
    (session,) = data["runs"][0]["sessions"]
    steps = session["steps"]
    assert [s["ok"] for s in steps] == [True] * 5 + [False]
    assert steps[4]["detail"]["refused"].startswith("refused by the server")
    assert session["metrics"]["consent_round_trip"], "the steps before the failure are measured"


def test_an_slo_violation_fails_against_a_running_server(tmp_path: Path) -> None:
    scenario = write(
        tmp_path / "short.yaml",
        "steps: [press_help, wait_for_agent, {annotate: circle}, end]\n",
    )
    out_json = tmp_path / "sim.json"

    async def run() -> subprocess.CompletedProcess[str]:
        async with EmbeddedServer(["qa-1"], "qa-password-1") as server:
            return await asyncio.to_thread(
                mayday_sim,
                "--server", server.url, "--agent-prefix", "qa-", "--agent-password",
                "qa-password-1", "--agents", "1", "--devices", "1", "--scenario", str(scenario),
                "--json", str(out_json), "--slo", "time_to_first_frame_p95=0.000001",
                "--slo", "annotation_latency_max=30",
            )  # fmt: skip

    result = asyncio.run(run())
    assert result.returncode == 1, result.stdout + result.stderr
    assert "VIOLATED" in result.stdout
    data = json.loads(out_json.read_text())
    assert all(row["verdict"] == "pass" for row in data["scenarios"])
    first_frame, annotation = data["slos"]
    assert (first_frame["ok"], annotation["ok"]) == (False, True)
    assert first_frame["actual"] > first_frame["bound"]
    assert data["server"].startswith("http://127.0.0.1:")


@pytest.mark.timeout(150)
def test_a_customer_watched_then_handed_on_keeps_going_with_the_colleague(tmp_path: Path) -> None:
    # Two customers at once, each handed to a free colleague: the simulation signs in a third
    # agent so that one is always free, and a supervisor for each.
    out_json = tmp_path / "sim.json"
    result = mayday_sim(
        "scenarios/transfer_and_watch.yaml", "--devices", "2", "--agents", "2",
        "--json", str(out_json), "--slo", "transfer_to_first_frame_p95=10",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "transfer_to_first_frame" in result.stdout
    data = json.loads(out_json.read_text())
    assert data["verdict"] == "pass"
    assert any("--agents raised from 2 to 3" in note for note in data["notes"]), data["notes"]
    sessions = [s for run in data["runs"] for s in run["sessions"]]
    assert len(sessions) == 2
    for name in ("transfer_to_first_frame", "watch_to_first_frame"):
        metric = data["metrics"][name]
        assert metric["count"] == 2, name
        assert 0 < metric["p50"] <= metric["max"] < 10, name
    assert data["metrics"]["session_duration"]["count"] == 4, "two sessions per customer"
    for session in sessions:
        first, second = session["agents"]
        assert first != second
        steps = {(s["index"], s["kind"]): s for s in session["steps"]}
        watched, joined = steps[(5, "supervisor_join")], steps[(6, "supervisor_join")]
        assert watched["detail"]["mark_refused"] is True
        assert joined["detail"]["mark_drawn_after_s"] >= 0
        transfer = steps[(7, "transfer")]["detail"]
        assert transfer["agent"] == second
        assert transfer["control_was_granted"] is True
        assert transfer["session_id"] == session["session_id"] != transfer["previous_session_id"]
        assert [m["kind"] for m in session["marks"]].count("transfer") == 1
        assert watched["detail"]["supervisor"].startswith("sim-supervisor-")


# --------------------------------------------------------------------------------------------
# Refused before anything runs


def test_malformed_scenarios_name_file_and_line(tmp_path: Path) -> None:
    broken = write(
        tmp_path / "broken.yaml",
        """\
name: broken
steps:
  - press_help
  - wait_for_agent: {timout: 10}
  - tap: {element: settings.bluetoth_toggle}
  - expect_state: {blutooth: true}
  - frobnicate
""",
    )
    syntax = write(tmp_path / "syntax.yaml", "steps:\n  - press_help\n  - tap: {element: x\n")
    order = write(tmp_path / "order.yaml", "steps:\n  - press_help\n  - request_control\n")
    result = mayday_sim("--check", "--scenario", str(tmp_path))
    assert result.returncode == 2
    errors = result.stderr
    for expected in (
        f"{broken}:4: step 2 wait_for_agent: unknown field 'timout' (did you mean 'timeout'?)",
        f"{broken}:5: step 3 tap: the tablet has no element 'settings.bluetoth_toggle' (did you "
        "mean 'settings.bluetooth_toggle'?)",
        f"{broken}:6: step 4 expect_state: unknown state key 'blutooth' (did you mean 'bluetooth'?)",
        f"{broken}:7: step 5: unknown step 'frobnicate'",
        f"{syntax}:3: not valid YAML",
        f"{order}:3: step 2 request_control: needs a running session, but comes before "
        "wait_for_agent",
    ):
        assert expected in re.sub(r"\s*\n\s*", " ", errors) or expected in errors, (
            expected,
            errors,
        )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("steps:\n  - annotate: {color: }\n", 2, "quote it"),
        ("steps:\n  - press_help\n  - wait_for_agent\n  - end: {rating: 7}\n", 4, "'rating'"),
        (
            "steps:\n  - press_help\n  - wait_for_agent\n  - end: {solved: true}\n",
            4,
            "give rating too",
        ),
        ("customers: lots\nsteps: [press_help]\n", 1, "customers is a number"),
        ("steps:\n  - press_help\n  - press_help\n", 3, "already waiting"),
        ("steps:\n  - wait\n", 2, "'seconds' is required"),
        ("steps:\n  - {tap: app.settings, by: customer}\n", 2, "a step is a name"),
        ("name: x\nname: y\nsteps: [press_help]\n", 2, "appears twice"),
        ("steps:\n  - expect_state: {brightness: high}\n", 2, "brightness takes a number"),
    ],
)
def test_scenario_problems(text: str, line: int, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "t.yaml")
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"t.yaml:{line}:") and message in p for p in problems), problems


_SESSION = "steps:\n  - press_help\n  - wait_for_agent\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("steps:\n  - press_help\n  - transfer\n", 3, "hand on a customer it is helping"),
        (_SESSION + "  - end\n  - transfer: queue\n", 5, "put transfer after wait_for_agent"),
        ("steps:\n  - supervisor_join\n", 2, "a supervisor watches a running session"),
        (_SESSION + "  - end\n  - supervisor_join: join\n", 5, "put it after wait_for_agent"),
        (_SESSION + "  - supervisor_leave\n", 4, "put supervisor_join before it"),
        (
            _SESSION + "  - supervisor_join\n  - transfer\n  - supervisor_leave\n",
            6,
            "a transfer ends the session the supervisor watched",
        ),
        (_SESSION + "  - transfer: {to: queue, agent: 2}\n", 4, "agent goes with to: agent"),
        (_SESSION + "  - transfer: {to: agent, locale: de}\n", 4, "locale goes with to: queue"),
        (_SESSION + "  - transfer: {to: colleague}\n", 4, "'to'"),
        (_SESSION + "  - supervisor_join: {mode: spy}\n", 4, "'mode'"),
    ],
)
def test_transfer_and_supervisor_steps_only_where_they_make_sense(
    text: str, line: int, message: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "t.yaml")
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"t.yaml:{line}:") and message in p for p in problems), problems


def test_an_unknown_slo_is_refused_before_anything_runs(tmp_path: Path) -> None:
    result = mayday_sim("--scenario", "scenarios", "--slo", "time_to_frist_frame_p95=1")
    assert result.returncode == 2
    assert "unknown SLO metric 'time_to_frist_frame_p95'" in result.stderr


def test_slo_syntax() -> None:
    slo = parse_slo("time_to_first_frame_p95=1.0")
    assert (slo.metric, slo.stat, slo.op, slo.bound) == ("time_to_first_frame", "p95", "<=", 1.0)
    assert parse_slo("fps_p50=2").op == ">="
    assert parse_slo("fps_p50<3").op == "<"
    assert parse_slo("pass_rate=0.99").op == ">="
    assert parse_slo("failures=0").op == "<="
    assert parse_slo("server_cpu_percent_max=150").metric == "server_cpu_percent"
    for bad in ("fps", "time_to_first_frame_p97=1", "nope_p95=1", "fps_p50=fast"):
        with pytest.raises(SloError):
            parse_slo(bad)
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 99) == 5.0


# --------------------------------------------------------------------------------------------
# The schema and the documentation


def test_the_published_schema_is_current_and_matches_the_scenarios() -> None:
    published = json.loads((SCENARIOS / "schema.json").read_text())
    assert published == json_schema(), "regenerate with: mayday sim --print-schema"
    validator = jsonschema.Draft202012Validator(published)
    for path in sorted(SCENARIOS.glob("*.yaml")):
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert not errors, (path.name, errors)
    assert list(validator.iter_errors({"steps": [{"tap": {"elment": "x"}}]}))
    load_scenarios([SCENARIOS])


def test_the_documentation_covers_every_step_field_and_metric() -> None:
    docs = DOCS.read_text()
    for kind, cls in STEP_TYPES.items():
        section = docs.split(f"### `{kind}`", 1)
        assert len(section) == 2, f"no section for {kind}"
        body = section[1].split("\n### ", 1)[0]
        for name, info in cls.model_fields.items():
            assert f"`{info.alias or name}`" in body, f"{kind}.{info.alias or name} undocumented"
        assert "```yaml" in body, f"{kind} has no example"
    for name in METRICS:
        assert f"`{name}`" in docs, name


def test_the_documented_examples_are_valid() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), flags=re.S)
    assert len(blocks) > 20
    for block in blocks:
        if block.lstrip().startswith("- "):  # a few steps: check each parses on its own
            items = yaml.safe_load(block)
            for item in items:
                parse_scenario(yaml.safe_dump({"steps": [item]}), "doc.yaml", check_flow=False)
        else:
            parse_scenario(block, "doc.yaml")
