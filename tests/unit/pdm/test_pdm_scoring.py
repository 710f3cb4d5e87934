"""Scoring alerts against hand-made failure labels (pdm.scoring)."""

from __future__ import annotations

import pytest

from pdm.scoring import Failure, onsets_from_alert_times, onsets_of, score

H = 3_600_000
DAY = 24 * H


def test_onsets_are_the_first_alert_after_a_quiet_evaluation() -> None:
    assert onsets_of([0, 5, 10, 15, 20, 25], [0, 1, 1, 0, 1, 1]) == [5, 20]
    assert onsets_of([], []) == []
    # Read back from alerting evaluations only: a gap of more than 1.5 intervals splits.
    assert onsets_from_alert_times([25, 5, 10, 20], every_ms=5) == [5, 20]
    assert onsets_from_alert_times([5, 12], every_ms=5) == [5]
    assert onsets_from_alert_times([5, 13], every_ms=5) == [5, 13]


def test_hits_leads_precision_and_recall_by_source() -> None:
    onsets = {
        "a": [10 * H, 100 * H],  # 10 h: 30 h before a wear failure; 100 h: nothing follows
        "b": [50 * H],  # 2 h before a random failure
        "c": [],
    }
    failures = [
        Failure("a", 40 * H, "wear"),
        Failure("b", 52 * H, "random"),
        Failure("c", 60 * H, "wear"),  # no alert: a miss
        Failure("c", 70 * H, "control"),  # a demo fault: never scored
    ]
    s = score(onsets, failures, horizon_ms=48 * H, start_ms=0, end_ms=200 * H)
    wear, rnd = s["wear"], s["random"]
    assert (wear.failures, wear.hits, wear.recall) == (2, 1, 0.5)
    assert wear.leads_h == [30.0] and wear.median_lead_h == 30.0
    # Three judged alerts: a@10 (true for wear), b@50 (true for random), a@100 (false).
    assert (wear.alerts, wear.true_alerts) == (3, 1)
    assert wear.precision == pytest.approx(1 / 3)
    assert (rnd.failures, rnd.hits, rnd.alerts, rnd.true_alerts) == (1, 1, 3, 1)
    assert rnd.median_lead_h == 2.0


def test_a_random_failure_between_an_alert_and_a_wear_failure_hides_neither() -> None:
    s = score({"a": [10 * H]}, [Failure("a", 20 * H, "random"), Failure("a", 30 * H, "wear")],
              horizon_ms=48 * H, start_ms=0, end_ms=100 * H)
    assert s["wear"].leads_h == [20.0] and s["random"].leads_h == [10.0]
    assert (s["wear"].true_alerts, s["random"].true_alerts) == (1, 1)


def test_an_alert_too_early_or_before_the_previous_failure_does_not_count() -> None:
    onsets = {"a": [0, 60 * H]}
    failures = [Failure("a", 50 * H, "random"), Failure("a", 70 * H, "wear"),
                Failure("a", 180 * H, "wear")]
    s = score(onsets, failures, horizon_ms=48 * H, start_ms=0, end_ms=200 * H)
    # The onset at 0 is 50 h before the random failure: too early (false, a miss).
    # The onset at 60 h predicts the wear failure at 70 h (lead 10 h); the one at 180 h
    # has no alert in the 48 h before it after the previous wear failure (70 h).
    assert (s["random"].hits, s["wear"].hits, s["wear"].failures) == (0, 1, 2)
    assert s["wear"].leads_h == [10.0]
    assert (s["wear"].alerts, s["wear"].true_alerts) == (2, 1)


def test_pending_alerts_and_warm_up_failures_are_left_out() -> None:
    onsets = {"a": [190 * H], "b": [5 * H]}
    failures = [Failure("b", 6 * H, "wear")]  # during b's warm-up
    s = score(onsets, failures, horizon_ms=48 * H, start_ms=0, end_ms=200 * H,
              scored_from_ms={"a": 12 * H, "b": 12 * H})
    assert s["wear"].failures == 0 and s["wear"].alerts == 0  # 190 h: still pending
    assert s["wear"].precision is None and s["wear"].recall is None
    assert s["wear"].median_lead_h is None
    # The same alert judged once its horizon has passed.
    s = score(onsets, failures, horizon_ms=48 * H, start_ms=0, end_ms=240 * H,
              scored_from_ms=12 * H)
    assert (s["wear"].alerts, s["wear"].true_alerts) == (1, 0)


def test_chance_figures_score_the_same_alerts_moved_in_time() -> None:
    # One alert 10 h before a failure: a hit. Moved by 25, 50, 75 h (of the 100 h
    # window) it lands at 35, 60, 85 h: no hit, false twice, pending once.
    s = score({"a": [10 * H]}, [Failure("a", 20 * H, "random")], horizon_ms=20 * H,
              start_ms=0, end_ms=100 * H)["random"]
    assert (s.precision, s.recall) == (1.0, 1.0)
    assert (s.chance_precision, s.chance_recall) == (0.0, 0.0)


def test_bad_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="horizon"):
        score({}, [], horizon_ms=0, start_ms=0, end_ms=1)


def test_frequent_failures_make_any_alert_look_right_and_chance_says_so() -> None:
    failures = [Failure("a", (5 + 10 * k) * H, "random") for k in range(10)]
    s = score({"a": [12 * H], "b": []}, failures, horizon_ms=20 * H, start_ms=0,
              end_ms=100 * H)["random"]
    assert (s.precision, s.recall) == (1.0, 0.1)
    assert (s.chance_precision, s.chance_recall) == pytest.approx((1.0, 0.1))  # no skill
    assert s.as_dict()["chance_recall"] == 0.1
