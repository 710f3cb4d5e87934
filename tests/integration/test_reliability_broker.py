"""Fault matrix, short versions: Mosquitto restarted cleanly and killed (SIGKILL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.cases import CI, MOSQUITTO_AUTOSAVE_S, run_case

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 2000


def test_mosquitto_clean_restart_loses_and_doubles_nothing(tmp_path: Path) -> None:
    r = run_case("mosquitto_restart", RATE, CI, tmp_path)
    # Includes "acked with no subscriber": the collector's session survived the restart.
    assert r.shortfalls(RATE) == [], r.describe()


def test_mosquitto_sigkill_loses_only_what_the_broker_held_unsaved(tmp_path: Path) -> None:
    """A broker crash may lose messages it acknowledged after its last autosave and had
    not yet handed to the collector; everything else arrives exactly once."""
    r = run_case("mosquitto_kill_autosave1", RATE, CI, tmp_path)
    assert r.error is None, r.describe()
    assert r.acked == r.published, r.describe()
    assert r.acked_no_subscriber == 0, r.describe()  # the saved session was restored
    assert r.duplicates == 0 and r.dead_lettered == 0, r.describe()
    acked_at_kill = r.extra["acked_at_kill"]
    window = int(RATE * (MOSQUITTO_AUTOSAVE_S + 2))
    for first, last in r.lost_ranges:  # only messages the broker held at the crash
        assert acked_at_kill - window <= first and last < acked_at_kill, r.describe()
    assert r.lost <= window, r.describe()


def test_mosquitto_sigkill_with_a_backlog_loses_at_most_the_unsaved_seconds(
        tmp_path: Path) -> None:
    """The collector is stopped, the broker queues for it and crashes: what it acked
    after its last autosave is gone (at most ~autosave_interval x rate), nothing else."""
    r = run_case("mosquitto_kill_backlog_autosave1", RATE, CI, tmp_path)
    assert r.error is None, r.describe()
    assert r.extra["collector_exit_code"] == 0, r.describe()
    assert r.acked == r.published and r.acked_no_subscriber == 0, r.describe()
    assert r.duplicates == 0 and r.dead_lettered == 0, r.describe()
    acked_at_kill = r.extra["acked_at_kill"]
    window = int(RATE * (MOSQUITTO_AUTOSAVE_S + 2))
    for first, last in r.lost_ranges:  # only messages the broker held at the crash
        assert acked_at_kill - window <= first and last < acked_at_kill, r.describe()
    assert r.lost <= window, r.describe()
    # Messages queued before the last autosave survived the crash.
    assert r.stored >= acked_at_kill - window, r.describe()
