"""Predictive maintenance on the maintenance screen (and a count on the home wall): the
failures the detector expects and its own live scorecard.

The measurements are PDM's (``factory-pdm run`` writes them to InfluxDB, not over MQTT;
docs/pdm.md): ``prediction`` (tags = the machine levels and ``mode``; fields ``score``
0..1, ``horizon_h``, ``alert`` 0/1, ``vib_ratio``, ``trend_per_day``), one point per
machine per evaluation, and ``pdm_score`` (tags enterprise, site, ``source`` wear |
random; fields ``precision``, ``recall``, ``median_lead_h``, ``failures``, ``alerts``,
``hits``, ``window_h``, and ``chance_recall`` where the detector gives it).
"""

from __future__ import annotations

from dashboards.queries.core import SITE_WHERE, TIME_FILTER, _q
from telemetry import contract


def _measurement(kind: str) -> str:
    """The contract's measurement of `kind`: PDM's derived kinds (``DERIVED_KINDS``, written
    by ``factory-pdm run``, never over MQTT) once the contract has them, else the name
    contract item 5 of issue 16 gives."""
    derived = getattr(contract, "DERIVED_KINDS", {})
    k = derived.get(kind) or contract.KINDS.get(kind)
    return k.measurement if k is not None else kind


PREDICTION = _measurement("prediction")
PDM_SCORE = _measurement("pdm_score")
#: How far back a prediction counts as current: three evaluations of the detector
#: (default every 5 min), so one late evaluation never empties the list.
PREDICTION_WINDOW = "15m"

#: The latest prediction of every machine (one selector, so the other fields and the
#: `mode` tag come from that same point); kept where it raised an alert.
_LATEST = (f'SELECT last("alert") AS "alert", "score", "horizon_h", "vib_ratio", "mode" '
           f'FROM "{PREDICTION}" WHERE {SITE_WHERE} AND {TIME_FILTER} GROUP BY "machine"')

PREDICTED_FAILURES = _q(
    "pdm.predicted_failures",
    f'SELECT "score", "horizon_h", "vib_ratio", "mode" FROM ({_LATEST}) WHERE "alert" = 1 '
    'GROUP BY "machine"',
    result_format="table",
    description="Machines whose latest prediction (panel window: 15 min) raised an alert: "
                "expected failure mode, score, horizon and vibration against the machine's "
                "own baseline; the panel sorts by score.")
FAILURES_EXPECTED = _q(
    "pdm.failures_expected",
    f'SELECT count("alert") AS "expected" FROM ({_LATEST}) WHERE "alert" = 1',
    description="How many machines the detector expects to fail (latest prediction alerts).")
SCORECARD = _q(
    "pdm.scorecard",
    'SELECT last("failures") AS "failures", "precision", "recall", "chance_recall", '
    f'"median_lead_h", "alerts" FROM "{PDM_SCORE}" WHERE {SITE_WHERE} AND {TIME_FILTER} '
    'GROUP BY "source"',
    result_format="table",
    description="The detector's own live score per failure source (wear, random): the "
                "fields of the latest pdm_score point; chance_recall (the recall alerts "
                "unrelated to failures would get) shows random failures staying "
                "unpredictable.")
