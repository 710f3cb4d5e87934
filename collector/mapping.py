"""Message -> line protocol: the collector's pure mapping core.

A topic is matched against the templates of :mod:`collector.mapconfig`; every named
level becomes a tag except the measurement level (``{kind}`` by default) and a value
template's field level. A JSON-object payload's keys become fields with declared types
(float unless declared otherwise); a bare-value payload fills one field. Encoding is done
by :mod:`telemetry.points` / :mod:`telemetry.lineprotocol`, the same code the
simulator's backfill uses.

Every message ends as exactly one of :class:`Mapped` (one line), :class:`Rejected`
(dead-letter, with a stable ``reason``) or :class:`Ignored` (acked, counted, not
stored). :meth:`Mapper.map` never raises.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from collector.guards import Cardinality, invisible
from collector.mapconfig import (
    CONTRACT,
    DEFAULT_IGNORE,
    DEFAULT_MAX_PAYLOAD_BYTES,
    FIELD_TYPES,
    INGEST_TIME,
    RESERVED_KEYS,
    TS_UNITS,
    MappingConfig,
    MappingConfigError,
    TopicTemplate,
    TsSpec,
    TsUnit,
    contract_templates,
    filter_matches,
    mapping_from_dict,
)
from telemetry.contract import Kind
from telemetry.lineprotocol import (
    LineProtocolError,
    escape_measurement,
    escape_tag,
    format_field,
)
from telemetry.points import MappingError, coerce, payload_point

__all__ = [
    "CONTRACT", "DEFAULT_IGNORE", "DEFAULT_MAX_PAYLOAD_BYTES", "FIELD_TYPES", "INGEST_TIME",
    "REASONS", "RESERVED_KEYS", "TS_UNITS", "Ignored", "MapResult", "Mapped", "Mapper",
    "MappingConfig", "MappingConfigError", "Rejected", "TopicTemplate", "TsSpec",
    "contract_templates", "mapping_from_dict",
]

log = logging.getLogger(__name__)

#: Timestamps InfluxDB can store (int64 nanoseconds): years 1678 .. 2261, in ms.
TS_MIN_MS = -9_223_372_036_000
TS_MAX_MS = 9_223_372_036_000

#: Every reason a message can be dead-lettered for (stable strings, used as metric labels).
REASONS = (
    "oversize", "bad_encoding", "bad_json", "not_object", "not_scalar", "unknown_topic",
    "unknown_measurement", "bad_topic_level", "missing_timestamp", "bad_timestamp",
    "out_of_window", "reserved_key", "tag_clash", "null_value", "wrong_type", "non_finite",
    "out_of_range", "int_out_of_range", "missing_field", "no_fields", "bad_tag",
    "bad_tag_key", "empty_tag", "bad_field_key", "empty_field_key", "bad_string",
    "bad_measurement", "bad_unicode", "invisible_char", "cardinality", "influx_rejected",
    "too_large", "retention", "internal_error",
)


#: What to do about a dead-letter reason (shown by `factory-collector map`).
HINTS = {
    "unknown_topic": "no template has this topic's shape: add one under mapping.templates "
                     "(keep 'contract' in the list to keep the contract's shapes)",
    "unknown_measurement": "list it in the template's measurements, declare it under "
                           "mapping.measurements, or set mapping.unknown_measurements: accept",
    "not_object": "a bare value (231.7, true, running)? give the template payload: value "
                  "and field: (a name or a {level})",
    "bad_json": "a bare text value? give the template payload: value and field:",
    "not_scalar": "this template takes one bare value; a JSON object needs payload: object",
    "bad_topic_level": "a level does not match mapping.level_pattern",
    "bad_timestamp": "check the time key's unit (mapping.timestamp or the template's "
                     "timestamp: {key, unit})",
    "out_of_window": "check the time key's unit, the clock of the sender, or widen "
                     "mapping.timestamp_window (max_age_s, max_future_s)",
    "missing_timestamp": "the payload lacks the time key and timestamp.required is true",
    "wrong_type": "the value does not fit the field's declared type "
                  "(mapping.measurements.<name>.fields)",
    "tag_clash": "a payload key has the name of a topic level; rename one of them",
    "reserved_key": "InfluxDB reserves this key; rename it at the source",
    "invisible_char": "remove the zero-width/bidi character at the source, or set "
                      "mapping.limits.reject_invisible: false",
    "cardinality": "if this is expected, raise the matching mapping.limits setting",
    "oversize": "raise mapping.max_payload_bytes (and the broker's max_packet_size)",
    "missing_field": "the measurement requires this field (mapping.measurements)",
}


@dataclass(frozen=True)
class Mapped:
    line: str
    measurement: str
    ts_ms: int
    series: str = ""  # `measurement,tags` (escaped): what collisions are counted on

@dataclass(frozen=True)
class Rejected:
    reason: str
    detail: str


@dataclass(frozen=True)
class Ignored:
    reason: str


MapResult = Mapped | Rejected | Ignored

IGNORED_TOPIC = Ignored("ignored_topic")


def _ts_ms(value: Any, unit: TsUnit) -> int:
    """Convert a payload timestamp to epoch ms; raise ValueError naming the problem."""
    if unit == "iso8601":
        if not isinstance(value, str):
            raise ValueError(f"must be an ISO-8601 string, got {value!r}")
        dt = datetime.fromisoformat(value)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return round(dt.timestamp() * 1000)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number ({unit} since the epoch), got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"is {value!r}")
    if unit == "ms":
        return value if isinstance(value, int) else round(value)
    if unit == "s":
        return value * 1000 if isinstance(value, int) else round(value * 1000)
    if unit == "us":
        return value // 1000 if isinstance(value, int) else round(value / 1000)
    return value // 1_000_000 if isinstance(value, int) else round(value / 1_000_000)


_DAY_MS = 86_400_000
#: A time another unit would put within this of the arrival is taken for that unit.
_NEAR_MS = 3650 * _DAY_MS
_UNIT_MS = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "ns": 1e-6}


def _unit_hint(raw: Any, unit: TsUnit, ingest_ms: int) -> str:
    """' (looks like seconds: set the timestamp unit to s)' when another unit puts `raw`
    within ten years of the arrival time (units differ by 1000x); else ''."""
    if isinstance(raw, bool) or not isinstance(raw, int | float) or unit == "iso8601":
        return ""
    for other, factor in _UNIT_MS.items():
        if other != unit and abs(raw * factor - ingest_ms) < _NEAR_MS:
            name = {"s": "seconds", "ms": "milliseconds", "us": "microseconds",
                    "ns": "nanoseconds"}[other]
            return f" (looks like {name}: set the timestamp unit to {other})"
    return ""


class _TopicInfo(NamedTuple):
    """What a topic alone decides, cached per topic string."""

    levels: tuple[tuple[str, str], ...]
    names: frozenset[str]
    spec: Kind
    prefix: str  # escaped `measurement,tag=value,...` of the topic's tags, sorted
    ts: TsSpec
    value_field: str | None  # payload: value -> the field it fills
    ok_keys: set[str]  # field keys already checked for this topic (reserved, clash, ...)


#: Topic cache bounds (entries, characters of topic strings); cleared when either is hit.
#: Only accepted topics are cached, so a flood of bad topics leaves it alone.
_TOPIC_CACHE_MAX = 100_000
_TOPIC_CACHE_MAX_CHARS = 16_000_000
#: Checked-and-escaped field-key cache size; cleared when full.
_FIELD_KEY_CACHE_MAX = 10_000


class Mapper:
    """Maps (topic, payload bytes, ingest time) to a line, a rejection or an ignore."""

    def __init__(self, config: MappingConfig | None = None) -> None:
        self.config = config or MappingConfig()
        self._level_re = re.compile(self.config.level_pattern)
        self._topics: dict[str, _TopicInfo | Ignored] = {}
        self._topic_chars = 0
        self._field_keys: dict[str, str] = {}  # checked field key -> escaped field key
        self.cardinality = Cardinality(self.config.limits)
        self._invisible = self.config.limits.reject_invisible

    def ignored(self, topic: str) -> bool:
        return any(filter_matches(f, topic) for f in self.config.ignore)

    def map(self, topic: str, payload: bytes, ingest_ms: int) -> MapResult:
        try:
            return self._map(topic, payload, ingest_ms)
        except Exception as exc:  # a mapper bug must never stop the collector
            log.exception("mapping %r failed unexpectedly", topic[:200])
            return Rejected("internal_error", f"{type(exc).__name__}: {exc}")

    def _topic(self, topic: str) -> _TopicInfo | Rejected | Ignored:
        info = self._topics.get(topic)
        if info is None:
            resolved = self._resolve(topic)
            if isinstance(resolved, Rejected):
                return resolved
            if (len(self._topics) >= _TOPIC_CACHE_MAX
                    or self._topic_chars >= _TOPIC_CACHE_MAX_CHARS):
                self._topics.clear()
                self._topic_chars = 0
            self._topics[topic] = info = resolved
            self._topic_chars += len(topic)
        return info

    def _check_tag(self, name: str, value: str) -> Rejected | None:
        bad = invisible(name) or invisible(value) if self._invisible else None
        if bad:
            return Rejected("invisible_char", f"tag {name!r} contains {bad}")
        too_long = self.cardinality.tag_value(name, value)
        return Rejected("cardinality", too_long) if too_long else None

    def _resolve(self, topic: str) -> _TopicInfo | Rejected | Ignored:
        if self.ignored(topic):
            return IGNORED_TOPIC
        match = self._match_topic(topic)
        if isinstance(match, Rejected):
            return match
        levels, spec, template = match
        value_field = template.value_field
        level = template.field_level
        if level is not None:
            value_field = levels.pop(level)
        items = tuple(sorted((*levels.items(), *template.tags)))
        for name, value in items:
            bad = self._check_tag(name, value)
            if bad:
                return bad
        try:
            prefix = escape_measurement(spec.measurement) + "".join(
                f",{escape_tag(k, 'tag_key')}={escape_tag(v)}" for k, v in items)
            if value_field is not None:
                self._field_key(value_field)
        except LineProtocolError as exc:
            return Rejected(exc.reason, exc.detail)
        if self._invisible and invisible(spec.measurement):
            return Rejected("invisible_char", f"measurement {spec.measurement!r} contains "
                            f"{invisible(spec.measurement)}")
        ts = template.timestamp or self.config.ts
        return _TopicInfo(items, frozenset(levels) | {k for k, _ in template.tags}, spec,
                          prefix, ts, value_field, set())

    def _field_key(self, key: str) -> str:
        """The escaped field key, checked once (control characters, invisible ones)."""
        ek = self._field_keys.get(key)
        if ek is None:
            if self._invisible:
                bad = invisible(key)
                if bad:
                    raise LineProtocolError("invisible_char", f"field key {key!r} contains "
                                            f"{bad}")
            ek = escape_tag(key, "field_key")
            if len(self._field_keys) >= _FIELD_KEY_CACHE_MAX:
                self._field_keys.clear()
            self._field_keys[key] = ek
        return ek

    def _map(self, topic: str, payload: bytes, ingest_ms: int) -> MapResult:
        cfg = self.config
        info = self._topic(topic)
        if not isinstance(info, _TopicInfo):
            return info
        if len(payload) > cfg.max_payload_bytes:
            return Rejected("oversize", f"payload is {len(payload)} bytes, limit "
                            f"{cfg.max_payload_bytes}")
        try:
            if info.value_field is not None:
                result = self._value_line(info, payload, ingest_ms)
            else:
                result = self._object_line(info, payload, ingest_ms)
        except LineProtocolError as exc:
            return Rejected(exc.reason, exc.detail)
        except OverflowError as exc:
            return Rejected("out_of_range", f"a number is too large for a float: {exc}")
        if isinstance(result, Rejected):
            return result
        line, series, ts_ms = result
        too_many = self.cardinality.series(series)
        if too_many:
            return Rejected("cardinality", too_many)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError as exc:
            return Rejected("bad_unicode", f"text cannot be encoded as UTF-8: {exc.reason}")
        return Mapped(line, info.spec.measurement, ts_ms, series)

    def _timestamp(self, ts: TsSpec, obj: dict[str, Any], ingest_ms: int) -> int | Rejected:
        key = ts.key
        if key is None or key not in obj:
            if key is not None and ts.required:
                return Rejected("missing_timestamp", f"payload has no {key!r}")
            return ingest_ms
        raw = obj[key]
        try:
            ts_ms = _ts_ms(raw, ts.unit)
        except (ValueError, OverflowError, TypeError) as exc:
            return Rejected("bad_timestamp", f"{key!r} {exc}")
        if not TS_MIN_MS <= ts_ms <= TS_MAX_MS:
            return Rejected("bad_timestamp", f"{key!r} = {raw!r} is outside what InfluxDB "
                            f"can store{_unit_hint(raw, ts.unit, ingest_ms)}")
        cfg = self.config
        if cfg.max_future_s is not None and ts_ms > ingest_ms + cfg.max_future_s * 1000:
            return Rejected("out_of_window", f"{key!r} = {raw!r} is "
                            f"{(ts_ms - ingest_ms) / 1000:.0f} s after its arrival, limit "
                            f"{cfg.max_future_s:.0f} s{_unit_hint(raw, ts.unit, ingest_ms)}")
        if cfg.max_age_s is not None and ts_ms < ingest_ms - cfg.max_age_s * 1000:
            return Rejected("out_of_window", f"{key!r} = {raw!r} is "
                            f"{(ingest_ms - ts_ms) / 1000:.0f} s before its arrival, older "
                            f"than the {cfg.max_age_s:.0f} s kept (the retention policy)"
                            f"{_unit_hint(raw, ts.unit, ingest_ms)}")
        if ingest_ms - ts_ms > _NEAR_MS:
            hint = _unit_hint(raw, ts.unit, ingest_ms)
            if hint:  # e.g. seconds in a ms field: stored in 1970 otherwise
                return Rejected("out_of_window", f"{key!r} = {raw!r} is "
                                f"{(ingest_ms - ts_ms) / 1000:.0f} s before its arrival"
                                f"{hint}")
        return ts_ms

    def _value_line(self, info: _TopicInfo, payload: bytes,
                    ingest_ms: int) -> tuple[str, str, int] | Rejected:
        try:
            text = payload.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            return Rejected("bad_encoding", f"payload is not UTF-8: {exc}")
        if not text:
            return Rejected("no_fields", "payload is empty")
        value: Any
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            value = text
        if isinstance(value, dict | list):
            return Rejected("not_scalar", f"payload is a JSON {type(value).__name__}; this "
                            "template takes one bare value (payload: value)")
        key = info.value_field
        assert key is not None
        declared = info.spec.fields.get(key)
        if declared is None:
            if isinstance(value, bool) or value is None:
                declared = "bool"
            elif isinstance(value, int | float):
                declared = "int" if self.config.default_type == "int" else "float"
            else:
                declared = "str"
        field = format_field(key, coerce(key, value, declared))
        too_many = self.cardinality.fields(info.spec.measurement, [key])
        if too_many:
            return Rejected("cardinality", too_many)
        return f"{info.prefix} {field} {ingest_ms}", info.prefix, ingest_ms

    def _object_line(self, info: _TopicInfo, payload: bytes,
                     ingest_ms: int) -> tuple[str, str, int] | Rejected:
        try:
            obj = json.loads(payload.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return Rejected("bad_encoding", f"payload is not UTF-8: {exc}")
        except (ValueError, RecursionError) as exc:
            return Rejected("bad_json", f"payload is not JSON: {str(exc)[:200]}")
        if not isinstance(obj, dict):
            return Rejected("not_object", f"payload is a JSON {type(obj).__name__}, "
                            "not an object")
        ts_ms = self._timestamp(info.ts, obj, ingest_ms)
        if isinstance(ts_ms, Rejected):
            return ts_ms
        spec = info.spec
        ts_key = info.ts.key
        ok = info.ok_keys
        has_payload_tags = False
        new: list[str] = []
        for key in obj:
            if key in ok or key == ts_key:
                continue
            if key in RESERVED_KEYS:
                return Rejected("reserved_key", f"payload key {key!r} is reserved by InfluxDB")
            if key in spec.payload_tags:
                has_payload_tags = True
                value = obj[key]
                if isinstance(value, str):
                    bad = self._check_tag(key, value)
                    if bad:
                        return bad
            elif key in info.names:
                return Rejected("tag_clash", f"payload key {key!r} is also a topic level")
            else:
                self._field_key(key)
                new.append(key)
        if new:  # keys this topic has not sent before: count them for the measurement
            too_many = self.cardinality.fields(spec.measurement, new)
            if too_many:
                return Rejected("cardinality", too_many)
            if len(ok) < 1024:
                ok.update(new)
        if has_payload_tags:
            body = {k: v for k, v in obj.items() if k != ts_key}
            line = payload_point(spec, info.levels, body, ts_ms, self.config.default_type)
            return line, line[:_series_end(line)], ts_ms
        return self._fast_line(info, obj, ts_ms), info.prefix, ts_ms

    def _fast_line(self, info: _TopicInfo, obj: dict[str, Any], ts_ms: int) -> str:
        """`payload_point` for a message whose tags are all topic levels, with the tag
        part from the topic cache; same checks, same line (a unit test holds them equal).
        """
        spec = info.spec
        types = spec.fields
        default = self.config.default_type
        ts_key = info.ts.key
        keys = self._field_keys
        parts = []
        for k, v in obj.items():
            if k == ts_key:
                continue
            value = coerce(k, v, types.get(k, default))
            if type(value) is float and math.isfinite(value):
                # format_field's float branch, with the checked and escaped key cached
                ek = keys.get(k) or self._field_key(k)
                parts.append(f"{ek}={value!r}")
            else:
                parts.append(format_field(k, value))
        for key in spec.required:
            if key not in obj:
                raise MappingError("missing_field", f"required field {key!r} is missing")
        if not parts:
            raise MappingError("no_fields", "payload has no fields")
        return f"{info.prefix} {','.join(parts)} {int(ts_ms)}"

    def _match_topic(self, topic: str) -> tuple[dict[str, str], Kind, TopicTemplate] | Rejected:
        cfg = self.config
        parts = topic.split("/")
        shaped = False
        for template in cfg.templates:
            values = template.match(parts)
            if values is None:
                continue
            shaped = True
            if template.measurement is not None:
                measurement = template.measurement
                spec = cfg.measurements.get(measurement) or Kind(measurement, "machine", {})
            else:
                measurement = values.pop(cfg.measurement_level)
                if template.measurements and measurement not in template.measurements:
                    continue
                found = cfg.measurements.get(measurement)
                if found is None:
                    if not cfg.accept_unknown_measurements:
                        continue
                    if not self._level_re.match(measurement):
                        return Rejected("bad_topic_level",
                                        f"measurement {measurement[:200]!r} does not match "
                                        f"{cfg.level_pattern}")
                    found = Kind(measurement, "machine", {})
                spec = found
            for name, value in values.items():
                if not self._level_re.match(value):
                    return Rejected("bad_topic_level", f"{name} {value[:200]!r} does not "
                                    f"match {cfg.level_pattern}")
            return values, spec, template
        if shaped:
            return Rejected("unknown_measurement",
                            f"topic {topic[:300]!r}: no template accepts this measurement")
        return Rejected("unknown_topic", f"topic {topic[:300]!r} matches no template")


_FIRST_SPACE = re.compile(r"(?<!\\) ")


def _series_end(line: str) -> int:
    m = _FIRST_SPACE.search(line)
    return m.start() if m else len(line)
