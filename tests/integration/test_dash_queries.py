"""Query contract: every panel's InfluxQL, expanded as Grafana expands it, runs against
a real influxd holding a backfilled default plant and returns data of the right shape.

One module-scoped backfill (3 h of the default plant, ~20 s) feeds every test here.
Panel-relative windows (``now/d``, ``now/M``) are replaced by the backfilled window.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dashboards import queries as q
from dashboards.build import build_lang
from dashboards.queries import parse_interval
from dashboards.screens import machine as machine_screen
from dashboards.wall import FRESH_WINDOW, Wall, load
from stack.services import Influxd
from telemetry.contract import MachineState, WorkOrderStatus
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient

pytestmark = pytest.mark.integration

END = "2026-11-26T06:00:00Z"  # a weekday morning: shifts running, sales flowing
HOURS = 3
COLLECTOR = "collector-test"


class Plant:
    def __init__(self, client: InfluxClient, truth: dict[str, Any]) -> None:
        self.client = client
        self.truth = truth
        # counts are stamped at the end of their interval: truth is (start, end].
        self.from_ms = int(truth["window"]["start_ms"]) + 1
        self.to_ms = int(truth["window"]["end_ms"])

    def run(self, influxql: str, *, min_interval: str | None = None,
            variables: dict[str, Any] | None = None, from_ms: int | None = None,
            to_ms: int | None = None) -> list[dict[str, Any]]:
        text = q.substitute(influxql, from_ms=self.from_ms if from_ms is None else from_ms,
                            to_ms=self.to_ms if to_ms is None else to_ms,
                            min_interval=min_interval, variables=variables)
        assert "$" not in text.replace("$/", ""), text
        series: list[dict[str, Any]] = self.client.query(text)[0].get("series") or []
        return series

    def rows(self, pq: q.PanelQuery, **kw: Any) -> list[dict[str, Any]]:
        out = []
        for s in self.run(pq.influxql, **kw):
            for v in s["values"]:
                out.append({**(s.get("tags") or {}), **dict(zip(s["columns"], v, strict=True))})
        return out


def _write_collector_stats(client: InfluxClient, from_ms: int, to_ms: int) -> None:
    """What a running collector writes about itself, through the collector's own code."""
    from collector.metrics import Metrics

    m = Metrics(COLLECTOR)
    lines: list[str] = []
    for i, ts in enumerate(range(from_ms + 10_000, to_ms, 60_000)):
        m.received({"telemetry": 100 + i})
        m.write_done(204, 100, 0.004 + (i % 5) / 1000)
        m.written(100, [20.0 + i % 7, 35.0])
        if i % 20 == 0:
            m.dead_lettered("wrong_type" if i % 40 else "bad_json")
        lines += m.stats_lines(ts, (i % 3, 100 * (i % 3), 0.5))
    result = client.write("\n".join(lines).encode())
    assert result.ok, result


