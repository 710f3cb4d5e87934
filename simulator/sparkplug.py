"""Model frames -> Sparkplug B payloads: edge nodes, aliases, births (docs/contract.md).

:class:`SparkplugEncoder` is an :class:`~simulator.encode.Encoder` whose ``encoded``
gives one NDATA/DDATA per edge node/device per frame instead of one JSON message per
kind, carrying exactly the contract messages of that frame as metrics (alias, value,
each message's own timestamp). It keeps the alias table of every edge node and the
last value of every metric, from which :meth:`SparkplugEncoder.births` writes NBIRTH and
DBIRTH. Payloads have no ``seq``: the edge-node session appends it when it publishes
(:func:`telemetry.sparkplug.seq_suffix`). MQTT is :mod:`simulator.edge_nodes`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from simulator.encode import Encoder, Message, Shard
from simulator.model import Frame, PlantModel
from telemetry import sparkplug_b_pb2 as pb
from telemetry.sparkplug import (
    BDSEQ,
    DBIRTH,
    DDATA,
    DDEATH,
    FIELD_UNITS,
    NBIRTH,
    NDATA,
    NDEATH,
    NODE_INFO,
    REBIRTH,
    SITE_NODE,
    datatype_of,
    device_topic,
    kind_metrics,
    line_node,
    node_topic,
    set_unit,
    set_value,
)

log = logging.getLogger(__name__)

#: (sparkplug message type, topic, payload without seq)
SpMessage = tuple[str, str, bytes]

_MACHINE_KINDS = ("state", "telemetry", "alarm", "workorder", "meta")
_PRODUCING_KINDS = ("counts", "downtime")


@dataclass
class EdgeNode:
    """One edge node's identity, alias table and last values (guarded by the encoder lock)."""

    id: str
    info: dict[str, str]
    devices: list[str] = field(default_factory=list)
    #: (device or None, metric name) -> (alias, datatype); births list them in this order.
    aliases: dict[tuple[str | None, str], tuple[int, int]] = field(default_factory=dict)
    #: (device or None, metric name) -> (timestamp ms, value) last published or born.
    last: dict[tuple[str | None, str], tuple[int, Any]] = field(default_factory=dict)
    #: a metric appeared that the last birth did not declare: rebirth before the next data
    grown: bool = False
    #: (device or None, metric name) -> engineering unit (the births' ``engUnit``)
    units: dict[tuple[str | None, str], str] = field(default_factory=dict)
    #: (device, kind) -> field -> (alias, datatype, key of `last`): the encoder's cache
    slots: dict[tuple[str | None, str], dict[str, tuple[int, int, tuple[str | None, str]]]] = \
        field(default_factory=dict)

    def declare(self, device: str | None, metrics: Iterable[tuple[str, int]]) -> None:
        if device is not None and device not in self.devices:
            self.devices.append(device)
        for name, datatype in metrics:
            self.aliases.setdefault((device, name), (len(self.aliases) + 1, datatype))
            if name in FIELD_UNITS:
                self.units.setdefault((device, name), FIELD_UNITS[name])


