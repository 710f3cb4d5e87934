from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from collector.mapping import (
    REASONS,
    Ignored,
    Mapped,
    Mapper,
    MappingConfigError,
    Rejected,
    mapping_from_dict,
)
from telemetry.contract import KINDS
from telemetry.points import to_line

T = "acme/shengzhou/hardware/cutting/laser-01/telemetry"


def _map(topic: str, payload: object, mapper: Mapper | None = None,
         ingest_ms: int = 1_764_201_700_000) -> Mapped | Rejected | Ignored:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return (mapper or Mapper()).map(topic, raw, ingest_ms)


@pytest.mark.parametrize(("topic", "payload"), [
    (T, {"ts": 1764201600000, "temp_c": 41.3, "vibration_mm_s": 2.1, "power_kw": 18.5}),
    ("acme/sz/hw/cut/l1/counts", {"ts": 5, "good": 3, "scrap": 0, "run_s": 10}),
    ("acme/sz/hw/cut/l1/alarm", {"ts": 5, "code": "E1", "active": True, "severity": "info"}),
    ("acme/sz/coating/_area/energy", {"ts": 5, "kwh_total": 12, "power_kw": 3.5}),
    ("acme/sz/_site/sales", {"ts": 5, "units": 2, "amount_cny": 10, "region": "East China",
                             "channel": "live-stream", "order_id": "o-1"}),
    ("acme/sz/hw/cut/l1/meta", {"ts": 5, "type": "laser", "online": False}),
])
def test_default_mapping_is_the_contract(topic: str, payload: dict[str, object]) -> None:
    r = _map(topic, payload)
    assert isinstance(r, Mapped)
    assert r.line == to_line(topic, payload)


def test_contract_example_line() -> None:
    r = _map(T, {"ts": 1764201600000, "temp_c": 41.3, "vibration_mm_s": 2.1, "power_kw": 18.5})
    assert isinstance(r, Mapped)
    assert r.line == ("telemetry,area=hardware,enterprise=acme,line=cutting,machine=laser-01,"
                      "site=shengzhou temp_c=41.3,vibration_mm_s=2.1,power_kw=18.5 "
                      "1764201600000")


def test_missing_ts_uses_the_ingest_time_given() -> None:
    r = _map(T, {"temp_c": 1}, ingest_ms=1234)
    assert isinstance(r, Mapped) and r.ts_ms == 1234 and r.line.endswith(" 1234")
    strict = Mapper(mapping_from_dict({"timestamp": {"required": True}}))
    assert _map(T, {"temp_c": 1}, strict) == Rejected("missing_timestamp",
                                                       "payload has no 'ts'")


@pytest.mark.parametrize(("unit", "value", "ms"), [
    ("s", 1764201600, 1764201600000), ("s", 1764201600.5, 1764201600500),
    ("ns", 1764201600123456789, 1764201600123), ("us", 1764201600123456, 1764201600123),
    ("iso8601", "2025-11-27T00:00:00.250Z", 1764201600250),
    ("iso8601", "2025-11-27T08:00:00+08:00", 1764201600000),
])
def test_timestamp_units(unit: str, value: object, ms: int) -> None:
    m = Mapper(mapping_from_dict({"timestamp": {"unit": unit}}))
    r = _map(T, {"ts": value, "temp_c": 1}, m)
    assert isinstance(r, Mapped) and r.ts_ms == ms


def test_control_topics_are_ignored_not_dead_lettered() -> None:
    assert _map("acme/sz/_control/fault", {"machine": "x"}) == Ignored("ignored_topic")


def test_custom_template_and_types() -> None:
    m = Mapper(mapping_from_dict({
        "templates": [{"topic": "plant/{site}/{device}/{kind}", "measurements": ["env"]}],
        "level_pattern": "^[a-z0-9-]+$",
        "timestamp": {"key": "time_s", "unit": "s"},
        "measurements": {"env": {"fields": {"door_open": "bool", "count": "int"},
                                 "tags": ["room"], "required": ["count"]}},
    }))
    r = _map("plant/north/d-1/env", {"time_s": 10, "count": 2, "door_open": False,
                                       "humidity": 40, "room": "r1"}, m)
    assert isinstance(r, Mapped)
    assert r.line == ("env,device=d-1,room=r1,site=north count=2i,door_open=false,"
                      "humidity=40.0 10000")
    assert _map("plant/north/d-1/other", {"count": 1}, m).reason == "unknown_measurement"  # type: ignore[union-attr]
    assert _map("plant/North/d-1/env", {"count": 1}, m).reason == "bad_topic_level"  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", [
    {"templates": ["{a}/{b}"]},
    {"templates": ["{a}/+/{kind}"]},
    {"timestamp": {"unit": "days"}},
    {"measurements": {"x": {"fields": {"a": "decimal"}}}},
    {"unknown_measurements": "maybe"},
    {"nonsense": 1},
])
def test_bad_mapping_config_is_a_one_line_error(bad: dict[str, object]) -> None:
    with pytest.raises(MappingConfigError) as err:
        mapping_from_dict(bad)
    assert "\n" not in str(err.value) and "mapping" in str(err.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=8)


@settings(max_examples=300)
@given(topic=st.text(max_size=40), payload=st.one_of(
    st.binary(max_size=40), json_values.map(lambda v: json.dumps(v).encode())))
def test_map_never_raises_and_reasons_are_stable(topic: str, payload: bytes) -> None:
    for mapper in (Mapper(), Mapper(mapping_from_dict({"unknown_measurements": "accept",
                                                       "level_pattern": "(?s).+"}))):
        r = mapper.map(topic, payload, 1)
        if isinstance(r, Rejected):
            assert r.reason in REASONS and r.reason != "internal_error"
        elif isinstance(r, Mapped):
            assert "\n" not in r.line and r.line.encode()


_field_values = st.one_of(st.floats(), st.integers(-(2**64), 2**64), st.booleans(),
                          st.text(max_size=4), st.none())


@settings(max_examples=300)
@example(kind="meta", payload={"\xad": 0.0})  # found by a random run: soft hyphen
@given(kind=st.sampled_from(sorted(k for k in KINDS if KINDS[k].scope == "machine")),
       payload=st.dictionaries(st.one_of(st.sampled_from(sorted(
           {f for k in KINDS.values() for f in k.fields})), st.text(max_size=3)),
           _field_values, max_size=5))
def test_cached_fast_path_writes_what_the_contract_writes(kind: str,
                                                          payload: dict[str, object]) -> None:
    """The mapper's per-topic cache + fast field path equals telemetry.points.to_line."""
    topic = f"acme/sz/hw/cut/m-1/{kind}"
    payload = {"ts": 1764201600000, **payload}
    try:
        want: str | None = to_line(topic, payload)
    except (ValueError, OverflowError):
        want = None
    got = Mapper().map(topic, json.dumps(payload).encode(), 1)
    if isinstance(got, Rejected) and got.reason in ("tag_clash", "reserved_key",
                                                    "invisible_char"):
        # Stricter than the contract on purpose: a field named like a tag/`time`, or a
        # zero-width/bidi character (mapping.limits.reject_invisible, on by default).
        return
    if want is not None:
        assert isinstance(got, Mapped) and got.line == want
    else:
        assert isinstance(got, Rejected)
