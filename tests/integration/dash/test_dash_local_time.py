"""Output by shift on the plant's local clock across a daylight-saving change, against a
real influxd: the query's ``tz('${plant_tz:raw}')`` (the plant's IANA zone) keeps the
buckets on the shift changes in summer as in winter; the standard UTC offset alone would
put them an hour off from the last Sunday of March."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dashboards import queries as q
from dashboards.wall import Wall, load
from telemetry.influx import InfluxClient

pytestmark = pytest.mark.integration

LYON = load(Path(__file__).resolve().parents[3] / "docs" / "examples" / "acme-lyon.yaml")
HOUR = 3_600_000


def _ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp() * 1000)


def test_shift_buckets_stay_on_local_midnight_across_the_spring_change(
        client: InfluxClient) -> None:
    wall = Wall.of("en", LYON)
    machine = wall.output_machines[0]
    start, end = _ms("2026-03-27T00:00:00+00:00"), _ms("2026-04-01T00:00:00+00:00")
    lines = [f"counts,enterprise={LYON.enterprise},site={LYON.site},area={machine.area},"
             f"line={machine.line},machine={machine.id} good=1i,scrap=0i {ts}"
             for ts in range(start, end, HOUR // 2)]
    client.write_lines(lines)
    variables = {**wall.query_variables(), q.VAR_ENTERPRISE: LYON.enterprise,
                 q.VAR_SITE: LYON.site}
    text = q.substitute(q.OUTPUT_BY_LINE.influxql, from_ms=start, to_ms=end - 1,
                        variables=variables, min_interval=f"{wall.shift_length_min}m")
    assert "tz('Europe/Paris')" in text and "time(1d, 0m)" in text
    (series,) = client.query(text)[0]["series"]
    buckets = {v[0]: v[1] for v in series["values"]}
    local = {dt.datetime.fromtimestamp(t / 1000, LYON.tzinfo).strftime("%m-%d %H:%M"): n
             for t, n in buckets.items()}
    # every bucket starts at local midnight: 23:00 UTC in winter, 22:00 UTC in summer
    assert {k[-5:] for k in local} == {"00:00"}
    assert _ms("2026-03-28T23:00:00+00:00") in buckets  # 29 March 00:00 CET
    assert _ms("2026-03-29T22:00:00+00:00") in buckets  # 30 March 00:00 CEST
    # a whole summer day holds 24 h of parts (48 half-hours), the short day 23 h
    assert local["03-30 00:00"] == 48 and local["03-29 00:00"] == 46
    assert sum(buckets.values()) == len(lines)
