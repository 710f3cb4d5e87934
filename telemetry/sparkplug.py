"""Sparkplug B 3.0 wire shapes both sides share: topics, metric names, datatypes, values.

The payload is the Eclipse Tahu schema (``sparkplug_b.proto``, verbatim) compiled with
``protoc`` into :mod:`telemetry.sparkplug_b_pb2` (``scripts/gen-sparkplug``); this module
adds what the contract decides on top of it (docs/contract.md, "Sparkplug B"):

- group id = the plant's site; one edge node per line (``{area}:{line}``), one per area
  (``{area}``: area-scope kinds such as ``energy``) and one for the site (``_site``:
  ``sales``); device id = machine id.
- metric name = ``{kind}/{field}`` for every contract field and payload tag
  (``telemetry/temp_c``, ``state/state_code``, ``alarm/severity``...).
- the tags a topic carries in the JSON contract (enterprise, area, line) travel as the
  node's ``Node Info/{tag}`` string metrics in NBIRTH; site is the group id, machine the
  device id.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from telemetry import sparkplug_b_pb2 as pb
from telemetry.contract import KINDS, ContractError, FieldType

NAMESPACE = "spBv1.0"
PREFIX = NAMESPACE + "/"
#: Sparkplug message types (the third topic level).
NBIRTH, NDEATH, NDATA, NCMD = "NBIRTH", "NDEATH", "NDATA", "NCMD"
DBIRTH, DDEATH, DDATA, DCMD = "DBIRTH", "DDEATH", "DDATA", "DCMD"
STATE = "STATE"
NODE_TYPES = frozenset({NBIRTH, NDEATH, NDATA, NCMD})
DEVICE_TYPES = frozenset({DBIRTH, DDEATH, DDATA, DCMD})

BDSEQ = "bdSeq"
REBIRTH = "Node Control/Rebirth"
NODE_INFO = "Node Info/"
#: Edge node id of the site-scope kinds (``_site`` is never a valid area id).
SITE_NODE = "_site"

#: Contract field type -> Sparkplug datatype, and back (every integer/float width reads).
DATATYPE: dict[FieldType, int] = {"float": pb.Double, "int": pb.Int64, "bool": pb.Boolean,
                                  "str": pb.String}
_INTS: frozenset[int] = frozenset({pb.Int8, pb.Int16, pb.Int32, pb.Int64, pb.UInt8,
                                   pb.UInt16, pb.UInt32, pb.UInt64, pb.DateTime})
_SIGNED: dict[int, int] = {pb.Int8: 8, pb.Int16: 16, pb.Int32: 32, pb.Int64: 64}
FIELD_TYPE: dict[int, FieldType] = {
    **dict.fromkeys(_INTS, "int"), pb.Float: "float", pb.Double: "float",
    pb.Boolean: "bool", pb.String: "str", pb.Text: "str", pb.UUID: "str"}

_U64 = 1 << 64

#: Birth property naming a metric's engineering unit (the key Ignition's MQTT Engine reads).
UNIT_PROPERTY = "engUnit"
#: Units of the contract's numeric fields (the field names say them); a plant-declared
#: telemetry signal's unit comes from the plant's types file.
FIELD_UNITS = {
    "telemetry/temp_c": "degC", "telemetry/vibration_mm_s": "mm/s",
    "telemetry/vibration_crest": "peak/RMS", "telemetry/power_kw": "kW",
    "telemetry/current_a": "A", "telemetry/load_pct": "%", "telemetry/spindle_rpm": "rpm",
    "telemetry/tonnage_t": "t", "telemetry/oven_temp_c": "degC", "telemetry/pressure_bar": "bar",
    "telemetry/speed_m_min": "m/min", "telemetry/battery_pct": "%",
    "telemetry/flow_m3_min": "m3/min", "counts/run_s": "s", "counts/planned_s": "s",
    "counts/ideal_s": "s", "counts/cycle_time_s": "s", "downtime/duration_s": "s",
    "workorder/progress_pct": "%", "workorder/opened_ts": "ms", "energy/kwh_total": "kWh",
    "energy/kwh": "kWh", "energy/power_kw": "kW", "sales/amount_cny": "CNY",
    "meta/ideal_cycle_s": "s",
}


class SparkplugError(ContractError):
    """A Sparkplug topic or payload that cannot be read; `reason` names why (dead letter)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# -- topics --------------------------------------------------------------------------------
def node_topic(group: str, mtype: str, node: str) -> str:
    return f"{NAMESPACE}/{group}/{mtype}/{node}"


def device_topic(group: str, mtype: str, node: str, device: str) -> str:
    return f"{NAMESPACE}/{group}/{mtype}/{node}/{device}"


def state_topic(host_id: str) -> str:
    """The primary host application's STATE topic (Sparkplug 3.0)."""
    return f"{NAMESPACE}/{STATE}/{host_id}"


def line_node(area: str, line: str) -> str:
    return f"{area}:{line}"


