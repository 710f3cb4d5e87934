"""Sparkplug B host side: births -> alias tables (kept in the spool), data -> contract points.

:class:`SparkplugMapper` is the collector's :class:`~collector.mapping.Mapper` with
``spBv1.0/...`` topics added (``--sparkplug``). It keeps, per edge node, the tags of its
NBIRTH (``Node Info/*``, the group id as ``site``) and the alias -> (name, datatype) tables
of the node and of each device, writes them to the spool's SQLite file before the birth is
acknowledged and reads them back at start, so a restarted collector decodes the data the
broker kept for it. Each NDATA/DDATA (and every value a birth carries) becomes the
contract's messages: metric ``{kind}/{field}`` -> measurement ``kind``, field or payload
tag ``field``, each mapped by the JSON path itself (its contract topic and payload), so
the same checks, limits and lines apply.

Asks for a rebirth (NCMD ``Node Control/Rebirth``) on data from an unknown edge node or
device, on an unknown alias and on a ``seq`` gap (at most once per edge node every
:data:`REBIRTH_EVERY_S` until its NBIRTH). Undecodable protobuf, unsupported datatypes and
metrics without a birth are dead letters (``sparkplug_*`` reasons). One message gives one
spool row holding all its lines.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError

from collector.mapping import Ignored, Mapped, Mapper, MappingConfig, MapResult, Rejected
from telemetry import sparkplug_b_pb2 as pb
from telemetry.contract import TS_KEY, Kind
from telemetry.lineprotocol import LineProtocolError
from telemetry.sparkplug import (
    BDSEQ,
    DBIRTH,
    DDATA,
    DDEATH,
    NBIRTH,
    NCMD,
    NDATA,
    NDEATH,
    NODE_INFO,
    PREFIX,
    REBIRTH,
    STATE,
    SparkplugError,
    SpTopic,
    get_value,
    node_topic,
    parse_topic,
    set_value,
    split_name,
    state_topic,
)
from telemetry.topics import area_topic, machine_topic, site_topic

log = logging.getLogger(__name__)

#: Least seconds between two rebirth requests to one edge node (until its NBIRTH).
REBIRTH_EVERY_S = 5.0
#: Dead-letter reasons of Sparkplug messages (beside the mapping's own).
REASONS = ("sparkplug_bad_topic", "sparkplug_bad_protobuf", "sparkplug_no_birth",
           "sparkplug_unknown_alias", "sparkplug_unknown_datatype", "sparkplug_missing_tag")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sparkplug_nodes (
    grp TEXT NOT NULL, node TEXT NOT NULL, bd_seq INTEGER, tags TEXT NOT NULL,
    PRIMARY KEY (grp, node));
CREATE TABLE IF NOT EXISTS sparkplug_metrics (
    grp TEXT NOT NULL, node TEXT NOT NULL, device TEXT NOT NULL, name TEXT NOT NULL,
    alias INTEGER, datatype INTEGER NOT NULL, PRIMARY KEY (grp, node, device, name));
"""

Table = dict[str, tuple[str, int]]  # "a<alias>" or "n<name>" -> (name, datatype)


@dataclass
class NodeState:
    tags: dict[str, str]
    bd_seq: int | None
    #: device ("" = the edge node itself) -> its birth table
    tables: dict[str, Table] = field(default_factory=dict)
    last_seq: int | None = None


