"""Interop: an independent Sparkplug B decoder reads every message of `--format sparkplug`.

The decoder is not the code under test: protoc (grpcio-tools) compiles Eclipse Tahu's
sparkplug_b.proto into a descriptor set at test time, loaded into a private descriptor
pool, and the checks below are the Sparkplug 3.0 rules written out here, not the
simulator's or collector's helpers.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from paho.mqtt.enums import CallbackAPIVersion

from telemetry.endpoints import MqttEndpoint

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
# Sparkplug datatype ids (spec 3.0 / Tahu) and the Payload.Metric value field each uses.
VALUE_FIELD = {4: "long_value", 10: "double_value", 11: "boolean_value", 12: "string_value"}
CONTRACT_KINDS = {"state", "telemetry", "counts", "downtime", "alarm", "workorder", "meta",
                  "energy", "sales"}


def independent_payload_class(tmp: Path) -> Any:
    """Payload message class from the upstream .proto, compiled now, in its own pool."""
    out = tmp / "sparkplug.desc"
    from grpc_tools import protoc

    rc = protoc.main(["protoc", f"-I{REPO / 'telemetry'}", f"--descriptor_set_out={out}",
                      str(REPO / "telemetry" / "sparkplug_b.proto")])
    assert rc == 0
    fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for f in fds.file:
        pool.Add(f)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("org.eclipse.tahu.protobuf.Payload"))


@pytest.mark.parametrize("plant", [None, "docs/examples/acme-lyon.yaml"])
def test_an_independent_decoder_reads_every_sparkplug_message(plant: str | None, mqtt_url: str,
                                                              tmp_path: Path) -> None:
    from simulator.plant import load_plant

    payload_cls = independent_payload_class(tmp_path)
    layout = load_plant(REPO / plant if plant else None, 1)
    site = f"sp{uuid.uuid4().hex[:8]}"
    got: list[tuple[str, bytes]] = []
    cond = threading.Condition()
    subscribed = threading.Event()
    ep = MqttEndpoint.from_url(mqtt_url)
    sub = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)
    sub.on_subscribe = lambda *a: subscribed.set()

    def on_message(_c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        with cond:
            got.append((msg.topic, bytes(msg.payload)))
            cond.notify_all()

    def of_type(mtype: str) -> set[str]:
        return {t.split("/")[3] for t, _ in got if t.split("/")[2] == mtype}

    sub.on_message = on_message
    sub.on_connect = lambda c, *a: c.subscribe(f"spBv1.0/{site}/#", qos=1)
    sub.connect(ep.host, ep.port)
    sub.loop_start()
    try:
        assert subscribed.wait(10)
        proc = subprocess.run(
            [sys.executable, "-m", "simulator", "run", "--format", "sparkplug", "--site", site,
             *(["--plant", plant] if plant else []),
             "--speed", "max", "--duration", "3m", "--seed", "3",
             "--start", "2026-01-05T00:00:00Z", "--qos", "telemetry=1",
             "--mqtt-url", mqtt_url], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        with cond:  # every edge node's NDEATH (the last message of its session) is in
            assert cond.wait_for(lambda: of_type("NDEATH") == of_type("NBIRTH"), 30), \
                Counter(t.split("/")[2] for t, _ in got)
    finally:
        sub.disconnect()
        sub.loop_stop()

    by_node: dict[str, list[tuple[str, str | None, Any]]] = defaultdict(list)
    for topic, body in got:
        parts = topic.split("/")
        assert parts[0] == "spBv1.0" and parts[1] == site
        p = payload_cls.FromString(body)  # every message decodes
        by_node[parts[3]].append((parts[2], parts[4] if len(parts) == 5 else None, p))
    # an edge node per line, per area and the site; a device per machine
    assert len(by_node) == len(layout.lines) + len(layout.areas) + 1
    types = Counter(mtype for msgs in by_node.values() for mtype, _, _ in msgs)
    assert types["DBIRTH"] == types["DDEATH"] == len(layout.machines)
    assert {d for msgs in by_node.values() for t, d, _ in msgs if t == "DDATA"} == {
        m.id for m in layout.machines}
    for node, msgs in by_node.items():
        _check_node(node, msgs)


def _check_node(node: str, msgs: list[tuple[str, str | None, Any]]) -> None:
    first_type, _, first = msgs[0]
    assert first_type == "NBIRTH", node
    assert first.seq == 0
    heads = {m.name: m for m in first.metrics}
    assert heads["bdSeq"].datatype == 4  # Int64
    bd_seq = heads["bdSeq"].long_value
    assert heads["Node Control/Rebirth"].datatype == 11
    assert "Node Info/enterprise" in heads
    last_type, _, last = msgs[-1]
    assert last_type == "NDEATH", node
    assert [m.long_value for m in last.metrics if m.name == "bdSeq"] == [bd_seq]
    assert not last.HasField("seq")
    aliases: dict[int, tuple[str | None, str, int]] = {}
    born: set[str | None] = set()
    dead: set[str | None] = set()
    expect_seq = 0
    for mtype, device, p in msgs[:-1]:
        assert p.HasField("seq") and p.seq == expect_seq, (node, mtype, p.seq, expect_seq)
        expect_seq = (expect_seq + 1) % 256
        assert p.timestamp > 0
        if mtype in ("NBIRTH", "DBIRTH"):
            born.add(device)
            for m in p.metrics:
                if m.name in ("bdSeq", "Node Control/Rebirth") or m.name.startswith(
                        "Node Info/"):
                    continue
                kind, _, key = m.name.partition("/")
                assert kind in CONTRACT_KINDS and key, m.name
                assert m.HasField("alias") and m.HasField("datatype")
                assert m.datatype in VALUE_FIELD, (m.name, m.datatype)
                assert aliases.get(m.alias, (device, m.name, m.datatype)) == (
                    device, m.name, m.datatype), f"alias {m.alias} reused on {node}"
                aliases[m.alias] = (device, m.name, m.datatype)
                if not m.is_null:
                    assert m.WhichOneof("value") == VALUE_FIELD[m.datatype], m.name
                props = dict(zip(m.properties.keys,
                                 (v.string_value for v in m.properties.values), strict=True))
                if kind == "telemetry":  # every signal has its unit
                    assert props.get("engUnit"), m.name
        elif mtype in ("DDATA", "NDATA"):
            assert device in born and device not in dead, (node, device)
            assert len(p.metrics) > 0
            for m in p.metrics:
                assert not m.name and m.HasField("alias") and m.timestamp > 0
                owner, name, datatype = aliases[m.alias]
                assert owner == device, (node, device, name)
                assert m.WhichOneof("value") == VALUE_FIELD[datatype], name
        elif mtype == "DDEATH":
            assert device in born
            dead.add(device)
        else:
            raise AssertionError(f"unexpected {mtype} from {node}")
    assert dead == born - {None}


def test_rebirth_on_ncmd_and_primary_host_state_and_the_will(mqtt_url: str,
                                                             tmp_path: Path) -> None:
    payload_cls = independent_payload_class(tmp_path)
    site, host = f"sp{uuid.uuid4().hex[:8]}", f"host{uuid.uuid4().hex[:6]}"
    got: list[tuple[str, Any]] = []
    cond = threading.Condition()
    subscribed = threading.Event()
    ep = MqttEndpoint.from_url(mqtt_url)
    obs = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv311)

    def on_message(_c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        with cond:
            got.append((msg.topic, payload_cls.FromString(msg.payload)))
            cond.notify_all()

    def wait(pred: Any, what: str) -> None:
        with cond:
            assert cond.wait_for(pred, 60), \
                f"{what}: {Counter(t.split('/')[2] for t, _ in got)}"

    def count(mtype: str, node: str | None = None) -> int:
        return sum(1 for t, _ in got if t.split("/")[2] == mtype
                   and (node is None or t.split("/")[3] == node))

    def state(online: bool) -> None:
        obs.publish(f"spBv1.0/STATE/{host}", f'{{"online": {str(online).lower()}, '
                    f'"timestamp": 1}}', qos=1, retain=True).wait_for_publish(10)

    obs.on_message = on_message
    obs.on_subscribe = lambda *a: subscribed.set()
    obs.on_connect = lambda c, *a: c.subscribe(f"spBv1.0/{site}/#", qos=1)
    obs.connect(ep.host, ep.port)
    obs.loop_start()
    sim = subprocess.Popen(
        [sys.executable, "-m", "simulator", "run", "--format", "sparkplug", "--site", site,
         "--speed", "20", "--seed", "3", "--sparkplug-host", host, "--mqtt-url", mqtt_url],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert subscribed.wait(10)
        state(True)
        wait(lambda: count("NBIRTH") >= 10 and count("DDATA") > 0, "births after STATE online")
        # an edge node with data: all its births are in (they precede its data)
        node = next(t.split("/")[3] for t, _ in got if t.split("/")[2] == "DDATA")
        # NCMD Node Control/Rebirth: a new NBIRTH (seq 0, same bdSeq) and its DBIRTHs
        cmd = payload_cls(timestamp=1)
        m = cmd.metrics.add()
        m.name, m.datatype, m.boolean_value = "Node Control/Rebirth", 11, True
        n_before = count("NBIRTH", node)
        devices = count("DBIRTH", node)
        obs.publish(f"spBv1.0/{site}/NCMD/{node}", cmd.SerializeToString(), qos=0)
        wait(lambda: count("NBIRTH", node) == n_before + 1
             and count("DBIRTH", node) >= 2 * devices, "rebirth after NCMD")
        births = [(t, p) for t, p in got if t.split("/")[3] == node and "BIRTH" in t]
        (_, first), (_, second) = [(t, p) for t, p in births if "/NBIRTH/" in t]
        assert second.seq == 0

        def bd(p: Any) -> int:
            return next(int(x.long_value) for x in p.metrics if x.name == "bdSeq")

        assert bd(second) == bd(first)
        assert [p.seq for t, p in births[n_before + devices + 1:][:devices]] == \
            list(range(1, devices + 1))
        # STATE offline then online: every edge node is born again
        nodes = {t.split("/")[3] for t, _ in got if t.split("/")[2] == "NBIRTH"}
        state(False)
        state(True)
        wait(lambda: all(count("NBIRTH", n) >= 2 for n in nodes), "rebirth after STATE")
        # the will: a killed simulator's edge nodes die with their bdSeq
        sim.kill()
        sim.wait(30)
        wait(lambda: count("NDEATH") == len(nodes), "NDEATH wills")
        for t, p in got:
            if "/NDEATH/" in t:
                n = t.split("/")[3]
                nb = [q for u, q in got if u == f"spBv1.0/{site}/NBIRTH/{n}"][-1]
                assert bd(p) == bd(nb), n
    finally:
        if sim.poll() is None:
            sim.kill()
            sim.wait(30)
        obs.publish(f"spBv1.0/STATE/{host}", b"", qos=1, retain=True)  # clear retained
        obs.disconnect()
        obs.loop_stop()
