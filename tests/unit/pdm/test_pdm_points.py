"""The points factory-pdm writes follow DERIVED_KINDS (docs/contract.md)."""

from __future__ import annotations

import numpy as np

from pdm.detector import Detector, DetectorConfig
from pdm.features import Buckets
from pdm.influx_io import PdmStore, quote
from pdm.modes import PlantModes
from pdm.scoring import SourceScore
from simulator.plant import load_plant
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient


def store() -> PdmStore:
    plant = load_plant()
    return PdmStore(InfluxClient(InfluxEndpoint()), plant.enterprise, plant.site,
                    PlantModes.of(plant), [(m.area, m.line) for m in plant.machines])


def test_prediction_points_carry_the_evidence_only_when_scored() -> None:
    s = store()
    n = len(s.machines)
    cfg = DetectorConfig(warmup_h=0.1)
    det = Detector(n, cfg)
    valid = np.zeros(n, bool)
    valid[0] = True
    for k in range(3):
        v = det.update(Buckets(k * 300_000, np.full(n, 2.0), np.full(n, 3.0), valid,
                               np.zeros(n, bool)))
    lines = s.prediction_lines(900_000, v, cfg)
    assert len(lines) == n
    first, other = lines[0], lines[1]
    m0 = s.machines[0]
    assert first.startswith(f"prediction,area=hardware,enterprise=hearth,line=cutting,"
                            f"machine={m0},mode={s.modes.modes[0]},site=shengzhou ")
    assert "alert=0i" in first and "vib_ratio=1.0" in first and "crest_ratio=1.0" in first
    assert "horizon_h=192.0" in first and first.endswith(" 900000")
    assert 'reason="normal (score 0.00): ' in first
    assert "vib_ratio" not in other and 'reason="warming up: 0.0 of 0.1' in other


def test_score_points_leave_undefined_figures_out() -> None:
    s = store()
    defined = SourceScore(failures=2, hits=1, alerts=4, true_alerts=3, chance_recall=0.1,
                          chance_precision=0.2, leads_h=[5.0, 7.0])
    lines = s.score_lines(5, {"wear": defined, "random": SourceScore()}, 720.0)
    assert lines[0] == ("pdm_score,enterprise=hearth,site=shengzhou,source=wear failures=2i,"
                        "alerts=4i,hits=1i,window_h=720.0,precision=0.75,recall=0.5,"
                        "median_lead_h=6.0,chance_recall=0.1,chance_precision=0.2 5")
    assert lines[1] == ("pdm_score,enterprise=hearth,site=shengzhou,source=random "
                        "failures=0i,alerts=0i,hits=0i,window_h=720.0 5")


def test_influxql_string_literals_are_quoted() -> None:
    assert quote("o'brien\\") == "'o\\'brien\\\\'"
