"""Fault matrix, short versions: collector SIGKILL at random moments, and SIGTERM."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.cases import CI, CaseResult, run_case

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 2000


def _check(r: CaseResult) -> None:
    assert r.shortfalls(RATE) == [], r.describe()


def test_collector_sigkilled_repeatedly_loses_and_doubles_nothing(tmp_path: Path) -> None:
    r = run_case("collector_kill", RATE, CI, tmp_path)
    _check(r)
    assert r.extra["kills"] == CI.collector_kills >= 3


def test_collector_sigterm_flushes_and_exits_cleanly(tmp_path: Path) -> None:
    r = run_case("collector_term", RATE, CI, tmp_path)
    _check(r)
    assert r.extra["exit_code"] == 0
