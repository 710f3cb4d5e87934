"""The predictive-maintenance panels and the alarm panels against a real influxd, on points
written for each case the way ``factory-pdm run`` (contract item 5 of issue 16) and the
simulator write them: every query returns what its panel needs, nothing is an error when
there is no data, and the panels say so in both languages.
"""

from __future__ import annotations

from typing import Any

import pytest

from dashboards import queries as q
from dashboards.build import build_lang
from dashboards.screens import pdm as pdm_screen
from dashboards.wall import Wall, load
from telemetry.contract import MachineState
from telemetry.influx import InfluxClient

pytestmark = pytest.mark.integration

NOW = 1_764_201_600_000  # the panels' "now"
MIN = 60_000
HOUR = 60 * MIN
PLANT = load()
WALL = Wall.of("en", PLANT)
SITE = f'enterprise={PLANT.enterprise},site={PLANT.site}'


def _machine_tags(machine_id: str) -> str:
    m = PLANT.machine(machine_id)
    return f"{SITE},area={m.area},line={m.line},machine={m.id}"


def _fault_code(machine_id: str) -> str:
    return PLANT.types[PLANT.machine(machine_id).type].faults[0].code


def _rows(client: InfluxClient, pq: q.PanelQuery, window: str | int,
          variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The query over the panel's window ending at NOW, one dict per row (tags included)."""
    span = q.parse_interval(window) if isinstance(window, str) else window
    text = q.substitute(pq.influxql, from_ms=NOW - span, to_ms=NOW, variables=variables)
    assert "$" not in text.replace("$/", ""), text
    out = []
    for s in client.query(text)[0].get("series") or []:
        for v in s["values"]:
            out.append({**(s.get("tags") or {}), **dict(zip(s["columns"], v, strict=True))})
    return out


def _prediction(machine: str, ts: int, *, score: float, alert: int, mode: str,
                horizon_h: float = 8.0, vib_ratio: float = 1.0) -> str:
    return (f"prediction,{_machine_tags(machine)},mode={mode} score={score},"
            f"horizon_h={horizon_h},alert={alert}i,vib_ratio={vib_ratio},"
            f"trend_per_day=0.05 {ts}")


def _panel(slug: str, lang: str, query: q.PanelQuery) -> dict[str, Any]:
    (board,) = [b for b in build_lang(lang) if b.slug == slug]  # type: ignore[arg-type]
    (panel,) = [pn for pn in board.model["panels"]
                if [t["query"] for t in pn.get("targets", [])] == [query.influxql]]
    return panel


def test_predicted_failures_lists_the_latest_alerting_prediction_per_machine(
        client: InfluxClient) -> None:
    a, b, c, d = (m.id for m in PLANT.machines[:4])
    lines = []
    for k in range(6):  # every 5 min, the latest 2 min ago
        ts = NOW - 2 * MIN - 5 * MIN * k
        lines.append(_prediction(a, ts, score=0.92 - 0.01 * k, alert=1, mode=_fault_code(a),
                                 horizon_h=6, vib_ratio=1.71))
        # b alerted earlier, but its latest evaluation is below the threshold
        lines.append(_prediction(b, ts, score=0.4 if k == 0 else 0.8, alert=0 if k == 0 else 1,
                                 mode=_fault_code(b)))
    # c alerted 20 min ago and has not been evaluated since: not current
    lines.append(_prediction(c, NOW - 20 * MIN, score=0.99, alert=1, mode=_fault_code(c)))
    # d: the detector cannot tell the mode
    lines.append(_prediction(d, NOW - MIN, score=0.75, alert=1, mode="wear", horizon_h=8,
                             vib_ratio=1.42))
    # another site's machine never shows
    lines.append(_prediction(a, NOW - MIN, score=0.97, alert=1, mode="wear").replace(
        f"site={PLANT.site}", "site=elsewhere"))
    client.write_lines(lines)

    rows = _rows(client, q.PREDICTED_FAILURES, q.PREDICTION_WINDOW)
    by_machine = {r["machine"]: r for r in rows}
    assert set(by_machine) == {a, d}
    assert by_machine[a]["score"] == pytest.approx(0.92)
    assert (by_machine[a]["mode"], by_machine[a]["horizon_h"], by_machine[a]["vib_ratio"]) == (
        _fault_code(a), 6, 1.71)
    assert (by_machine[d]["mode"], by_machine[d]["score"]) == ("wear", 0.75)
    (count,) = _rows(client, q.FAILURES_EXPECTED, q.PREDICTION_WINDOW)
    assert count["expected"] == len(rows) == 2

    # What the table shows: every column the query returns, named; modes and machines in
    # the wall's language; highest score first.
    panel = _panel("maintenance-progress", "zh", q.PREDICTED_FAILURES)
    assert panel["timeFrom"] == q.PREDICTION_WINDOW
    assert {"id": "sortBy", "options": {"sort": [{"field": "score", "desc": True}]}} in \
        panel["transformations"]
    props = {o["matcher"]["options"]: {pr["id"]: pr["value"] for pr in o["properties"]}
             for o in panel["fieldConfig"]["overrides"]}
    assert set(rows[0]) - {"time"} <= set(props)
    modes = props["mode"]["mappings"][0]["options"]
    zh = Wall.of("zh", PLANT)
    assert modes[_fault_code(a)]["text"] == f"{_fault_code(a)} · {zh.fault_message(_fault_code(a))}"
    assert "磨损" in modes["wear"]["text"]
    machines = props["machine"]["mappings"][0]["options"]
    assert machines[a]["text"] == f"{a} {zh.type_name(PLANT.machine(a).type)}"


def test_no_prediction_is_no_row_and_the_panels_say_so(client: InfluxClient) -> None:
    """No `prediction` at all (the detector does not run) and only quiet predictions: no
    row, no error; the table reads "No predicted failures" / 暂无预测故障, the count 0."""
    assert _rows(client, q.PREDICTED_FAILURES, q.PREDICTION_WINDOW) == []
    assert _rows(client, q.FAILURES_EXPECTED, q.PREDICTION_WINDOW) == []
    assert _rows(client, q.SCORECARD, "24h") == []
    machine = PLANT.machines[0].id
    client.write_lines([_prediction(machine, NOW - MIN, score=0.2, alert=0, mode="wear")])
    assert _rows(client, q.PREDICTED_FAILURES, q.PREDICTION_WINDOW) == []
    assert _rows(client, q.FAILURES_EXPECTED, q.PREDICTION_WINDOW) == []
    for lang, text in (("en", "No predicted failures"), ("zh", "暂无预测故障")):
        panel = _panel("maintenance-progress", lang, q.PREDICTED_FAILURES)
        assert panel["fieldConfig"]["defaults"]["noValue"] == text
        assert pdm_screen.NO_PREDICTION == ("No predicted failures", "暂无预测故障")
        count = _panel("plant-overview", lang, q.FAILURES_EXPECTED)
        assert count["fieldConfig"]["defaults"]["noValue"] == "0"


def test_scorecard_shows_the_latest_score_per_source(client: InfluxClient) -> None:
    def score(source: str, ts: int, precision: float, recall: float, lead: float | None,
              failures: int, alerts: int) -> str:
        lead_field = f",median_lead_h={lead}" if lead is not None else ""
        return (f"pdm_score,{SITE},source={source} precision={precision},recall={recall}"
                f"{lead_field},chance_recall=0.08,failures={failures}i,alerts={alerts}i,"
                f"hits=3i,window_h=168 {ts}")

    client.write_lines([
        score("wear", NOW - 3 * HOUR, 0.5, 0.4, 6.0, 10, 8),
        score("wear", NOW - HOUR, 0.72, 0.65, 11.5, 20, 18),
        score("random", NOW - 3 * HOUR, 0.2, 0.1, 2.0, 30, 5),
        # the latest random score has no lead time (no hit): none shown, not the older one
        score("random", NOW - HOUR, 0.0, 0.0, None, 41, 6),
    ])
    rows = {r["source"]: r for r in _rows(client, q.SCORECARD, "24h")}
    assert set(rows) == {"wear", "random"}
    wear, rand = rows["wear"], rows["random"]
    assert (wear["precision"], wear["recall"], wear["median_lead_h"]) == (0.72, 0.65, 11.5)
    assert (wear["failures"], wear["alerts"], wear["chance_recall"]) == (20, 18, 0.08)
    assert (rand["failures"], rand["alerts"], rand["median_lead_h"]) == (41, 6, None)
    panel = _panel("maintenance-progress", "zh", q.SCORECARD)
    props = {o["matcher"]["options"]: {pr["id"]: pr["value"] for pr in o["properties"]}
             for o in panel["fieldConfig"]["overrides"]}
    assert set(wear) - {"time"} <= set(props)
    assert props["source"]["mappings"][0]["options"]["wear"]["text"] == "磨损型故障"


def _state(machine: str, ts: int, state: MachineState, reason: str) -> str:
    return (f'state,{_machine_tags(machine)} state="{state.name}",state_code={int(state)}i,'
            f'running={int(state == MachineState.RUNNING)}i,reason="{reason}" {ts}')


def _alarm(machine: str, ts: int, active: bool, severity: str = "critical") -> str:
    code = _fault_code(machine)
    return (f'alarm,{_machine_tags(machine)},severity={severity} code="{code}",'
            f'active={str(active).lower()},message="m",message_zh="m" {ts}')


def test_current_faults_list_machines_in_repair_and_match_active_alarms(
        client: InfluxClient) -> None:
    """A machine waiting for parts since yesterday (alarm raised 30 h ago, in repair now), a
    machine in fault since 10 min, one repaired (alarm cleared): the first two are current
    faults, and "Active alarms" counts exactly them."""
    repair, fault, repaired = (m.id for m in PLANT.machines[4:7])
    client.write_lines([
        _alarm(repair, NOW - 30 * HOUR, True), _state(repair, NOW - 30 * HOUR,
                                                       MachineState.FAULT, _fault_code(repair)),
        _state(repair, NOW - 29 * HOUR, MachineState.MAINTENANCE, "repair"),
        _state(repair, NOW - MIN, MachineState.MAINTENANCE, "repair"),
        _alarm(fault, NOW - 10 * MIN, True),
        _state(fault, NOW - MIN, MachineState.FAULT, _fault_code(fault)),
        _alarm(repaired, NOW - 5 * HOUR, True), _alarm(repaired, NOW - 2 * HOUR, False),
        _state(repaired, NOW - MIN, MachineState.RUNNING, "producing"),
    ])
    rows = _rows(client, q.CURRENT_FAULTS, q.ALARM_WINDOW)
    assert {r["machine"]: r["code"] for r in rows} == {repair: _fault_code(repair),
                                                       fault: _fault_code(fault)}
    assert {r["machine"]: r["time"] for r in rows} == {repair: NOW - 30 * HOUR,
                                                       fault: NOW - 10 * MIN}
    (active,) = _rows(client, q.ACTIVE_ALARMS, q.ALARM_WINDOW)
    assert active["active_alarms"] == len(rows) == 2
    # Over the dashboard's 24 h (the old window) the repair waiting since yesterday vanished.
    (old,) = _rows(client, q.ACTIVE_ALARMS, 24 * HOUR)
    assert old["active_alarms"] == 1
    for lang in ("en", "zh"):
        for pq in (q.CURRENT_FAULTS, q.ACTIVE_ALARMS):
            assert _panel("plant-overview", lang, pq)["timeFrom"] == q.ALARM_WINDOW
