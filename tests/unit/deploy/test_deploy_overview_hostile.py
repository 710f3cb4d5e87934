"""The terminal overview survives any stored value (#12: one `state_code: 99` message
crashed the native demo's overview). Property test over every column it reads, with
values of any JSON type and size; what it cannot use is shown as absent or unknown."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stack.overview import UNKNOWN_STATE, build, render_text

NOW, TODAY, RANGE = 1_800_000_000_000, 1_799_990_000_000, 1_800_000_000_000 - 86_400_000

#: What InfluxDB can hand back for a field: null, bool, any integer (int64 and beyond, in
#: JSON), any float (NaN and infinities too, from a lax JSON parser), any string.
ANY = (st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
       | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20))

#: query name -> (tag, columns) as the overview's queries return them.
SHAPES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "output_today": (None, ("output",)),
    "output_vs_target_pct": (None, ("of_target",)),
    "oee": (None, ("availability", "performance", "quality", "oee")),
    "machines_running": (None, ("running", "total")),
    "active_alarms": (None, ("active_alarms",)),
    "energy_today": (None, ("kwh",)),
    "sales_by_region": ("region", ("amount_cny",)),
    "hourly_output": (None, ("output",)),
    "work_orders": ("wo_id", ("status_code", "progress_pct", "technician", "fault_code")),
    "floor_plan_states": ("machine", ("state_code",)),
    "all_states": ("machine", ("state_code",)),
    "latest_alarms": (None, ("code", "message", "active", "wo_id", "severity", "machine")),
    "latest_data": (None, ("last",)),
}


@st.composite
def results(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name, (tag, columns) in SHAPES.items():
        series = []
        for _ in range(draw(st.integers(0, 3))):
            rows = draw(st.lists(st.lists(ANY, min_size=len(columns) + 1,
                                          max_size=len(columns) + 1), max_size=3))
            tags = {tag: draw(st.text(max_size=8))} if tag else {}
            series.append({"name": name, "tags": tags, "columns": ["time", *columns],
                           "values": rows})
        out[name] = [{"series": series}] if series else [{}]
    return out


@settings(max_examples=120, deadline=None)
@given(results())
def test_build_and_render_survive_any_stored_value(res: dict[str, list[dict[str, Any]]]
                                                    ) -> None:
    o = build(res, now_ms=NOW, today_ms=TODAY, range_ms=RANGE)
    text = render_text(o, width=120)
    assert "Output today" in text
    for w in o.work_orders:
        assert 0 <= w.progress_pct <= 100
    assert all(v >= 0 for v in o.sales_share_pct.values())


def states(code: Any) -> dict[str, list[dict[str, Any]]]:
    rows = {"series": [{"name": "state", "tags": {"machine": "laser-01"},
                        "columns": ["time", "state_code"], "values": [[NOW, code]]}]}
    return {"all_states": [rows], "floor_plan_states": [rows]}


def test_state_code_99_is_shown_as_unknown_not_a_crash() -> None:
    o = build(states(99), now_ms=NOW, today_ms=TODAY, range_ms=RANGE)
    assert o.states == {UNKNOWN_STATE: 1}
    assert o.floor_states == {"laser-01": UNKNOWN_STATE}
    text = render_text(o, width=160)
    assert "laser-01 ?" in text and "unknown state 1" in text
    assert build(states(2), now_ms=NOW, today_ms=TODAY, range_ms=RANGE).floor_states == \
        {"laser-01": "RUNNING"}


def test_far_future_alarm_time_and_bad_progress_render() -> None:
    res = {"latest_alarms": [{"series": [{
        "name": "alarm", "columns": ["time", "code", "message", "active", "machine"],
        "values": [[10**20, "X", "far future", True, "m1"]]}]}],
        "work_orders": [{"series": [{
            "name": "workorder", "tags": {"wo_id": "WO-1"},
            "columns": ["time", "status_code", "progress_pct"],
            "values": [[NOW, 1, 1e300]]}]}]}
    o = build(res, now_ms=NOW, today_ms=TODAY, range_ms=RANGE)
    assert o.work_orders[0].progress_pct == 100.0
    text = render_text(o, width=160)
    assert "far future" in text and "100 %" in text
