from __future__ import annotations

import pytest

from telemetry import ContractError, MappingError, parse, to_line
from telemetry.contract import KINDS
from telemetry.topics import area_topic, machine_topic, site_topic


def test_topic_builders_and_parser_agree() -> None:
    t = parse(machine_topic("acme", "sz", "hardware", "cut", "laser-01", "telemetry"))
    assert t.kind == "telemetry"
    assert dict(t.tags) == {"enterprise": "acme", "site": "sz", "area": "hardware",
                            "line": "cut", "machine": "laser-01"}
    assert dict(parse(area_topic("acme", "sz", "coating", "energy")).tags)["area"] == "coating"
    assert parse(site_topic("acme", "sz", "sales")).kind == "sales"


@pytest.mark.parametrize("topic", [
    "acme/sz/hw/cut/m1", "acme/sz/hw/cut/m1/nonsense", "acme/sz/_site/telemetry",
    "acme/sz/hw/_area/state", "acme/sz/h w/cut/m1/state", "acme//hw/cut/m1/state",
    "acme/sz/_area/cut/m1/state"])
def test_unknown_topic_shapes_are_rejected(topic: str) -> None:
    with pytest.raises(ContractError):
        parse(topic)


def test_to_line_keeps_float_types_stable() -> None:
    line = to_line("acme/sz/hw/cut/m1/telemetry", {"ts": 1700000000000, "temp_c": 20})
    assert line == ("telemetry,area=hw,enterprise=acme,line=cut,machine=m1,site=sz "
                    "temp_c=20.0 1700000000000")


def test_to_line_counts_are_integers_and_payload_tags_become_tags() -> None:
    line = to_line("acme/sz/hw/cut/m1/counts", {"ts": 5, "good": 3, "scrap": 0, "run_s": 10})
    assert "good=3i" in line and "scrap=0i" in line and "run_s=10.0" in line
    sales = to_line("acme/sz/_site/sales", {"ts": 5, "region": "East China",
                                           "channel": "online", "units": 2,
                                           "amount_cny": 7999.0})
    assert sales.startswith(r"sales,channel=online,enterprise=acme,region=East\ China,site=sz ")


@pytest.mark.parametrize(("payload", "reason"), [
    ({"temp_c": 1.0}, "bad_timestamp"),
    ({"ts": "yesterday", "temp_c": 1.0}, "bad_timestamp"),
    ({"ts": 1, "temp_c": "hot"}, "wrong_type"),
    ({"ts": 1, "temp_c": None}, "null_value"),
    ({"ts": 1}, "no_fields"),
])
def test_bad_payloads_raise_with_a_reason(payload: dict[str, object], reason: str) -> None:
    with pytest.raises(MappingError) as err:
        to_line("acme/sz/hw/cut/m1/telemetry", payload)
    assert err.value.reason == reason


def test_integer_fields_reject_fractions_and_required_fields_are_checked() -> None:
    with pytest.raises(MappingError) as err:
        to_line("acme/sz/hw/cut/m1/counts", {"ts": 1, "good": 1.5, "scrap": 0})
    assert err.value.reason == "wrong_type"
    with pytest.raises(MappingError) as err:
        to_line("acme/sz/hw/cut/m1/counts", {"ts": 1, "good": 1})
    assert err.value.reason == "missing_field"


def test_every_kind_has_a_known_scope_and_typed_fields() -> None:
    for kind in KINDS.values():
        assert kind.scope in ("machine", "area", "site")
        assert set(kind.required) <= set(kind.fields)
        assert all(t in ("float", "int", "bool", "str") for t in kind.fields.values())
