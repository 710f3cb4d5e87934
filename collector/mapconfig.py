"""The collector's mapping settings (the YAML `mapping:` section), validated once.

A topic is matched against templates with named levels (``{enterprise}/{site}/...``).
Each template says how its messages become points: which level (or literal) names the
measurement, whether the payload is a JSON object of fields or one bare value (and which
field it fills), which payload key holds the time and in what unit. The pure mapping
itself is :mod:`collector.mapping`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from telemetry.contract import KINDS, TS_KEY, FieldType, Kind
from telemetry.topics import ID_PATTERN as CONTRACT_ID_PATTERN

TsUnit = Literal["ms", "s", "us", "ns", "iso8601"]
TS_UNITS: tuple[str, ...] = ("ms", "s", "us", "ns", "iso8601")
FIELD_TYPES: tuple[str, ...] = ("float", "int", "bool", "str")
PAYLOAD_MODES: tuple[str, ...] = ("object", "value")

#: Keys InfluxDB (1.x `time`, 2.x/3.x `_`-names) reserves; never written as tag or field.
RESERVED_KEYS = frozenset({"time", "_field", "_measurement", "_time", "_value", "_start",
                           "_stop"})

DEFAULT_MAX_PAYLOAD_BYTES = 65_536
DEFAULT_IGNORE = ("+/+/_control/#",)
#: Default timestamp window: not more than this far ahead of the arrival time.
DEFAULT_MAX_FUTURE_S = 3600.0
#: Default cardinality guards (see docs/collector.md, "Guards").
DEFAULT_MAX_FIELDS = 256
DEFAULT_MAX_TAG_VALUE = 256
DEFAULT_MAX_NEW_SERIES_PER_MIN = 50_000

#: The `templates:` entry that stands for the contract's three shapes.
CONTRACT = "contract"


class MappingConfigError(ValueError):
    """A bad `mapping:` setting; the message is one line naming the key."""


def filter_matches(filt: str, topic: str) -> bool:
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
class TsSpec:
    """Where a payload's time is: `key` in `unit`; key None = the arrival (ingest) time."""

    key: str | None = TS_KEY
    unit: TsUnit = "ms"
    required: bool = False


INGEST_TIME = TsSpec(key=None)


