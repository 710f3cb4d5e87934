"""Fast message -> line protocol for backfill, equal byte for byte to ``to_line``.

:func:`telemetry.points.to_line` parses the topic, coerces and escapes every field of
every message: about 25 us a point on a small VM, too slow for a 7-day backfill. The
simulator's own messages have a fixed shape per (topic, field keys), so this caches
what ``to_line`` would compute once per series:

- the measurement + tag prefix, taken from :func:`telemetry.lineprotocol.encode_point`
  itself (so escaping stays in one place);
- a ``%``-template for the fields when they are all floats (``%r``, exactly what
  ``format_field`` writes) and ints (``%di``).

Messages with string or boolean fields, payload tags or anything unusual go through
``to_line`` unchanged. ``tests/unit/simulator/test_sim_lines.py`` checks the two agree on
every message of a simulated day.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telemetry.contract import KINDS, TS_KEY
from telemetry.lineprotocol import encode_point, format_field
from telemetry.points import coerce, to_line
from telemetry.topics import parse

_FAST_KINDS = {k for k, spec in KINDS.items()
               if not spec.payload_tags and all(t in ("float", "int")
                                                for t in spec.fields.values())}
#: No payload tags but string/bool fields: cached prefix, fields formatted per message.
_PLAIN_KINDS = {k for k, spec in KINDS.items() if not spec.payload_tags} - _FAST_KINDS


class LineEncoder:
    def __init__(self) -> None:
        self._prefix: dict[str, str] = {}
        self._template: dict[tuple[str, tuple[str, ...]],
                             tuple[str, tuple[type, ...]] | None] = {}
        self._plain_ok: dict[tuple[str, tuple[str, ...]], bool] = {}

    def line(self, kind: str, topic: str, payload: Mapping[str, Any]) -> str:
        """The line ``to_line(topic, payload)`` returns, faster for repeated shapes."""
        if kind not in _FAST_KINDS:
            if kind in _PLAIN_KINDS:
                return self._plain(kind, topic, payload)
            return to_line(topic, payload)
        tkey = (kind, tuple(payload))
        try:
            entry = self._template[tkey]
        except KeyError:
            entry = self._template[tkey] = self._build(kind, tkey[1])
        if entry is None:
            return to_line(topic, payload)
        template, types = entry
        if tuple(map(type, payload.values())) != types:
            return to_line(topic, payload)
        prefix = self._prefix.get(topic)
        if prefix is None:
            t = parse(topic)
            if t.kind != kind:
                return to_line(topic, payload)
            # encode_point does the escaping; cut its field and timestamp off again.
            prefix = encode_point(t.kind, t.tags, {"x": 0}, 0).rsplit(" ", 2)[0]
            self._prefix[topic] = prefix
        return prefix + template % payload

    def _plain(self, kind: str, topic: str, payload: Mapping[str, Any]) -> str:
        """Kinds with string/bool fields but no payload tags (state, meta, energy): the
        cached prefix plus what ``payload_point`` does per field (``coerce`` then
        ``format_field``), skipping its per-message topic parse and tag escaping."""
        keys = tuple(payload)
        ok = self._plain_ok.get((kind, keys))
        if ok is None:
            spec = KINDS[kind]
            ok = self._plain_ok[kind, keys] = (
                keys.count(TS_KEY) == 1 and len(keys) >= 2
                and all(k in keys for k in spec.required))
        ts = payload[TS_KEY] if ok else None
        if type(ts) is not int:
            return to_line(topic, payload)
        prefix = self._prefix.get(topic)
        if prefix is None:
            t = parse(topic)
            if t.kind != kind:
                return to_line(topic, payload)
            prefix = self.prefix(topic)
        fields = KINDS[kind].fields
        return (prefix + " "
                + ",".join([format_field(k, coerce(k, v, fields.get(k, "float")))
                            for k, v in payload.items() if k != TS_KEY])
                + f" {ts}")

    @staticmethod
    def _build(kind: str, keys: tuple[str, ...]) -> tuple[str, tuple[type, ...]] | None:
        if len(keys) < 2 or keys.count(TS_KEY) != 1:
            return None
        fields = KINDS[kind].fields
        parts = []
        types: list[type] = []
        for k in keys:
            if k == TS_KEY:
                types.append(int)
                continue
            if any(c in k for c in "%()"):
                return None
            ftype = fields.get(k, "float")
            key = format_field(k, 0.0).rsplit("=", 1)[0].replace("%", "%%")
            if ftype == "float":
                parts.append(f"{key}=%({k})r")
                types.append(float)
            elif ftype == "int":
                parts.append(f"{key}=%({k})di")
                types.append(int)
            else:
                return None
        return " " + ",".join(parts) + f" %({TS_KEY})d", tuple(types)

    # -- direct formatting from columns (no payload dicts) ---------------------------------
    def prefix(self, topic: str) -> str:
        """Measurement and tags of a topic's series, escaped by ``encode_point``."""
        prefix = self._prefix.get(topic)
        if prefix is None:
            t = parse(topic)
            prefix = encode_point(t.kind, t.tags, {"x": 0}, 0).rsplit(" ", 2)[0]
            self._prefix[topic] = prefix
        return prefix

    @staticmethod
    def positional(kind: str, keys: tuple[str, ...]) -> str:
        """``" k1=%r,k2=%di %d"``: fields in order, then the timestamp, as to_line writes.

        Only for float/int fields whose values are exactly float/int (the caller's
        guarantee, checked against ``to_line`` by the tests).
        """
        fields = KINDS[kind].fields
        parts = []
        for k in keys:
            ftype = fields.get(k, "float")
            key = format_field(k, 0.0).rsplit("=", 1)[0].replace("%", "%%")
            if ftype not in ("float", "int"):
                raise ValueError(f"{kind}.{k} is not numeric")
            parts.append(f"{key}=%r" if ftype == "float" else f"{key}=%di")
        return " " + ",".join(parts) + " %d"