@pytest.fixture(scope="module")
def plant(influxd: Influxd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plant]:
    if not influxd.running():
        influxd.restart()
    db = f"dash_{uuid.uuid4().hex[:10]}"
    truth_path = tmp_path_factory.mktemp("dash") / "truth.json"
    proc = subprocess.run(
        [sys.executable, "-m", "simulator", "backfill", "--days", str(HOURS / 24), "--end", END,
         "--seed", "11", "--truth-out", str(truth_path), "--no-progress",
         "--influx-url", influxd.url, "--influx-db", db],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    truth = json.loads(Path(truth_path).read_text())
    client = InfluxClient(InfluxEndpoint(url=influxd.url, db=db))
    p = Plant(client, truth)
    _write_collector_stats(client, p.from_ms, p.to_ms)
    yield p
    client.query(f'DROP DATABASE "{db}"', db="")
    client.close()


WALL = Wall.of("en", load())
#: The equipment screen's area (the hardware workshop of the default plant).
HARDWARE = {m.id for ln in WALL.first_area().lines for m in ln.machines}
#: Queries that may legitimately return nothing for a 3-hour window.
MAY_BE_EMPTY = {"maintenance.count_open", "maintenance.count_in_progress",
                "maintenance.count_done", "overview.active_alarms",
                "overview.current_faults",
                # one machine's alarms and work orders (the test below picks one that has)
                "machine.alarms", "machine.work_orders"}


def test_every_panel_query_runs_and_returns_data(plant: Plant) -> None:
    """All panels of all six screens, with each panel's own min interval, as Grafana runs them."""
    by_text = {pq.influxql: key for key, pq in q.all_queries().items()}
    ran = set()
    for b in build_lang("en"):
        for panel in b.model["panels"]:
            # A repeated tile gets one machine, as Grafana scopes each repeat; the machine
            # detail screen's variable is single-choice.
            variables = ({q.VAR_MACHINE: q.multi(sorted(HARDWARE)[0])}
                         if panel.get("repeat") or b.slug == machine_screen.SLUG else None)
            for t in panel.get("targets", []):
                key = by_text[t["query"]]
                series = plant.run(t["query"], min_interval=panel.get("interval"),
                                   variables=variables)
                ran.add(key)
                if key not in MAY_BE_EMPTY:
                    assert series, f"{b.uid} panel {panel['id']} ({key}) returned no data"
                for s in series:
                    assert s["values"], key
                    if t["resultFormat"] == "time_series" and "GROUP BY time(" in t["query"]:
                        times = [v[0] for v in s["values"]]
                        assert times == sorted(times)
                        assert plant.from_ms - 86_400_000 <= times[0] <= plant.to_ms
    assert ran == set(q.all_queries())


def test_state_timeline_has_one_series_per_workshop_machine(plant: Plant) -> None:
    series = plant.run(q.STATE_TIMELINE.influxql)
    assert {s["tags"]["machine"] for s in series} == HARDWARE
    codes = {v[1] for s in series for v in s["values"] if v[1] is not None}
    assert codes <= {int(s) for s in MachineState} and int(MachineState.RUNNING) in codes
    # $__interval for 3 h at 1000 points is 10 s: 1081 buckets per machine.
    assert {len(s["values"]) for s in series} == {HOURS * 360 + 1}


def test_floor_plan_and_tiles_cover_every_workshop_machine(plant: Plant) -> None:
    rows = plant.rows(q.FLOOR_PLAN_STATES)
    assert {r["machine"] for r in rows} == HARDWARE
    assert all(r["state_code"] in {int(s) for s in MachineState} for r in rows)
    signals = plant.rows(q.MACHINE_SIGNALS)
    assert {r["machine"] for r in signals} == HARDWARE
    assert all(0 <= r["load_pct"] <= 100 and r["temp_c"] > 0 for r in signals)
    for machine in sorted(HARDWARE)[:3]:
        (tile,) = plant.rows(q.MACHINE_TILE_STATE, variables={q.VAR_MACHINE: machine})
        assert tile["state_code"] == next(r["state_code"] for r in rows
                                          if r["machine"] == machine)
    util = plant.rows(q.UTILISATION)
    assert len(util) == q.RANKED and {r["machine"] for r in util} <= HARDWARE
    assert all(0 <= r["availability"] <= 100 for r in util)


def test_multi_value_machine_variable_narrows_the_query(plant: Plant) -> None:
    two = sorted(HARDWARE)[:2]
    series = plant.run(q.STATE_TIMELINE.influxql, variables={q.VAR_MACHINE: two})
    assert sorted(s["tags"]["machine"] for s in series) == two


def test_oee_within_two_points_of_the_simulator_truth(plant: Plant) -> None:
    (row,) = plant.rows(q.OEE_PLANT)
    truth = plant.truth["oee"]["plant"]
    for k in ("availability", "performance", "quality", "oee"):
        assert abs(row[k] - 100 * truth[k]) <= 2.0, (k, row[k], truth[k])
    lines = {f"{r['area']}/{r['line']}": r for r in plant.rows(q.OEE_BY_LINE)}
    assert set(lines) == set(plant.truth["oee"]["lines"])
    for name, t in plant.truth["oee"]["lines"].items():
        assert abs(lines[name]["oee"] - 100 * t["oee"]) <= 2.0, name


def test_downtime_pareto_matches_the_truth_by_reason(plant: Plant) -> None:
    """Hours by reason within 1 % of the simulator's truth; in total the planned downtime
    Σplanned_s - Σrun_s of the counts; the panel sorts the bars largest first."""
    rows = plant.rows(q.DOWNTIME_PARETO)
    hours = {r["reason"]: r["hours"] for r in rows}
    truth = plant.truth["downtime_s"]
    assert len(truth) >= 3 and set(hours) == set(truth)
    assert not set(hours) & {"no shift", "break", "preventive", ""}
    for reason, seconds in truth.items():
        assert abs(hours[reason] * 3600 - seconds) <= 0.01 * seconds, (reason, hours[reason])
    (counts,) = plant.run('SELECT sum("planned_s") - sum("run_s") AS "down_s" FROM "counts" '
                          f"WHERE {q.SITE_WHERE} AND {q.TIME_FILTER}")[0]["values"]
    assert sum(hours.values()) * 3600 == pytest.approx(counts[1], rel=1e-9)
    (panel,) = [pn for b in build_lang("zh") for pn in b.model["panels"]
                if [t["query"] for t in pn.get("targets", [])] == [q.DOWNTIME_PARETO.influxql]]
    assert panel["fieldConfig"]["defaults"]["unit"] == "h"
    assert {"id": "sortBy", "options": {"sort": [{"field": "hours", "desc": True}]}} in \
        panel["transformations"]
    assert panel["options"]["xField"] == "reason"


def test_region_shares_sum_to_100_and_match_the_truth(plant: Plant) -> None:
    rows = plant.rows(q.SALES_BY_REGION)
    # The regions that bought in the window, all of them the plant's (the wall names them).
    assert {r["region"] for r in rows} == {k for k, v in plant.truth["sales"].items() if v > 0}
    assert {r["region"] for r in rows} <= set(WALL.region_names())
    total = sum(r["amount_cny"] for r in rows)
    shares = {r["region"]: 100 * r["amount_cny"] / total for r in rows}
    assert abs(sum(shares.values()) - 100) < 1e-6
    truth = plant.truth["sales"]
    truth_total = sum(truth.values())
    for region, share in shares.items():
        assert abs(share - 100 * truth[region] / truth_total) < 0.5, region
    channels = plant.rows(q.SALES_BY_CHANNEL)
    assert abs(sum(r["amount_cny"] for r in channels) - total) < 1.0


def test_maintenance_progress_and_status_counts(plant: Plant) -> None:
    table = plant.rows(q.WORK_ORDER_TABLE)
    assert table, "a 3-hour window of the default plant has work orders"
    assert all(0 <= r["progress_pct"] <= 100 for r in table)
    assert all(r["status_code"] in {int(s) for s in WorkOrderStatus} for r in table)
    done = [r for r in table if r["status_code"] == WorkOrderStatus.DONE]
    assert all(r["progress_pct"] == 100 for r in done)
    for status, pq in ((WorkOrderStatus.OPEN, q.WO_OPEN),
                       (WorkOrderStatus.IN_PROGRESS, q.WO_IN_PROGRESS),
                       (WorkOrderStatus.DONE, q.WO_DONE)):
        rows = plant.rows(pq)
        counted = rows[0]["work_orders"] if rows else 0
        assert counted == sum(1 for r in table if r["status_code"] == status), status
    failures = {r["machine"]: r["failures"] for r in plant.rows(q.FAILURES_BY_MACHINE)}
    assert sum(failures.values()) == len(table)
    mttr = plant.rows(q.MTTR_BY_MACHINE)
    assert all(r["mttr_min"] >= 0 for r in mttr)


def test_machines_energy_and_output(plant: Plant) -> None:
    (running,) = plant.rows(q.MACHINES_RUNNING)
    assert running["total"] == len(plant.truth["state_seconds"])
    assert 0 < running["running"] <= running["total"]
    (energy,) = plant.rows(q.ENERGY_TODAY)
    truth_kwh = sum(plant.truth["energy_kwh"].values())
    assert abs(energy["kwh"] - truth_kwh) <= 0.01 * truth_kwh
    (output,) = plant.rows(q.OUTPUT_TODAY)
    hourly = plant.rows(q.HOURLY_OUTPUT, min_interval="1h")
    assert output["output"] > 0 and sum(r["output"] for r in hourly) == output["output"]
    (pct,) = plant.rows(q.OUTPUT_VS_TARGET_PCT)
    assert pct["of_target"] == pytest.approx(100 * output["output"] / q.DEFAULT_DAILY_TARGET)


def test_output_by_shift_buckets_start_at_shift_changes(plant: Plant) -> None:
    series = plant.run(q.OUTPUT_BY_LINE.influxql, min_interval="8h")
    assert {s["tags"]["line"] for s in series} == {m.line for m in WALL.output_machines}
    hour_ms = 3_600_000
    # The output lines' shifts (final assembly: 07:00 and 15:00 at UTC+8) start at 23:00
    # and 07:00 UTC; the third 8 h bucket (15:00 UTC) is the night without a shift.
    assert {v[0] % (24 * hour_ms) // hour_ms for s in series for v in s["values"]} <= {
        23, 7, 15}
    (output,) = plant.rows(q.OUTPUT_TODAY)
    assert sum(v[1] for s in series for v in s["values"]) >= output["output"]


def test_pipeline_health_reads_the_collector_self_metrics(plant: Plant) -> None:
    now = next(r for r in plant.rows(q.PIPELINE_NOW) if r["collector"] == COLLECTOR)
    assert now["points_written"] > 0
    assert now["write_failing"] == 0 and now["write_errors"] == 0 and now["write_blocked"] == 0
    reasons = {r["reason"]: r["count"] for r in plant.rows(q.PIPELINE_DEADLETTERS)}
    assert set(reasons) == {"bad_json", "wrong_type"} and sum(reasons.values()) == now[
        "dead_letters"]
    assert plant.run(q.PIPELINE_LATENCY.influxql) and plant.run(q.PIPELINE_LAG.influxql)


def test_data_stopped_30_minutes_ago_shows_no_machine_running(plant: Plant) -> None:
    """The state panels read the freshness window: live, machines run; 30 minutes after
    the last data, none runs, none is in fault, no box has a colour (all Offline)."""
    fresh = parse_interval(FRESH_WINDOW)
    (live,) = plant.rows(q.MACHINES_RUNNING, from_ms=plant.to_ms - fresh)
    assert live["running"] > 0
    stopped_at = plant.to_ms + 30 * 60_000
    window = {"from_ms": stopped_at - fresh, "to_ms": stopped_at}
    assert plant.rows(q.MACHINES_RUNNING, **window) == []
    assert plant.rows(q.FLOOR_PLAN_STATES, variables={q.VAR_AREA: q.ALL}, **window) == []
    assert plant.rows(q.CURRENT_FAULTS, **window) == []
    assert plant.rows(q.MACHINE_TILE_STATE, **window) == []
    assert plant.rows(q.MACHINE_SIGNALS, **window) == []
    # What a 24 h window (the old panels) claims at that moment: machines still running.
    (claimed,) = plant.rows(q.MACHINES_RUNNING, from_ms=stopped_at - 86_400_000,
                            to_ms=stopped_at)
    assert claimed["running"] > 0


def test_output_per_line_equals_the_simulator_truth(plant: Plant) -> None:
    """Finished units per line = the simulator's output truth for that line (the good
    parts of its output machines); the plant's output today = its finished goods."""
    series = plant.run(q.OUTPUT_BY_LINE.influxql, min_interval=f"{WALL.shift_length_min}m")
    shown = {s["tags"]["line"]: sum(v[1] for v in s["values"]) for s in series}
    truth = {key.split("/")[1]: t["good"] for key, t in plant.truth["output"]["lines"].items()
             if key.split("/")[1] in {m.line for m in WALL.output_machines}}
    assert shown == truth and sum(truth.values()) > 0
    # Every machine's parts would count far more (the finding this replaces).
    every = sum(plant.truth["good_by_machine"].values())
    assert every > 2 * sum(truth.values())
    (today,) = plant.rows(q.OUTPUT_TODAY)
    assert today["output"] == plant.truth["output"]["plant"]["good"] == sum(truth.values())


def test_oee_is_absent_where_nothing_was_planned(plant: Plant) -> None:
    """A window without planned time: no OEE row (InfluxQL would divide 0 / 0 as 0)."""
    lines = [f'counts,enterprise=hearth,site=idle,area=a,line=l,machine=m{i} good=0i,'
             f"scrap=0i,run_s=0,planned_s=0,ideal_s=0 {plant.to_ms - 60_000 * i}"
             for i in range(1, 4)]
    assert plant.client.write("\n".join(lines).encode()).ok
    idle = {q.VAR_SITE: "idle"}
    assert plant.rows(q.OEE_PLANT, variables=idle) == []
    assert plant.rows(q.OEE_BY_LINE, variables=idle) == []
    assert plant.run(q.OEE_TREND.influxql, variables=idle) == []
    assert plant.run(q.SCRAP_RATE.influxql, variables=idle) == []
    naive = plant.rows(q.PanelQuery(
        "naive", 'SELECT sum("run_s") / sum("planned_s") * 100 AS "a" FROM "counts" '
        f"WHERE {q.SITE_WHERE} AND $timeFilter"), variables=idle)
    assert naive == [{"time": naive[0]["time"], "a": 0}]  # the false 0 %


def test_pipeline_shows_failing_and_refused_writes(plant: Plant) -> None:
    """A collector whose writes fail (503) and are refused (403) says so on the screen."""
    from collector.metrics import Metrics

    m = Metrics("collector-failing")
    m.received({"telemetry": 10})
    m.write_done(503, 100, 0.01)
    m.write_done(403, 100, 0.01)
    m.set_failing(True)
    m.set_blocked(True)
    assert plant.client.write("\n".join(m.stats_lines(plant.to_ms - 5_000, (5, 500, 2.0)))
                              .encode()).ok
    rows = {r["collector"]: r for r in plant.rows(q.PIPELINE_NOW)}
    failing = rows["collector-failing"]
    assert (failing["write_failing"], failing["write_blocked"]) == (1, 1)
    assert failing["write_errors"] == 2
    assert rows[COLLECTOR]["write_failing"] == 0


def test_machine_detail_shows_one_machine_its_own_signals_alarms_and_faults(
        plant: Plant) -> None:
    from dashboards import detail_queries as dq
    from dashboards.annotations import fault_query
    from simulator.machine_types import COMMON_SIGNALS, CONDITION_SIGNALS

    # a machine that raised an alarm in the window
    (first,) = plant.run('SELECT "code", "machine" FROM "alarm" WHERE "active" = true AND '
                         "$timeFilter LIMIT 1")
    name = first["values"][0][2]
    one = {q.VAR_MACHINE: name}
    alarms = plant.rows(dq.ALARMS, variables=one)
    assert alarms and all(r["message"] and r["message_zh"] for r in alarms)
    times = [r["time"] for r in alarms]
    assert times == sorted(times, reverse=True)  # newest first
    faults = plant.rows(fault_query(dq.MACHINE_WHERE), variables=one)
    assert faults and {r["machine"] for r in faults} == {name}
    assert len(faults) == sum(1 for r in alarms if r["active"])  # raised ones only
    orders = plant.rows(dq.WORK_ORDERS, variables=one)
    assert orders and all(0 <= r["progress_pct"] <= 100 for r in orders)
    # the signals it sends: the common ones plus its type's, nothing of other types
    demo = WALL.plant
    machine_type = demo.types[demo.machine(name).type]
    (now,) = plant.rows(dq.SIGNALS_NOW, variables=one)
    sent = {k.removeprefix("last_") for k, v in now.items() if k != "time" and v is not None}
    assert sent == {*COMMON_SIGNALS, *CONDITION_SIGNALS} | {s.name for s in machine_type.signals}
    assert len(plant.run(dq.STATE_TIMELINE.influxql, variables=one)) == 1
