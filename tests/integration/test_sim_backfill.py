"""Backfill into the real influxd from tests/conftest.py; InfluxQL reproduces the truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.cli import main
from stack.services import Influxd, free_port
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient, series_rows

pytestmark = pytest.mark.integration

END = "2026-01-05T06:00:00Z"  # 14:00 in Shengzhou: shifts, a break, planned time


def test_backfill_reproduces_the_ground_truth(influx_url: str, influx_db: str,
                                              tmp_path: Path) -> None:
    truth_path = tmp_path / "truth.json"
    assert main(["backfill", "--days", "0.125", "--end", END, "--seed", "9",
                 "--influx-url", influx_url, "--influx-db", influx_db,
                 "--truth-out", str(truth_path), "--no-progress",
                 "--log-level", "WARNING"]) == 0
    truth = json.loads(truth_path.read_text())
    start, end = truth["window"]["start_ms"], truth["window"]["end_ms"]
    assert end - start == 3 * 3600_000
    client = InfluxClient(InfluxEndpoint(url=influx_url, db=influx_db))
    where = f"time > {start}ms AND time <= {end}ms"

    def one(q: str) -> dict:
        rows = series_rows(client.query(q)[0])
        assert len(rows) == 1, q
        return rows[0]

    # Every tick of every machine is there (ticks 0..N at 10 s).
    tele = one("SELECT count(temp_c) FROM telemetry")
    assert tele["count"] == (3 * 360 + 1) * 126
    # OEE from the data, exactly as docs/contract.md says.
    s = one(f"SELECT sum(run_s) AS run, sum(planned_s) AS planned, sum(ideal_s) AS ideal, "
            f"sum(good) AS good, sum(scrap) AS scrap FROM counts WHERE {where}")
    availability = s["run"] / s["planned"]
    performance = s["ideal"] / s["run"]
    quality = s["good"] / (s["good"] + s["scrap"])
    want = truth["oee"]["plant"]
    assert availability == pytest.approx(want["availability"], abs=0.02)
    assert performance == pytest.approx(want["performance"], abs=0.02)
    assert quality == pytest.approx(want["quality"], abs=0.02)
    assert availability * performance * quality == pytest.approx(want["oee"], abs=0.02)
    assert (s["good"], s["scrap"]) == (truth["counts"]["good"], truth["counts"]["scrap"])
    # One line, grouped by tag.
    rows = series_rows(client.query(
        f"SELECT sum(run_s) AS run, sum(planned_s) AS planned FROM counts WHERE {where} "
        f"GROUP BY area, line")[0])
    lines = {f"{r['area']}/{r['line']}": r for r in rows}
    assert set(lines) == set(truth["oee"]["lines"])
    for key, r in lines.items():
        assert r["run"] / r["planned"] == pytest.approx(
            truth["oee"]["lines"][key]["availability"], abs=0.02)
    # Sales share by region sums to 100 % and matches the truth.
    rows = series_rows(client.query(
        f"SELECT sum(amount_cny) AS amount FROM sales WHERE {where} GROUP BY region")[0])
    amounts = {r["region"]: r["amount"] for r in rows}
    total = sum(amounts.values())
    assert sum(100 * a / total for a in amounts.values()) == pytest.approx(100.0)
    for region, amount in truth["sales"].items():
        assert amounts.get(region, 0.0) == pytest.approx(amount, abs=0.1)
    # State, energy and meta were written with their tags.
    st = one("SELECT count(state_code) FROM state WHERE area = 'hardware'")
    assert st["count"] >= 30
    en = series_rows(client.query("SELECT last(kwh_total) FROM energy GROUP BY area")[0])
    assert {r["area"] for r in en} == {"hardware", "coating", "assembly", "logistics",
                                       "utilities"}
    client.close()


def test_backfill_into_an_unreachable_database_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["backfill", "--days", "0.01", "--influx-url", url, "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("factory-sim: InfluxDB at") and "not reachable" in err[-1]


def test_backfill_survives_a_frozen_database(
        fresh_influxd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A database that stalls for a while is waited for, not fatal; all the data arrives."""
    import threading
    import time

    db: Influxd = fresh_influxd()
    db.freeze()
    threading.Timer(2.0, db.thaw).start()
    t0 = time.monotonic()
    assert main(["backfill", "--days", "0.01", "--end", END, "--influx-url", db.url,
                 "--influx-db", "factory", "--no-progress", "--log-level", "WARNING"]) == 0
    assert time.monotonic() - t0 >= 1.5
    client = InfluxClient(InfluxEndpoint(url=db.url, db="factory"))
    rows = series_rows(client.query("SELECT count(temp_c) FROM telemetry")[0])
    assert rows[0]["count"] == (round(0.01 * 8640) + 1) * 126
    client.close()


def test_a_rejected_batch_stops_the_backfill_with_one_line_naming_it(influx_url: str) -> None:
    """A 4xx (here: no such database) is not retried: the pool stops on the first batch."""
    from simulator.backfill import BackfillError, backfill
    from simulator.model import Intervals, PlantModel
    from simulator.plant import load_plant

    model = PlantModel(load_plant(), 1, 1_767_571_200_000 - 86_400_000,
                       Intervals.from_seconds(10.0, 60.0, 300.0))
    client = InfluxClient(InfluxEndpoint(url=influx_url, db="no_such_db_for_backfill"))
    with pytest.raises(BackfillError) as info:
        backfill(model, 8640, client, batch_points=2_000, writers=3)
    client.close()
    msg = str(info.value)
    assert "\n" not in msg
    assert "refused batch " in msg and "points, 2026-01-04T" in msg, msg
    assert "HTTP 404" in msg and "database not found" in msg, msg
    # It stopped instead of generating the whole day (8640 ticks x 126 machines).
    assert model.tick < 8640 // 2, model.tick
