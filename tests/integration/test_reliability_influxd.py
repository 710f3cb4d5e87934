"""Fault matrix, short versions: influxd stopped, killed (SIGKILL) and frozen (SIGSTOP)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.cases import CI, CaseResult, run_case

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 2000


def _check(r: CaseResult) -> None:
    assert r.shortfalls(RATE) == [], r.describe()


def test_influxd_stopped_loses_and_doubles_nothing(tmp_path: Path) -> None:
    r = run_case("influxd_stop", RATE, CI, tmp_path)
    _check(r)
    assert r.extra["spool_depth_in_outage"] > RATE  # the spool carried the outage


def test_influxd_sigkill_loses_and_doubles_nothing(tmp_path: Path) -> None:
    _check(run_case("influxd_kill", RATE, CI, tmp_path))


def test_influxd_frozen_writes_time_out_and_nothing_is_lost(tmp_path: Path) -> None:
    r = run_case("influxd_freeze", RATE, CI, tmp_path)
    _check(r)
    assert r.extra["spool_depth_in_freeze"] > RATE  # writes really stalled
    assert r.extra["write_timeouts"] > 0  # ... by timing out, not by failing fast