@dataclass(frozen=True)
class TopicTemplate:
    """A topic shape: literal segments and `{name}` levels, and how its payloads map.

    - `measurements`: values of the measurement level this template accepts (empty: any).
    - `measurement`: a literal measurement name instead of a measurement level.
    - `payload`: ``object`` (JSON object of fields) or ``value`` (one bare number, bool or
      string) filling the field `value_field` (YAML `field:`, a literal or ``{level}``;
      that level is no tag).
    - `timestamp`: this template's own time key/unit, :data:`INGEST_TIME`, or None (the
      mapping-wide setting).
    - `tags`: literal tags added to every point.
    """

    pattern: str
    measurements: tuple[str, ...] = ()
    measurement: str | None = None
    payload: Literal["object", "value"] = "object"
    value_field: str | None = None
    timestamp: TsSpec | None = None
    tags: tuple[tuple[str, str], ...] = ()
    segments: tuple[tuple[bool, str], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        segs: list[tuple[bool, str]] = []
        names: set[str] = set()
        where = f"mapping template {self.pattern!r}"
        for part in self.pattern.split("/"):
            m = _LEVEL.match(part)
            if m:
                if m.group(1) in names:
                    raise MappingConfigError(f"{where}: level {{{m.group(1)}}} repeats")
                names.add(m.group(1))
                segs.append((True, m.group(1)))
            elif not part or any(c in part for c in "+#{}"):
                raise MappingConfigError(
                    f"{where}: segment {part!r} must be a literal or {{name}}")
            else:
                segs.append((False, part))
        object.__setattr__(self, "segments", tuple(segs))
        if self.payload not in PAYLOAD_MODES:
            raise MappingConfigError(f"{where}: payload = {self.payload!r}: allowed "
                                     f"{', '.join(PAYLOAD_MODES)}")
        if self.value_field is not None and self.payload != "value":
            raise MappingConfigError(f"{where}: field: needs payload: value")
        level = self.field_level
        if level is not None and level not in names:
            raise MappingConfigError(f"{where}: field {self.value_field!r} names no level of "
                                     "this template")
        if self.payload == "value" and self.timestamp is not None and self.timestamp.key:
            raise MappingConfigError(f"{where}: a bare value has no time key; leave "
                                     "timestamp out (the arrival time is used)")
        if self.measurement is not None and not self.measurement:
            raise MappingConfigError(f"{where}: measurement must not be empty")

    @property
    def level_names(self) -> tuple[str, ...]:
        return tuple(name for named, name in self.segments if named)

    @property
    def field_level(self) -> str | None:
        """The level whose value is the field key (``field: "{signal}"``), if any."""
        m = _LEVEL.match(self.value_field or "")
        return m.group(1) if m else None

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

    def topic_filter(self, enterprise: str | None) -> str:
        """The subscription that receives this template's topics: its literal head (the
        `{enterprise}` level filled in when known), then ``#``."""
        head: list[str] = []
        for named, name in self.segments:
            if named and not (name == "enterprise" and enterprise):
                break
            head.append(enterprise if named and enterprise else name)
        if len(head) == len(self.segments):
            return "/".join(head)
        return "/".join([*head, "#"])


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
class Limits:
    """Guards against one message (or a burst) blowing up the database's cardinality."""

    max_fields_per_measurement: int = DEFAULT_MAX_FIELDS
    max_tag_value_chars: int = DEFAULT_MAX_TAG_VALUE
    max_new_series_per_min: int = DEFAULT_MAX_NEW_SERIES_PER_MIN
    reject_invisible: bool = True


@dataclass(frozen=True)
class MappingConfig:
    """The mapping. ``MappingConfig()`` is the bare contract without a timestamp window;
    :func:`mapping_from_dict` (what the collector uses) adds the default window."""

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
    #: Timestamp window: oldest (seconds before arrival; None = no limit) and newest
    #: (seconds after arrival). `max_age_retention`: the service sets max_age_s to the
    #: retention the database reports, at start.
    max_age_s: float | None = None
    max_future_s: float | None = None
    max_age_retention: bool = False
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if not self.templates:
            raise MappingConfigError("mapping.templates: give at least one topic template")
        for t in self.templates:
            reserved = RESERVED_KEYS.intersection(t.level_names)
            if reserved:
                raise MappingConfigError(f"mapping template {t.pattern!r}: level name "
                                         f"{sorted(reserved)[0]!r} is reserved by InfluxDB")
            if t.measurement is None and self.measurement_level not in t.level_names:
                raise MappingConfigError(
                    f"mapping template {t.pattern!r} has no {{{self.measurement_level}}} "
                    "level (mapping.measurement_level) and no measurement:")
        try:
            re.compile(self.level_pattern)
        except re.error as exc:
            raise MappingConfigError(f"mapping.level_pattern: {exc}") from exc
        for ts in (self.ts_unit, *(t.timestamp.unit for t in self.templates if t.timestamp)):
            if ts not in TS_UNITS:
                raise MappingConfigError(
                    f"mapping timestamp unit = {ts!r}: allowed {', '.join(TS_UNITS)}")
        if self.default_type not in FIELD_TYPES:
            raise MappingConfigError(f"mapping.default_type = {self.default_type!r}: "
                                     f"allowed {', '.join(FIELD_TYPES)}")
        if self.max_payload_bytes < 16:
            raise MappingConfigError("mapping.max_payload_bytes must be at least 16")

    @property
    def ts(self) -> TsSpec:
        return TsSpec(self.ts_key, self.ts_unit, self.ts_required)

    def topic_filters(self, enterprise: str | None) -> tuple[str, ...]:
        """Default subscriptions: one per distinct template head (see
        :meth:`TopicTemplate.topic_filter`)."""
        out: list[str] = []
        for t in self.templates:
            f = t.topic_filter(enterprise)
            if f not in out:
                out.append(f)
        return tuple(out)


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


def _ts_spec(raw: Any, where: str, base: TsSpec) -> TsSpec:
    if raw in ("none", "ingest"):
        return INGEST_TIME
    if not isinstance(raw, dict) or set(raw) - {"key", "unit", "required"}:
        raise MappingConfigError(f"{where}: allowed keys key, unit, required (or 'none' "
                                 "for the arrival time)")
    unit = str(raw.get("unit", base.unit))
    if unit not in TS_UNITS:
        raise MappingConfigError(f"{where}.unit = {unit!r}: allowed {', '.join(TS_UNITS)}")
    return TsSpec(str(raw.get("key", base.key or TS_KEY)), unit,  # type: ignore[arg-type]
                  bool(raw.get("required", base.required)))


_TEMPLATE_KEYS = {"topic", "measurements", "measurement", "payload", "field", "timestamp",
                  "tags"}


def _template(raw: Any) -> list[TopicTemplate]:
    if raw == CONTRACT:
        return list(contract_templates())
    if isinstance(raw, str):
        return [TopicTemplate(raw)]
    if not isinstance(raw, dict) or "topic" not in raw:
        raise MappingConfigError("mapping.templates: each entry is 'contract', a topic "
                                 "string or {topic: ..., measurements: [...], ...}")
    where = f"mapping template {raw['topic']!r}"
    unknown = set(raw) - _TEMPLATE_KEYS
    if unknown:
        raise MappingConfigError(f"{where}: unknown key {sorted(unknown)[0]!r} "
                                 f"(allowed: {', '.join(sorted(_TEMPLATE_KEYS))})")
    ts = _ts_spec(raw["timestamp"], f"{where}: timestamp", TsSpec()) \
        if "timestamp" in raw else None
    tags = raw.get("tags") or {}
    if not isinstance(tags, dict):
        raise MappingConfigError(f"{where}: tags must be a mapping of literal tags")
    payload = str(raw.get("payload", "object"))
    return [TopicTemplate(
        str(raw["topic"]), tuple(str(m) for m in raw.get("measurements", ())),
        measurement=str(raw["measurement"]) if raw.get("measurement") is not None else None,
        payload=payload,  # type: ignore[arg-type]  # checked in __post_init__
        value_field=(str(raw["field"]) if "field" in raw else "value") if payload == "value"
        else (str(raw["field"]) if "field" in raw else None),
        timestamp=ts, tags=tuple(sorted((str(k), str(v)) for k, v in tags.items())))]


def _window(raw: Any) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict) or set(raw) - {"max_age_s", "max_future_s"}:
        raise MappingConfigError("mapping.timestamp_window: allowed keys max_age_s "
                                 "(seconds, 'retention' or 'none'), max_future_s")
    out: dict[str, Any] = {}
    for key, default in (("max_age_s", "retention"), ("max_future_s", DEFAULT_MAX_FUTURE_S)):
        value = raw.get(key, default)
        if value in (None, "none"):
            out[key] = None
        elif value == "retention" and key == "max_age_s":
            out[key] = None
            out["max_age_retention"] = True
        else:
            try:
                out[key] = float(value)
            except (TypeError, ValueError) as exc:
                raise MappingConfigError(f"mapping.timestamp_window.{key} = {value!r}: "
                                         "seconds or 'none'") from exc
            if out[key] <= 0:
                raise MappingConfigError(f"mapping.timestamp_window.{key} must be > 0")
    return out