class SparkplugEncoder(Encoder):
    #: a sensor dropout is the metric with is_null (Sparkplug B's explicit null value)
    dropout_as_null = True

    def __init__(self, model: PlantModel, shard: Shard | None = None) -> None:
        super().__init__(model, shard)
        plant = model.plant
        self.group = plant.site
        self.lock = threading.RLock()
        self.nodes: dict[str, EdgeNode] = {}
        #: JSON contract topic -> (edge node, device or None)
        self.route: dict[str, tuple[str, str | None]] = {}
        signals = {int(i): names for idx, names in self.tele_groups for i in idx.tolist()}
        e = plant.enterprise
        for i in self.owned.tolist():
            m = model.machines[i]
            nid = line_node(m.area, m.line)
            node = self.nodes.get(nid)
            if node is None:
                node = self.nodes[nid] = EdgeNode(nid, {"enterprise": e, "area": m.area,
                                                        "line": m.line})
            kinds = _MACHINE_KINDS + (_PRODUCING_KINDS if model.producing[i] else ())
            for kind in kinds:
                extra = signals.get(i, ()) if kind == "telemetry" else ()
                node.declare(m.id, kind_metrics(kind, extra))
                self.route[self.topics[kind][i]] = (nid, m.id)
            for sig in plant.types[m.type].signals:  # the plant's own units win
                if sig.unit:
                    node.units[(m.id, f"telemetry/{sig.name}")] = sig.unit
        for a in self.areas:
            aid = model.area_ids[a]
            self.nodes[aid] = EdgeNode(aid, {"enterprise": e, "area": aid})
            self.nodes[aid].declare(None, kind_metrics("energy"))
            self.route[self.energy_topics[a]] = (aid, None)
        if self.sales_topic is not None:
            self.nodes[SITE_NODE] = EdgeNode(SITE_NODE, {"enterprise": e})
            self.nodes[SITE_NODE].declare(None, kind_metrics("sales"))
            self.nodes[SITE_NODE].units[(None, "sales/amount_cny")] = plant.business.currency
            self.route[self.sales_topic] = (SITE_NODE, None)
        # The machines' meta (online) at the start: the first DBIRTHs carry it, whenever
        # the connections come up (the JSON sink's retained birth).
        self.record(self.meta(model.now_ms))

    # -- data ------------------------------------------------------------------------------
    def encoded(self, frame: Frame) -> Iterator[SpMessage]:
        """One NDATA/DDATA per edge node/device with messages in this frame."""
        return iter(self.convert(self.messages(frame), frame.ts_ms))

    def convert(self, messages: Iterable[Message], ts: int,
                with_meta: bool = False) -> list[SpMessage]:
        """Contract messages -> Sparkplug data messages (``meta`` only updates the birth
        values unless `with_meta`: it travels in DBIRTH, like the JSON retained birth)."""
        groups: dict[tuple[str, str | None], list[tuple[str, dict[str, Any]]]] = {}
        for kind, topic, payload in messages:
            key = self.route.get(topic)
            if key is None:
                log.warning("no Sparkplug edge node for %s: not published", topic)
                continue
            groups.setdefault(key, []).append((kind, payload))
        out: list[SpMessage] = []
        with self.lock:
            for (nid, device), msgs in groups.items():
                body = self._data(self.nodes[nid], device, msgs, ts, with_meta)
                if body is not None:
                    mtype = DDATA if device is not None else NDATA
                    sp_topic = (device_topic(self.group, mtype, nid, device)
                                if device is not None else node_topic(self.group, mtype, nid))
                    out.append((mtype, sp_topic, body))
        return out

    def _data(self, node: EdgeNode, device: str | None,
              msgs: list[tuple[str, dict[str, Any]]], ts: int, with_meta: bool) -> bytes | None:
        p = pb.Payload()
        p.timestamp = ts
        add = p.metrics.add
        last, slots = node.last, node.slots
        sent = 0
        for kind, payload in msgs:
            mts = payload["ts"]
            send = with_meta or kind != "meta"
            table = slots.get((device, kind))
            if table is None:
                table = slots[(device, kind)] = {}
            for key, value in payload.items():
                slot = table.get(key)
                if slot is None:
                    if key == "ts":
                        continue
                    slot = table[key] = self._slot(node, device, kind, key, value)
                last[slot[2]] = (mts, value)
                if send:
                    m = add()
                    m.alias = slot[0]
                    m.timestamp = mts
                    if slot[1] == pb.Double and value is not None:
                        m.double_value = value
                    else:
                        set_value(m, slot[1], value)
                    sent += 1
        return p.SerializeToString() if sent else None

    @staticmethod
    def _slot(node: EdgeNode, device: str | None, kind: str, key: str,
              value: Any) -> tuple[int, int, tuple[str | None, str]]:
        """(alias, datatype, last-value key) of a field; a new one grows the birth."""
        name = f"{kind}/{key}"
        entry = node.aliases.get((device, name))
        if entry is None:
            node.declare(device, [(name, datatype_of(kind, key, value))])
            entry = node.aliases[(device, name)]
            node.grown = True
            log.info("Sparkplug: new metric %s on %s/%s: rebirth", name, node.id, device)
        return entry[0], entry[1], (device, name)

    def record(self, messages: Iterable[Message]) -> None:
        """Remember values for the next births without publishing them (birth meta)."""
        for kind, topic, payload in messages:
            key = self.route.get(topic)
            if key is not None:
                with self.lock:
                    self._data(self.nodes[key[0]], key[1], [(kind, payload)], 0, False)

    # -- births and deaths -----------------------------------------------------------------
    def births(self, nid: str, bd_seq: int, ts: int) -> list[SpMessage]:
        """NBIRTH then a DBIRTH per device: every metric with name, alias, datatype and its
        last value and timestamp (is_null before the first one)."""
        with self.lock:
            node = self.nodes[nid]
            node.grown = False
            p = pb.Payload()
            p.timestamp = ts
            heads: list[tuple[str, int, Any]] = [(BDSEQ, pb.Int64, bd_seq),
                                                 (REBIRTH, pb.Boolean, False)]
            heads += [(NODE_INFO + k, pb.String, v) for k, v in node.info.items()]
            for hname, htype, hvalue in heads:
                m = p.metrics.add()
                m.name, m.datatype, m.timestamp = hname, htype, ts
                set_value(m, htype, hvalue)
            by_device: dict[str | None, pb.Payload] = {None: p}
            for device in node.devices:
                by_device[device] = pb.Payload()
                by_device[device].timestamp = ts
            for (dev, name), (alias, dt) in node.aliases.items():
                m = by_device[dev].metrics.add()
                m.name, m.alias, m.datatype = name, alias, dt
                mts, value = node.last.get((dev, name), (ts, None))
                m.timestamp = mts
                set_value(m, dt, value)
                unit = node.units.get((dev, name))
                if unit:
                    set_unit(m, unit)
            out = [(NBIRTH, node_topic(self.group, NBIRTH, nid), p.SerializeToString())]
            out += [(DBIRTH, device_topic(self.group, DBIRTH, nid, d),
                     by_device[d].SerializeToString()) for d in node.devices]
            return out

    def ddeaths(self, nid: str, ts: int) -> list[SpMessage]:
        p = pb.Payload()
        p.timestamp = ts
        body = p.SerializeToString()
        return [(DDEATH, device_topic(self.group, DDEATH, nid, d), body)
                for d in self.nodes[nid].devices]

    def ndeath(self, nid: str, bd_seq: int, ts: int) -> SpMessage:
        """NDEATH (the MQTT will): the bdSeq of the NBIRTH it ends, no seq."""
        p = pb.Payload()
        p.timestamp = ts
        m = p.metrics.add()
        m.name, m.datatype, m.timestamp = BDSEQ, pb.Int64, ts
        set_value(m, pb.Int64, bd_seq)
        return NDEATH, node_topic(self.group, NDEATH, nid), p.SerializeToString()
