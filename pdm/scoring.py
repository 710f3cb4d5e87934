"""Scoring alerts against failures: precision, recall and lead time, per failure source.

An **alert** is an onset: the first alerting evaluation of a machine after a quiet one.
Each alert claims "this machine fails within ``horizon`` of now". With ``H`` the horizon:

- a **failure** at ``F`` is a **hit** when the machine had an alert in ``[F - H, F)``
  after its previous failure of the same source; its **lead time** is ``F`` minus the
  earliest such alert;
- an alert is **true** for a source when the machine has a failure of that source within
  ``H`` after it; it is **false** for that source when ``H`` passed without one; it is
  **pending** (not counted) when the window ends before either;
- **precision** = true alerts / judged alerts, **recall** = hits / failures;
- **chance recall** = the share of machine-time within ``H`` after some alert: the
  recall failures that have nothing to do with the alerts would get on average. Random
  failures scoring about that are unpredictable from these alerts, as they should be.

Failures before ``scored_from_ms`` (the detector's warm-up) are not scored but still end
the alerts before them for later failures. Pure functions; no I/O.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from pdm.modes import SOURCES

H_MS = 3_600_000


@dataclass(frozen=True)
class Failure:
    machine: str
    start_ms: int
    source: str  # wear | random | anything else (control, a story): never scored


@dataclass
class SourceScore:
    failures: int = 0
    hits: int = 0
    alerts: int = 0  # judged alerts (true or false; pending ones left out)
    true_alerts: int = 0
    chance_recall: float | None = None
    leads_h: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.true_alerts / self.alerts if self.alerts else None

    @property
    def recall(self) -> float | None:
        return self.hits / self.failures if self.failures else None

    @property
    def median_lead_h(self) -> float | None:
        return median(self.leads_h) if self.leads_h else None

    def as_dict(self) -> dict[str, Any]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {"precision": r(self.precision), "recall": r(self.recall),
                "median_lead_h": r(self.median_lead_h), "failures": self.failures,
                "hits": self.hits, "alerts": self.alerts, "true_alerts": self.true_alerts,
                "chance_recall": r(self.chance_recall)}


def onsets_of(times_ms: Sequence[int], alert: Sequence[bool]) -> list[int]:
    """The alert onsets of one machine's evaluations (in time order)."""
    out, before = [], False
    for t, a in zip(times_ms, alert, strict=True):
        if a and not before:
            out.append(int(t))
        before = bool(a)
    return out


def onsets_from_alert_times(times_ms: Sequence[int], every_ms: int) -> list[int]:
    """Onsets from the times of alerting evaluations only (as the live score reads them
    back): a gap longer than 1.5 evaluation intervals starts a new alert."""
    out: list[int] = []
    last: int | None = None
    for t in sorted(times_ms):
        if last is None or t - last > 1.5 * every_ms:
            out.append(int(t))
        last = t
    return out


def score(onsets: Mapping[str, Sequence[int]], failures: Sequence[Failure], horizon_ms: int,
          start_ms: int, end_ms: int,
          scored_from_ms: int | Mapping[str, int] | None = None,
          ) -> dict[str, SourceScore]:
    """Score every machine's alert onsets against the failures of ``[start_ms, end_ms]``.

    ``onsets`` must name every machine watched (an empty list for one without alerts):
    chance recall averages over them. ``scored_from_ms``: when scoring starts (the end of
    the detector's warm-up), for all machines or per machine.
    """
    if horizon_ms <= 0 or end_ms <= start_ms:
        raise ValueError("horizon must be > 0 and the window not empty")

    def since(machine: str) -> int:
        if isinstance(scored_from_ms, Mapping):
            return max(start_ms, scored_from_ms.get(machine, start_ms))
        return start_ms if scored_from_ms is None else max(start_ms, scored_from_ms)

    out = {s: SourceScore() for s in SOURCES}
    by_machine: dict[str, list[Failure]] = {}
    for f in sorted(failures, key=lambda f: f.start_ms):
        by_machine.setdefault(f.machine, []).append(f)
    for machine, fails in by_machine.items():
        ons = sorted(onsets.get(machine, ()))
        scored_from = since(machine)
        prev: dict[str, int] = {}
        for f in fails:
            if scored_from <= f.start_ms <= end_ms and f.source in out:
                s = out[f.source]
                s.failures += 1
                lo = f.start_ms - horizon_ms
                if f.source in prev:
                    lo = max(lo, prev[f.source] + 1)
                k = bisect.bisect_left(ons, lo)
                if k < len(ons) and ons[k] < f.start_ms:
                    s.hits += 1
                    s.leads_h.append((f.start_ms - ons[k]) / H_MS)
            prev[f.source] = f.start_ms
    for machine, machine_onsets in onsets.items():
        fails = by_machine.get(machine, [])
        scored_from = since(machine)
        for o in machine_onsets:
            if not scored_from <= o <= end_ms:
                continue
            within = {f.source for f in fails if o < f.start_ms <= o + horizon_ms}
            for src, s in out.items():
                if src in within:
                    s.alerts += 1
                    s.true_alerts += 1
                elif o + horizon_ms <= end_ms:
                    s.alerts += 1
    chance = chance_recall(onsets, horizon_ms, {m: since(m) for m in onsets}, end_ms)
    for s in out.values():
        s.chance_recall = chance
    return out


def chance_recall(onsets: Mapping[str, Sequence[int]], horizon_ms: int,
                  start_ms: Mapping[str, int], end_ms: int) -> float | None:
    """The share of machine-time (each machine from its ``start_ms`` to ``end_ms``) lying
    within ``horizon_ms`` after an onset."""
    covered = span = 0
    for machine, ons in onsets.items():
        start = start_ms[machine]
        if end_ms <= start:
            continue
        span += end_ms - start
        reach = start
        for o in sorted(ons):
            lo, hi = max(o, reach), min(o + horizon_ms, end_ms)
            if hi > lo:
                covered += hi - lo
            reach = max(reach, o + horizon_ms)
    return covered / span if span else None
