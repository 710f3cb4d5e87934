"""Fault matrix, short version: a steady soak; the collector's memory stays flat."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.cases import CI, run_case

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 2000


def test_soak_memory_stays_flat_and_nothing_is_lost(tmp_path: Path) -> None:
    r = run_case("soak", RATE, CI, tmp_path)
    what = (f"published {r.published} stored {r.stored} lost {r.lost} error {r.error} "
            f"{r.extra} samples {r.samples}")
    assert r.error is None, what
    assert len(r.samples) >= 8, what
    assert (r.lost, r.duplicates, r.dead_lettered) == (0, 0, 0), what
    first, last = r.extra["rss_first_quarter_mb"], r.extra["rss_last_quarter_mb"]
    # Flat: the last quarter's median RSS within 20 % (+10 MB of allocator noise) of the
    # first quarter's. A leak of even 1 kB per message would add ~200 MB here.
    assert last <= first * 1.2 + 10, what
    # The spool never built up under a load the collector keeps up with.
    assert r.extra["spool_depth_max"] < RATE * 5, what
