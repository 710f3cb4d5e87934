"""Any YAML gives a valid plant or one clear PlantError, never a traceback."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.plant import Plant, PlantError, load_yaml_text, parse_plant

from .helpers_sim import tiny_plant_raw

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


def _check(raw: Any) -> None:
    try:
        plant = parse_plant(raw, "fuzz.yaml")
    except PlantError as exc:
        msg = str(exc)
        assert msg.startswith("fuzz.yaml") and "\n" not in msg
    else:
        assert isinstance(plant, Plant) and plant.machines


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_arbitrary_documents(raw: Any) -> None:
    _check(raw)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


BASE = tiny_plant_raw()
PATHS = [p for p in _paths(BASE) if p]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PATHS), values)
def test_one_mutated_value_in_a_valid_plant(path: tuple[Any, ...], value: Any) -> None:
    raw = copy.deepcopy(BASE)
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    _check(raw)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text(text: str) -> None:
    try:
        raw = load_yaml_text(text, "fuzz.yaml")
    except PlantError as exc:
        assert "\n" not in str(exc)
        return
    _check(raw)


def test_round_trip_of_the_base_document() -> None:
    _check(yaml.safe_load(yaml.safe_dump(BASE)))
