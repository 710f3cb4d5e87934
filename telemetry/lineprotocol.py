"""InfluxDB line protocol: the one place that escapes and encodes points.

Escaping follows the line-protocol spec as InfluxDB 1.x-3.x parse it:
measurement escapes comma and space; tag keys, tag values and field keys escape
comma, equals and space; string field values escape backslash and double quote.

InfluxDB 1.x does not unescape ``\\\\`` inside tags, so a tag that ends in a backslash
cannot be written faithfully; such names, and any control character (a newline would
split the point in two), are rejected with :class:`LineProtocolError` instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

FieldValue = float | int | bool | str

_MEASUREMENT_ESC = str.maketrans({",": r"\,", " ": r"\ "})
_TAG_ESC = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ "})
_STR_ESC = str.maketrans({"\\": "\\\\", '"': '\\"'})
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\]")
_FORBIDDEN_STR = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab allowed in strings

#: Largest integer InfluxDB accepts for an `i` field.
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


class LineProtocolError(ValueError):
    """A name or value that cannot be written to InfluxDB as given."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _check_name(kind: str, value: str) -> None:
    if not value:
        raise LineProtocolError(f"empty_{kind}", f"{kind} must not be empty")
    if _FORBIDDEN.search(value):
        raise LineProtocolError(
            f"bad_{kind}", f"{kind} {value!r} contains a control character or backslash"
        )


def escape_measurement(name: str) -> str:
    _check_name("measurement", name)
    if name.startswith("#"):
        raise LineProtocolError("bad_measurement", f"measurement {name!r} starts with '#'")
    return name.translate(_MEASUREMENT_ESC)


def escape_tag(value: str, kind: str = "tag") -> str:
    _check_name(kind, value)
    return value.translate(_TAG_ESC)


def format_field(key: str, value: FieldValue) -> str:
    """Encode one `key=value` pair; the Python type decides the InfluxDB type."""
    k = escape_tag(key, "field_key")
    if isinstance(value, bool):
        return f"{k}={'true' if value else 'false'}"
    if isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise LineProtocolError("int_out_of_range", f"field {key!r}={value} exceeds int64")
        return f"{k}={value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LineProtocolError("non_finite", f"field {key!r} is {value!r}")
        return f"{k}={value!r}"
    if isinstance(value, str):
        if _FORBIDDEN_STR.search(value):
            raise LineProtocolError("bad_string", f"field {key!r} contains a control character")
        return f'{k}="{value.translate(_STR_ESC)}"'
    raise LineProtocolError("bad_type",
                            f"field {key!r} has unsupported type {type(value).__name__}")


def encode_point(
    measurement: str,
    tags: Mapping[str, str] | Iterable[tuple[str, str]],
    fields: Mapping[str, FieldValue],
    ts: int,
) -> str:
    """One point as one line (no trailing newline). Tags are sorted, as InfluxDB prefers.

    `ts` is an integer in the precision the write will declare (this project uses ms).
    """
    if not fields:
        raise LineProtocolError("no_fields", "a point needs at least one field")
    items = sorted(tags.items() if isinstance(tags, Mapping) else tags)
    head = escape_measurement(measurement)
    tag_part = "".join(f",{escape_tag(k, 'tag_key')}={escape_tag(v)}" for k, v in items)
    field_part = ",".join(format_field(k, v) for k, v in fields.items())
    return f"{head}{tag_part} {field_part} {int(ts)}"
