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
- **chance precision** and **chance recall**: the same figures for the same alerts with
  each machine's alerts moved in time (by a quarter, half and three quarters of the
  window, wrapping around; the mean of the three), so that they keep their machines and
  their number but have nothing to do with when failures come. Random failures are
  frequent, so many alerts are followed by one whatever they say: only figures above
  chance show skill. Random failures scoring about chance are unpredictable from these
  alerts, as they should be.

Failures before ``scored_from_ms`` (the detector's warm-up) are not scored but still end
the alerts before them for later failures. Pure functions; no I/O.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean, median
from typing import Any

from pdm.modes import SOURCES

H_MS = 3_600_000
#: Fractions of the window the alerts are moved by for the chance figures.
CHANCE_SHIFTS = (0.25, 0.5, 0.75)


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
    chance_precision: float | None = None
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
                "chance_recall": r(self.chance_recall),
                "chance_precision": r(self.chance_precision)}


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
          scored_from_ms: int | Mapping[str, int] | None = None, *,
          chance: bool = True) -> dict[str, SourceScore]:
    """Score every machine's alert onsets against the failures of ``[start_ms, end_ms]``.

    ``onsets`` must name every machine watched (an empty list for one without alerts).
    ``scored_from_ms``: when scoring starts (the end of
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
                if src in within or o + horizon_ms <= end_ms:
                    s.alerts += 1
                    s.true_alerts += src in within
    if chance:
        shifted = [score({m: _shift(ons, since(m), end_ms, f) for m, ons in onsets.items()},
                         failures, horizon_ms, start_ms, end_ms, scored_from_ms, chance=False)
                   for f in CHANCE_SHIFTS]
        for src, s in out.items():
            p = [v for x in shifted if (v := x[src].precision) is not None]
            r = [v for x in shifted if (v := x[src].recall) is not None]
            s.chance_precision = fmean(p) if p else None
            s.chance_recall = fmean(r) if r else None
    return out


def _shift(onsets: Sequence[int], start_ms: int, end_ms: int, fraction: float) -> list[int]:
    """``onsets`` moved by ``fraction`` of ``[start_ms, end_ms)``, wrapping around."""
    span = end_ms - start_ms
    if span <= 0:
        return list(onsets)
    step = round(fraction * span)
    return sorted(start_ms + (o - start_ms + step) % span if o >= start_ms else o
                  for o in onsets)
