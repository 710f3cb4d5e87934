"""Grafana alert rules for the wall, provisioned as a file (unified alerting, apiVersion 1).

:func:`provisioning` builds the file Grafana reads at start from
``/etc/grafana/provisioning/alerting/`` (the repo's ``dashboards/provisioning/alerting/
factory-alerts.yaml``, kept equal to this module's output by a unit test). Four rules:

- **machine fault**: a machine whose every state report in the last
  :data:`FAULT_MINUTES` minutes says FAULT (min = max = 4), i.e. in fault for longer than
  that (the simulator reports every machine's state at least once a minute);
- **data stale**: no machine reported a state for :data:`STALE_MINUTES` minutes (the query
  returns nothing, which Grafana calls NoData; the rule maps NoData to Alerting);
- **collector writes failing**: a collector says InfluxDB refuses its writes
  (``write_blocked``) or it retried writes in the last :data:`WRITE_MINUTES` minutes; no
  ``collector_stats`` at all for that long is NoData -> Alerting too (the collector is
  down or cannot write even its own statistics);
- **spool growing**: a collector's disk spool holds more messages than
  :data:`SPOOL_MINUTES` minutes ago, for :data:`SPOOL_FOR` (InfluxDB is not keeping up).

The queries use no template variable (alert rules have none) and group by tag, so each
machine / collector is its own alert instance. Expressions are Grafana's server-side
expressions (``__expr__``): reduce (last), math, threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dashboards.influxql import DATASOURCE_UID
from telemetry.contract import COLLECTOR_STATS, MachineState

PROVISIONING_FILE = (Path(__file__).resolve().parent / "provisioning" / "alerting"
                     / "factory-alerts.yaml")
FOLDER = "Factory alerts"
GROUP = "factory"
EVALUATE_EVERY = "1m"
FAULT_MINUTES = 15
STALE_MINUTES = 3
WRITE_MINUTES = 5
SPOOL_MINUTES = 10
SPOOL_FOR = "5m"
EXPR = "__expr__"
FAULT = int(MachineState.FAULT)


@dataclass(frozen=True)
class RuleQuery:
    """One InfluxQL query of a rule, run over the last `minutes` (``$timeFilter``)."""

    ref_id: str
    influxql: str
    minutes: int


@dataclass(frozen=True)
class Rule:
    uid: str
    title: str
    queries: tuple[RuleQuery, ...]
    #: Server-side expressions after the queries: (refId, model without refId/datasource).
    expressions: tuple[tuple[str, dict[str, Any]], ...]
    summary: str
    description: str
    severity: str
    no_data: str = "OK"  # NoData | Alerting | OK
    pending: str = "0s"
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def condition(self) -> str:
        return self.expressions[-1][0]


def _reduce(expression: str) -> dict[str, Any]:
    # strict mode: a series that ends in null or NaN is NaN, which no condition passes
    return {"type": "reduce", "expression": expression, "reducer": "last",
            "settings": {"mode": ""}}


def _math(expression: str) -> dict[str, Any]:
    return {"type": "math", "expression": expression}


def _threshold(expression: str, op: str, value: float) -> dict[str, Any]:
    return {"type": "threshold", "expression": expression,
            "conditions": [{"evaluator": {"type": op, "params": [value]}}]}


MACHINE_FAULT = Rule(
    uid="factory-machine-fault",
    title=f"Machine in fault for more than {FAULT_MINUTES} minutes",
    queries=(
        RuleQuery("A", 'SELECT min("state_code") AS "state_min" FROM "state" WHERE $timeFilter '
                       'GROUP BY "enterprise", "site", "area", "machine"', FAULT_MINUTES),
        RuleQuery("B", 'SELECT max("state_code") AS "state_max" FROM "state" WHERE $timeFilter '
                       'GROUP BY "enterprise", "site", "area", "machine"', FAULT_MINUTES),
    ),
    expressions=(("C", _reduce("A")), ("D", _reduce("B")),
                 ("E", _math(f"$C == {FAULT} && $D == {FAULT}"))),
    summary="{{ $labels.machine }} ({{ $labels.area }}) has been in FAULT for more than "
            f"{FAULT_MINUTES} minutes",
    description="Every state report of the machine in the last "
                f"{FAULT_MINUTES} minutes says FAULT: the repair has not started or is stuck.",
    severity="critical")

DATA_STALE = Rule(
    uid="factory-data-stale",
    title=f"No new machine data for {STALE_MINUTES} minutes",
    queries=(RuleQuery("A", 'SELECT count("state_code") AS "reports" FROM "state" WHERE '
                            "$timeFilter", STALE_MINUTES),),
    expressions=(("B", _reduce("A")), ("C", _threshold("B", "lt", 1))),
    summary=f"No machine has reported a state for {STALE_MINUTES} minutes: the wall shows "
            "old data",
    description="Check the simulator or the machines' gateways, the broker and the collector "
                "(pipeline health screen).",
    severity="critical", no_data="Alerting")

COLLECTOR_WRITES = Rule(
    uid="factory-collector-writes",
    title="Collector writes to InfluxDB failing",
    queries=(
        RuleQuery("A", f'SELECT max("write_blocked") AS "blocked" FROM "{COLLECTOR_STATS}" '
                       'WHERE $timeFilter GROUP BY "collector"', WRITE_MINUTES),
        RuleQuery("B", f'SELECT spread("retries") AS "new_retries" FROM "{COLLECTOR_STATS}" '
                       'WHERE $timeFilter GROUP BY "collector"', WRITE_MINUTES),
    ),
    expressions=(("C", _reduce("A")), ("D", _reduce("B")), ("E", _math("$C > 0 || $D > 0"))),
    summary="Collector {{ $labels.collector }}: InfluxDB refuses its writes or they are "
            "being retried",
    description=f"write_blocked was set or writes were retried in the last {WRITE_MINUTES} "
                "minutes; no collector statistics at all for that long also fires this "
                "rule (collector down, or it cannot write even its own statistics). "
                "Data waits in the collector's spool meanwhile.",
    severity="critical", no_data="Alerting")

SPOOL_GROWING = Rule(
    uid="factory-spool-growing",
    title="Collector spool growing",
    queries=(RuleQuery("A", 'SELECT last("spool_depth") - first("spool_depth") AS "growth" '
                            f'FROM "{COLLECTOR_STATS}" WHERE $timeFilter GROUP BY "collector"',
                       SPOOL_MINUTES),),
    expressions=(("B", _reduce("A")), ("C", _threshold("B", "gt", 0))),
    summary="Collector {{ $labels.collector }}: its disk spool keeps growing",
    description=f"More messages wait in the spool than {SPOOL_MINUTES} minutes ago, for "
                f"{SPOOL_FOR}: InfluxDB is slower than the plant or unreachable.",
    severity="warning", pending=SPOOL_FOR)

RULES = (MACHINE_FAULT, DATA_STALE, COLLECTOR_WRITES, SPOOL_GROWING)


def rule_model(rule: Rule) -> dict[str, Any]:
    """One rule in Grafana's alerting provisioning format."""
    data: list[dict[str, Any]] = []
    for q in rule.queries:
        data.append({
            "refId": q.ref_id, "datasourceUid": DATASOURCE_UID,
            "relativeTimeRange": {"from": q.minutes * 60, "to": 0},
            "model": {"refId": q.ref_id, "rawQuery": True, "query": q.influxql,
                      "resultFormat": "time_series", "intervalMs": 1000,
                      "maxDataPoints": 43200}})
    for ref_id, model in rule.expressions:
        data.append({"refId": ref_id, "datasourceUid": EXPR,
                     "relativeTimeRange": {"from": 0, "to": 0},
                     "model": {"refId": ref_id, "datasource": {"type": EXPR, "uid": EXPR},
                               **model}})
    return {
        "uid": rule.uid, "title": rule.title, "condition": rule.condition, "data": data,
        "noDataState": rule.no_data, "execErrState": "Error", "for": rule.pending,
        "annotations": {"summary": rule.summary, "description": rule.description},
        "labels": {"severity": rule.severity, "team": "factory", **rule.labels},
        "isPaused": False,
    }


def provisioning(rules: tuple[Rule, ...] = RULES) -> dict[str, Any]:
    return {"apiVersion": 1, "groups": [{
        "orgId": 1, "name": GROUP, "folder": FOLDER, "interval": EVALUATE_EVERY,
        "rules": [rule_model(r) for r in rules]}]}


HEADER = ("# Generated by dashboards/alerts.py: `python -m dashboards.alerts` rewrites it and a\n"
          "# unit test keeps it equal. Grafana unified alerting file provisioning, read at start\n"
          "# from /etc/grafana/provisioning/alerting/. Rules and thresholds: docs/dashboards.md.\n")


def text() -> str:
    return HEADER + yaml.safe_dump(provisioning(), sort_keys=False, allow_unicode=True,
                                   width=100)


def write(path: Path = PROVISIONING_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text():
        path.write_text(text(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write())
