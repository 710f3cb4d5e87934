"""Physical signals (issue 16 item 5): power factor, ambient cycle, correlated noise,
sensor faults in telemetry and labels."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from collector.mapping import Mapped, Mapper
from simulator.ambient import Climate
from simulator.cli import main
from simulator.encode import Encoder
from simulator.model import IDLE, RUNNING, PlantModel
from simulator.plant import PlantError, load_plant, parse_plant
from simulator.signals import PowerFactor, RedNoise
from simulator.sparkplug import SparkplugEncoder
from telemetry import sparkplug_b_pb2 as pb
from telemetry.points import to_line
from tests.unit.simulator.helpers_sim import MONDAY_0800_LOCAL_MS, tiny_plant_raw

LYON = Path(__file__).parents[3] / "docs" / "examples" / "acme-lyon.yaml"


def _utc_ms(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp() * 1000)


# -- power factor ---------------------------------------------------------------------------
def test_power_factor_rises_with_load() -> None:
    pf = PowerFactor(np.array([100.0]), np.array([0.4]), np.array([0.88]), voltage_v=400)
    p = np.array([0.0, 10.0, 50.0, 100.0, 150.0])
    f = pf.pf(np.repeat(p, 1).reshape(-1))
    assert f[0] == pytest.approx(0.4) and f[3] == pytest.approx(0.88) and f[4] == f[3]
    assert np.all(np.diff(f) >= 0)
    amps = pf.current_a(np.array([100.0]))
    assert amps[0] == pytest.approx(100_000 / (np.sqrt(3) * 400 * 0.88))


def test_current_is_not_a_fixed_multiple_of_power() -> None:
    model = PlantModel(load_plant(), 3, MONDAY_0800_LOCAL_MS)
    ratios: list[np.ndarray] = []
    states: list[np.ndarray] = []
    for _ in range(240):  # 20 min
        model.step()
        on = model.power_kw > 0.05
        ratios.append(np.where(on, model.current_a / np.where(on, model.power_kw, 1), np.nan))
        states.append(model.state.copy())
    r, s = np.array(ratios), np.array(states)
    running, idle = r[(s == RUNNING) & ~np.isnan(r)], r[(s == IDLE) & ~np.isnan(r)]
    assert running.size and idle.size
    assert np.nanstd(r) / np.nanmean(r) > 0.05  # 1.698 A/kW for every sample before
    # the same machine draws more amps per kW idle (low pf) than running (near full load)
    assert np.median(idle) > np.median(running) * 1.2
    # and, running, the ratio moves with the load
    col = r[:, 0][s[:, 0] == RUNNING]
    assert col.size > 10 and col.max() / col.min() > 1.01


def test_power_factor_per_type_and_bad_values() -> None:
    raw = tiny_plant_raw()
    raw["types"]["press"]["power_factor"] = {"no_load": 0.3, "full_load": 0.9}
    t = parse_plant(raw).types["press"]
    assert (t.pf_no_load, t.pf_full_load) == (0.3, 0.9)
    raw["types"]["press"]["power_factor"] = {"no_load": 0.95, "full_load": 0.9}
    with pytest.raises(PlantError, match=r"press\.power_factor\.no_load: must be"):
        parse_plant(raw)


# -- ambient --------------------------------------------------------------------------------
def test_ambient_daily_peak_follows_plant_local_time() -> None:
    """Warmest at 15:00 local: 07 UTC in Shengzhou; 14 UTC in Lyon in winter, 13 in summer."""
    def warmest_utc_hour(plant_path: Path | None, day: tuple[int, int, int]) -> int:
        model = PlantModel(load_plant(plant_path), 1, _utc_ms(*day, 0))
        temps = [model.ambient.c(_utc_ms(*day, h)) for h in range(24)]
        return int(np.argmax(temps))

    assert warmest_utc_hour(None, (2026, 1, 15)) == 7
    assert warmest_utc_hour(LYON, (2026, 1, 15)) == 14
    assert warmest_utc_hour(LYON, (2026, 7, 15)) == 13


def test_ambient_seasons_and_machine_temperatures() -> None:
    shz = load_plant()
    c = shz.climate
    jan, jul = _utc_ms(2026, 1, 22, 7), _utc_ms(2026, 7, 24, 7)
    winter = PlantModel(shz, 1, jan)
    summer = PlantModel(shz, 1, jul)
    assert summer.ambient.c(jul) - winter.ambient.c(jan) == pytest.approx(
        c.seasonal_swing_c, abs=0.5)
    # machine temperatures start from ambient + their rise: the whole plant is warmer
    diff = float(np.mean(summer.temp_c - summer.rise_by_state[summer._ar, summer.state] * 0.9)
                 - np.mean(winter.temp_c - winter.rise_by_state[winter._ar, winter.state] * 0.9))
    assert diff == pytest.approx(c.seasonal_swing_c, abs=0.5)
    # southern hemisphere: the seasons flip
    south = Climate(latitude=-34, mean_c=18, seasonal_swing_c=10, daily_swing_c=0)
    jan_local = (jan + 8 * 3600_000) / 1000
    north = Climate(latitude=34, mean_c=18, seasonal_swing_c=10, daily_swing_c=0)
    assert south.at_local(jan_local) > 22
    assert north.at_local(jan_local) < 14


def test_climate_errors_name_the_key() -> None:
    raw = tiny_plant_raw()
    raw["climate"] = {"mean_c": "hot"}
    with pytest.raises(PlantError, match=r"climate\.mean_c: must be a number"):
        parse_plant(raw)
    raw["climate"] = {"winter_c": 3}
    with pytest.raises(PlantError, match=r"climate"):
        parse_plant(raw)


# -- correlated noise -----------------------------------------------------------------------
def _lag1(x: np.ndarray) -> float:
    """Pooled lag-1 autocorrelation of the columns of x (time along axis 0)."""
    x = x - x.mean(axis=0)
    return float((x[1:] * x[:-1]).sum() / (x * x).sum())


@pytest.mark.parametrize("dt_s", [1.0, 5.0])
def test_red_noise_time_constant_is_in_seconds(dt_s: float) -> None:
    rng = np.random.default_rng(7)
    red = RedNoise(np.full(50, 60.0), dt_s)
    z = np.array([red.step(rng.standard_normal(50)).copy() for _ in range(4000)])
    assert _lag1(z) == pytest.approx(np.exp(-dt_s / 60), abs=0.02)
    assert z.std() == pytest.approx(1.0, abs=0.08)


def test_model_noise_is_correlated_with_the_configured_spread() -> None:
    model = PlantModel(parse_plant(tiny_plant_raw(machines=40)), 5, MONDAY_0800_LOCAL_MS)
    temp, tonnage = [], []
    for _ in range(1500):
        model.step()
        temp.append(model.temp_out - model.temp_c)  # 0.15 degC x the temperature noise
        tonnage.append(model.power_kw.copy())
    resid = np.array(temp)
    assert _lag1(resid) > 0.9  # tau 120 s at 5 s ticks: exp(-5/120) = 0.96
    assert resid.std() == pytest.approx(0.15, rel=0.15)
    p = np.array(tonnage)
    assert _lag1(p - p.mean(axis=0)) > 0.5  # power: tau 30 s (white noise gave ~0)


# -- sensor faults --------------------------------------------------------------------------
def _faulty_plant(**rates: Any) -> Any:
    raw = tiny_plant_raw(machines=6)
    raw["sensor_faults"] = rates or {"dropout_per_month": 4000, "stuck_per_month": 4000,
                                     "spike_per_month": 4000, "dropout_min": 2, "stuck_min": 2}
    return parse_plant(raw)


def _run_json(model: PlantModel, ticks: int) -> list[tuple[str, dict[str, Any]]]:
    enc = Encoder(model)
    out = []
    for _ in range(ticks):
        frame = model.step()
        out += [(t, json.loads(p)) for k, t, p in enc.encoded(frame) if k == "telemetry"]
        model.after_emit(frame)
    return out


def test_sensor_faults_show_in_telemetry_as_labelled() -> None:
    model = PlantModel(_faulty_plant(), 11, MONDAY_0800_LOCAL_MS)
    truth: dict[tuple[str, int], dict[str, float]] = {}
    enc = Encoder(model)
    sent: dict[tuple[str, int], dict[str, Any]] = {}
    for _ in range(400):
        frame = model.step()
        for i, mid in enumerate(model.ids):
            truth[(mid, frame.ts_ms)] = {f: float(a[i]) for f, a in model.sensor_values().items()}
        for k, t, p in enc.encoded(frame):
            if k == "telemetry":
                sent[(t.split("/")[-2], frame.ts_ms)] = json.loads(p)
        model.after_emit(frame)
    labels = model.sensors.labels(model.now_ms)
    kinds = {lab["kind"] for lab in labels}
    assert kinds == {"dropout", "stuck", "spike"}
    assert set(labels[0]) == {"machine", "signal", "kind", "start_ms", "end_ms"}
    for lab in labels:
        key = lab["machine"], lab["signal"]
        span = range(lab["start_ms"], lab["end_ms"] + 1, model.dt_ms)
        got = [sent[(key[0], ts)].get(key[1]) for ts in span]
        true = [truth[(key[0], ts)][key[1]] for ts in span]
        if lab["kind"] == "dropout":
            assert got == [None] * len(span)
        elif lab["kind"] == "stuck":
            assert len(set(got)) == 1 and got[0] == pytest.approx(true[0], abs=0.051)  # rounded
        else:
            assert len(span) == 1 and abs(got[0] - true[0]) > 1.0
    # outside any fault every field is sent
    faulty = {(lab["machine"], ts) for lab in labels
              for ts in range(lab["start_ms"], lab["end_ms"] + 1, model.dt_ms)}
    clean = [p for key, p in sent.items() if key not in faulty]
    fields = {"ts", *enc.tele_groups[0][1]}
    assert "tonnage_t" in fields and clean and all(set(p) == fields for p in clean)


def test_dropout_on_every_wire_and_through_the_collector() -> None:
    model = PlantModel(_faulty_plant(dropout_per_month=20000, stuck_per_month=0,
                                     spike_per_month=0), 2, MONDAY_0800_LOCAL_MS)
    enc = Encoder(model)
    sp = SparkplugEncoder(model)
    mapper = Mapper()
    seen = 0
    for _ in range(60):
        frame = model.step()
        dropped = model.sensors.dropped
        msgs = {t: (k, p) for k, t, p in enc.encoded(frame)}
        lines = enc.lines(frame)
        sp_msgs = list(sp.encoded(frame))
        model.after_emit(frame)
        for i in dropped:
            topic = enc.topics["telemetry"][i]
            payload = json.loads(msgs[topic][1])
            missing = set(enc.tele_groups[0][1]) - set(payload)
            assert len(missing) >= 1
            # line protocol (backfill) omits it too, as telemetry.points writes the JSON
            line = to_line(topic, payload)
            assert line in lines
            # the collector maps it (cached fast path: the topic was seen complete before)
            r = mapper.map(topic, msgs[topic][1], 0)
            assert isinstance(r, Mapped) and r.line == line
            seen += 1
        nulls = 0
        for _, _, body in sp_msgs:
            p = pb.Payload()
            p.ParseFromString(body)
            nulls += sum(m.is_null for m in p.metrics)
        assert nulls == sum(1 for i in dropped for a in model.sensors.overrides.values()
                            if np.isnan(a[i]))
        for i in range(model.n):
            topic = enc.topics["telemetry"][i]
            mapper.map(topic, msgs[topic][1], 0)
    assert seen >= 5


def test_sensor_faults_off_by_the_switch_and_rare_by_default() -> None:
    raw = tiny_plant_raw(machines=6)
    raw["sensor_faults"] = False
    model = PlantModel(parse_plant(raw), 1, MONDAY_0800_LOCAL_MS)
    for _ in range(50):
        model.step()
    assert model.sensors.lam == 0 and model.sensors.events == []
    with pytest.raises(PlantError, match=r"sensor_faults\.spike_per_month: must be"):
        parse_plant({**raw, "sensor_faults": {"spike_per_month": -1}})
    rates = parse_plant(tiny_plant_raw()).sensor_faults
    per_month = sum(rates.per_s) * 30 * 86400
    assert 1 <= per_month <= 10  # a few per machine-month


def test_labels_file_has_sensor_faults(tmp_path: Path) -> None:
    raw = tiny_plant_raw(machines=3)
    raw["sensor_faults"] = {"spike_per_month": 50000}
    plant = tmp_path / "plant.yaml"
    plant.write_text(json.dumps(raw))
    labels = tmp_path / "labels.json"
    assert main(["run", "--plant", str(plant), "--speed", "max", "--duration", "10m",
                 "--sink", "null", "--start", "2026-01-05T00:00:00Z", "--seed", "4",
                 "--labels-out", str(labels)]) == 0
    faults = json.loads(labels.read_text())["sensor_faults"]
    assert faults and {f["kind"] for f in faults} == {"spike"}
    assert all(f["start_ms"] == f["end_ms"] and f["machine"].startswith("p-") for f in faults)
    assert main(["run", "--plant", str(plant), "--speed", "max", "--duration", "10m",
                 "--sink", "null", "--start", "2026-01-05T00:00:00Z", "--seed", "4",
                 "--labels-out", str(labels), "--no-sensor-faults"]) == 0
    assert json.loads(labels.read_text())["sensor_faults"] == []


def test_deterministic_with_sensor_faults() -> None:
    def run() -> list[Any]:
        model = PlantModel(_faulty_plant(), 9, MONDAY_0800_LOCAL_MS)
        return [*_run_json(model, 80), model.sensors.labels(model.now_ms)]

    assert run() == run()


def test_sensor_faults_keep_the_physics_true() -> None:
    """Energy counts the real power: the same run with and without faults."""
    a = PlantModel(_faulty_plant(), 3, MONDAY_0800_LOCAL_MS)
    raw = copy.deepcopy(tiny_plant_raw(machines=6))
    raw["sensor_faults"] = False
    b = PlantModel(parse_plant(raw), 3, MONDAY_0800_LOCAL_MS)
    for _ in range(100):
        a.step()
        b.step()
    assert a.sensors.events and not b.sensors.events
    assert np.array_equal(a.kwh_total, b.kwh_total)
    assert np.array_equal(a.power_kw, b.power_kw)
