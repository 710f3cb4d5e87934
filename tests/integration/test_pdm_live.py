"""factory-pdm on the real influxd of tests/conftest.py: history written by the plant model
(one machine's bearing wearing out), the live detector reading it back, its points."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pdm.backtest import encoded_fields
from pdm.detector import DetectorConfig
from pdm.features import StateFold, TickAggregator
from pdm.influx_io import PdmStore
from pdm.live import LiveConfig, LiveDetector
from pdm.modes import PlantModes
from simulator.effects import Effects
from simulator.encode import Encoder
from simulator.model import RUNNING, Intervals, PlantModel
from simulator.plant import load_plant
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient, series_rows

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PLANT = ROOT / "docs" / "examples" / "acme-lyon.yaml"  # 14 machines
START_MS = 1_767_571_200_000  # 2026-01-05 00:00 UTC
DAY_MS = 86_400_000
WORN = "imm-02"


def write_history(client: InfluxClient, model: PlantModel, ticks: int,
                  ramp: tuple[str, int, float] | None = None,
                  watch_from: int = 0) -> np.ndarray:
    """Step ``model`` ``ticks`` ticks, writing every message as the backfill does; ``ramp``
    = (machine, tick, days): from that tick the machine's wear ramps to end of life
    (the scenario ``wear`` action) over that many days. Returns each machine's worst
    defect (0: no component past its P point) from tick ``watch_from`` on."""
    enc = Encoder(model)
    effects = Effects(model)
    lines = enc.lines(model.initial_frame())
    worst = np.zeros(model.n)
    for k in range(ticks):
        if k >= watch_from:
            worst = np.maximum(worst, model.wear_model.worst)
        if ramp is not None and k == ramp[1]:
            effects.start("ramp", ramp[0], {"value": 0.95, "duration_s": ramp[2] * 86400},
                          model.now_ms)
        effects.tick(model.now_ms)
        frame = model.step()
        lines += enc.lines(frame)
        model.after_emit(frame)
        if len(lines) > 20_000 or k == ticks - 1:
            res = client.write(("\n".join(lines) + "\n").encode())
            assert res.ok, res.body
            lines = []
    return np.maximum(worst, model.wear_model.worst)


def model_of(seed: int = 3) -> PlantModel:
    return PlantModel(load_plant(PLANT), seed, START_MS,
                      Intervals.from_seconds(60.0, 60.0, 300.0, 300.0, 300.0))


def store_of(client: InfluxClient) -> PdmStore:
    plant = load_plant(PLANT)
    return PdmStore(client, plant.enterprise, plant.site, PlantModes.of(plant),
                    [(m.area, m.line) for m in plant.machines])


def test_influxql_features_are_the_backtests_features(influx_url: str, influx_db: str) -> None:
    """The live path (InfluxQL aggregates + state join) and the backtest path (the model's
    ticks) give the same feature windows for the same run."""
    client = InfluxClient(InfluxEndpoint(url=influx_url, db=influx_db))
    ticks = 24 * 60
    write_history(client, model_of(), ticks)
    model = model_of()
    enc = Encoder(model)
    n = model.n
    agg = TickAggregator(n, 300_000)
    want = []
    fold = StateFold(n, model.state == RUNNING, model.state)
    for k in range(ticks + 1):
        if k:
            frame = model.step()
            model.after_emit(frame)
        f = encoded_fields(enc)
        want += [fold.step(a) for a in agg.add(model.now_ms, f["vibration_mm_s"],
                                                f["vibration_crest"], model.state)]
    store = store_of(client)
    start = START_MS + 300_000
    running, code = store.state_before(start, DAY_MS)
    live_fold = StateFold(n, running, code)
    got = [live_fold.step(a) for a in store.aggregates(start, START_MS + ticks * 60_000, 300)]
    want = want[1:]  # the live side starts a window later (state before it from the data)
    assert len(got) == len(want) == 287
    for g, w in zip(got, want, strict=True):
        assert g.start_ms == w.start_ms
        assert (g.valid == w.valid).all() and (g.reset == w.reset).all()
        assert np.allclose(g.vib[g.valid], w.vib[w.valid])
    assert 0.3 < np.mean([g.valid.mean() for g in got]) < 1  # stops are left out
    assert model.episodes  # faults happened, and reset the detector in their windows
    by_start = {g.start_ms: g for g in got}
    for e in model.episodes:
        g = by_start.get(e.start_ms - e.start_ms % 300_000)
        assert g is None or g.reset[model.index[e.machine]]
    client.close()


def test_live_detector_alerts_on_the_wearing_machine_only(influx_url: str,
                                                          influx_db: str) -> None:
    client = InfluxClient(InfluxEndpoint(url=influx_url, db=influx_db))
    ticks = 2 * 1440  # two days; the screw wears out over the second
    model = model_of()
    # The last 6 hours are evaluated live: which machines are degrading in them?
    worst = write_history(client, model, ticks, ramp=(WORN, 1440, 1.0),
                          watch_from=ticks - 6 * 60)
    healthy = {m for m, w in zip(model.ids, worst, strict=True) if w == 0}
    assert WORN not in healthy and len(healthy) >= 10
    end = START_MS + ticks * 60_000
    cfg = DetectorConfig()
    live = LiveDetector(store_of(client), cfg, LiveConfig(settle_s=30))
    # Read back all but the last 6 hours, then evaluate them as they "arrive".
    assert live.start(end - 6 * 3_600_000 + 30_000) > 0
    evaluations = [live.evaluate(end - h * 3_600_000 + 30_000) for h in (4, 2, 0)]
    assert [e.windows for e in evaluations] == [24, 24, 24]
    assert WORN in evaluations[-1].alerts and not healthy & set(evaluations[-1].alerts)
    # A restart reads the history back and stands where the running one stands.
    again = LiveDetector(store_of(client), cfg, LiveConfig(settle_s=30))
    again.start(end + 30_000)
    assert again.next_ms == live.next_ms == end
    assert (again.detector.alerting == live.detector.alerting).all()
    assert np.allclose(again.detector.score, live.detector.score)

    def rows(q: str) -> list[dict]:
        return series_rows(client.query(q)[0])

    last = {r["machine"]: r for r in rows(
        'SELECT last("alert") AS alert, last("score") AS score, last("vib_ratio") AS ratio, '
        'last("reason") AS reason FROM "prediction" GROUP BY "machine"')}
    assert len(last) == 14
    assert last[WORN]["alert"] == 1 and last[WORN]["ratio"] > 1.3
    assert last[WORN]["reason"].startswith("alert (score ")
    assert "vibration" in last[WORN]["reason"]
    most = {r["machine"]: r["alert"] for r in rows(
        'SELECT max("alert") AS alert FROM "prediction" GROUP BY "machine"')}
    assert all(most[m] == 0 for m in healthy)
    count = rows("SELECT count(score) AS n FROM prediction")[0]["n"]
    assert count == 72 * 14  # one point per machine per window
    mode = rows(f"SELECT last(score) FROM prediction WHERE machine = '{WORN}' GROUP BY mode")
    modes = PlantModes.of(load_plant(PLANT))
    assert [r["mode"] for r in mode] == [modes.modes[modes.machines.index(WORN)]]
    scores = rows('SELECT last("failures") AS failures, last("window_h") AS window_h '
                  'FROM "pdm_score" GROUP BY "source"')
    assert {r["source"] for r in scores} == {"wear", "random"}
    assert all(r["window_h"] == 720 for r in scores)
    failures = sum(r["failures"] for r in scores)
    alarms = rows("SELECT count(code) AS n FROM alarm WHERE active = true")
    assert failures == (alarms[0]["n"] if alarms else 0)
    client.close()


def test_factory_pdm_run_writes_predictions_and_stops_on_sigterm(
        influx_url: str, influx_db: str, tmp_path: Path) -> None:
    from simulator.cli import main as sim

    assert sim(["backfill", "--days", "0.2", "--plant", str(PLANT), "--influx-url",
                influx_url, "--influx-db", influx_db, "--telemetry-interval-s", "60",
                "--no-progress", "--log-level", "WARNING"]) == 0
    log = tmp_path / "pdm.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pdm", "run", "--plant", str(PLANT), "--influx-url",
             influx_url, "--influx-db", influx_db, "--every-s", "2", "--settle-s", "0",
             "--detector", "baseline_h=1", "--detector", "warmup_h=0.5"],
            stderr=err, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        client = InfluxClient(InfluxEndpoint(url=influx_url, db=influx_db))
        try:
            deadline = time.monotonic() + 120
            n = 0
            while n < 14 and time.monotonic() < deadline and proc.poll() is None:
                rows = series_rows(client.query("SELECT count(score) AS n FROM prediction")[0])
                n = rows[0]["n"] if rows else 0
                time.sleep(0.2)  # poll interval: the points are the event waited for
            assert n >= 14, log.read_text()
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0, log.read_text()
            client.close()
    text = log.read_text()
    assert "read back" in text and "stopped after" in text, text
