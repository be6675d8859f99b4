"""``mayday forecast``: Erlang C against published values, the forecast recovering a known weekly
pattern from generated history, and the command on a real SQLite database (written through the
records layer) and on the sessions export's CSV, with its JSON and CSV plans.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from mayday.cli import main
from mayday.forecast.history import Request
from mayday.forecast.model import (
    CSV_COLUMNS,
    ForecastError,
    IsoWeek,
    forecast_arrivals,
)
from server.live.records import LiveSession, SessionState
from server.records import Records
from sim import erlang

WEEK = IsoWeek(2027, 3)


# --- Erlang C --------------------------------------------------------------------------------


def test_erlang_c_matches_the_vr_calculator_example() -> None:
    """The worked example of V. R.'s Erlang C calculator ("Erlang C calculator evaluates traffic,
    delay and number of circuits",
    http://personal.telefonica.terra.es/web/vr/erlang/eng/mcerlc.htm): 600 calls an hour of 120 s
    are 20 erlangs; for a delay probability of at most 15 % 26 circuits (agents) are needed, the
    average delay is 3 s per call; with 30 circuits the delay probability is 2.5 %; 30 circuits
    at 15 % carry 23.6 erlangs."""
    load = erlang.offered_load(600, 120)
    assert load == pytest.approx(20.0)
    assert erlang.erlang_c(26, load) <= 0.15 < erlang.erlang_c(25, load)
    assert erlang.average_speed_of_answer(26, load, 120) == pytest.approx(3.0, abs=0.15)
    assert erlang.erlang_c(30, load) == pytest.approx(0.025, abs=0.0005)
    low, high = 20.0, 30.0  # the load 30 agents carry at a delay probability of 15 %
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if erlang.erlang_c(30, middle) <= 0.15 else (low, middle)
    assert round(low, 1) == 23.6


def test_erlang_c_matches_the_call_calc_application_note() -> None:
    """Footbridge's Call Calc application note (http://www.al911.org/qos_calc.htm, "It produces
    the same values as the Department of Justice report tables"): 2 call takers, 60 s calls at 30
    an hour: fewer than 8 % wait more than 10 s; calls of 60 s plus 20 s of record work: 14 %."""
    short = erlang.service_level(2, erlang.offered_load(30, 60), 60, 10)
    assert 1 - short < 0.08
    assert 1 - short == pytest.approx(0.078, abs=0.005)
    longer = erlang.service_level(2, erlang.offered_load(30, 80), 80, 10)
    assert 1 - longer == pytest.approx(0.14, abs=0.005)


def test_erlang_c_is_exact_and_stable() -> None:
    """The recursion against the textbook sum in exact fractions, and far beyond where A^N / N!
    overflows a float."""
    agents, load = 60, Fraction(50)
    terms = sum(load**k / math.factorial(k) for k in range(agents))
    top = load**agents / math.factorial(agents) * agents / (agents - load)
    exact = top / (terms + top)
    assert erlang.erlang_c(agents, 50.0) == pytest.approx(float(exact), rel=1e-12)
    big = erlang.erlang_c(5000, 4900.0)
    assert 0.0 < big < 1.0
    assert erlang.erlang_c(3, 3.0) == 1.0
    assert erlang.service_level(3, 3.5, 300, 15) == 0.0
    assert math.isinf(erlang.average_speed_of_answer(3, 3.0, 300))


def test_agents_needed() -> None:
    # 20 erlangs, 80 % within 20 s (120 s calls): the standard Erlang C tables give 24
    needed = erlang.agents_needed(600, 120, 0.8, 20)
    assert erlang.service_level(needed, 20.0, 120, 20) >= 0.8
    assert erlang.service_level(needed - 1, 20.0, 120, 20) < 0.8
    assert erlang.agents_needed(0, 300, 0.8, 15) == 0
    assert erlang.agents_needed(0.01, 300, 0.8, 15) == 1
    with pytest.raises(ValueError, match="between 0 and 1"):
        erlang.agents_needed(10, 300, 80, 15)
    assert erlang.wait_quantile(24, 20.0, 120, 0.5) == 0.0
    assert erlang.wait_quantile(21, 20.0, 120, 0.95) > erlang.wait_quantile(21, 20.0, 120, 0.9)


# --- the forecast on a known weekly pattern --------------------------------------------------


def rate(slot: int) -> float:
    """The known pattern: weekdays 08-20 h with a midday peak, quieter weekends, closed nights."""
    day, hour = divmod(slot, 24)
    if not 8 <= hour < 20:
        return 0.0
    return (20.0 if day < 5 else 6.0) * (1 + 0.5 * math.sin((hour - 8) / 12 * math.pi))


def generate(weeks: int, zone: ZoneInfo, seed: int = 7, handle_s: float = 300.0) -> list[Request]:
    """Poisson help requests at :func:`rate` for ``weeks`` weeks before 2027-W03, local time."""
    rng = np.random.default_rng(seed)
    monday = WEEK.monday - timedelta(weeks=weeks)
    requests = []
    for index in range(weeks * 168):
        wall = monday + timedelta(hours=index)
        start = wall.replace(tzinfo=zone).timestamp()
        for offset in np.sort(rng.uniform(0, 3600, rng.poisson(rate(index % 168)))):
            requests.append(Request(start + float(offset), float(rng.exponential(handle_s))))
    return requests


@pytest.mark.parametrize("zone_name", ["UTC", "Europe/Berlin"])
def test_holt_winters_recovers_the_weekly_pattern(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    truth = np.array([rate(s) for s in range(168)])
    forecast, method, _ = forecast_arrivals(generate(6, zone), zone, WEEK, WEEK.monday, 8)
    assert "Holt-Winters" in method
    assert forecast.shape == (168,)
    open_hours = truth > 0
    assert np.all(forecast[~open_hours] == 0), "closed hours are forecast 0"
    error = np.abs(forecast[open_hours] - truth[open_hours]).mean()
    assert error < 0.12 * truth[open_hours].mean(), error
    assert forecast.sum() == pytest.approx(truth.sum(), rel=0.05)
    weekday, weekend = forecast[: 5 * 24].sum() / 5, forecast[5 * 24 :].sum() / 2
    assert weekday / weekend == pytest.approx(20 / 6, rel=0.15)
    assert int(np.argmax(forecast[:24])) in range(12, 16), "the midday peak"


def test_short_histories_fall_back_and_say_so() -> None:
    zone = ZoneInfo("UTC")
    ten_days = [
        r
        for r in generate(2, zone)
        if r.at >= (WEEK.monday - timedelta(days=10)).replace(tzinfo=UTC).timestamp()
    ]
    forecast, method, notes = forecast_arrivals(ten_days, zone, WEEK, WEEK.monday, 8)
    assert "hour of the week" in method
    assert any("two weeks" in note for note in notes)
    assert forecast[10] > 0
    assert forecast[3] == 0
    six_days = [
        r
        for r in ten_days
        if r.at >= (WEEK.monday - timedelta(days=6)).replace(tzinfo=UTC).timestamp()
    ]
    with pytest.raises(ForecastError, match=r"too short: 6\.0 days"):
        forecast_arrivals(six_days, zone, WEEK, WEEK.monday, 8)
    with pytest.raises(ForecastError, match="no help requests"):
        forecast_arrivals([], zone, WEEK, WEEK.monday, 8)


# --- the command: the CSV of the sessions export ---------------------------------------------


def iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def write_export(path: Path, requests: list[Request]) -> None:
    """The sessions export's columns (docs/protocol.md §19.7); the forecast reads a few."""
    columns = [
        "id", "previous_session_id", "next_session_id", "created_at", "accepted_at", "ended_at",
        "customer_id", "customer_name", "customer_kind", "topic", "locale", "agent_id",
        "agent_name", "wait_s", "handle_s", "end_reason", "ended_by", "outcome", "rating",
        "rating_comment", "solved", "transfers",
    ]  # fmt: skip
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, columns, lineterminator="\r\n")
        writer.writeheader()
        for index, request in enumerate(requests):
            accepted = request.at + 5
            handle = request.handle_s or 0.0
            writer.writerow(
                {
                    "id": f"ses_{index}",
                    "created_at": iso(request.at),
                    "accepted_at": iso(accepted),
                    "ended_at": iso(accepted + handle),
                    "handle_s": f"{handle:.3f}",
                    "outcome": "ended",
                }
            )


