"""Model frames -> contract messages ``(kind, topic, payload)``.

Topics come from :mod:`telemetry.topics`; payload fields and types follow
:mod:`telemetry.contract` (floats stay floats, counters are ints, ``ts`` is epoch ms).
A shard (``i/n``) encodes only what it owns: machine messages of every n-th line,
area energy of every n-th area, and (shard 0) the site's sales orders.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np

from simulator.lines import LineEncoder
from simulator.model import FAULT, R_FAULT, REASONS, Frame, PlantModel
from telemetry.contract import MachineState
from telemetry.lineprotocol import LineProtocolError, encode_point, format_field
from telemetry.topics import area_topic, machine_topic, parse, site_topic

log = logging.getLogger(__name__)

Message = tuple[str, str, dict[str, Any]]  # kind, topic, payload

_STATE_NAMES = [s.name for s in MachineState]
#: Decimals kept per telemetry field (sensor resolution).
_DECIMALS = {"temp_c": 2, "vibration_mm_s": 3, "vibration_crest": 2, "power_kw": 3,
             "current_a": 2, "load_pct": 1, "spindle_rpm": 0, "tonnage_t": 2,
             "oven_temp_c": 2, "pressure_bar": 3, "speed_m_min": 2, "battery_pct": 2,
             "flow_m3_min": 4}
#: Decimals of a plant-declared signal.
CUSTOM_DECIMALS = 3


def _json_template(keys: list[str], kind: str) -> str:
    """``{"ts":%d,"k1":%r,...}`` (counts: the integer fields as %d)."""
    ints = {"good", "scrap", "good_total", "scrap_total"} if kind == "mixed" else set()
    parts = ['"ts":%d'] + [f'"{k}":%{"d" if k in ints else "r"}' for k in keys]
    return "{" + ",".join(parts) + "}"


@dataclass(frozen=True)
class Shard:
    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not (self.count >= 1 and 0 <= self.index < self.count):
            raise ValueError(f"shard must be i/n with 0 <= i < n, got {self.index}/{self.count}")

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            i, n = (int(p) for p in text.split("/"))
        except ValueError as exc:
            raise ValueError(f"--shard {text!r}: use i/n, e.g. 0/4") from exc
        return cls(i, n)


class Encoder:
    def __init__(self, model: PlantModel, shard: Shard | None = None) -> None:
        self.model = model
        self.shard = shard or Shard()
        plant = model.plant
        e, s = plant.enterprise, plant.site
        line_owner = {(a.id, ln.id): k % self.shard.count == self.shard.index
                      for k, (a, ln) in enumerate(plant.lines)}
        self.owned = np.array([i for i, m in enumerate(model.machines)
                               if line_owner[(m.area, m.line)]], np.int64)
        owned_mask = np.zeros(model.n, bool)
        owned_mask[self.owned] = True
        self.owned_mask = owned_mask
        self.topics: dict[str, list[str]] = {
            kind: [machine_topic(e, s, m.area, m.line, m.id, kind) for m in model.machines]
            for kind in ("state", "telemetry", "counts", "downtime", "alarm", "workorder",
                         "meta")}
        self.producing = self.owned[model.producing[self.owned]]
        self.areas = [k for k in range(len(model.area_ids))
                      if k % self.shard.count == self.shard.index]
        self.energy_topics = [area_topic(e, s, a, "energy") for a in model.area_ids]
        self.sales_topic = site_topic(e, s, "sales") if self.shard.index == 0 else None
        self._dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
        self._le: LineEncoder | None = None
        self._tele_fmt: list[tuple[list[str], str]] = []
        self._counts_fmt: tuple[list[str], str] = ([], "")
        self._down_prefix: dict[tuple[int, int], str | None] = {}
        self._down_fields = {st: " " + format_field("state", st) + ",duration_s="
                             for st in _STATE_NAMES}
        self._down_reason_json: dict[int, str] = {}
        # Telemetry: machines grouped by type, each with its field list.
        self.tele_groups: list[tuple[np.ndarray, list[str]]] = []
        for ti, tid in enumerate(model.type_ids):
            idx = self.owned[model.type_idx[self.owned] == ti]
            if idx.size:
                sig = [g.name for g in plant.types[tid].signals]
                self.tele_groups.append((idx, ["temp_c", "vibration_mm_s",
                                               "vibration_crest", "power_kw",
                                               "current_a", "load_pct", *sig]))
        self._tele_json = [_json_template(names, "float") for _, names in self.tele_groups]
        self._counts_json = _json_template(
            list(self._COUNT_KEYS), "mixed")

    # -- per kind ----------------------------------------------------------------------------
    def meta(self, ts: int, online: bool = True) -> Iterator[Message]:
        m = self.model
        topics = self.topics["meta"]
        for i in self.owned.tolist():
            t = m.plant.types[m.machines[i].type]
            yield "meta", topics[i], {"ts": ts, "type": t.id, "type_name": t.name,
                                      "type_name_zh": t.name_zh,
                                      "ideal_cycle_s": float(t.ideal_cycle_s),
                                      "online": online}

    def _states(self, frame: Frame) -> Iterator[Message]:
        m = self.model
        mask = self.owned_mask if frame.state_all else (frame.state_changed & self.owned_mask)
        topics = self.topics["state"]
        ts = frame.ts_ms
        for i in np.flatnonzero(mask).tolist():
            st = int(m.state[i])
            r = int(m.reason[i])
            reason = (m.fault_codes[m.fault_code[i]][0] if st == FAULT and r == R_FAULT
                      else REASONS[r])
            yield "state", topics[i], {
                "ts": ts, "state": _STATE_NAMES[st], "state_code": st,
                "running": int(st == MachineState.RUNNING),
                "planned": int(m.planned_now[i]), "reason": reason}

    def _telemetry_columns(self) -> Iterator[tuple[np.ndarray, list[str], list[list[Any]]]]:
        """Per type group: machine indices, field names, columns of what the sensors
        report (sensor faults included: NaN where a field dropped out)."""
        m = self.model
        source = {**m.sensor_values(), **m.sensors.overrides}
        rounded = {f: np.round(a, _DECIMALS.get(f, CUSTOM_DECIMALS)) for f, a in source.items()}
        for idx, names in self.tele_groups:
            yield idx, names, [rounded[f][idx].tolist() for f in names]

    #: A dropped-out field: omitted (JSON, line protocol) or sent as None (Sparkplug is_null).
    dropout_as_null = False

    def _payload(self, ts: int, keys: tuple[str, ...], vals: tuple[Any, ...]) -> dict[str, Any]:
        """A telemetry payload of a machine with a dropped-out field (NaN)."""
        pairs = zip(keys, vals, strict=True)
        if self.dropout_as_null:
            return {"ts": ts, **{k: None if math.isnan(v) else v for k, v in pairs}}
        return {"ts": ts, **{k: v for k, v in pairs if not math.isnan(v)}}

    def _telemetry(self, frame: Frame) -> Iterator[Message]:
        topics = self.topics["telemetry"]
        ts = frame.ts_ms
        dropped = self.model.sensors.dropped
        for idx, names, cols in self._telemetry_columns():
            keys = ("ts", *names)
            for i, *vals in zip(idx.tolist(), *cols, strict=True):
                if i in dropped:
                    yield "telemetry", topics[i], self._payload(ts, tuple(names), tuple(vals))
                else:
                    yield "telemetry", topics[i], dict(zip(keys, (ts, *vals), strict=True))

    _COUNT_KEYS = ("good", "scrap", "good_total", "scrap_total", "run_s", "planned_s",
                   "ideal_s", "cycle_time_s")

    def _counts_columns(self) -> list[list[Any]]:
        m = self.model
        idx = self.producing
        return [m.acc_good[idx].tolist(), m.acc_scrap[idx].tolist(),
                m.good_total[idx].tolist(), m.scrap_total[idx].tolist(),
                np.round(m.acc_run_s[idx], 3).tolist(), np.round(m.acc_planned_s[idx], 3).tolist(),
                np.round(m.acc_ideal_s[idx], 3).tolist(), np.round(m.last_cycle_s[idx], 3).tolist()]

    def _counts(self, frame: Frame) -> Iterator[Message]:
        topics = self.topics["counts"]
        ts = frame.ts_ms
        keys = ("ts", *self._COUNT_KEYS)
        for i, *vals in zip(self.producing.tolist(), *self._counts_columns(), strict=True):
            yield "counts", topics[i], dict(zip(keys, (ts, *vals), strict=True))

    def _downtime_rows(self) -> Iterator[tuple[int, int, str, float]]:
        """(machine, downtime key, state name, seconds) of the interval, machine then key order.

        Only machines that send `counts`, so the sums match their planned_s - run_s.
        """
        m = self.model
        touched = self.producing[m.down_rows[self.producing]]
        if not touched.size:
            return
        acc = m.acc_down_s[touched]
        rows, keys = np.nonzero(acc)
        idx = touched[rows]
        yield from zip(idx.tolist(), keys.tolist(),
                       [_STATE_NAMES[st] for st in m.acc_down_state[idx, keys].tolist()],
                       np.round(acc[rows, keys], 3).tolist(), strict=True)

    def _downtime(self, frame: Frame) -> Iterator[Message]:
        topics = self.topics["downtime"]
        ts = frame.ts_ms
        reason = self.model.down_reason
        for i, key, state, seconds in self._downtime_rows():
            yield "downtime", topics[i], {"ts": ts, "reason": reason(key), "state": state,
                                          "duration_s": seconds}

    def _downtime_line_prefix(self, i: int, key: int) -> str | None:
        """Measurement and tags (topic levels + reason) of a downtime series, or None when
        the reason cannot be a tag (an ad-hoc demo fault code with a backslash...)."""
        try:
            return self._down_prefix[(i, key)]
        except KeyError:
            pass
        t = parse(self.topics["downtime"][i])
        try:
            prefix: str | None = encode_point(
                t.kind, (*t.tags, ("reason", self.model.down_reason(key))), {"x": 0},
                0).rsplit(" ", 2)[0]
        except LineProtocolError as exc:
            log.warning("downtime of %s not written: %s", self.model.ids[i], exc)
            prefix = None
        self._down_prefix[(i, key)] = prefix
        return prefix

    def _energy(self, frame: Frame) -> Iterator[Message]:
        m = self.model
        for a in self.areas:
            yield "energy", self.energy_topics[a], {
                "ts": frame.ts_ms, "kwh_total": round(float(m.kwh_total[a]), 3),
                "kwh": round(float(m.kwh_acc[a]), 4),
                "power_kw": round(float(m.area_power_kw[a]), 3)}

    def events(self, frame: Frame) -> Iterator[Message]:
        """Alarms, work orders and sales orders of a frame (never skipped when pacing)."""
        ts = frame.ts_ms
        for a in frame.alarms:
            if self.owned_mask[a.machine]:
                alarm = {"ts": ts, "code": a.code, "active": a.active, "severity": a.severity,
                         "message": a.message, "wo_id": a.wo_id}
                if a.message_zh:
                    alarm["message_zh"] = a.message_zh
                yield "alarm", self.topics["alarm"][a.machine], alarm
        for w in frame.workorders:
            if self.owned_mask[w.machine]:
                order = {
                    "ts": ts, "wo_id": w.wo_id, "status": w.status,
                    "status_code": w.status_code, "progress_pct": w.progress_pct,
                    "technician": w.technician, "fault_code": w.fault_code,
                    "opened_ts": w.opened_ts}
                if w.technician_zh:
                    order["technician_zh"] = w.technician_zh
                yield "workorder", self.topics["workorder"][w.machine], order
        if self.sales_topic is not None:
            for o in frame.sales:
                yield "sales", self.sales_topic, {
                    "ts": o.ts_ms, "order_id": o.order_id, "region": o.region,
                    "channel": o.channel, "units": o.units, "amount_cny": o.amount_cny,
                    "product": o.product}

    def lines(self, frame: Frame) -> list[str]:
        """Every message of a frame as line protocol (what ``to_line`` gives for each).

        Telemetry and counts are formatted straight from the model's columns with
        per-series prefixes and templates cached on first use.
        """
        le = self._le
        if le is None:
            le = self._le = LineEncoder()
            topics = self.topics["telemetry"]
            self._tele_fmt = [([le.prefix(topics[i]) for i in idx.tolist()],
                               le.positional("telemetry", tuple(names)))
                              for idx, names in self.tele_groups]
            topics = self.topics["counts"]
            self._counts_fmt = ([le.prefix(topics[i]) for i in self.producing.tolist()],
                                le.positional("counts", self._COUNT_KEYS))
        out = [le.line(kind, topic, payload)
               for kind, topic, payload in self.messages(frame, bulk=False)]
        ts = frame.ts_ms
        if frame.telemetry:
            dropped = self.model.sensors.dropped
            tele_topics = self.topics["telemetry"]
            for (idx, names, cols), (prefixes, tmpl) in zip(self._telemetry_columns(),
                                                            self._tele_fmt, strict=True):
                rows = zip(*cols, repeat(ts, len(prefixes)), strict=True)
                if not dropped:
                    out.extend([p + tmpl % row for p, row in zip(prefixes, rows, strict=True)])
                    continue
                for i, p, row in zip(idx.tolist(), prefixes, rows, strict=True):
                    out.append(le.line("telemetry", tele_topics[i],
                                       self._payload(ts, tuple(names), row[:-1]))
                               if i in dropped else p + tmpl % row)
        if frame.counts and self.producing.size:
            prefixes, tmpl = self._counts_fmt
            rows = zip(*self._counts_columns(), repeat(ts, len(prefixes)), strict=True)
            out.extend([p + tmpl % row for p, row in zip(prefixes, rows, strict=True)])
            tail = f" {ts}"
            fields = self._down_fields
            for i, key, state, seconds in self._downtime_rows():
                prefix = self._downtime_line_prefix(i, key)
                if prefix is not None:
                    out.append(prefix + fields[state] + repr(seconds) + tail)
        return out

    def messages(self, frame: Frame, *, bulk: bool = True) -> Iterator[Message]:
        """Every message of a frame, in a fixed order (bulk=False: not telemetry/counts)."""
        if frame.meta:
            yield from self.meta(frame.ts_ms)
        yield from self._states(frame)
        yield from self.events(frame)
        if frame.telemetry and bulk:
            yield from self._telemetry(frame)
        if frame.counts and bulk:
            yield from self._counts(frame)
            yield from self._downtime(frame)
        if frame.energy:
            yield from self._energy(frame)

    def encoded(self, frame: Frame) -> Iterator[tuple[str, str, bytes]]:
        """``messages`` with JSON payloads (compact, as ``json.dumps`` writes them), same order.

        Telemetry and counts are formatted from the columns with per-type templates
        (``%r`` of a float is what ``json`` writes for it), skipping the dicts.
        """
        dumps = self._dumps
        ts = frame.ts_ms
        if frame.meta:
            for kind, topic, payload in self.meta(ts):
                yield kind, topic, dumps(payload).encode()
        for kind, topic, payload in self._states(frame):
            yield kind, topic, dumps(payload).encode()
        for kind, topic, payload in self.events(frame):
            yield kind, topic, dumps(payload).encode()
        if frame.telemetry:
            topics = self.topics["telemetry"]
            dropped = self.model.sensors.dropped
            for (idx, names, cols), tmpl in zip(self._telemetry_columns(), self._tele_json,
                                                strict=True):
                for i, row in zip(idx.tolist(), zip(repeat(ts), *cols, strict=False),
                                  strict=True):
                    if i in dropped:
                        payload = self._payload(ts, tuple(names), row[1:])
                        yield "telemetry", topics[i], dumps(payload).encode()
                    else:
                        yield "telemetry", topics[i], (tmpl % row).encode()
        if frame.counts:
            topics = self.topics["counts"]
            tmpl = self._counts_json
            for i, row in zip(self.producing.tolist(),
                              zip(repeat(ts), *self._counts_columns(), strict=False),
                              strict=True):
                yield "counts", topics[i], (tmpl % row).encode()
            topics = self.topics["downtime"]
            reasons = self._down_reason_json
            for i, key, state, seconds in self._downtime_rows():
                rj = reasons.get(key)
                if rj is None:
                    rj = reasons[key] = dumps(self.model.down_reason(key))
                yield "downtime", topics[i], (
                    f'{{"ts":{ts},"reason":{rj},"state":"{state}","duration_s":{seconds!r}}}'
                    .encode())
        if frame.energy:
            for kind, topic, payload in self._energy(frame):
                yield kind, topic, dumps(payload).encode()
