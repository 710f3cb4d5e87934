"""Message -> line protocol: the collector's pure mapping core.

A topic is matched against templates with named levels (``{enterprise}/{site}/...``);
every named level becomes a tag except the measurement level (``{kind}`` by default),
whose value names the measurement. Payload JSON keys become fields with declared types
(float unless declared otherwise). Encoding is done by :mod:`telemetry.points` /
:mod:`telemetry.lineprotocol`, the same code the simulator's backfill uses.

Every message ends as exactly one of :class:`Mapped` (one line), :class:`Rejected`
(dead-letter, with a stable ``reason``) or :class:`Ignored` (acked, counted, not
stored). :meth:`Mapper.map` never raises.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

from telemetry.contract import KINDS, TS_KEY, FieldType, Kind
from telemetry.lineprotocol import (
    LineProtocolError,
    escape_measurement,
    escape_tag,
    format_field,
)
from telemetry.points import MappingError, coerce, payload_point
from telemetry.topics import ID_PATTERN as CONTRACT_ID_PATTERN

log = logging.getLogger(__name__)

TsUnit = Literal["ms", "s", "us", "ns", "iso8601"]
TS_UNITS: tuple[str, ...] = ("ms", "s", "us", "ns", "iso8601")
FIELD_TYPES: tuple[str, ...] = ("float", "int", "bool", "str")

#: Keys InfluxDB (1.x `time`, 2.x/3.x `_`-names) reserves; never written as tag or field.
RESERVED_KEYS = frozenset({"time", "_field", "_measurement", "_time", "_value", "_start",
                           "_stop"})

#: Timestamps InfluxDB can store (int64 nanoseconds): years 1678 .. 2261, in ms.
TS_MIN_MS = -9_223_372_036_000
TS_MAX_MS = 9_223_372_036_000

DEFAULT_MAX_PAYLOAD_BYTES = 65_536
DEFAULT_IGNORE = ("+/+/_control/#",)

#: Every reason a message can be dead-lettered for (stable strings, used as metric labels).
REASONS = (
    "oversize", "bad_encoding", "bad_json", "not_object", "unknown_topic",
    "unknown_measurement", "bad_topic_level", "missing_timestamp", "bad_timestamp",
    "reserved_key", "tag_clash", "null_value", "wrong_type", "non_finite", "out_of_range",
    "int_out_of_range", "missing_field", "no_fields", "bad_tag", "bad_tag_key", "empty_tag",
    "bad_field_key", "empty_field_key", "bad_string", "bad_measurement", "bad_unicode",
    "influx_rejected", "too_large", "internal_error",
)


class MappingConfigError(ValueError):
    """A bad `mapping:` setting; the message is one line naming the key."""


@dataclass(frozen=True)
class Mapped:
    line: str
    measurement: str
    ts_ms: int


@dataclass(frozen=True)
class Rejected:
    reason: str
    detail: str


@dataclass(frozen=True)
class Ignored:
    reason: str


MapResult = Mapped | Rejected | Ignored


def _filter_matches(filt: str, topic: str) -> bool:
    """MQTT topic-filter match (`+` one level, `#` the rest)."""
    f_parts = filt.split("/")
    t_parts = topic.split("/")
    for i, f in enumerate(f_parts):
        if f == "#":
            return True
        if i >= len(t_parts):
            return False
        if f not in ("+", t_parts[i]):
            return False
    return len(f_parts) == len(t_parts)


_LEVEL = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")


@dataclass(frozen=True)
class TopicTemplate:
    """A topic shape: literal segments and `{name}` levels, optionally limited to some
    measurements (values of the measurement level)."""

    pattern: str
    measurements: tuple[str, ...] = ()
    segments: tuple[tuple[bool, str], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        segs: list[tuple[bool, str]] = []
        names: set[str] = set()
        for part in self.pattern.split("/"):
            m = _LEVEL.match(part)
            if m:
                if m.group(1) in names:
                    raise MappingConfigError(
                        f"mapping template {self.pattern!r}: level {{{m.group(1)}}} repeats")
                names.add(m.group(1))
                segs.append((True, m.group(1)))
            elif not part or any(c in part for c in "+#{}"):
                raise MappingConfigError(
                    f"mapping template {self.pattern!r}: segment {part!r} must be a literal "
                    "or {name}")
            else:
                segs.append((False, part))
        object.__setattr__(self, "segments", tuple(segs))

    @property
    def level_names(self) -> tuple[str, ...]:
        return tuple(name for named, name in self.segments if named)

    def match(self, parts: list[str]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        values: dict[str, str] = {}
        for (named, name), part in zip(self.segments, parts, strict=True):
            if named:
                values[name] = part
            elif part != name:
                return None
        return values


def contract_templates() -> tuple[TopicTemplate, ...]:
    """The contract's topic shapes (docs/contract.md), each limited to its scope's kinds."""
    def kinds(scope: str) -> tuple[str, ...]:
        return tuple(k.name for k in KINDS.values() if k.scope == scope)

    return (
        TopicTemplate("{enterprise}/{site}/{area}/{line}/{machine}/{kind}", kinds("machine")),
        TopicTemplate("{enterprise}/{site}/{area}/_area/{kind}", kinds("area")),
        TopicTemplate("{enterprise}/{site}/_site/{kind}", kinds("site")),
    )


@dataclass(frozen=True)
class MappingConfig:
    templates: tuple[TopicTemplate, ...] = field(default_factory=contract_templates)
    measurement_level: str = "kind"
    level_pattern: str = CONTRACT_ID_PATTERN.pattern
    ts_key: str = TS_KEY
    ts_unit: TsUnit = "ms"
    ts_required: bool = False
    default_type: FieldType = "float"
    measurements: Mapping[str, Kind] = field(default_factory=lambda: dict(KINDS))
    accept_unknown_measurements: bool = False
    ignore: tuple[str, ...] = DEFAULT_IGNORE
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES

    def __post_init__(self) -> None:
        if not self.templates:
            raise MappingConfigError("mapping.templates: give at least one topic template")
        for t in self.templates:
            reserved = RESERVED_KEYS.intersection(t.level_names)
            if reserved:
                raise MappingConfigError(f"mapping template {t.pattern!r}: level name "
                                         f"{sorted(reserved)[0]!r} is reserved by InfluxDB")
            if self.measurement_level not in t.level_names:
                raise MappingConfigError(
                    f"mapping template {t.pattern!r} has no {{{self.measurement_level}}} "
                    "level (mapping.measurement_level)")
        try:
            re.compile(self.level_pattern)
        except re.error as exc:
            raise MappingConfigError(f"mapping.level_pattern: {exc}") from exc
        if self.ts_unit not in TS_UNITS:
            raise MappingConfigError(
                f"mapping.timestamp.unit = {self.ts_unit!r}: allowed {', '.join(TS_UNITS)}")
        if self.default_type not in FIELD_TYPES:
            raise MappingConfigError(f"mapping.default_type = {self.default_type!r}: "
                                     f"allowed {', '.join(FIELD_TYPES)}")
        if self.max_payload_bytes < 16:
            raise MappingConfigError("mapping.max_payload_bytes must be at least 16")


def _kind_from_config(name: str, raw: Any, base: Kind | None) -> Kind:
    where = f"mapping.measurements.{name}"
    if not isinstance(raw, dict):
        raise MappingConfigError(f"{where} must be a mapping with fields/tags/required")
    unknown = set(raw) - {"fields", "tags", "required"}
    if unknown:
        raise MappingConfigError(f"{where}: unknown key {sorted(unknown)[0]!r} "
                                 "(allowed: fields, tags, required)")
    fields: dict[str, FieldType] = dict(base.fields) if base else {}
    for key, ftype in (raw.get("fields") or {}).items():
        if ftype not in FIELD_TYPES:
            raise MappingConfigError(f"{where}.fields.{key} = {ftype!r}: allowed "
                                     f"{', '.join(FIELD_TYPES)}")
        fields[str(key)] = ftype
    tags = tuple(str(t) for t in raw.get("tags", base.payload_tags if base else ()))
    required = tuple(str(r) for r in raw.get("required", base.required if base else ()))
    return Kind(name, base.scope if base else "machine", fields, payload_tags=tags,
                required=required)


def mapping_from_dict(raw: Mapping[str, Any] | None) -> MappingConfig:
    """Build a MappingConfig from the YAML `mapping:` section (None: the contract)."""
    if not raw:
        return MappingConfig()
    if not isinstance(raw, Mapping):
        raise MappingConfigError("mapping: must be a mapping")
    allowed = {"templates", "measurement_level", "level_pattern", "timestamp",
               "default_type", "measurements", "unknown_measurements", "ignore",
               "max_payload_bytes"}
    unknown = set(raw) - allowed
    if unknown:
        raise MappingConfigError(f"mapping: unknown key {sorted(unknown)[0]!r} "
                                 f"(allowed: {', '.join(sorted(allowed))})")
    kw: dict[str, Any] = {}
    if "templates" in raw:
        templates = []
        for t in raw["templates"] or []:
            if isinstance(t, str):
                templates.append(TopicTemplate(t))
            elif isinstance(t, dict) and "topic" in t:
                templates.append(TopicTemplate(str(t["topic"]),
                                               tuple(str(m) for m in t.get("measurements", ()))))
            else:
                raise MappingConfigError("mapping.templates: each entry is a topic string or "
                                         "{topic: ..., measurements: [...]}")
        kw["templates"] = tuple(templates)
    for key in ("measurement_level", "level_pattern", "default_type"):
        if key in raw:
            kw[key] = str(raw[key])
    ts = raw.get("timestamp") or {}
    if not isinstance(ts, dict) or set(ts) - {"key", "unit", "required"}:
        raise MappingConfigError("mapping.timestamp: allowed keys key, unit, required")
    if "key" in ts:
        kw["ts_key"] = str(ts["key"])
    if "unit" in ts:
        kw["ts_unit"] = str(ts["unit"])
    if "required" in ts:
        kw["ts_required"] = bool(ts["required"])
    measurements: dict[str, Kind] = dict(KINDS)
    for name, spec in (raw.get("measurements") or {}).items():
        measurements[str(name)] = _kind_from_config(str(name), spec, KINDS.get(str(name)))
    kw["measurements"] = measurements
    um = raw.get("unknown_measurements", "reject")
    if um not in ("reject", "accept"):
        raise MappingConfigError(f"mapping.unknown_measurements = {um!r}: allowed reject, "
                                 "accept")
    kw["accept_unknown_measurements"] = um == "accept"
    if "ignore" in raw:
        kw["ignore"] = tuple(str(f) for f in raw["ignore"] or ())
    if "max_payload_bytes" in raw:
        kw["max_payload_bytes"] = int(raw["max_payload_bytes"])
    return MappingConfig(**kw)


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


class _TopicInfo(NamedTuple):
    """What a topic alone decides, cached per topic string."""

    levels: tuple[tuple[str, str], ...]
    names: frozenset[str]
    spec: Kind
    prefix: str  # escaped `measurement,tag=value,...` of the topic's tags, sorted


#: Topic cache size; cleared when full (a plant has a few thousand topics).
_TOPIC_CACHE_MAX = 100_000
#: Escaped field-key cache size; cleared when full.
_FIELD_KEY_CACHE_MAX = 10_000


class Mapper:
    """Maps (topic, payload bytes, ingest time) to a line, a rejection or an ignore."""

    def __init__(self, config: MappingConfig | None = None) -> None:
        self.config = config or MappingConfig()
        self._level_re = re.compile(self.config.level_pattern)
        self._topics: dict[str, _TopicInfo | Rejected | Ignored] = {}
        self._field_keys: dict[str, str] = {}  # field key -> escaped field key

    def ignored(self, topic: str) -> bool:
        return any(_filter_matches(f, topic) for f in self.config.ignore)

    def map(self, topic: str, payload: bytes, ingest_ms: int) -> MapResult:
        try:
            return self._map(topic, payload, ingest_ms)
        except Exception as exc:  # a mapper bug must never stop the collector
            log.exception("mapping %r failed unexpectedly", topic)
            return Rejected("internal_error", f"{type(exc).__name__}: {exc}")

    def _topic(self, topic: str) -> _TopicInfo | Rejected | Ignored:
        info = self._topics.get(topic)
        if info is None:
            info = self._resolve(topic)
            if len(self._topics) >= _TOPIC_CACHE_MAX:
                self._topics.clear()
            self._topics[topic] = info
        return info

    def _resolve(self, topic: str) -> _TopicInfo | Rejected | Ignored:
        if self.ignored(topic):
            return Ignored("ignored_topic")
        levels, spec = self._match_topic(topic)
        if isinstance(spec, Rejected):
            return spec
        items = tuple(levels.items())
        try:
            prefix = escape_measurement(spec.measurement) + "".join(
                f",{escape_tag(k, 'tag_key')}={escape_tag(v)}" for k, v in sorted(items))
        except LineProtocolError as exc:
            return Rejected(exc.reason, exc.detail)
        return _TopicInfo(items, frozenset(levels), spec, prefix)

    def _map(self, topic: str, payload: bytes, ingest_ms: int) -> MapResult:
        cfg = self.config
        info = self._topic(topic)
        if not isinstance(info, _TopicInfo):
            return info
        spec = info.spec
        if len(payload) > cfg.max_payload_bytes:
            return Rejected("oversize", f"payload is {len(payload)} bytes, limit "
                            f"{cfg.max_payload_bytes}")
        try:
            obj = json.loads(payload.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return Rejected("bad_encoding", f"payload is not UTF-8: {exc}")
        except (ValueError, RecursionError) as exc:
            return Rejected("bad_json", f"payload is not JSON: {str(exc)[:200]}")
        if not isinstance(obj, dict):
            return Rejected("not_object", f"payload is a JSON {type(obj).__name__}, "
                            "not an object")
        ts_key = cfg.ts_key
        if ts_key in obj:
            try:
                ts_ms = _ts_ms(obj[ts_key], cfg.ts_unit)
            except (ValueError, OverflowError, TypeError) as exc:
                return Rejected("bad_timestamp", f"{ts_key!r} {exc}")
            if not TS_MIN_MS <= ts_ms <= TS_MAX_MS:
                return Rejected("bad_timestamp", f"{ts_key!r} = {obj[ts_key]!r} is "
                                "outside what InfluxDB can store")
        elif cfg.ts_required:
            return Rejected("missing_timestamp", f"payload has no {ts_key!r}")
        else:
            ts_ms = ingest_ms
        has_payload_tags = False
        for key in obj:
            if key in RESERVED_KEYS:
                return Rejected("reserved_key", f"payload key {key!r} is reserved by InfluxDB")
            if key in spec.payload_tags:
                has_payload_tags = True
            elif key in info.names:
                return Rejected("tag_clash", f"payload key {key!r} is also a topic level")
        try:
            if has_payload_tags:
                body = {k: v for k, v in obj.items() if k != ts_key}
                line = payload_point(spec, info.levels, body, ts_ms, cfg.default_type)
            else:
                line = self._fast_line(info, obj, ts_ms)
        except LineProtocolError as exc:
            return Rejected(exc.reason, exc.detail)
        except OverflowError as exc:
            return Rejected("out_of_range", f"a number is too large for a float: {exc}")
        try:
            line.encode("utf-8")
        except UnicodeEncodeError as exc:
            return Rejected("bad_unicode", f"text cannot be encoded as UTF-8: {exc.reason}")
        return Mapped(line, spec.measurement, ts_ms)

    def _fast_line(self, info: _TopicInfo, obj: dict[str, Any], ts_ms: int) -> str:
        """`payload_point` for a message whose tags are all topic levels, with the tag
        part from the topic cache; same checks, same line (a unit test holds them equal).
        """
        spec = info.spec
        types = spec.fields
        default = self.config.default_type
        ts_key = self.config.ts_key
        keys = self._field_keys
        parts = []
        for k, v in obj.items():
            if k == ts_key:
                continue
            value = coerce(k, v, types.get(k, default))
            if type(value) is float and math.isfinite(value):
                # format_field's float branch, with the escaped key cached
                ek = keys.get(k)
                if ek is None:
                    ek = escape_tag(k, "field_key")
                    if len(keys) >= _FIELD_KEY_CACHE_MAX:
                        keys.clear()
                    keys[k] = ek
                parts.append(f"{ek}={value!r}")
            else:
                parts.append(format_field(k, value))
        for key in spec.required:
            if key not in obj:
                raise MappingError("missing_field", f"required field {key!r} is missing")
        if not parts:
            raise MappingError("no_fields", "payload has no fields")
        return f"{info.prefix} {','.join(parts)} {int(ts_ms)}"

    def _match_topic(self, topic: str) -> tuple[dict[str, str], Kind | Rejected]:
        cfg = self.config
        parts = topic.split("/")
        shaped = False
        for template in cfg.templates:
            values = template.match(parts)
            if values is None:
                continue
            shaped = True
            measurement = values.pop(cfg.measurement_level)
            if template.measurements and measurement not in template.measurements:
                continue
            spec = cfg.measurements.get(measurement)
            if spec is None:
                if not cfg.accept_unknown_measurements:
                    continue
                if not self._level_re.match(measurement):
                    return {}, Rejected("bad_topic_level",
                                        f"measurement {measurement!r} does not match "
                                        f"{cfg.level_pattern}")
                spec = Kind(measurement, "machine", {})
            for name, value in values.items():
                if not self._level_re.match(value):
                    return {}, Rejected("bad_topic_level",
                                        f"{name} {value!r} does not match {cfg.level_pattern}")
            return values, spec
        if shaped:
            return {}, Rejected("unknown_measurement",
                                f"topic {topic!r}: no template accepts this measurement")
        return {}, Rejected("unknown_topic", f"topic {topic!r} matches no template")
