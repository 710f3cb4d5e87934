"""`python -m stack.backfill` (the compose backfill service, every start) against the real
influxd: the first start writes the last --days, a later start exactly the gap since the
newest stored point (no second history over what is stored), an up-to-date database
nothing. Run with the second plant (acme/lyon, 5 machines) to stay fast."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient, series_rows

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PLANT = ROOT / "tests" / "data" / "acme-lyon.yaml"
HOUR_MS = 3_600_000


def backfill(url: str, db: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACTORY_INFLUX_URL": url, "FACTORY_INFLUX_DB": db,
           "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    return subprocess.run([sys.executable, "-m", "stack.backfill", "--plant", str(PLANT),
                           "--seed", "3", *args], env=env, capture_output=True, text=True,
                          timeout=300)


def stored(client: InfluxClient, where: str = "time > 0") -> tuple[int, int | None]:
    """(state points, newest state time in ms) of the plant."""
    rows = series_rows(client.query(
        f"""SELECT count("state_code") FROM "state" WHERE "enterprise" = 'acme' AND {where}""")[0])
    newest = series_rows(client.query('SELECT last("state_code") FROM "state"')[0])
    return (int(rows[0]["count"]) if rows else 0), (int(newest[0]["time"]) if newest else None)


def test_each_start_fills_exactly_the_gap(influx_url: str, influx_db: str) -> None:
    client = InfluxClient(InfluxEndpoint(url=influx_url, db=influx_db))
    # The state of a stack that was stopped 3 h ago: history up to then.
    end = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    seed = subprocess.run(
        [sys.executable, "-m", "simulator", "backfill", "--plant", str(PLANT), "--days", "0.1",
         "--end", end.isoformat(timespec="seconds").replace("+00:00", "Z"), "--no-progress",
         "--influx-url", influx_url, "--influx-db", influx_db],
        capture_output=True, text=True, timeout=300)
    assert seed.returncode == 0, seed.stderr[-2000:]
    before, old_newest = stored(client)
    assert before > 0 and old_newest is not None
    stored_before_edge = stored(client, f"time <= {old_newest - 10 * 60_000}ms")[0]
    assert stored_before_edge > 0
    now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    assert now_ms - old_newest > 2.5 * HOUR_MS

    res = backfill(influx_url, influx_db, "--days", "1")
    assert res.returncode == 0, res.stdout + res.stderr[-2000:]
    assert "acme/lyon" in res.stdout and "since the newest data" in res.stdout
    after, newest = stored(client)
    assert newest is not None and now_ms - newest < 10 * 60_000  # the gap is filled
    # Only the gap was written: the stored window before it did not get a second history
    # (the backfill's start is aligned to its state interval, so the last few minutes of
    # the old window may hold the gap's first snapshot).
    edge = f"time <= {old_newest - 10 * 60_000}ms"
    assert stored(client, edge)[0] == stored_before_edge
    assert after > before

    again = backfill(influx_url, influx_db, "--days", "1")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "up to date" in again.stdout
    assert stored(client)[0] == after
    client.close()


def test_first_start_writes_the_last_days(influx_url: str, influx_db: str) -> None:
    client = InfluxClient(InfluxEndpoint(url=influx_url, db=influx_db))
    res = backfill(influx_url, influx_db, "--days", "0.05")
    assert res.returncode == 0, res.stdout + res.stderr[-2000:]
    assert "first start" in res.stdout
    first, last = (series_rows(client.query(
        f'SELECT {f}("power_kw") FROM "telemetry" WHERE time > 0')[0])[0]["time"]
        for f in ("first", "last"))
    now_ms = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    assert now_ms - last < 5 * 60_000  # up to now ...
    assert abs((last - first) / HOUR_MS - 0.05 * 24) < 0.1  # ... over the last 0.05 days
    client.close()


def test_an_unreadable_database_writes_nothing(influx_url: str) -> None:
    """No guessing "empty" (that would write a second history): one line, exit 1."""
    env = {"FACTORY_INFLUX_URL": influx_url.replace(influx_url.rsplit(":", 1)[1], "1")}
    res = subprocess.run([sys.executable, "-m", "stack.backfill", "--plant", str(PLANT)],
                         env={**os.environ, **env}, capture_output=True, text=True, timeout=60)
    assert res.returncode == 1
    assert len(res.stderr.splitlines()) == 1
    assert "cannot read the newest stored point, nothing written" in res.stderr