def test_forecast_command_on_a_sessions_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zone = ZoneInfo("Europe/Berlin")
    history = tmp_path / "sessions.csv"
    write_export(history, generate(4, zone, handle_s=240.0))
    plan_json, plan_csv = tmp_path / "plan.json", tmp_path / "plan.csv"
    status = main(
        [
            "forecast", "--week", "2027-W03", "--history", str(history), "--time-zone",
            "Europe/Berlin", "--service-level", "0.8", "--within", "20", "--wrapup", "30",
            "--json", str(plan_json), "--csv", str(plan_csv),
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "Agents needed, 2027-W03 (Europe/Berlin)" in printed
    assert "Holt-Winters" in printed
    plan = json.loads(plan_json.read_text())
    assert (plan["week"], plan["time_zone"], plan["within_s"]) == ("2027-W03", "Europe/Berlin", 20)
    hours = plan["hours"]
    assert len(hours) == 168
    assert hours[0]["start"] == "2027-01-18T00:00:00+01:00"
    assert hours[0]["start_utc"] == "2027-01-17T23:00:00Z"
    assert plan["history"]["aht_s"] == pytest.approx(270, rel=0.05)
    for hour in hours:
        if hour["arrivals"] == 0:
            assert hour["agents"] == 0
            assert hour["service_level"] is None
        else:
            assert hour["service_level"] >= 0.8
            assert hour["agents"] == erlang.agents_needed(hour["arrivals"], hour["aht_s"], 0.8, 20)
    assert hours[3]["agents"] == 0, "03:00 local is closed in the pattern"
    assert hours[13]["agents"] >= 3, "Monday 13:00 local is busy"
    with plan_csv.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 168
    assert rows[13]["agents"] == str(hours[13]["agents"])
    assert rows[3]["service_level"] == ""


def test_forecast_command_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,when\r\nx,y\r\n")
    assert main(["forecast", "--week", "2027-W03", "--history", str(wrong)]) == 2
    assert "not a sessions export" in capsys.readouterr().err
    short = tmp_path / "short.csv"
    write_export(short, [Request(datetime(2027, 1, 17, 10, tzinfo=UTC).timestamp(), 100.0)])
    assert main(["forecast", "--week", "2027-W03", "--history", str(short)]) == 1
    assert "too short" in capsys.readouterr().err
    assert main(["forecast", "--week", "2027-03", "--history", str(short)]) == 2
    assert "not an ISO week like 2027-W03" in capsys.readouterr().err
    assert main(["forecast", "--week", "2027-W60", "--history", str(short)]) == 2


# --- the command: the records --------------------------------------------------------------


async def test_forecast_command_reads_the_records(tmp_path: Path) -> None:
    """Three weeks of requests written through the records layer (``save_sessions``), every
    Monday 09-10 and Wednesday 14-15 UTC; one request transferred, so its work is two legs."""
    year, week, _ = datetime.now(UTC).date().isocalendar()  # this week: its history is all past
    monday = datetime.combine(date.fromisocalendar(year, week, 1), datetime.min.time(), UTC)
    sessions = []
    for weeks_back in (1, 2, 3):
        for day, hour in ((0, 9), (2, 14)):
            start = (monday - timedelta(weeks=weeks_back, hours=-24 * day - hour)).timestamp()
            for n in range(12):
                created = start + n * 290
                sessions.append(
                    LiveSession(
                        id=f"ses_{weeks_back}_{day}_{n}",
                        device_id="dev",
                        device_name="tablet",
                        topic="general",
                        locale="en",
                        state=SessionState.ENDED,
                        created_at=created,
                        queue_score=created,
                        accepted_at=created + 4,
                        ended_at=created + 4 + 600,
                    )
                )
    first = sessions[0]
    sessions.append(
        first.model_copy(
            update={
                "id": "ses_transferred",
                "requeued_from": first.id,
                "created_at": first.ended_at,
                "accepted_at": (first.ended_at or 0) + 2,
                "ended_at": (first.ended_at or 0) + 2 + 300,
            }
        )
    )
    records = Records(f"sqlite+aiosqlite:///{tmp_path / 'mayday.db'}")
    try:
        await records.create_schema()
        await records.save_sessions(sessions)
    finally:
        await records.close()
    out = tmp_path / "plan.json"
    import asyncio

    status = await asyncio.to_thread(
        main,
        ["forecast", "--week", f"{year}-W{week:02d}", "--data-dir", str(tmp_path), "--wrapup", "0",
         "--time-zone", "UTC", "--json", str(out)],
    )  # fmt: skip
    assert status == 0
    plan = json.loads(out.read_text())
    assert plan["history"]["help_requests"] == 72, "the transfer is not a new request"
    assert plan["history"]["source"] == "the sqlite records"
    assert plan["history"]["handle_s"] == pytest.approx((72 * 600 + 300) / 72, abs=0.1)
    hours = plan["hours"]
    busy = {index for index, hour in enumerate(hours) if hour["agents"] > 0}
    assert busy == {9, 48 + 14}, busy
    assert hours[9]["arrivals"] == pytest.approx(12, abs=1.5)
