"""Guards on what the mapping lets through: invisible characters, cardinality, and
collisions (two different points with the same series and timestamp).

Each guard is a small stateful object with bounded memory; the mapper (cardinality,
invisible) and the spooler (collisions) call them per message.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Callable

from collector.mapconfig import Limits

log = logging.getLogger(__name__)

#: Unicode "format" characters (category Cf): zero-width spaces and joiners, bidi
#: embeddings/overrides/isolates, the BOM, soft hyphen... They make two different keys
#: look identical, or a value read in a different order than it is stored.
#: (Scanned in the blocks where Unicode has them, so that importing stays fast.)
_INVISIBLE = re.compile("[" + "".join(
    re.escape(chr(c))
    for lo, hi in ((0, 0x14000), (0x1BC00, 0x1D200), (0xE0000, 0xE0080))
    for c in range(lo, hi) if unicodedata.category(chr(c)) == "Cf") + "]")


def invisible(text: str) -> str | None:
    """The first invisible/bidi-control character of `text` as ``U+XXXX NAME``, or None."""
    m = _INVISIBLE.search(text)
    if m is None:
        return None
    c = m.group()
    return f"U+{ord(c):04X} {unicodedata.name(c, 'FORMAT CHARACTER')}"


class Cardinality:
    """Fields per measurement, tag value length and new series per minute.

    `check_*` return a detail string when the limit is hit (the caller dead-letters with
    reason ``cardinality``), else None. Memory is bounded: at most
    `max_fields_per_measurement` keys per measurement for `_MAX_MEASUREMENTS`
    measurements, and `_MAX_KNOWN_SERIES` series hashes (when that fills up it starts
    afresh and the per-minute limit is not applied for one minute).
    """

    _MAX_MEASUREMENTS = 10_000
    _MAX_KNOWN_SERIES = 500_000

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._fields: dict[str, set[str]] = {}
        self._series: set[int] = set()
        self._minute_start = clock()
        self._minute_new = 0
        self._grace_until = 0.0

    def tag_value(self, name: str, value: str) -> str | None:
        if len(value) > self.limits.max_tag_value_chars:
            return (f"tag {name!r} is {len(value)} characters, limit "
                    f"{self.limits.max_tag_value_chars} (mapping.limits.max_tag_value_chars)")
        return None

    def fields(self, measurement: str, keys: list[str]) -> str | None:
        known = self._fields.get(measurement)
        if known is None:
            if len(self._fields) >= self._MAX_MEASUREMENTS:
                self._fields.clear()
            known = self._fields[measurement] = set()
        new = [k for k in keys if k not in known]
        if not new:
            return None
        limit = self.limits.max_fields_per_measurement
        if len(known) + len(new) > limit:
            return (f"measurement {measurement!r} would get {len(known) + len(new)} field "
                    f"keys, limit {limit} (mapping.limits.max_fields_per_measurement)")
        known.update(new)
        return None

    def series(self, key: str) -> str | None:
        h = hash(key)
        if h in self._series:
            return None
        now = self._clock()
        if now - self._minute_start >= 60:
            self._minute_start, self._minute_new = now, 0
        limit = self.limits.max_new_series_per_min
        if self._minute_new >= limit and now >= self._grace_until:
            return (f"more than {limit} new series in a minute "
                    "(mapping.limits.max_new_series_per_min)")
        if len(self._series) >= self._MAX_KNOWN_SERIES:
            self._series.clear()
            self._grace_until = now + 60
        self._series.add(h)
        self._minute_new += 1
        return None


_FIRST_SPACE = re.compile(r"(?<!\\) ")


def _fields(part: str) -> dict[str, str]:
    """`k=v,k2="a,b"` -> {k: v, k2: '"a,b"'} (line-protocol field set, escapes kept)."""
    out: dict[str, str] = {}
    key, buf, in_str, esc = "", [], False, False
    for c in part + ",":
        if esc:
            buf.append(c)
            esc = False
        elif c == "\\":
            buf.append(c)
            esc = True
        elif c == '"':
            buf.append(c)
            in_str = not in_str
        elif c == "=" and not in_str and not key:
            key, buf = "".join(buf), []
        elif c == "," and not in_str:
            out[key] = "".join(buf)
            key, buf = "", []
        else:
            buf.append(c)
    return out


class Collisions:
    """Counts points that would overwrite a different value already written: the same
    series (measurement + tags) and timestamp, a common field with another value. A
    redelivered message (identical line) is no collision. Compares each line with the
    previous line of its series (bounded: forgets everything at `max_series`)."""

    def __init__(self, max_series: int = 200_000) -> None:
        self.max_series = max_series
        self._last: dict[str, tuple[str, str]] = {}  # series -> (ts, field set)
        self._logged: set[str] = set()
        self.total = 0

    def check(self, line: str, series: str = "") -> bool:
        """True if `line` collides with the previous point of its series (`series`: the
        line's `measurement,tags` part when the caller knows it)."""
        if series and line.startswith(series):
            rest, _, ts = line[len(series) + 1:].rpartition(" ")
        else:
            m = _FIRST_SPACE.search(line)
            if m is None:
                return False
            series = line[:m.start()]
            rest, _, ts = line[m.end():].rpartition(" ")
        last = self._last.get(series)
        if last is None:
            if len(self._last) >= self.max_series:
                self._last.clear()
            self._last[series] = (ts, rest)
            return False
        if last[0] != ts:
            self._last[series] = (ts, rest)
            return False
        if last[1] == rest:
            return False
        old, new = _fields(last[1]), _fields(rest)
        clash = sorted(k for k in new if k in old and old[k] != new[k])
        self._last[series] = (ts, ",".join(f"{k}={v}" for k, v in {**old, **new}.items()))
        if not clash:
            return False
        self.total += 1
        if series not in self._logged and len(self._logged) < 10_000:
            self._logged.add(series)
            log.warning("collision: %s at %s gets a second value for %s (the later one "
                        "overwrites the earlier in InfluxDB); give each message its own "
                        "timestamp or a distinguishing tag (docs/collector.md, Collisions). "
                        "Logged once per series.", series[:300], ts, ", ".join(clash[:5]))
        return True
