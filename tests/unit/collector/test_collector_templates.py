"""Per-template mapping (bare values, literal measurement, own timestamp), the default
topic filter, guards (window, cardinality, invisible characters), collisions and the
`map` dry run."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from collector.cli import _parser, main
from collector.config import load
from collector.guards import Cardinality, Collisions, invisible
from collector.mapconfig import Limits
from collector.mapping import Mapped, Mapper, MappingConfigError, Rejected, mapping_from_dict

NOW = 1_796_000_000_000  # arrival time used throughout (2026-12)

LEGACY = {
    "templates": [
        "contract",
        {"topic": "acme/{site}/{area}/{machine}/{signal}", "payload": "value",
         "field": "{signal}", "measurement": "telemetry", "tags": {"enterprise": "acme"}},
        {"topic": "legacy/{site}/{machine}/{kind}", "timestamp": {"key": "t",
                                                                  "unit": "iso8601"}},
    ],
    "measurements": {"telemetry": {"fields": {"cycles": "int"}}},
}


def _map(mapper: Mapper, topic: str, payload: object, ingest_ms: int = NOW) -> object:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return mapper.map(topic, raw, ingest_ms)


def _line(result: object) -> str:
    assert isinstance(result, Mapped), result
    return result.line


def test_bare_values_fill_the_field_named_by_a_level() -> None:
    m = Mapper(mapping_from_dict(LEGACY))
    t = "acme/lyon/moulding/imm-03/barrel_temp"
    assert _line(_map(m, t, b"231.7")) == (
        "telemetry,area=moulding,enterprise=acme,machine=imm-03,site=lyon "
        f"barrel_temp=231.7 {NOW}")
    assert _line(_map(m, t, b" 20 ")).split(" ")[1] == "barrel_temp=20.0"  # float, always
    assert _line(_map(m, "acme/lyon/moulding/imm-03/door_open", b"true")).split(" ")[1] \
        == "door_open=true"
    assert ' mode="auto run" ' in _line(_map(m, "acme/lyon/moulding/imm-03/mode", b"auto run"))
    assert _line(_map(m, "acme/lyon/moulding/imm-03/cycles", b"7")).split(" ")[1] \
        == "cycles=7i"  # declared int
    assert _map(m, "acme/lyon/moulding/imm-03/cycles", b"7.5") == \
        Rejected("wrong_type", "field 'cycles' must be an integer, got 7.5")
    assert _map(m, t, {"v": 1}).reason == "not_scalar"  # type: ignore[attr-defined]
    assert _map(m, t, b"").reason == "no_fields"  # type: ignore[attr-defined]
    assert _map(m, t, b"\xff").reason == "bad_encoding"  # type: ignore[attr-defined]


def test_each_template_has_its_own_timestamp() -> None:
    m = Mapper(mapping_from_dict(LEGACY))
    contract = _map(m, "acme/lyon/moulding/line1/imm-03/telemetry",
                    {"ts": 1_795_000_000_123, "temp_c": 1})
    assert isinstance(contract, Mapped) and contract.ts_ms == 1_795_000_000_123
    legacy = _map(m, "legacy/lyon/imm-03/telemetry", {"t": "2026-11-27T00:00:00.5Z",
                                                      "temp_c": 2, "ts": 5})
    assert isinstance(legacy, Mapped) and legacy.ts_ms == 1_795_737_600_500
    assert ",ts=5.0 " in legacy.line  # not this template's time key: an ordinary field
    ingest = Mapper(mapping_from_dict({"templates": [
        {"topic": "x/{kind}", "timestamp": "none"}]}))
    r = _map(ingest, "x/telemetry", {"ts": 5, "temp_c": 1})
    assert isinstance(r, Mapped) and r.ts_ms == NOW and "ts=5.0" in r.line


@pytest.mark.parametrize(("raw", "needle"), [
    ({"templates": [{"topic": "a/{b}", "payload": "value", "field": "{c}",
                     "measurement": "m"}]}, "names no level"),
    ({"templates": [{"topic": "a/{b}", "field": "x", "measurement": "m"}]},
     "needs payload: value"),
    ({"templates": [{"topic": "a/{b}", "payload": "blob", "measurement": "m"}]}, "payload"),
    ({"templates": [{"topic": "a/{b}", "payload": "value", "measurement": "m",
                     "timestamp": {"key": "t"}}]}, "bare value has no time key"),
    ({"templates": [{"topic": "a/{b}", "measurment": "m"}]}, "unknown key 'measurment'"),
    ({"timestamp_window": {"max_future_s": -1}}, "max_future_s"),
    ({"limits": {"max_fields_per_measurement": 0}}, "max_fields_per_measurement"),
])
def test_template_config_errors_name_the_key(raw: dict[str, object], needle: str) -> None:
    with pytest.raises(MappingConfigError, match=needle):
        mapping_from_dict(raw)


def test_default_topic_filter_follows_the_enterprise(tmp_path: Path) -> None:
    def cfg(*argv: str, yaml_text: str = "") -> object:
        args = ["run", "--spool-dir", str(tmp_path / "s"), *argv]
        if yaml_text:
            (tmp_path / "c.yaml").write_text(yaml_text)
            args += ["--config", str(tmp_path / "c.yaml")]
        return load(_parser().parse_args(args), env={})

    plant = tmp_path / "plant.yaml"
    plant.write_text("enterprise: ozark\nsite: x\nareas: []\n")
    assert cfg("--plant", str(plant)).topics == ("ozark/#",)  # type: ignore[attr-defined]
    assert cfg("--enterprise", "acme").topics == ("acme/#",)  # type: ignore[attr-defined]
    from simulator.plant import load_plant  # the shipped plant decides the default

    shipped = load_plant(None).enterprise
    assert cfg().topics == (f"{shipped}/#",)  # type: ignore[attr-defined]
    legacy = cfg("--enterprise", "acme", yaml_text=json.dumps({"mapping": LEGACY}))
    assert legacy.topics == ("acme/#", "legacy/#")  # type: ignore[attr-defined]
    assert cfg("--topic", "a/#", "--enterprise", "b").topics == ("a/#",)  # type: ignore[attr-defined]


def test_custom_signals_are_floats_and_zh_texts_are_strings() -> None:
    m = Mapper(mapping_from_dict(None))
    base = "hearth/sz/moulding/l1/imm-03/"
    r = _line(_map(m, base + "telemetry", {"ts": NOW, "barrel_temp_c": 231, "temp_c": 1}))
    assert "barrel_temp_c=231.0" in r
    r = _line(_map(m, base + "alarm", {"ts": NOW, "code": "E1", "active": True,
                                      "message": "Jam", "message_zh": "卡料",
                                      "severity": "warning"}))
    assert 'message_zh="卡料"' in r
    r = _line(_map(m, base + "meta", {"ts": NOW, "type": "imm", "type_name_zh": "注塑机"}))
    assert 'type_name_zh="注塑机"' in r
    r = _line(_map(m, base + "workorder", {"ts": NOW, "status": "open", "status_code": 0,
                                          "progress_pct": 0, "technician_zh": "张伟",
                                          "wo_id": "w1"}))
    assert 'technician_zh="张伟"' in r


def test_timestamp_window_and_unit_hints() -> None:
    m = Mapper(mapping_from_dict(None))
    t = "hearth/sz/hw/l1/m1/telemetry"
    assert isinstance(_map(m, t, {"ts": NOW + 3_599_000, "temp_c": 1}), Mapped)
    future = _map(m, t, {"ts": NOW + 3_601_000, "temp_c": 1})
    assert isinstance(future, Rejected) and future.reason == "out_of_window"
    seconds = _map(m, t, {"ts": NOW // 1000, "temp_c": 1})
    assert isinstance(seconds, Rejected) and seconds.reason == "out_of_window"
    assert "looks like seconds" in seconds.detail
    old = _map(m, t, {"ts": NOW - 10 * 365 * 86_400_000, "temp_c": 1})
    assert isinstance(old, Mapped)  # no retention known: old data is fine
    kept = Mapper(mapping_from_dict({"timestamp_window": {"max_age_s": 7200}}))
    stale = _map(kept, t, {"ts": NOW - 7_201_000, "temp_c": 1})
    assert isinstance(stale, Rejected) and stale.reason == "out_of_window"
    assert isinstance(_map(kept, t, {"ts": NOW - 7_199_000, "temp_c": 1}), Mapped)
    assert mapping_from_dict(None).max_age_retention
    loose = Mapper(mapping_from_dict({"timestamp_window": {"max_future_s": "none"}}))
    assert isinstance(_map(loose, t, {"ts": NOW + 86_400_000, "temp_c": 1}), Mapped)


def test_cardinality_guards() -> None:
    m = Mapper(mapping_from_dict({"limits": {"max_fields_per_measurement": 20,
                                             "max_tag_value_chars": 32}}))
    t = "hearth/sz/hw/l1/m1/telemetry"
    many = {f"f{i}": 1.0 for i in range(30)}
    r = _map(m, t, {"ts": NOW, **many})
    assert isinstance(r, Rejected) and r.reason == "cardinality"
    assert "max_fields_per_measurement" in r.detail
    assert isinstance(_map(m, t, {"ts": NOW, **dict(list(many.items())[:20])}), Mapped)
    assert _map(m, t, {"ts": NOW, "f99": 1}).reason == "cardinality"  # type: ignore[attr-defined]
    sales = "hearth/sz/_site/sales"
    r = _map(m, sales, {"ts": NOW, "units": 1, "amount_cny": 2, "region": "x" * 40})
    assert isinstance(r, Rejected) and r.reason == "cardinality"
    clock = [0.0]
    guard = Cardinality(Limits(max_new_series_per_min=3), clock=lambda: clock[0])
    assert [guard.series(f"s{i}") for i in range(3)] == [None] * 3
    assert guard.series("s9") is not None and guard.series("s1") is None  # known: fine
    clock[0] = 61.0
    assert guard.series("s9") is None  # a new minute


def test_invisible_characters_are_rejected_unless_allowed() -> None:
    assert invisible("temp\u200bc") == "U+200B ZERO WIDTH SPACE"
    assert invisible("温度 ok") is None
    t = "hearth/sz/hw/l1/m1/telemetry"
    r = _map(Mapper(mapping_from_dict(None)), t, {"ts": NOW, "temp\u200b_c": 1})
    assert isinstance(r, Rejected) and r.reason == "invisible_char"
    r = _map(Mapper(mapping_from_dict(None)), "hearth/sz/_site/sales",
             {"ts": NOW, "units": 1, "amount_cny": 2, "region": "East\u202eChina"})
    assert isinstance(r, Rejected) and r.reason == "invisible_char"
    permissive = {"level_pattern": "(?s).+"}
    r = _map(Mapper(mapping_from_dict(permissive)), "hearth/sz/hw/l1/m\u2066x/telemetry",
             {"ts": NOW, "temp_c": 1})
    assert isinstance(r, Rejected) and r.reason == "invisible_char"
    off = Mapper(mapping_from_dict({"limits": {"reject_invisible": False}}))
    assert isinstance(_map(off, t, {"ts": NOW, "temp\u200b_c": 1}), Mapped)


def test_collisions_are_counted_and_logged_once_per_series(
        caplog: pytest.LogCaptureFixture) -> None:
    c = Collisions()
    a = "telemetry,machine=m1 temp_c=1.0 100"
    assert not c.check(a) and not c.check(a)  # a redelivery is no collision
    assert not c.check("telemetry,machine=m1 power_kw=2.0 100")  # other field: merged
    with caplog.at_level(logging.WARNING):
        assert c.check("telemetry,machine=m1 temp_c=3.0 100")
        assert c.check("telemetry,machine=m1 temp_c=4.0 100")
    assert not c.check("telemetry,machine=m1 temp_c=4.0 101")
    assert not c.check('telemetry,machine=m2 note="a, b=c" 100')
    assert c.check('telemetry,machine=m2 note="a, b=d" 100')
    assert c.total == 3
    assert sum("collision" in r.message for r in caplog.records) == 2  # m1 once, m2 once


def test_map_dry_run_prints_the_line_or_the_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "c.yaml"
    conf.write_text(json.dumps({"mapping": LEGACY}))
    assert main(["map", "--config", str(conf), "acme/lyon/moulding/imm-03/barrel_temp",
                 "231.7"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("telemetry,area=moulding,enterprise=acme,machine=imm-03,"
                              "site=lyon barrel_temp=231.7 ")
    assert main(["map", "acme/lyon/moulding/imm-03/barrel_temp", "231.7"]) == 1
    out = capsys.readouterr()
    assert out.out.splitlines()[0].startswith("dead letter: unknown_topic:")
    assert out.out.splitlines()[1].startswith("hint: no template has this topic's shape")
    assert "does not receive this topic" in out.err
    assert main(["map", "hearth/sz/hw/l1/m1/telemetry", '{"ts": 1765000000, "temp_c": 1}']) \
        == 1
    assert "looks like seconds" in capsys.readouterr().out
