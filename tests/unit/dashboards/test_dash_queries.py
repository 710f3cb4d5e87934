"""The query catalogue and Grafana macro/variable expansion (pure, no services)."""

from __future__ import annotations

import pytest

from dashboards import queries as q


def test_every_query_is_bounded_and_time_series_group_by_interval() -> None:
    found = q.all_queries()
    assert len(found) >= 30
    for key, pq in found.items():
        assert pq.key == key
        assert "$timeFilter" in pq.influxql
        if "GROUP BY time(" in pq.influxql:
            assert q.GROUP_BY_TIME_RE.search(pq.influxql), key


def test_overview_has_the_plant_overview_queries() -> None:
    assert {"output_today", "oee", "machines_running", "active_alarms", "energy_today",
            "sales_by_region", "hourly_output", "work_orders"} <= set(q.OVERVIEW)


def test_panel_query_rejects_unbounded_or_fixed_interval() -> None:
    with pytest.raises(ValueError, match="timeFilter"):
        q.PanelQuery("x", 'SELECT last("a") FROM "b"')
    with pytest.raises(ValueError, match="__interval"):
        q.PanelQuery("x", 'SELECT mean("a") FROM "b" WHERE $timeFilter GROUP BY time(1m)')


def test_time_filter_and_interval_expand_like_grafana() -> None:
    out = q.substitute("SELECT mean(x) FROM m WHERE $timeFilter GROUP BY time($__interval)",
                       from_ms=1_000, to_ms=3_601_000)
    assert out == ("SELECT mean(x) FROM m WHERE time >= 1000ms and time <= 3601000ms "
                   "GROUP BY time(5s)")  # 3600 s / 1000 points = 3.6 s -> rounds to 5 s


def test_min_interval_wins_and_interval_ms_macro() -> None:
    out = q.substitute("$__interval $__interval_ms $interval", from_ms=0, to_ms=60_000,
                       min_interval="1h")
    assert out == "1h 3600000 1h"


@pytest.mark.parametrize(("ms", "text"), [(500, "500ms"), (1_000, "1s"), (90_000, "1m"),
                                          (3_600_000, "1h"), (86_400_000, "1d")])
def test_format_interval(ms: int, text: str) -> None:
    assert q.format_interval(ms) == text


def test_variable_forms() -> None:
    tmpl = 'a =~ /^($machine)$/ AND b =~ /^(${site})$/ AND c = [[area]] AND d > $n'
    out = q.substitute(tmpl, from_ms=0, to_ms=1, variables={
        "machine": ["laser-01", "press.2"], "site": "shengzhou", "area": "hard.ware",
        "n": "5000"})
    # Multi-value: escaped and joined with | (the query's own group keeps ^...$ whole);
    # single value: regex-escaped too unless it is a number.
    assert out == (r"a =~ /^(laser-01|press\.2)$/ AND b =~ /^(shengzhou)$/ AND "
                   r"c = hard\.ware AND d > 5000")


def test_variable_all_and_unknown() -> None:
    all_joined = q.Variable(include_all=True, is_all=True, options=("a", "b.c"))
    out = q.substitute("$m $n $nope", from_ms=0, to_ms=1,
                       variables={"m": q.ALL, "n": all_joined})
    assert out == r".* a|b\.c $nope"


def test_variable_validates_itself() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        q.Variable()
    with pytest.raises(ValueError, match="include_all"):
        q.Variable(is_all=True)
    with pytest.raises(ValueError, match="one value"):
        q.Variable(("a", "b"))


def test_group_keeps_multi_value_anchored() -> None:
    """Without the group, Grafana's a|b would turn /^a|b$/ into 'starts with a'."""
    import re

    query = q.substitute(q.STATE_TIMELINE.influxql, from_ms=0, to_ms=1,
                         variables={"machine": ["laser-01", "laser-02"]})
    pattern = re.search(r'"machine" =~ /(.*?)/ AND', query)
    assert pattern is not None
    assert re.search(pattern.group(1), "laser-01")
    assert not re.search(pattern.group(1), "laser-010")


def test_defaults_are_the_default_plant() -> None:
    out = q.substitute(q.OEE_PLANT.influxql, from_ms=0, to_ms=1)
    assert '"enterprise" =~ /^(hearth)$/' in out and '"site" =~ /^(shengzhou)$/' in out
    assert "$" not in out.replace("$/", "")
    out = q.substitute(q.STATE_TIMELINE.influxql, from_ms=0, to_ms=1)
    assert '"machine" =~ /^(.*)$/' in out and '"area" =~ /^(hardware)$/' in out


def test_raw_format_leaves_the_value_unescaped() -> None:
    """``${var:raw}`` (Grafana's raw format) for the time zone InfluxQL's tz() takes: the
    regex-escaped ``Europe\\/Paris`` is refused by InfluxQL inside a string."""
    zone = {q.VAR_PLANT_TZ: "Europe/Paris"}
    assert q.substitute("tz('${plant_tz:raw}') $plant_tz", from_ms=0, to_ms=1,
                        variables=zone) == r"tz('Europe/Paris') Europe\/Paris"
    out = q.substitute(q.OUTPUT_BY_LINE.influxql, from_ms=0, to_ms=1)
    assert out.endswith("fill(0) tz('Asia/Shanghai')")
