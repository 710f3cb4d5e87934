"""Fault matrix, short version: the spool fills during an influxd outage."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.cases import CI, run_case

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 2000


def test_spool_full_pauses_intake_drops_nothing_and_drains(tmp_path: Path) -> None:
    r = run_case("spool_full", RATE, CI, tmp_path)
    what = (f"published {r.published} acked {r.acked} stored {r.stored} lost {r.lost} "
            f"{r.lost_ranges} dead letters {r.dead_lettered} error {r.error} {r.extra}")
    assert r.error is None, what
    assert r.extra["paused_seen"] and r.extra["paused_at_end_of_outage"], what
    # The outage outlasted what the spool holds: the broker queued the rest.
    assert r.extra["published_in_outage"] > r.extra["spool_depth_in_outage"], what
    assert r.acked == r.published and r.acked_no_subscriber == 0, what
    assert (r.lost, r.duplicates, r.dead_lettered) == (0, 0, 0), what
    assert r.recovery_s is not None, what
