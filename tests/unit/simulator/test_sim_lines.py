"""The backfill's fast line formatting agrees byte for byte with telemetry.points.to_line."""

from __future__ import annotations

from simulator.encode import Encoder
from simulator.lines import LineEncoder
from simulator.model import Intervals, PlantModel
from simulator.plant import load_plant
from telemetry.points import to_line

from .helpers_sim import MONDAY_0800_LOCAL_MS


def test_lines_equal_to_line_for_every_message() -> None:
    plant = load_plant()
    model = PlantModel(plant, 5, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(10, 60, 300))
    enc = Encoder(model)
    kinds: set[str] = set()
    frames = [model.initial_frame()]
    for k in range(720):
        if k == 3:
            model.command("fault", "laser-02", duration_s=1200)
        frames.append(model.step())
        fast = enc.lines(frames[-1])
        ref = [to_line(topic, payload) for kind, topic, payload in enc.messages(frames[-1])]
        kinds.update(kind for kind, _, _ in enc.messages(frames[-1]))
        assert sorted(fast) == sorted(ref)
        model.after_emit(frames[-1])
    assert {"state", "telemetry", "counts", "energy", "alarm", "workorder"} <= kinds


def test_line_encoder_falls_back_for_unusual_payloads() -> None:
    le = LineEncoder()
    topic = "acme/sz/hw/l1/m1/telemetry"
    for payload in ({"ts": 5, "temp_c": 20}, {"ts": 5, "temp_c": 20.5, "x%y": 1.0},
                    {"ts": 5, "temp_c": 1.5}, {"temp_c": 1.5, "ts": 7}):
        assert le.line("telemetry", topic, payload) == to_line(topic, payload)
    counts = {"ts": 9, "good": 3, "scrap": 0, "run_s": 10.0}
    assert le.line("counts", "acme/sz/hw/l1/m1/counts", counts) == \
        to_line("acme/sz/hw/l1/m1/counts", counts)


def test_encoded_payloads_equal_json_of_the_messages() -> None:
    """The template JSON of telemetry/counts is byte-identical to json.dumps (compact)."""
    import json

    model = PlantModel(load_plant(), 6, MONDAY_0800_LOCAL_MS, Intervals.from_seconds(5))
    enc = Encoder(model)
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    frames = [model.initial_frame()]
    for _ in range(40):
        frames.append(model.step())
        fast = list(enc.encoded(frames[-1]))
        ref = [(k, t, dumps(p).encode()) for k, t, p in enc.messages(frames[-1])]
        assert fast == ref
        model.after_emit(frames[-1])


def test_line_encoder_plain_kinds_agree_with_to_line_or_raise_alike() -> None:
    """state/meta/energy (string or bool fields, no payload tags) use a cached prefix."""
    import pytest

    from telemetry.lineprotocol import LineProtocolError

    le = LineEncoder()
    state = "acme/sz/hw/l1/m-1.x_y/state"
    meta = "acme/sz/hw/l1/m1/meta"
    good = [("state", state, {"ts": 5, "state": 'RUN "x"\\', "state_code": 2.0, "running": 1,
                              "planned": 1, "reason": "a,b=c"}),
            ("state", state, {"state_code": 2, "state": "IDLE", "ts": 6}),
            ("meta", meta, {"ts": 1, "type": "t", "online": False, "ideal_cycle_s": 3}),
            ("energy", "acme/sz/hw/_area/energy", {"ts": 2, "kwh_total": 1, "kwh": 0.5})]
    for kind, topic, payload in good:
        assert le.line(kind, topic, payload) == to_line(topic, payload)
    bad = [("state", state, {"ts": 5, "state": "IDLE"}),  # required state_code missing
           ("state", state, {"ts": 5.0, "state": "IDLE", "state_code": 1}),
           ("state", state, {"state": "IDLE", "state_code": 1}),
           ("state", state, {"ts": 5, "state": "IDLE", "state_code": 1.5}),
           ("meta", meta, {"ts": 5}),
           ("meta", meta, {"ts": 5, "online": "yes"})]
    for kind, topic, payload in bad:
        with pytest.raises(LineProtocolError) as ref:
            to_line(topic, payload)
        with pytest.raises(LineProtocolError) as fast:
            le.line(kind, topic, payload)
        assert str(fast.value) == str(ref.value)