@dataclass(frozen=True)
class SpTopic:
    group: str
    mtype: str
    node: str
    device: str | None = None


def parse_topic(topic: str) -> SpTopic:
    """``spBv1.0/{group}/{type}/{node}[/{device}]`` (STATE: group = host id, node = "")."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != NAMESPACE:
        raise SparkplugError("sparkplug_bad_topic", f"topic {topic!r} is not {NAMESPACE}/...")
    if parts[1] == STATE and len(parts) == 3:
        return SpTopic(parts[2], STATE, "")
    if len(parts) == 4 and parts[2] in NODE_TYPES:
        return SpTopic(parts[1], parts[2], parts[3])
    if len(parts) == 5 and parts[2] in DEVICE_TYPES:
        return SpTopic(parts[1], parts[2], parts[3], parts[4])
    raise SparkplugError("sparkplug_bad_topic", f"topic {topic!r} has an unknown Sparkplug "
                         "shape")


# -- metric names --------------------------------------------------------------------------
def metric_name(kind: str, key: str) -> str:
    return f"{kind}/{key}"


def split_name(name: str) -> tuple[str, str] | None:
    """``"telemetry/temp_c"`` -> ``("telemetry", "temp_c")``; None for other metrics."""
    kind, sep, key = name.partition("/")
    return (kind, key) if sep and kind and key and "/" not in key else None


def kind_metrics(kind: str, extra: Iterable[str] = ()) -> list[tuple[str, int]]:
    """(metric name, datatype) of every field and payload tag of a contract kind, in
    contract order, then `extra` (plant-declared signals: Double)."""
    spec = KINDS[kind]
    out = [(metric_name(kind, k), DATATYPE[t]) for k, t in spec.fields.items()]
    out += [(metric_name(kind, k), pb.String) for k in spec.payload_tags]
    known = {n for n, _ in out}
    out += [(metric_name(kind, k), pb.Double) for k in extra
            if metric_name(kind, k) not in known]
    return out


def datatype_of(kind: str, key: str, value: Any) -> int:
    """The datatype of a field not declared at birth (a new plant signal or tag)."""
    spec = KINDS.get(kind)
    if spec is not None:
        if key in spec.payload_tags:
            return pb.String
        if key in spec.fields:
            return DATATYPE[spec.fields[key]]
    if isinstance(value, bool):
        return pb.Boolean
    if isinstance(value, str):
        return pb.String
    return pb.Double


def contract_table() -> Iterator[tuple[str, str, str, str]]:
    """(metric, datatype name, kind, unit) for every contract field: docs/contract.md."""
    for kind in KINDS:
        for name, dt in kind_metrics(kind):
            yield name, pb.DataType.Name(dt), kind, FIELD_UNITS.get(name, "")


def set_unit(m: pb.Payload.Metric, unit: str) -> None:
    """The ``engUnit`` property of a birth metric."""
    m.properties.keys.append(UNIT_PROPERTY)
    v = m.properties.values.add()
    v.type = pb.String
    v.string_value = unit


# -- values --------------------------------------------------------------------------------
def set_value(m: pb.Payload.Metric, datatype: int, value: Any) -> None:
    """Put `value` into the metric's value field for `datatype` (None: is_null)."""
    if value is None:
        m.is_null = True
    elif datatype == pb.Double:
        m.double_value = float(value)
    elif datatype == pb.Int64:
        m.long_value = int(value) % _U64
    elif datatype == pb.Boolean:
        m.boolean_value = bool(value)
    elif datatype == pb.String:
        m.string_value = str(value)
    else:
        raise SparkplugError("sparkplug_unknown_datatype", f"cannot encode datatype {datatype}")


def get_value(m: pb.Payload.Metric, datatype: int) -> Any:
    """The metric's value as a Python value of its contract type (None when is_null)."""
    if m.is_null:
        return None
    if datatype in _INTS:
        v = m.long_value if m.HasField("long_value") else m.int_value
        bits = _SIGNED.get(datatype)
        if bits is not None and v >= 1 << (bits - 1):
            v -= 1 << bits  # two's complement, as Tahu writes signed integers
        return v
    if datatype == pb.Double:
        return m.double_value
    if datatype == pb.Float:
        f = m.float_value
        return float(f"{f:.7g}") if math.isfinite(f) else f
    if datatype == pb.Boolean:
        return m.boolean_value
    if datatype in (pb.String, pb.Text, pb.UUID):
        return m.string_value
    raise SparkplugError("sparkplug_unknown_datatype",
                         f"metric {m.name or m.alias!r}: datatype {datatype} is not supported")


def seq_suffix(seq: int) -> bytes:
    """Protobuf bytes of ``Payload.seq`` (field 3, varint) to append to a payload that
    has none: the parser reads fields in any order, so payloads encode once and get their
    sequence number at publish time."""
    return bytes((0x18, seq)) if seq < 0x80 else bytes((0x18, (seq & 0x7F) | 0x80, seq >> 7))
