"""Sparkplug B without a broker: the simulator's payloads, read by the collector's decoder,
give exactly the lines the JSON contract gives for the same frames; dead-letter paths."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from collector.mapping import Ignored, Mapped, Rejected
from collector.sparkplug import SparkplugMapper
from simulator.model import Intervals, PlantModel
from simulator.plant import load_plant
from simulator.sparkplug import SparkplugEncoder
from telemetry import sparkplug_b_pb2 as pb
from telemetry.points import to_line
from telemetry.sparkplug import (
    contract_table,
    get_value,
    parse_topic,
    seq_suffix,
    set_value,
)

from .helpers_sim import MONDAY_0800_LOCAL_MS, PRESS, tiny_plant

ROOT = Path(__file__).resolve().parents[3]


def _run(model: PlantModel, enc: SparkplugEncoder, ticks: int) -> tuple[set[str], list[Any]]:
    """(JSON contract lines, Sparkplug messages incl. births) of `ticks` ticks."""
    want: set[str] = set()
    sp: list[Any] = []
    for nid in enc.nodes:
        sp += enc.births(nid, 0, model.now_ms)
    frame = model.initial_frame()
    for k in range(ticks + 1):
        msgs = list(enc.messages(frame))
        want |= {to_line(t, p) for _, t, p in msgs}
        sp += enc.convert(msgs, frame.ts_ms)
        model.after_emit(frame)
        if k < ticks:
            frame = model.step(force_counts=k + 1 == ticks)
    return want, sp


def _decode(mapper: SparkplugMapper, sp: list[Any]) -> set[str]:
    seqs: dict[str, int] = {}
    got: set[str] = set()
    for _mtype, topic, body in sp:
        node = topic.split("/")[3]
        seq = 0 if _mtype == "NBIRTH" else (seqs[node] + 1) % 256
        seqs[node] = seq
        r = mapper.map(topic, body + seq_suffix(seq), 0)
        assert not isinstance(r, Rejected), (topic, r)
        if isinstance(r, Mapped):
            got |= set(r.line.split("\n"))
    return got


@pytest.mark.parametrize("plant_name", ["tiny faulty press", "default"])
def test_sparkplug_payloads_decode_to_the_json_contracts_lines(plant_name: str,
                                                               tmp_path: Path) -> None:
    if plant_name == "default":
        plant = load_plant(None, 1)
    else:  # a second plant: its own signal (tonnage_t), frequent faults and work orders
        press = copy.deepcopy(PRESS)
        press["mtbf_h"] = 0.2
        press["signals"]["coolant_l_min"] = {"run": 5, "idle": 1, "noise": 0.0,
                                             "unit": "L/min"}
        plant = tiny_plant(machines=3, press=press)
    model = PlantModel(plant, 3, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(5, 30, 60))
    enc = SparkplugEncoder(model)
    want, sp = _run(model, enc, 40 if plant_name == "default" else 240)
    units = {m.name: dict(zip(m.properties.keys, (v.string_value for v in m.properties.values),
                              strict=True)).get("engUnit")
             for mtype, _, body in sp if mtype == "DBIRTH"
             for m in pb.Payload.FromString(body).metrics}
    assert units["telemetry/temp_c"] == "degC" and units["counts/run_s"] == "s"
    if plant_name != "default":  # the plant's own signal, its unit from the types file
        assert units["telemetry/coolant_l_min"] == "L/min"
        assert units["telemetry/tonnage_t"] == "t"
    published: list[tuple[str, bytes]] = []
    mapper = SparkplugMapper(None, tmp_path / "spool.sqlite3",
                             lambda t, b: published.append((t, b)))
    assert _decode(mapper, sp) == want
    assert not published  # no rebirth asked for
    kinds = {line.split(",", 1)[0] for line in want}
    assert {"telemetry", "counts", "state", "meta"} <= kinds
    if plant_name != "default":
        assert {"alarm", "workorder", "downtime"} <= kinds
    # A restarted collector decodes data with the tables the first one stored.
    again = SparkplugMapper(None, tmp_path / "spool.sqlite3")
    data = [m for m in sp if m[0] == "DDATA"]
    r = again.map(data[-1][1], data[-1][2] + seq_suffix(9), 0)
    assert isinstance(r, Mapped) and set(r.line.split("\n")) <= want


def test_dead_letters_and_rebirth_requests(tmp_path: Path) -> None:
    model = PlantModel(tiny_plant(), 1, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(5, 30, 60))
    enc = SparkplugEncoder(model)
    published: list[str] = []
    mapper = SparkplugMapper(None, tmp_path / "spool.sqlite3",
                             lambda t, b: published.append(t))
    frame = model.step()
    _, ddata_topic, ddata = next(  # the line's DDATA (a sales order may come first)
        x for x in enc.convert(enc.messages(frame), frame.ts_ms) if "/_site" not in x[1])

    r = mapper.map(ddata_topic, ddata + seq_suffix(3), 0)
    assert isinstance(r, Rejected) and r.reason == "sparkplug_no_birth"
    assert published == ["spBv1.0/sz/NCMD/hardware:l1"]
    r = mapper.map(ddata_topic, b"\xff\xff\xff", 0)
    assert isinstance(r, Rejected) and r.reason == "sparkplug_bad_protobuf"
    r = mapper.map("spBv1.0/sz/NOPE/x", b"", 0)
    assert isinstance(r, Rejected) and r.reason == "sparkplug_bad_topic"
    assert isinstance(mapper.map("spBv1.0/STATE/host", b"{}", 0), Ignored)

    births = enc.births("hardware:l1", 0, model.now_ms)
    for seq, (_, topic, body) in enumerate(births):
        assert not isinstance(mapper.map(topic, body + seq_suffix(seq), 0), Rejected)
    seq = len(births)
    assert isinstance(mapper.map(ddata_topic, ddata + seq_suffix(seq), 0), Mapped)
    # seq gap: stored all the same, and a rebirth asked for (throttled per node)
    published.clear()
    mapper._asked.clear()
    assert isinstance(mapper.map(ddata_topic, ddata + seq_suffix(seq + 5), 0), Mapped)
    assert published == ["spBv1.0/sz/NCMD/hardware:l1"]
    assert mapper.rebirths["seq_gap"] == 1
    # a redelivery of an earlier message is not a gap
    assert isinstance(mapper.map(ddata_topic, ddata + seq_suffix(seq + 5), 0), Mapped)
    assert mapper.rebirths["seq_gap"] == 1
    # unknown alias, unsupported datatype
    bad = pb.Payload()
    bad.timestamp = 1
    m = bad.metrics.add()
    m.alias, m.timestamp, m.double_value = 999, 1, 1.0
    r = mapper.map(ddata_topic, bad.SerializeToString() + seq_suffix(seq + 6), 0)
    assert isinstance(r, Rejected) and r.reason == "sparkplug_unknown_alias"
    m.alias, m.datatype = 6, pb.DataSet
    r = mapper.map(ddata_topic, bad.SerializeToString() + seq_suffix(seq + 7), 0)
    assert isinstance(r, Rejected) and r.reason == "sparkplug_unknown_datatype"


def test_values_and_seq_round_trip() -> None:
    for dt, value in ((pb.Double, -1.25), (pb.Int64, -7), (pb.Int64, 2**62), (pb.Boolean, True),
                      (pb.String, "华东 \t x"), (pb.Int64, None)):
        m = pb.Payload.Metric()
        set_value(m, dt, value)
        back = pb.Payload.Metric.FromString(m.SerializeToString())
        assert get_value(back, dt) == value
    for seq in range(256):
        p = pb.Payload.FromString(pb.Payload(timestamp=5).SerializeToString() + seq_suffix(seq))
        assert p.seq == seq and p.timestamp == 5
    assert parse_topic("spBv1.0/g/DDATA/a:b/m-1").device == "m-1"


def test_the_contract_doc_has_the_metric_table() -> None:
    doc = (ROOT / "docs" / "contract.md").read_text()
    section = doc[doc.index("## Sparkplug B"):]
    for name, datatype, _kind, unit in contract_table():
        with_unit = rf" \({re.escape(unit)}\)" if unit else r"(?! \()"
        assert re.search(rf"`{re.escape(name)}` {datatype}{with_unit}", section), name


def test_a_foreign_edge_node_without_node_info(tmp_path: Path) -> None:
    mapper = SparkplugMapper(None, tmp_path / "spool.sqlite3")
    nb = pb.Payload(timestamp=1, seq=0)
    m = nb.metrics.add()
    m.name, m.datatype, m.long_value = "bdSeq", pb.Int64, 0
    assert isinstance(mapper.map("spBv1.0/g/NBIRTH/n", nb.SerializeToString(), 0), Ignored)
    db = pb.Payload(timestamp=1, seq=1)
    for alias, (name, dt) in enumerate((("Temperature", pb.Double),
                                        ("state/state_code", pb.Int64)), 1):
        m = db.metrics.add()
        m.name, m.alias, m.datatype, m.timestamp = name, alias, dt, 1
        set_value(m, dt, 2)
    r = mapper.map("spBv1.0/g/DBIRTH/n/d", db.SerializeToString(), 0)
    assert isinstance(r, Rejected) and r.reason == "sparkplug_missing_tag"
    # another vendor's metric names are not the contract's: acknowledged, not stored
    data = pb.Payload(timestamp=2, seq=2)
    m = data.metrics.add()
    m.alias, m.timestamp, m.double_value = 1, 2, 21.5
    assert isinstance(mapper.map("spBv1.0/g/DDATA/n/d", data.SerializeToString(), 0), Ignored)


def test_cli_errors_and_the_collectors_subscription(capsys: pytest.CaptureFixture[str]) -> None:
    from collector.cli import _parser
    from collector.config import load
    from simulator.cli import main

    assert main(["run", "--format", "sparkplug", "--sink", "stdout", "--duration", "1m"]) == 2
    assert "--format sparkplug needs --sink mqtt" in capsys.readouterr().err
    assert main(["run", "--sparkplug-host", "h", "--sink", "null", "--duration", "1m"]) == 2
    assert "--sparkplug-host needs --format sparkplug" in capsys.readouterr().err

    def subs(*argv: str) -> tuple[str, ...]:
        return load(_parser().parse_args(["run", *argv]), env={}).subscriptions

    assert "spBv1.0/#" in subs("--sparkplug")
    assert "spBv1.0/#" not in subs()
    assert subs("--sparkplug", "--topic", "spBv1.0/lyon/#") == ("spBv1.0/lyon/#",)
    assert subs("--sparkplug", "--topic", "+/#") == ("+/#",)


def test_shards_split_the_edge_nodes() -> None:
    from simulator.encode import Shard

    model = PlantModel(load_plant(None, 1), 1, MONDAY_0800_LOCAL_MS,
                       Intervals.from_seconds(5, 30, 60))
    whole = SparkplugEncoder(model)
    parts = [SparkplugEncoder(model, Shard(i, 3)) for i in range(3)]
    ids = [set(p.nodes) for p in parts]
    assert set().union(*ids) == set(whole.nodes)
    assert sum(map(len, ids)) == len(whole.nodes)  # no edge node in two processes
    assert [("_site" in i) for i in ids] == [True, False, False]