class AliasStore:
    """Birth tables in the spool's SQLite file (own connection; only the spooler uses it)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, timeout=60, isolation_level=None,
                                    check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.executescript(_SCHEMA)

    def load(self) -> dict[tuple[str, str], NodeState]:
        nodes = {(g, n): NodeState(json.loads(tags), bd)
                 for g, n, bd, tags in self.conn.execute("SELECT * FROM sparkplug_nodes")}
        for g, n, dev, name, alias, dt in self.conn.execute("SELECT * FROM sparkplug_metrics"):
            node = nodes.get((g, n))
            if node is not None:
                _remember(node.tables.setdefault(dev, {}), name, alias, dt)
        return nodes

    def save(self, group: str, node: str, device: str, state: NodeState) -> None:
        """One birth, atomically: NBIRTH (device "") replaces the node and all devices."""
        c = self.conn
        rows = [(group, node, device, name, _alias_of(table_key, state.tables[device]), dt)
                for table_key, (name, dt) in state.tables[device].items()
                if table_key.startswith("n")]
        c.execute("BEGIN IMMEDIATE")
        try:
            if device == "":
                c.execute("DELETE FROM sparkplug_metrics WHERE grp=? AND node=?", (group, node))
                c.execute("INSERT OR REPLACE INTO sparkplug_nodes VALUES (?,?,?,?)",
                          (group, node, state.bd_seq, json.dumps(state.tags)))
            else:
                c.execute("DELETE FROM sparkplug_metrics WHERE grp=? AND node=? AND device=?",
                          (group, node, device))
            c.executemany("INSERT OR REPLACE INTO sparkplug_metrics VALUES (?,?,?,?,?,?)", rows)
            c.execute("COMMIT")
        except sqlite3.Error:
            c.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()


def _remember(table: Table, name: str, alias: int | None, datatype: int) -> None:
    table["n" + name] = (name, datatype)
    if alias is not None:
        table[f"a{alias}"] = (name, datatype)


def _alias_of(table_key: str, table: Table) -> int | None:
    name = table_key[1:]
    for k, (n, _) in table.items():
        if k.startswith("a") and n == name:
            return int(k[1:])
    return None


class SparkplugMapper(Mapper):
    """The contract mapping plus Sparkplug B (``spBv1.0/#``)."""

    def __init__(self, config: MappingConfig | None, spool_file: Path,
                 publish: Callable[[str, bytes], Any] | None = None) -> None:
        super().__init__(config)
        self.store = AliasStore(spool_file)
        self.nodes = self.store.load()
        self.publish = publish
        self.rebirths: Counter[str] = Counter()  # requests sent, by cause
        self._dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
        self._asked: dict[tuple[str, str], float] = {}
        if self.nodes:
            log.info("Sparkplug: %d edge nodes' birth tables restored from %s",
                     len(self.nodes), spool_file)

    def map(self, topic: str, payload: bytes, ingest_ms: int) -> MapResult:
        if not topic.startswith(PREFIX):
            return super().map(topic, payload, ingest_ms)
        try:
            return self._map_sparkplug(parse_topic(topic), payload, ingest_ms)
        except SparkplugError as exc:
            return Rejected(exc.reason, exc.detail)
        except LineProtocolError as exc:
            return Rejected(exc.reason, exc.detail)
        except Exception as exc:  # a mapper bug must never stop the collector
            log.exception("mapping Sparkplug %r failed unexpectedly", topic)
            return Rejected("internal_error", f"{type(exc).__name__}: {exc}")

    def _map_sparkplug(self, t: SpTopic, payload: bytes, ingest_ms: int) -> MapResult:
        if t.mtype == STATE:
            return Ignored("sparkplug_state")
        if t.mtype.endswith("CMD"):
            return Ignored("sparkplug_command")
        if len(payload) > self.config.max_payload_bytes:
            return Rejected("oversize", f"payload is {len(payload)} bytes, limit "
                            f"{self.config.max_payload_bytes}")
        try:
            p = pb.Payload.FromString(payload)
        except (DecodeError, ValueError) as exc:
            raise SparkplugError("sparkplug_bad_protobuf",
                                 f"not a Sparkplug B payload: {exc}") from None
        key = (t.group, t.node)
        if t.mtype == NBIRTH:
            return self._nbirth(t, key, p, ingest_ms)
        node = self.nodes.get(key)
        if t.mtype == NDEATH:
            return Ignored("sparkplug_death")
        if node is None:
            self._rebirth(t, "no_birth")
            raise SparkplugError("sparkplug_no_birth",
                                 f"{t.mtype} from edge node {t.group}/{t.node} before its NBIRTH")
        self._check_seq(t, node, p)
        device = t.device or ""
        if t.mtype == DBIRTH:
            node.tables[device] = self._table(p)
            self.store.save(t.group, t.node, device, node)
            return self._points(t, node, node.tables[device], p, ingest_ms, "sparkplug_birth")
        if t.mtype == DDEATH:
            return Ignored("sparkplug_death")
        if t.mtype not in (NDATA, DDATA):
            return Ignored("sparkplug_other")
        table = node.tables.get(device)
        if table is None:
            self._rebirth(t, "no_birth")
            raise SparkplugError("sparkplug_no_birth",
                                 f"DDATA from device {t.group}/{t.node}/{device} before its "
                                 "DBIRTH")
        return self._points(t, node, table, p, ingest_ms, "sparkplug_no_points")

    def _nbirth(self, t: SpTopic, key: tuple[str, str], p: pb.Payload,
                ingest_ms: int) -> MapResult:
        tags = {"site": t.group}
        bd_seq = None
        for m in p.metrics:
            if m.name.startswith(NODE_INFO) and m.HasField("string_value"):
                tags[m.name[len(NODE_INFO):]] = m.string_value
            elif m.name == BDSEQ:
                bd_seq = int(get_value(m, m.datatype or pb.Int64))
        node = NodeState(tags, bd_seq, {"": self._table(p)}, p.seq if p.HasField("seq") else None)
        self.nodes[key] = node
        self._asked.pop(key, None)
        self.store.save(t.group, t.node, "", node)
        return self._points(t, node, node.tables[""], p, ingest_ms, "sparkplug_birth")

    @staticmethod
    def _table(p: pb.Payload) -> Table:
        table: Table = {}
        for m in p.metrics:
            if m.name:
                _remember(table, m.name, m.alias if m.HasField("alias") else None, m.datatype)
        return table

    def _check_seq(self, t: SpTopic, node: NodeState, p: pb.Payload) -> None:
        if not p.HasField("seq"):
            return
        last = node.last_seq
        ahead = 1 if last is None else (p.seq - last) % 256
        if ahead == 0 or ahead > 128:
            return  # a redelivery (at least once) of this or an earlier message
        node.last_seq = p.seq
        if ahead > 1:
            log.warning("Sparkplug: seq gap on %s/%s (%d after %d)", t.group, t.node, p.seq,
                        last)
            self._rebirth(t, "seq_gap")

    def _rebirth(self, t: SpTopic, cause: str) -> None:
        key = (t.group, t.node)
        now = time.monotonic()
        if self.publish is None or now - self._asked.get(key, -1e9) < REBIRTH_EVERY_S:
            return
        self._asked[key] = now
        cmd = pb.Payload()
        cmd.timestamp = int(time.time() * 1000)
        m = cmd.metrics.add()
        m.name, m.datatype = REBIRTH, pb.Boolean
        set_value(m, pb.Boolean, True)
        self.rebirths[cause] += 1
        log.info("Sparkplug: asking %s/%s for a rebirth (%s)", t.group, t.node, cause)
        self.publish(node_topic(t.group, NCMD, t.node), cmd.SerializeToString())

    def _points(self, t: SpTopic, node: NodeState, table: Table, p: pb.Payload,
                ingest_ms: int, empty: str) -> MapResult:
        """Every contract metric with a value -> one point per (kind, timestamp) message."""
        tags = dict(node.tags)
        if t.device is not None:
            tags["machine"] = t.device
        measurements = self.config.measurements
        messages: list[tuple[Kind, int, dict[str, Any]]] = []
        for m in p.metrics:
            entry = table.get(f"a{m.alias}") if m.HasField("alias") else None
            if entry is None:
                entry = table.get("n" + m.name) if m.name else None
            if entry is None:
                self._rebirth(t, "unknown_alias")
                raise SparkplugError("sparkplug_unknown_alias",
                                     f"metric {m.name or m.alias!r} of {t.node}/{t.device} "
                                     "was not declared in its birth")
            name, datatype = entry
            parts = split_name(name)
            spec = measurements.get(parts[0]) if parts else None
            if parts is None or spec is None or m.is_null:
                continue
            value = get_value(m, m.datatype or datatype)
            ts = m.timestamp if m.HasField("timestamp") else (p.timestamp or ingest_ms)
            if not (messages and messages[-1][0] is spec and messages[-1][1] == ts
                    and parts[1] not in messages[-1][2]):
                messages.append((spec, ts, {}))
            messages[-1][2][parts[1]] = value
        if not messages:
            return Ignored(empty)
        lines = []
        for spec, ts, fields in messages:
            topic = self._contract_topic(spec, tags)
            if topic is None:
                raise SparkplugError("sparkplug_missing_tag",
                                     f"{t.node}/{t.device}: no Node Info/* for the tags of "
                                     f"{spec.measurement!r} ({', '.join(spec.levels)})")
            r = Mapper._map(self, topic, self._dumps({TS_KEY: ts, **fields}).encode(),
                            ingest_ms)
            if not isinstance(r, Mapped):
                return r
            lines.append(r.line)
        return Mapped("\n".join(lines), messages[0][0].measurement, messages[0][1])

    @staticmethod
    def _contract_topic(spec: Kind, tags: dict[str, str]) -> str | None:
        """The JSON contract topic of a message, so it maps exactly as the JSON one would
        (same checks, limits and line)."""
        try:
            if spec.scope == "area":
                return area_topic(tags["enterprise"], tags["site"], tags["area"], spec.name)
            if spec.scope == "site":
                return site_topic(tags["enterprise"], tags["site"], spec.name)
            return machine_topic(tags["enterprise"], tags["site"], tags["area"], tags["line"],
                                 tags["machine"], spec.name)
        except KeyError:
            return None

    def close(self) -> None:
        self.store.close()


class PrimaryHost:
    """The collector as a Sparkplug primary host application (``sparkplug_host_id``):
    retained ``spBv1.0/STATE/{id}`` online after every subscription, offline as the will
    and on a clean stop (the same timestamp in both, as Sparkplug 3.0 asks). Edge nodes
    configured with this host id (``factory-sim --sparkplug-host``) publish only while it
    is online."""

    def __init__(self, client: Any, host_id: str) -> None:
        self.client = client
        self.topic = state_topic(host_id)
        self.ts = int(time.time() * 1000)
        client.will_set(self.topic, self._body(False), qos=1, retain=True)
        chained = client.on_subscribe

        def on_subscribe(*args: Any) -> None:
            if chained is not None:
                chained(*args)
            client.publish(self.topic, self._body(True), qos=1, retain=True)

        client.on_subscribe = on_subscribe

    def _body(self, online: bool) -> bytes:
        return json.dumps({"online": online, "timestamp": self.ts}).encode()

    def offline(self, timeout_s: float = 5.0) -> None:
        info = self.client.publish(self.topic, self._body(False), qos=1, retain=True)
        with contextlib.suppress(RuntimeError, ValueError):  # not connected: the will says it
            info.wait_for_publish(timeout_s)
