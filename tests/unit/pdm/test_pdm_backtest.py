"""The backtest reads what the encoder writes and scores the model's own labels."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from pdm.backtest import encoded_fields, report, simulate
from pdm.detector import DetectorConfig
from simulator.encode import Encoder
from simulator.model import Intervals, PlantModel
from simulator.plant import load_plant

ROOT = Path(__file__).resolve().parents[3]
START_MS = 1_767_571_200_000


def test_the_backtest_reads_the_field_values_the_encoder_writes() -> None:
    model = PlantModel(load_plant(ROOT / "docs/examples/acme-lyon.yaml"), 4, START_MS,
                       Intervals.from_seconds(60.0))
    enc = Encoder(model)
    for _ in range(30):
        frame = model.step()
        got = encoded_fields(enc, ("vibration_mm_s", "temp_c"))
        sent = {topic.split("/")[-2]: payload for kind, topic, payload in enc.messages(frame)
                if kind == "telemetry"}
        for i, machine in enumerate(model.ids):
            for field in ("vibration_mm_s", "temp_c"):
                if field in sent[machine]:
                    assert got[field][i] == sent[machine][field]
                else:  # a sensor dropout: not sent
                    assert np.isnan(got[field][i])
        model.after_emit(frame)
    assert np.isnan(encoded_fields(enc, ("no_such_field",))["no_such_field"]).all()


def test_on_a_real_run_wear_failures_are_foreseen_and_random_ones_are_not() -> None:
    """The second plant x4 (56 machines) for 8 days (about 15 s of CPU): the detector
    foresees wear-driven failures far above chance, random ones only at chance."""
    cfg = DetectorConfig()
    run = simulate(load_plant(ROOT / "docs/examples/acme-lyon.yaml", 4), 8, 3, START_MS,
                   config=cfg)
    out = report(run, cfg)
    wear, rnd = out["wear"], out["random"]
    assert wear["failures"] >= 8 and rnd["failures"] >= 50
    assert out["machines"] == 56 and out["other_failures"] == 0
    assert wear["recall"] >= 0.6 and wear["precision"] >= 0.6
    assert wear["median_lead_h"] >= 8
    assert wear["recall"] > wear["chance_recall"] + 0.3
    # Random failures: no better than the same alerts moved in time.
    assert rnd["recall"] < rnd["chance_recall"] + 0.1
    # Precision at chance, within sampling noise: random failures are so frequent that
    # most alerts are followed by one anyway (chance precision ~0.87 here, from ~15 alerts),
    # so allow two binomial standard deviations over what chance gives.
    p, k = rnd["chance_precision"], rnd["alerts"]
    assert rnd["true_alerts"] <= k * p + 2 * math.sqrt(k * p * (1 - p)) + 1
    assert rnd["recall"] < wear["recall"] / 3
