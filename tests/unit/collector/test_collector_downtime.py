"""The collector's default mapping takes the contract's `downtime` kind as the simulator
sends it: `reason` becomes a tag, `duration_s` a float, `state` a string."""

from __future__ import annotations

import json

from collector.mapping import Mapped, Mapper, Rejected
from simulator.encode import Encoder
from simulator.model import Intervals, PlantModel
from simulator.plant import load_plant
from telemetry.points import to_line

TOPIC = "acme/shengzhou/hardware/cutting/laser-01/downtime"


def test_contract_example_maps_with_reason_as_a_tag() -> None:
    payload = {"ts": 1764201660000, "reason": "LSR-CHILLER", "state": "FAULT",
               "duration_s": 60}
    r = Mapper().map(TOPIC, json.dumps(payload).encode(), 0)
    assert isinstance(r, Mapped) and r.measurement == "downtime"
    assert r.line == ("downtime,area=hardware,enterprise=acme,line=cutting,machine=laser-01,"
                      "reason=LSR-CHILLER,site=shengzhou state=\"FAULT\",duration_s=60.0 "
                      "1764201660000")


def test_bad_downtime_messages_are_rejected_with_a_reason() -> None:
    m = Mapper()
    for payload, reason in (({"ts": 5, "reason": "repair", "state": "SETUP"}, "missing_field"),
                            ({"ts": 5, "reason": 7, "state": "SETUP", "duration_s": 1.0},
                             "wrong_type"),
                            ({"ts": 5, "reason": "x", "state": "SETUP", "duration_s": "1"},
                             "wrong_type")):
        r = m.map(TOPIC, json.dumps(payload).encode(), 0)
        assert isinstance(r, Rejected) and r.reason == reason, (payload, r)


def test_simulated_downtime_messages_map_as_to_line() -> None:
    model = PlantModel(load_plant(), 4, 1_767_571_200_000, Intervals.from_seconds(10, 60))
    enc = Encoder(model)
    mapper = Mapper()
    seen = 0
    model.command("fault", "laser-02", code="LSR-CHILLER", duration_s=900)
    for _ in range(360):
        frame = model.step()
        for kind, topic, raw in enc.encoded(frame):
            if kind == "downtime":
                r = mapper.map(topic, raw, 0)
                assert isinstance(r, Mapped), r
                assert r.line == to_line(topic, json.loads(raw))
                seen += 1
        model.after_emit(frame)
    assert seen > 20
