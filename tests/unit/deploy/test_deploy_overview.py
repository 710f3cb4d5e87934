"""The terminal overview's pure parts: which queries, which windows, figures, text."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import pytest

from dashboards import queries as q
from simulator.plant import load_plant
from stack import demo
from stack.overview import (
    PANEL_SPANS_MS,
    PANEL_WINDOWS,
    Scope,
    build,
    planned_queries,
    render_text,
    sparkline,
)

ROOT = Path(__file__).resolve().parents[3]
SECOND_PLANT = ROOT / "tests" / "data" / "acme-lyon.yaml"
NOW, TODAY, RANGE = 1_800_000_000_000, 1_799_990_000_000, 1_800_000_000_000 - 86_400_000


def result(columns: list[str], *rows: list[Any], tags: dict[str, str] | None = None) -> dict[
        str, Any]:
    return {"series": [{"name": "m", "tags": tags or {}, "columns": ["time", *columns],
                        "values": [[NOW, *r] for r in rows]}]}


def grouped(tag: str, column: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"series": [{"name": "m", "tags": {tag: k}, "columns": ["time", column],
                        "values": [[NOW, v]]} for k, v in values.items()]}


def test_the_overview_runs_the_dashboards_own_queries() -> None:
    planned = planned_queries(NOW, TODAY, RANGE)
    # The floor: the equipment-status screen's query for the floor area (the wall's floor
    # plan holds every machine of the plant, too many for a terminal).
    assert planned["floor_plan_states"] == q.substitute(
        q.FLOOR_PLAN_STATES.influxql, from_ms=RANGE, to_ms=NOW)
    for name, pq in q.OVERVIEW.items():
        if name == "floor_plan_states":
            continue
        start = TODAY if PANEL_WINDOWS.get(name) == "today" else RANGE
        start = NOW - PANEL_SPANS_MS[name] if name in PANEL_SPANS_MS else start
        assert planned[name] == q.substitute(
            pq.influxql, from_ms=start, to_ms=NOW,
            min_interval="1h" if name == "hourly_output" else None)
    joined = " ".join(planned.values())
    assert not re.search(r"\$[A-Za-z_{]|\[\[", joined)  # every macro and variable expanded
    assert f"time >= {TODAY}ms" in planned["output_today"]
    assert f"time >= {RANGE}ms" in planned["oee"]


def test_panel_windows_match_the_committed_plant_overview_dashboard() -> None:
    board = json.loads((ROOT / "dashboards/json/en/plant-overview.json").read_text())
    by_query = {pq.influxql: name for name, pq in q.OVERVIEW.items()}
    seen = set()
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            name = by_query.get(target.get("query"))
            if name is None:
                continue
            seen.add(name)
            today = panel.get("timeFrom") == "now/d"
            assert (PANEL_WINDOWS.get(name) == "today") is today, name
            if panel.get("timeFrom") == q.ALARM_WINDOW:  # active alarms: 7 days
                assert PANEL_SPANS_MS[name] == q.parse_interval(q.ALARM_WINDOW), name
    assert seen == set(q.OVERVIEW)  # the dashboard shows every overview figure
    assert board["time"]["from"] == "now-24h"  # DASHBOARD_RANGE_MS


def sample_results() -> dict[str, list[dict[str, Any]]]:
    return {
        "output_today": [result(["output"], [1234])],
        "output_vs_target_pct": [result(["of_target"], [24.68])],
        "oee": [result(["availability", "performance", "quality", "oee"],
                       [90.0, 95.0, 99.0, 84.6])],
        "machines_running": [result(["running", "total"], [3, 5])],
        "active_alarms": [{}],  # count() over nothing: no series at all
        "energy_today": [result(["kwh"], [512.25])],
        "sales_by_region": [grouped("region", "amount_cny",
                                    {"East China": 300.0, "Overseas": 100.0})],
        "hourly_output": [result(["output"], [10], [0], [40])],
        "work_orders": [{"series": [
            {"name": "workorder", "tags": {"wo_id": "WO-1", "machine": "laser-01"},
             "columns": ["time", "status_code", "progress_pct", "technician", "fault_code"],
             "values": [[NOW, 1, 40.0, "Li", "F1"]]},
            {"name": "workorder", "tags": {"wo_id": "WO-2", "machine": "press-01"},
             "columns": ["time", "status_code", "progress_pct", "technician", "fault_code"],
             "values": [[NOW, 2, 100.0, "Wang", "F2"]]},
            {"name": "workorder", "tags": {"wo_id": "WO-3", "machine": "weld-01"},
             "columns": ["time", "status_code", "progress_pct", "technician", "fault_code"],
             "values": [[NOW, 0, 0.0, "", "F3"]]}]}],
        "floor_plan_states": [grouped("machine", "state_code", {"laser-01": 4, "press-01": 2})],
        "all_states": [grouped("machine", "state_code",
                               {"laser-01": 4, "press-01": 2, "weld-01": 2, "agv-01": 1,
                                "conv-01": 5})],
        "latest_alarms": [{"series": [{
            "name": "alarm", "columns": ["time", "code", "message", "active", "wo_id",
                                         "severity", "machine", "area"],
            "values": [[NOW, "LAS-01", "Laser source fault", True, "WO-1", "critical",
                        "laser-01", "hardware"],
                       [NOW - 5, "PRS-01", "cleared later", False, "", "warning",
                        "press-01", "hardware"],
                       [NOW - 9, "PRS-01", "older raise", True, "", "warning", "press-01",
                        "hardware"]]}]}],
        "latest_data": [result(["last"], [0])],
    }


def test_build_turns_query_results_into_figures() -> None:
    o = build(sample_results(), now_ms=NOW, today_ms=TODAY, range_ms=RANGE)
    assert o.output_today == 1234 and o.output_pct == pytest.approx(24.68)
    assert (o.availability_pct, o.performance_pct, o.quality_pct, o.oee_pct) == \
        (90.0, 95.0, 99.0, 84.6)
    assert (o.machines_running, o.machines_total) == (3, 5)
    assert o.states == {"FAULT": 1, "RUNNING": 2, "IDLE": 1, "MAINTENANCE": 1}
    assert o.floor_states == {"laser-01": "FAULT", "press-01": "RUNNING"}
    assert o.active_alarms == 0  # data exists, so "no row" means none active
    # the newest event per machine+code decides: press-01's alarm was cleared
    assert [(a.machine, a.code) for a in o.alarms] == [("laser-01", "LAS-01")]
    assert o.energy_kwh == 512.25
    assert o.sales_share_pct == {"East China": 75.0, "Overseas": 25.0}
    assert o.sales_total_cny == 400.0
    assert o.hourly_output == (10.0, 0.0, 40.0)
    assert [w.wo_id for w in o.work_orders] == ["WO-1", "WO-3"]  # done ones hidden
    assert o.work_orders[0].status == "in_progress"
    assert o.latest_data_ms == NOW


def test_build_with_no_data_shows_nothing_invented() -> None:
    o = build({}, now_ms=NOW, today_ms=TODAY, range_ms=RANGE)
    assert o.output_today is None and o.oee_pct is None and o.active_alarms is None
    assert o.states == {} and o.sales_share_pct == {} and o.latest_data_ms is None
    text = render_text(o, width=120)
    assert "no data yet" in text and "waiting for machine states" in text


def test_render_text_shows_the_figures() -> None:
    o = build(sample_results(), now_ms=NOW, today_ms=TODAY, range_ms=RANGE)
    text = render_text(o, width=150, title="Plant", status="collector pid 1")
    for needle in ("1,234 / ", "25 % of target", "OEE 84.6 %", "3 / 5 running",
                   "laser-01 FAULT", "512 kWh today", "0 active alarms", "LAS-01",
                   "WO-1", "40 %", "East China", "75.0 %", "collector pid 1"):
        assert needle in text, needle
    assert "WO-2" not in text


def test_sparkline() -> None:
    assert sparkline((0, 5, 10)) == "▁▄█"
    assert sparkline(()) == ""
    assert sparkline((0, 0)) == "▁▁"


@pytest.mark.parametrize("text,seconds", [("30s", 30), ("2m", 120), ("1h", 3600),
                                          ("45", 45), ("0.5m", 30)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert demo.parse_duration(text) == seconds


def test_parse_duration_rejects_garbage() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"use e\.g\. 30s"):
        demo.parse_duration("soon")


def test_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(demo.DemoError, match="--backfill-days -1"):
        demo.Options(run_dir=tmp_path, backfill_days=-1)
    with pytest.raises(demo.DemoError, match="--refresh-s"):
        demo.Options(run_dir=tmp_path, refresh_s=0)


def test_down_and_status_without_a_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    assert demo.down(tmp_path) == 0
    assert demo.status(tmp_path) == 3
    assert capsys.readouterr().out.count("no demo running") == 2


def test_second_demo_is_refused_while_the_lock_is_held(tmp_path: Path) -> None:
    plant = load_plant()
    first = demo.Demo(demo.Options(run_dir=tmp_path), plant)
    second = demo.Demo(demo.Options(run_dir=tmp_path), plant)
    assert first.acquire()
    try:
        first.save()
        assert not second.acquire()
        msg = demo._already_running(tmp_path)
        assert re.search(r"already running \(pid \d+ since ", msg)
        assert "make demo-down" in msg
    finally:
        first.release()
    assert second.acquire()
    second.release()


def test_undefined_oee_is_absent_not_zero() -> None:
    """From the summed counts: nothing planned -> no ratio at all (InfluxQL's x / 0 = 0
    from the dashboard's OEE query is not used); planned, never ran -> A 0, OEE 0."""
    results = sample_results()
    sums = ["run_s", "planned_s", "ideal_s", "good", "scrap"]
    results["oee"] = [result(["availability", "performance", "quality", "oee"],
                             [0.0, 0.0, 0.0, 0.0])]
    results["oee_sums"] = [result(sums, [0.0, 0.0, 0.0, 0, 0])]
    o = build(results, now_ms=NOW, today_ms=TODAY, range_ms=RANGE)
    assert (o.availability_pct, o.performance_pct, o.quality_pct, o.oee_pct) == (
        None, None, None, None)
    assert "0.0 %" not in render_text(o)
    results["oee_sums"] = [result(sums, [0.0, 3600.0, 0.0, 0, 0])]
    o = build(results, now_ms=NOW, today_ms=TODAY, range_ms=RANGE)
    assert (o.availability_pct, o.performance_pct, o.quality_pct, o.oee_pct) == (
        0.0, None, None, 0.0)
    results["oee_sums"] = [result(sums, [7 * 3600.0, 8 * 3600.0, 380 * 60.0, 361, 19])]
    o = build(results, now_ms=NOW, today_ms=TODAY, range_ms=RANGE)
    assert o.availability_pct == pytest.approx(87.5) and o.quality_pct == pytest.approx(95)


def test_the_overview_follows_the_plants_enterprise_site_and_first_area() -> None:
    scope = Scope.of(load_plant(SECOND_PLANT))
    assert (scope.enterprise, scope.site, scope.floor_area, scope.floor_title) == \
        ("acme", "lyon", "moulding", "Moulding hall")
    planned = planned_queries(NOW, TODAY, RANGE, scope)
    for name, influxql in planned.items():
        assert re.search(r'"enterprise" =~ /\^\(acme\)\$/', influxql), name
        assert re.search(r'"site" =~ /\^\(lyon\)\$/', influxql), name
        assert "hearth" not in influxql and "shengzhou" not in influxql, name
    assert "moulding" in planned["floor_plan_states"]
    assert "hardware" not in planned["floor_plan_states"]
    # The default scope is the demo plant's (what the dashboards default to).
    default = Scope.of(load_plant())
    assert (default.enterprise, default.site, default.floor_area) == \
        (Scope().enterprise, Scope().site, Scope().floor_area)
    text = render_text(build({}, now_ms=NOW, today_ms=TODAY, range_ms=RANGE), scope=scope)
    assert "Moulding hall equipment status" in text and "Hardware" not in text


BAD_PLANT = """enterprise: acme
site: lyon
name: ACME
types: types.yaml
areas:
  - id: moulding
    calendar: night_shift
    lines: []
"""


@pytest.mark.parametrize("command", ["check", "up"])
def test_a_bad_plant_is_one_line_naming_the_key_before_anything_starts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_PLANT)
    run_dir = tmp_path / "run"
    assert demo.main([command, "--plant", str(bad), "--run-dir", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "areas[0].calendar" in err and "night_shift" in err
    assert not run_dir.exists()  # no lock, no stack, no child


def test_check_names_the_plant(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main(["check", "--plant", str(SECOND_PLANT)]) == 0
    assert capsys.readouterr().out == "plant acme/lyon (ACME Lyon plant): 5 machines in 2 areas\n"


def test_today_starts_at_the_plants_local_midnight() -> None:
    """Lyon (Europe/Paris) on the day summer time ends: 'today' began at 00:00 CEST
    (22:00 UTC the day before), whatever this machine's time zone."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from stack.overview import windows

    now = dt.datetime(2026, 10, 25, 12, 0, tzinfo=dt.UTC)
    _, today_ms, _ = windows(now, ZoneInfo("Europe/Paris"))
    assert today_ms == int(dt.datetime(2026, 10, 24, 22, 0, tzinfo=dt.UTC).timestamp() * 1000)
    _, today_ms, _ = windows(now, ZoneInfo("Asia/Shanghai"))
    assert today_ms == int(dt.datetime(2026, 10, 24, 16, 0, tzinfo=dt.UTC).timestamp() * 1000)
    scope = Scope.of(load_plant(SECOND_PLANT))
    assert scope.tzinfo is not None
    assert scope.tzinfo.utcoffset(now.replace(tzinfo=None)) == dt.timedelta(hours=1)
