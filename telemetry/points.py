"""Payload -> line protocol for the contract's kinds: the mapping both sides share.

The simulator's backfill writes exactly what the collector would write for the same
message, because both call :func:`to_line`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from telemetry.contract import KINDS, TS_KEY, FieldType, Kind
from telemetry.lineprotocol import FieldValue, LineProtocolError, encode_point
from telemetry.topics import Topic, parse


class MappingError(LineProtocolError):
    """A message that cannot become a point; `reason` is a stable dead-letter reason."""


def coerce(key: str, value: Any, ftype: FieldType) -> FieldValue:
    """Coerce a JSON value to the declared field type, or raise MappingError.

    Floats stay floats (20 becomes 20.0, so no type conflicts); integers must be
    integral; booleans must be JSON booleans; strings must be strings.
    """
    if value is None:
        raise MappingError("null_value", f"field {key!r} is null")
    if ftype == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MappingError("wrong_type", f"field {key!r} must be a number, got {value!r}")
        f = float(value)
        if not math.isfinite(f):
            raise MappingError("non_finite", f"field {key!r} is {value!r}")
        return f
    if ftype == "int":
        if isinstance(value, bool):
            raise MappingError("wrong_type", f"field {key!r} must be an integer, got {value!r}")
        if isinstance(value, float):
            if not math.isfinite(value) or not value.is_integer():
                raise MappingError("wrong_type", f"field {key!r} must be an integer, got {value!r}")
            return int(value)
        if not isinstance(value, int):
            raise MappingError("wrong_type", f"field {key!r} must be an integer, got {value!r}")
        return value
    if ftype == "bool":
        if not isinstance(value, bool):
            raise MappingError("wrong_type", f"field {key!r} must be a boolean, got {value!r}")
        return value
    if not isinstance(value, str):
        raise MappingError("wrong_type", f"field {key!r} must be a string, got {value!r}")
    return value


def payload_point(
    spec: Kind,
    topic_tags: tuple[tuple[str, str], ...],
    payload: Mapping[str, Any],
    ts_ms: int,
    default_type: FieldType = "float",
) -> str:
    """Build the line for one message of kind `spec` (ts already resolved, in ms)."""
    tags = dict(topic_tags)
    fields: dict[str, FieldValue] = {}
    for key, value in payload.items():
        if key == TS_KEY:
            continue
        if key in spec.payload_tags:
            if not isinstance(value, str):
                raise MappingError("wrong_type", f"tag {key!r} must be a string, got {value!r}")
            if key in tags:
                raise MappingError("tag_clash", f"payload tag {key!r} clashes with a topic tag")
            tags[key] = value
            continue
        fields[key] = coerce(key, value, spec.fields.get(key, default_type))
    for key in spec.required:
        if key not in payload:
            raise MappingError("missing_field", f"required field {key!r} is missing")
    if not fields:
        raise MappingError("no_fields", "payload has no fields")
    return encode_point(spec.measurement, tags, fields, ts_ms)


def payload_ts_ms(payload: Mapping[str, Any]) -> int:
    ts = payload.get(TS_KEY)
    if isinstance(ts, bool) or not isinstance(ts, int):
        raise MappingError("bad_timestamp", f"{TS_KEY!r} must be integer epoch ms, got {ts!r}")
    return ts


def to_line(topic: str | Topic, payload: Mapping[str, Any]) -> str:
    """The contract's default mapping of one message to one line (ms precision)."""
    t = parse(topic) if isinstance(topic, str) else topic
    return payload_point(KINDS[t.kind], t.tags, payload, payload_ts_ms(payload))