_LIMIT_KEYS = {"max_fields_per_measurement": int, "max_tag_value_chars": int,
               "max_new_series_per_min": int, "reject_invisible": bool}


def _limits(raw: Any) -> Limits:
    if raw is None:
        return Limits()
    if not isinstance(raw, dict) or set(raw) - set(_LIMIT_KEYS):
        raise MappingConfigError(f"mapping.limits: allowed keys {', '.join(_LIMIT_KEYS)}")
    kw: dict[str, Any] = {}
    for key, value in raw.items():
        if _LIMIT_KEYS[key] is bool:
            if not isinstance(value, bool):
                raise MappingConfigError(f"mapping.limits.{key} must be true or false")
            kw[key] = value
        else:
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise MappingConfigError(f"mapping.limits.{key} = {value!r}: must be an "
                                         "integer > 0")
            kw[key] = value
    return Limits(**kw)


_ALLOWED = {"templates", "measurement_level", "level_pattern", "timestamp", "default_type",
            "measurements", "unknown_measurements", "ignore", "max_payload_bytes",
            "timestamp_window", "limits"}


def mapping_from_dict(raw: Mapping[str, Any] | None) -> MappingConfig:
    """Build the collector's MappingConfig from the YAML `mapping:` section (None or
    empty: the contract, with the default timestamp window and limits)."""
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise MappingConfigError("mapping: must be a mapping")
    unknown = set(raw) - _ALLOWED
    if unknown:
        raise MappingConfigError(f"mapping: unknown key {sorted(unknown)[0]!r} "
                                 f"(allowed: {', '.join(sorted(_ALLOWED))})")
    kw: dict[str, Any] = {}
    if "templates" in raw:
        kw["templates"] = tuple(t for entry in raw["templates"] or [] for t in _template(entry))
    for key in ("measurement_level", "level_pattern", "default_type"):
        if key in raw:
            kw[key] = str(raw[key])
    ts = _ts_spec(raw.get("timestamp") or {}, "mapping.timestamp", TsSpec())
    if ts.key is None:
        raise MappingConfigError("mapping.timestamp: give key and unit (use a template's "
                                 "timestamp: none for the arrival time)")
    kw.update(ts_key=ts.key, ts_unit=ts.unit, ts_required=ts.required)
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
    kw.update(_window(raw.get("timestamp_window")))
    kw["limits"] = _limits(raw.get("limits"))
    return MappingConfig(**kw)
