"""The provisioned alert rules' InfluxQL against a real influxd, and what each rule decides.

Each rule's queries run as Grafana runs them (``$timeFilter`` over the rule's relative time
range, expanded by ``queries.substitute``) against data written for the case. The rule's
server-side expressions (reduce last, math, threshold; NoData when no query returns a
series) are then applied by :func:`evaluate`, a small reading of Grafana's expression
semantics for exactly the operations the rules use. That Grafana's own expression engine
agrees is confirmed only on a real Grafana (docs/dashboards.md).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from collector.metrics import Metrics
from dashboards import alerts
from dashboards import queries as q
from telemetry.contract import MachineState
from telemetry.influx import InfluxClient

pytestmark = pytest.mark.integration

NOW = 1_764_201_600_000  # fixed "now" of every evaluation
MIN = 60_000
Labels = tuple[tuple[str, str], ...]


def _run(client: InfluxClient, query: alerts.RuleQuery) -> dict[Labels, float]:
    text = q.substitute(query.influxql, from_ms=NOW - query.minutes * MIN, to_ms=NOW)
    assert "$" not in text, text
    out: dict[Labels, float] = {}
    for s in client.query(text)[0].get("series") or []:
        labels = tuple(sorted((s.get("tags") or {}).items()))
        last = s["values"][-1][-1]  # reduce "last", strict: null -> NaN
        out[labels] = math.nan if last is None else float(last)
    return out


_COMPARE = {"==": lambda a, b: a == b, ">": lambda a, b: a > b, "<": lambda a, b: a < b}


def _math(expression: str, env: dict[str, dict[Labels, float]]) -> dict[Labels, float]:
    """``$A op n && $B op n`` / ``... || ...`` (the only math forms the rules use)."""
    joiner = "&&" if "&&" in expression else "||"
    terms = [t.split() for t in expression.split(joiner)]
    assert all(len(t) == 3 and t[0].startswith("$") and t[1] in _COMPARE for t in terms), \
        expression
    keys = set.intersection(*(set(env[t[0][1:]]) for t in terms))  # series joined by labels
    combine = all if joiner == "&&" else any
    return {k: float(combine(_COMPARE[op](env[ref[1:]][k], float(n)) for ref, op, n in terms))
            for k in keys}


def evaluate(rule: alerts.Rule, client: InfluxClient) -> set[Labels] | str:
    """The label sets that fire, or the rule's NoData state when no query returned data."""
    env = {rq.ref_id: _run(client, rq) for rq in rule.queries}
    if not any(env.values()):
        return rule.no_data
    for ref_id, model in rule.expressions:
        if model["type"] == "reduce":
            env[ref_id] = dict(env[model["expression"]])
        elif model["type"] == "math":
            env[ref_id] = _math(model["expression"], env)
        elif model["type"] == "threshold":
            (cond,) = model["conditions"]
            op, (value,) = cond["evaluator"]["type"], cond["evaluator"]["params"]
            compare = _COMPARE[{"gt": ">", "lt": "<"}[op]]
            env[ref_id] = {k: float(compare(v, value))
                           for k, v in env[model["expression"]].items()}
        else:
            raise AssertionError(f"expression type {model['type']} not modelled")
    return {k for k, v in env[rule.condition].items() if v and not math.isnan(v)}


def _state(machine: str, code: MachineState, ts: int) -> str:
    return (f"state,enterprise=acme,site=lyon,area=press,line=l1,machine={machine} "
            f'state="{code.name}",state_code={int(code)}i,running={int(code == 2)}i {ts}')


def _machines(fired: set[Labels] | str) -> set[str]:
    assert not isinstance(fired, str), fired
    return {dict(k)["machine"] for k in fired}


def test_a_machine_in_fault_longer_than_the_window_fires_others_do_not(
        client: InfluxClient) -> None:
    lines = []
    for minute in range(40, -1, -1):  # a state report every minute, as the simulator sends
        ts = NOW - minute * MIN
        fault, run = MachineState.FAULT, MachineState.RUNNING
        lines += [
            _state("stuck", fault if minute <= 20 else run, ts),       # fault for 20 min
            _state("recent", fault if minute <= 10 else run, ts),      # fault for 10 min only
            _state("fixed", fault if 10 < minute <= 35 else run, ts),  # 25 min, now fixed
            _state("running", run, ts),
            _state("serviced", MachineState.MAINTENANCE, ts),          # not a fault
        ]
    client.write_lines(lines)
    assert alerts.FAULT_MINUTES == 15
    assert _machines(evaluate(alerts.MACHINE_FAULT, client)) == {"stuck"}


def test_data_that_stopped_fires_stale_and_fresh_data_does_not(client: InfluxClient) -> None:
    client.write_lines([_state("m1", MachineState.RUNNING, NOW - 30 * MIN)])
    assert evaluate(alerts.DATA_STALE, client) == "Alerting"  # nothing in the window: NoData
    client.write_lines([_state("m1", MachineState.RUNNING, NOW - MIN)])
    assert evaluate(alerts.DATA_STALE, client) == set()


def _stats(client: InfluxClient, name: str, minutes: range, *, blocked_at: int | None = None,
           retry_at: int | None = None, spool: Any = lambda minute: (0, 0, 0.0)) -> None:
    m = Metrics(name)
    lines: list[str] = []
    for minute in minutes:  # counting down to now, one stats point a minute
        m.set_blocked(minute == blocked_at)
        if minute == retry_at:
            m.retried()
        lines += [ln for ln in m.stats_lines(NOW - minute * MIN, spool(minute))
                  if ln.startswith("collector_stats")]
    client.write_lines(lines)


def _collectors(fired: set[Labels] | str) -> set[str]:
    assert not isinstance(fired, str), fired
    return {dict(k)["collector"] for k in fired}


def test_collector_write_failures_fire_per_collector(client: InfluxClient) -> None:
    assert evaluate(alerts.COLLECTOR_WRITES, client) == "Alerting"  # no stats at all
    window = range(20, -1, -1)
    _stats(client, "blocked", window, blocked_at=2)
    _stats(client, "retrying", window, retry_at=3)
    _stats(client, "old-trouble", window, blocked_at=15, retry_at=15)  # before the window
    _stats(client, "healthy", window)
    assert _collectors(evaluate(alerts.COLLECTOR_WRITES, client)) == {"blocked", "retrying"}


def test_a_growing_spool_fires_a_draining_or_empty_one_does_not(client: InfluxClient) -> None:
    window = range(30, -1, -1)
    _stats(client, "growing", window, spool=lambda m: (1000 - 10 * m, 0, 0.0))
    _stats(client, "draining", window, spool=lambda m: (10 * m, 0, 0.0))
    _stats(client, "empty", window)
    assert _collectors(evaluate(alerts.SPOOL_GROWING, client)) == {"growing"}
