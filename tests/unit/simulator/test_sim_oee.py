from __future__ import annotations

import io
import json

import pytest

from simulator.encode import Encoder
from simulator.model import Intervals, PlantModel
from simulator.oee import oee_from_counts, oee_from_sums
from simulator.plant import load_plant
from simulator.runner import Runner
from simulator.sinks import StdoutSink
from simulator.truth import ground_truth

from .helpers_sim import MONDAY_0800_LOCAL_MS


def test_hand_computed_case() -> None:
    # Planned 8 h, ran 7 h, ideal cycle 60 s, made 380 of which 19 scrap.
    r = oee_from_sums(run_s=7 * 3600, planned_s=8 * 3600, ideal_s=380 * 60, good=361,
                      scrap=19)
    assert r["availability"] == pytest.approx(0.875)
    assert r["performance"] == pytest.approx(22800 / 25200, abs=1e-6)
    assert r["quality"] == pytest.approx(0.95)
    assert r["oee"] == pytest.approx(0.875 * (22800 / 25200) * 0.95, abs=1e-6)


def test_undefined_ratios_are_absent_not_zero() -> None:
    # Never planned: nothing is defined.
    assert oee_from_sums(0, 0, 0, 0, 0) == {}
    # Planned but never ran: availability 0; performance and quality undefined; no good
    # output, so OEE is 0.
    assert oee_from_sums(0, 3600, 0, 0, 0) == {"availability": 0.0, "oee": 0.0}
    # Ran but made nothing: performance 0, quality undefined.
    assert oee_from_sums(600, 3600, 0, 0, 0) == {"availability": round(1 / 6, 6),
                                                 "performance": 0.0, "oee": 0.0}
    # Off shift but repaired (run, not planned): availability and OEE undefined.
    r = oee_from_sums(60, 0, 50, 5, 0)
    assert "availability" not in r and "oee" not in r and r["quality"] == 1.0


def test_truth_of_a_never_planned_line_has_no_ratios() -> None:
    """A window in which the assembly lines (two shifts, 07:00-23:00) are off shift."""
    plant = load_plant()
    # Tuesday 02:00 local (Monday 00:00-06:00 belongs to Sunday's night shift, not worked)
    model = PlantModel(plant, 3, MONDAY_0800_LOCAL_MS + 18 * 3600_000,
                       Intervals.from_seconds(10, 60, 300))
    for _ in range(2 * 360):  # until 04:00
        model.step()
    truth = ground_truth(model)
    assert truth["oee"]["lines"]["assembly/stove-1"] == {}
    assert truth["oee"]["machines"]["s1-pack"] == {}
    assert set(truth["oee"]["lines"]["hardware/cutting"]) == {
        "availability", "performance", "quality", "oee"}
    text = json.dumps(truth["oee"])
    assert "NaN" not in text and "null" not in text


def test_ratio_of_sums_not_mean_of_ratios() -> None:
    payloads = [{"run_s": 10.0, "planned_s": 10.0, "ideal_s": 10.0, "good": 1, "scrap": 0},
                {"run_s": 0.0, "planned_s": 30.0, "ideal_s": 0.0, "good": 0, "scrap": 0}]
    assert oee_from_counts(payloads)["availability"] == pytest.approx(0.25)


def test_counts_messages_reproduce_the_ground_truth() -> None:
    """Summing every counts message of a run gives exactly the model's truth."""
    plant = load_plant()
    model = PlantModel(plant, 11, MONDAY_0800_LOCAL_MS - 3 * 3600_000,
                       Intervals.from_seconds(10, 60, 300))
    out = io.StringIO()
    Runner(model, Encoder(model), StdoutSink(out), duration_ticks=4 * 360 + 7).run()
    truth = ground_truth(model)
    counts: dict[str, list[dict]] = {}
    sales: dict[str, float] = {}
    for line in out.getvalue().splitlines():
        msg = json.loads(line)
        kind = msg["topic"].rsplit("/", 1)[1]
        if kind == "counts":
            counts.setdefault(msg["topic"].split("/")[4], []).append(msg["payload"])
            assert truth["window"]["start_ms"] < msg["payload"]["ts"] \
                <= truth["window"]["end_ms"]
        elif kind == "sales":
            region = msg["payload"]["region"]
            sales[region] = sales.get(region, 0.0) + msg["payload"]["amount_cny"]
    every = [p for ps in counts.values() for p in ps]
    plant_oee = oee_from_counts(every)
    for k in ("availability", "performance", "quality", "oee"):
        assert plant_oee[k] == pytest.approx(truth["oee"]["plant"][k], abs=1e-4)
    for mid, ps in counts.items():
        mine, want = oee_from_counts(ps), truth["oee"]["machines"][mid]
        assert set(mine) == set(want)
        for k, v in want.items():
            assert mine[k] == pytest.approx(v, abs=1e-4)
    # The identity OEE = A x P x Q holds exactly (to rounding) wherever all are defined.
    for group in (truth["oee"]["lines"], truth["oee"]["machines"]):
        for r in group.values():
            if len(r) == 4:
                assert r["oee"] == pytest.approx(
                    r["availability"] * r["performance"] * r["quality"], abs=2e-6)
    assert sum(p["good"] for p in every) == truth["counts"]["good"]
    assert sum(p["scrap"] for p in every) == truth["counts"]["scrap"]
    for region, amount in truth["sales"].items():
        assert sales.get(region, 0.0) == pytest.approx(amount, abs=0.05)
    # Every machine's state seconds add up to the window.
    window_s = (truth["window"]["end_ms"] - truth["window"]["start_ms"]) / 1000
    for row in truth["state_seconds"].values():
        assert sum(row.values()) == pytest.approx(window_s)
    # Some realism: the plant is neither perfect nor broken.
    assert 0.5 < truth["oee"]["plant"]["oee"] < 0.95
