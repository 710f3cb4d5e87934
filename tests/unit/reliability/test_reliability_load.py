"""The counting publisher's messages: one point each, unique timestamps per series."""

from __future__ import annotations

import json

import pytest

from reliability.cases import CaseResult
from reliability.load import OUT_OF_RANGE_EVERY, LoadSpec
from reliability.report import row
from telemetry.points import to_line


@pytest.mark.parametrize("mode", ["steady", "skewed"])
def test_every_message_is_its_own_point(mode: str) -> None:
    spec = LoadSpec("rel", t0_ms=1_764_201_600_000, series=7, ts_mode=mode)  # type: ignore[arg-type]
    seen: set[tuple[str, int]] = set()
    for seq in range(2000):
        topic, payload = spec.message(seq)
        body = json.loads(payload)
        assert body["seq"] == seq and body["ts"] == spec.ts_ms(seq)
        key = (topic, body["ts"])
        assert key not in seen, f"seq {seq} reuses {key}"
        seen.add(key)
        if spec.storable(seq):
            line = to_line(topic, body)
            assert line.endswith(f" {body['ts']}") and f"seq={float(seq)!r}" in line


def test_skewed_mode_has_past_future_backwards_and_unstorable_timestamps() -> None:
    spec = LoadSpec("rel", t0_ms=1_764_201_600_000, series=3, ts_mode="skewed")
    ts = [spec.ts_ms(s) for s in range(400)]
    assert min(ts) < 100_000_000_000  # 1973
    assert any(t > 7_000_000_000_000 for t in ts)  # after 2190
    assert [s for s in range(400) if not spec.storable(s)] == \
        list(range(0, 400, OUT_OF_RANGE_EVERY))
    backwards = [spec.ts_ms(s) for s in range(400) if (s // 3) % 4 == 3
                 and spec.storable(s) and s % 3 == 0]
    assert backwards == sorted(backwards, reverse=True)


def test_steady_boundary_counts_whole_steps() -> None:
    spec = LoadSpec("rel", t0_ms=1000, series=10)
    assert spec.seq_of_ts(1000) == 10 and spec.seq_of_ts(999) == 0


def test_report_row_shows_loss_and_achieved_rate() -> None:
    r = CaseResult("influxd_stop", 2000, "ci", published=100, acked=100, stored=90, lost=10,
                   load_s=0.1, lost_ranges=[(5, 14)], recovery_s=None)
    text = row(r)
    assert "| 2,000 (1,000) |" in text and "n/a (loss)" in text and "lost seq 5-14" in text
