"""Fault matrix, short version: timestamps far in the past/future and out of order."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.cases import CI, run_case
from reliability.load import OUT_OF_RANGE_EVERY

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 2000


def test_odd_timestamps_are_stored_or_dead_lettered_never_dropped(tmp_path: Path) -> None:
    r = run_case("timestamps", RATE, CI, tmp_path)
    what = (f"published {r.published} acked {r.acked} stored {r.stored} lost {r.lost} "
            f"{r.lost_ranges} dead letters {r.dead_lettered} ({r.expected_dead_letters} "
            f"expected) error {r.error} {r.extra}")
    assert r.error is None, what
    unstorable = len(range(0, r.published, OUT_OF_RANGE_EVERY))
    assert r.expected_dead_letters == unstorable > 0, what
    assert r.unexpected_dead_letters == 0, what
    assert r.stored == r.published - unstorable, what
    assert (r.lost, r.duplicates) == (0, 0), what
    assert r.extra["timestamps_checked"] > 0 and r.extra["timestamps_wrong"] == 0, what
