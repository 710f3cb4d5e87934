from __future__ import annotations

from reliability.cases import CaseResult


def _clean() -> CaseResult:
    return CaseResult(case="x", rate_per_s=2000, profile="ci", published=5000, acked=5000,
                      stored=5000, points=5000, recovery_s=1.5)


def test_a_clean_run_has_no_shortfalls() -> None:
    assert _clean().shortfalls(2000) == []


def test_each_shortfall_is_named() -> None:
    r = _clean()
    r.lost, r.duplicates, r.recovery_s, r.acked = 3, 1, None, 4999
    assert r.shortfalls(2000) == ["not all acked", "lost", "duplicated", "never recovered"]
    assert _clean().shortfalls(5000) == ["not under load"]
    assert "lost 3" in r.describe()
