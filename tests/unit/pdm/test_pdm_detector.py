"""The detector on synthetic feature windows, and the feature fold (pdm.detector,
pdm.features)."""

from __future__ import annotations

import numpy as np
import pytest

from pdm.detector import Detector, DetectorConfig, DetectorConfigError, reason
from pdm.features import Aggregate, Buckets, StateFold, TickAggregator

W = 300_000  # 5 min
FAULT, RUNNING, IDLE = 4, 2, 1


def windows(vib: np.ndarray, crest: np.ndarray | None = None,
            valid: np.ndarray | None = None, reset: np.ndarray | None = None) -> list[Buckets]:
    """(windows, machines) arrays -> one Buckets per window."""
    t, n = vib.shape
    crest = np.full((t, n), np.nan) if crest is None else crest
    valid = np.ones((t, n), bool) if valid is None else valid
    reset = np.zeros((t, n), bool) if reset is None else reset
    return [Buckets(k * W, vib[k], crest[k], valid[k], reset[k]) for k in range(t)]


def run(det: Detector, ws: list[Buckets]) -> list:
    return [det.update(w) for w in ws]


def test_a_rising_machine_alerts_with_its_reason_and_a_steady_one_does_not() -> None:
    rng = np.random.default_rng(1)
    t = 24 * 12 * 4  # 4 days of 5-min windows
    vib = 2.0 * (1 + 0.02 * rng.standard_normal((t, 3)))
    ramp = np.clip((np.arange(t) - 2 * 288) / (2 * 288), 0, None)  # from day 2
    vib[:, 1] *= 1 + 1.0 * ramp  # doubles over 2 days
    crest = 3.0 * (1 + 0.02 * rng.standard_normal((t, 3)))
    crest[:, 2] = np.nan  # a machine without crest factor
    cfg = DetectorConfig()
    det = Detector(3, cfg)
    out = run(det, windows(vib, crest))
    alerts = np.array([v.alert for v in out])
    assert not alerts[:, [0, 2]].any()
    first = int(np.argmax(alerts[:, 1]))
    assert alerts[first:, 1].all() and 2 * 288 < first < 3 * 288
    last = out[-1]
    assert last.vib_ratio[1] == pytest.approx(2.0, rel=0.1)
    assert last.trend_per_day[1] > 0.3
    assert last.baseline_mm_s[1] == pytest.approx(2.0, rel=0.05)
    text = reason(last, 1, cfg)
    assert text.startswith("alert (score 0.8") and "vibration 1.9" in text and "mm/s" in text
    assert "crest factor" not in reason(last, 2, cfg)
    assert reason(last, 0, cfg).startswith("normal (score 0.")


def test_warm_up_stops_and_resets() -> None:
    cfg = DetectorConfig(warmup_h=1)
    det = Detector(1, cfg)
    v = run(det, windows(np.full((6, 1), 2.0)))[-1]
    assert not v.scored[0] and v.score[0] == 0
    assert reason(v, 0, cfg) == "warming up: 0.5 of 1 running hours for a baseline"
    v = run(det, windows(np.full((6, 1), 2.0)))[-1]
    assert v.scored[0] and not v.alert[0]
    # A worn machine alerts; a fault stops it; after the repair it runs smoothly again:
    # the smoothing restarts from the repaired level instead of decaying for hours.
    worn = run(det, windows(np.full((36, 1), 4.0)))[-1]
    assert worn.alert[0]
    down = det.update(Buckets(0, np.array([np.nan]), np.array([np.nan]), np.array([False]),
                              np.array([True])))
    assert down.down[0] and down.alert[0] and down.score[0] == worn.score[0]
    assert reason(down, 0, cfg) == (f"alert (score {worn.score[0]:.2f}, held): stopped for a fault "
                                    "or maintenance, waiting for running data")
    # Idle windows (not valid, no reset) keep the verdict.
    idle = det.update(Buckets(0, np.array([0.4]), np.array([np.nan]), np.array([False]),
                              np.array([False])))
    assert idle.down[0]
    after = det.update(Buckets(0, np.array([2.0]), np.array([np.nan]), np.array([True]),
                               np.array([False])))
    assert not after.alert[0] and after.vib_ratio[0] < 1.3


def test_copies_are_independent() -> None:
    det = Detector(2)
    clone = det.copy()
    run(clone, windows(np.full((3, 2), 2.0)))
    assert det.count.sum() == 0 and clone.count.sum() == 6


@pytest.mark.parametrize(("change", "message"), [
    ({"baseline_q": 1.0}, "baseline_q"),
    ({"fast_h": 9.0}, "fast_h"),
    ({"threshold": 0.0}, "threshold"),
    ({"level_full": 1.0}, "level_full"),
    ({"horizon_h": -1.0}, "horizon_h"),
    ({"warmup_h": 500.0}, "warmup_h"),
])
def test_bad_settings_are_one_line(change: dict, message: str) -> None:
    with pytest.raises(DetectorConfigError, match=message):
        DetectorConfig(**change)


def test_a_window_is_valid_only_when_running_throughout() -> None:
    n = 4
    agg = TickAggregator(n, W)
    fold = StateFold(n, np.array([True, True, False, True]), np.full(n, RUNNING))
    vib = np.array([1.0, 2.0, 3.0, 4.0])
    crest = np.array([3.0, np.nan, 3.0, 3.0])
    codes = [np.array([RUNNING, RUNNING, RUNNING, RUNNING]),
             np.array([RUNNING, IDLE, RUNNING, FAULT]),
             np.array([RUNNING, RUNNING, RUNNING, RUNNING])]
    closed: list[Aggregate] = []
    for k, c in enumerate(codes):  # three ticks in the first window
        closed += agg.add(k * 100_000, vib * (k + 1), crest, c)
    assert closed == []
    closed = agg.add(W, vib, crest, codes[0])  # the first tick of the next window
    assert len(closed) == 1
    a = closed[0]
    assert a.start_ms == 0 and a.samples.tolist() == [3, 3, 3, 3]
    assert a.vib.tolist() == [2.0, 4.0, 6.0, 8.0] and np.isnan(a.crest[1])
    b = fold.step(a)
    # 0 ran throughout; 1 idled inside; 2 was not running when it began; 3 faulted.
    assert b.valid.tolist() == [True, False, False, False]
    assert b.reset.tolist() == [False, False, False, True]
    # The state in effect carries to the next window: all running now.
    assert fold.running.tolist() == [True] * 4


def test_row_quantile_is_numpys_nanquantile() -> None:
    from pdm.detector import row_quantile

    rng = np.random.default_rng(2)
    a = rng.normal(size=(5, 40)).astype(np.float32)
    a[1, 10:] = np.nan
    a[2, :] = np.nan
    a[3, 1:] = np.nan
    want = [np.nanquantile(r.astype(float), 0.25) if np.isfinite(r).any() else np.nan
            for r in a]
    assert np.allclose(row_quantile(a, 0.25), want, equal_nan=True)
