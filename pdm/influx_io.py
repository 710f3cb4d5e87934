"""The detector's InfluxDB edge: read feature windows, alarms and its own alerts; write
``prediction`` and ``pdm_score`` points.

Reads are InfluxQL over ``/query`` (v1, or v2 through the bucket's DBRP mapping with a
token that may read), writes line protocol built by the contract's own mapping
(:func:`telemetry.points.payload_point` with :data:`telemetry.contract.DERIVED_KINDS`).
Every read is limited to the plant's enterprise and site; machines the plant file does
not list are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from pdm.detector import DetectorConfig, Verdict, reason
from pdm.features import Aggregate
from pdm.modes import PlantModes
from pdm.scoring import Failure, SourceScore
from telemetry.contract import DERIVED_KINDS
from telemetry.influx import InfluxClient, series_rows
from telemetry.points import payload_point


class WriteError(RuntimeError):
    """InfluxDB did not take the points; the message is one line with the cause."""


def quote(text: str) -> str:
    """An InfluxQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class PdmStore:
    """Reads and writes of one plant (its machines in plant order) on one database."""

    def __init__(self, client: InfluxClient, enterprise: str, site: str,
                 modes: PlantModes, machine_tags: Sequence[tuple[str, str]]) -> None:
        self.client = client
        self.enterprise = enterprise
        self.site = site
        self.modes = modes
        self.machines = modes.machines
        self.index = {m: i for i, m in enumerate(self.machines)}
        self.tags = [(("enterprise", enterprise), ("site", site), ("area", area),
                      ("line", line), ("machine", m))
                     for m, (area, line) in zip(self.machines, machine_tags, strict=True)]
        self.where = f'"enterprise" = {quote(enterprise)} AND "site" = {quote(site)}'

    def _rows(self, q: str) -> list[dict[str, Any]]:
        return series_rows(self.client.query(q)[0])

    # -- reads -------------------------------------------------------------------------
    def aggregates(self, start_ms: int, end_ms: int, bucket_s: float) -> list[Aggregate]:
        """The feature windows of ``[start_ms, end_ms)`` (both on window boundaries)."""
        bucket_ms = round(bucket_s * 1000)
        n = len(self.machines)
        starts = list(range(start_ms, end_ms, bucket_ms))
        out = {t: Aggregate.empty(t, n) for t in starts}
        span = f"time >= {start_ms}ms AND time < {end_ms}ms"
        group = f'GROUP BY time({bucket_ms}ms), "machine" fill(none)'
        tele = self._rows(
            'SELECT mean("vibration_mm_s") AS vib, mean("vibration_crest") AS crest, '
            f'count("vibration_mm_s") AS n FROM "telemetry" WHERE {self.where} AND {span} '
            f"{group}")
        for r in tele:
            i = self.index.get(r.get("machine", ""))
            a = out.get(int(r["time"]))
            if i is None or a is None or not r.get("n"):
                continue
            a.vib[i] = _num(r.get("vib"))
            a.crest[i] = _num(r.get("crest"))
            a.samples[i] = int(r["n"])
        state = self._rows(
            'SELECT min("running") AS minr, last("running") AS lastr, '
            'max("state_code") AS maxc, last("state_code") AS lastc FROM "state" '
            f"WHERE {self.where} AND {span} {group}")
        for r in state:
            i = self.index.get(r.get("machine", ""))
            a = out.get(int(r["time"]))
            if i is None or a is None or r.get("minr") is None:
                continue
            a.has_state[i] = True
            a.min_running[i] = int(r["minr"])
            a.last_running[i] = int(r["lastr"])
            a.max_code[i] = int(r["maxc"])
            a.last_code[i] = int(r["lastc"])
        return [out[t] for t in starts]

    def state_before(self, ts_ms: int, lookback_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(running, state_code) of every machine in effect at ``ts_ms``: its last state
        point in the ``lookback_ms`` before (none: not running, OFF)."""
        n = len(self.machines)
        running, code = np.zeros(n, bool), np.zeros(n, np.int64)
        rows = self._rows(
            'SELECT last("running") AS r, last("state_code") AS c FROM "state" WHERE '
            f'{self.where} AND time >= {ts_ms - lookback_ms}ms AND time < {ts_ms}ms '
            'GROUP BY "machine"')
        for r in rows:
            i = self.index.get(r.get("machine", ""))
            if i is not None and r.get("r") is not None:
                running[i], code[i] = int(r["r"]) >= 1, int(r["c"])
        return running, code

    def alert_times(self, start_ms: int, end_ms: int) -> dict[str, list[int]]:
        """Times of this plant's alerting ``prediction`` points, per machine."""
        out: dict[str, list[int]] = {m: [] for m in self.machines}
        rows = self._rows(
            f'SELECT "alert" FROM "prediction" WHERE {self.where} AND "alert" = 1 AND '
            f'time >= {start_ms}ms AND time <= {end_ms}ms GROUP BY "machine"')
        for r in rows:
            if r.get("machine") in out:
                out[r["machine"]].append(int(r["time"]))
        return out

    def failures(self, start_ms: int, end_ms: int) -> list[Failure]:
        """Faults raised (``alarm`` with ``active`` true), classed wear or random by the
        plant file's fault kinds."""
        rows = self._rows(
            f'SELECT "code" FROM "alarm" WHERE {self.where} AND "active" = true AND '
            f'time >= {start_ms}ms AND time <= {end_ms}ms GROUP BY "machine"')
        return [Failure(r["machine"], int(r["time"]), self.modes.source(r["machine"],
                                                                        str(r["code"])))
                for r in rows if r.get("machine") in self.index and r.get("code")]

    # -- writes ------------------------------------------------------------------------
    def prediction_lines(self, ts_ms: int, v: Verdict, cfg: DetectorConfig) -> list[str]:
        spec = DERIVED_KINDS["prediction"]
        lines = []
        for i, tags in enumerate(self.tags):
            payload: dict[str, Any] = {
                "mode": self.modes.modes[i], "score": round(float(v.score[i]), 4),
                "horizon_h": float(cfg.horizon_h), "alert": int(v.alert[i]),
                "reason": reason(v, i, cfg)}
            for key, arr in (("vib_ratio", v.vib_ratio), ("trend_per_day", v.trend_per_day),
                             ("crest_ratio", v.crest_ratio)):
                if math.isfinite(arr[i]):
                    payload[key] = round(float(arr[i]), 4)
            lines.append(payload_point(spec, tags, payload, ts_ms))
        return lines

    def score_lines(self, ts_ms: int, scores: dict[str, SourceScore],
                    window_h: float) -> list[str]:
        spec = DERIVED_KINDS["pdm_score"]
        site = (("enterprise", self.enterprise), ("site", self.site))
        lines = []
        for source, s in scores.items():
            payload: dict[str, Any] = {"source": source, "failures": s.failures,
                                       "alerts": s.alerts, "hits": s.hits,
                                       "window_h": float(window_h)}
            for key, value in (("precision", s.precision), ("recall", s.recall),
                               ("median_lead_h", s.median_lead_h),
                               ("chance_recall", s.chance_recall),
                               ("chance_precision", s.chance_precision)):
                if value is not None:
                    payload[key] = round(float(value), 4)
            lines.append(payload_point(spec, site, payload, ts_ms))
        return lines

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        res = self.client.write(("\n".join(lines) + "\n").encode(), precision="ms")
        if not res.ok:
            raise WriteError(f"InfluxDB at {self.client.endpoint.display()} did not take "
                             f"{len(lines)} points: {self.client.cause(res)}")


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else math.nan
