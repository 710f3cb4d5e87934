"""Property: for any topic and payload the mapper yields either one line that the real
influxd accepts and that reads back as exactly one point with the same tags and values,
or a dead-letter reason. Never an exception, never a split point, never an extra tag."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from collector.mapping import REASONS, Mapped, Mapper, Rejected, mapping_from_dict
from stack.services import Influxd
from telemetry.contract import KINDS
from telemetry.endpoints import InfluxEndpoint
from telemetry.influx import InfluxClient

pytestmark = pytest.mark.integration

INGEST_MS = 1_764_201_600_000
HOSTILE = list(' ,="\\\'\n\t\r#_.-=\u00e9\u4e2d\U0001f600\x00\x7f$*+{}')
names = st.text(st.one_of(st.sampled_from(HOSTILE), st.characters()), max_size=6)
ids = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,5}\Z")
level = st.one_of(ids, ids, ids, ids, names)
known_keys = sorted({k for kind in KINDS.values() for k in (*kind.fields,
                                                           *kind.payload_tags)})
keys = st.one_of(st.sampled_from([*known_keys, "ts", "time", "machine"]), names)
scalars = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**70), 2**70),
    st.booleans(), st.none(), names, st.sampled_from(["East China", "online", "E1"]))
values = st.one_of(scalars, st.lists(scalars, max_size=2))


def _kinds(scope: str) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(sorted(k.name for k in KINDS.values()
                                            if k.scope == scope)), names)


topics = st.one_of(
    st.builds(lambda *p: "/".join(p), level, level, level, level, level, _kinds("machine")),
    st.builds(lambda e, s, a, k: f"{e}/{s}/{a}/_area/{k}", level, level, level,
              _kinds("area")),
    st.builds(lambda e, s, k: f"{e}/{s}/_site/{k}", level, level, _kinds("site")),
    st.lists(level, min_size=1, max_size=7).map("/".join),
)
finite = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                   st.integers(-(2**53), 2**53))
texts = st.one_of(ids, names)


@st.composite
def plausible(draw: st.DrawFn) -> tuple[str, bytes]:
    """A message of a real kind with mostly well-typed values and hostile names mixed in."""
    kind = draw(st.sampled_from(sorted(KINDS.values(), key=lambda k: k.name)))
    lv = [draw(level) for _ in kind.levels]
    topic = "/".join(lv[:3] + ([lv[3], lv[4]] if kind.scope == "machine" else
                               ["_area"] if kind.scope == "area" else []) + [kind.name]) \
        if kind.scope != "site" else f"{lv[0]}/{lv[1]}/_site/{kind.name}"
    by_type = {"float": finite, "int": st.integers(-(2**63), 2**63 - 1), "bool": st.booleans(),
               "str": texts}
    payload: dict[str, Any] = {}
    for key, ftype in kind.fields.items():
        if key in kind.required or draw(st.booleans()):
            payload[key] = draw(by_type[ftype])
    for tag in kind.payload_tags:
        if draw(st.booleans()):
            payload[tag] = draw(texts)
    payload.update(draw(st.dictionaries(names, finite, max_size=2)))
    if draw(st.booleans()):
        payload["ts"] = draw(st.one_of(st.just(INGEST_MS - 7), st.integers(-(2**62), 2**62)))
    return topic, json.dumps(payload).encode()


payloads = st.one_of(
    st.dictionaries(keys, values, max_size=5).map(lambda d: json.dumps(d).encode()),
    st.dictionaries(keys, values, max_size=5).map(
        lambda d: json.dumps({"ts": INGEST_MS - 5, **d}).encode()),
    st.binary(max_size=20),
)
random_messages = st.tuples(topics, payloads)
CONTRACT = Mapper()
#: Permissive: any topic level, any measurement; only line-protocol rules still apply.
PERMISSIVE = Mapper(mapping_from_dict({
    "templates": ["{enterprise}/{site}/{area}/{line}/{machine}/{kind}",
                  "{enterprise}/{site}/{area}/_area/{kind}", "{enterprise}/{site}/_site/{kind}"],
    "level_pattern": r"(?s)\A.+\Z", "unknown_measurements": "accept"}))
_db_ids = itertools.count()


def _expected_fields(mapper: Mapper, measurement: str, payload: dict[str, Any],
                     tags: set[str]) -> dict[str, Any]:
    spec = mapper.config.measurements.get(measurement)
    types = spec.fields if spec else {}
    out: dict[str, Any] = {}
    for k, v in payload.items():
        if k == "ts" or k in tags:
            continue
        t = types.get(k, "float")
        out[k] = float(v) if t == "float" else int(v) if t == "int" else v
    return out


def _topic_tags(mapper: Mapper, topic: str, measurement: str) -> dict[str, str]:
    """The tags the topic should give: the levels of the first template that takes it."""
    for t in mapper.config.templates:
        values = t.match(topic.split("/"))
        if values is None:
            continue
        m = values.pop(mapper.config.measurement_level)
        if m == measurement and (not t.measurements or m in t.measurements):
            return values
    raise AssertionError(f"no template explains {topic!r}")


def _check(client: InfluxClient, influxd: Influxd, mapper: Mapper, topic: str,
           payload: bytes, record: bool = False) -> None:
    result = mapper.map(topic, payload, INGEST_MS)  # must not raise
    if record:
        event(getattr(result, "reason", type(result).__name__))
    if isinstance(result, Rejected):
        assert result.reason in REASONS and result.reason != "internal_error", result
        return
    if not isinstance(result, Mapped):
        return
    assert "\n" not in result.line and "\r" not in result.line
    db = f"p_{next(_db_ids)}"
    influxd.query(f'CREATE DATABASE "{db}"')
    try:
        res = InfluxClient(InfluxEndpoint(url=influxd.url, db=db)).write(
            result.line.encode())
        assert res.status == 204, (result.line, res.body)
        out = client.query("SELECT * FROM /.*/ GROUP BY *", db=db)
        series = out[0]["series"]
        assert len(series) == 1, (result.line, series)
        s = series[0]
        assert len(s["values"]) == 1, (result.line, s)
        assert s["name"] == result.measurement
        obj = json.loads(payload)
        spec = mapper.config.measurements.get(result.measurement)
        payload_tags = {k: obj[k] for k in (spec.payload_tags if spec else ()) if k in obj}
        assert (s.get("tags") or {}) == {**_topic_tags(mapper, topic, result.measurement),
                                         **payload_tags}, result.line
        tags = set(s.get("tags") or {})
        row = dict(zip(s["columns"], s["values"][0], strict=True))
        assert row.pop("time") == result.ts_ms
        want = _expected_fields(mapper, result.measurement, obj, tags)
        assert set(row) == set(want), (result.line, row)
        for k, v in want.items():
            got = row[k]
            if isinstance(v, float):
                assert isinstance(got, int | float) and not isinstance(got, bool), (k, got)
                assert float(got) == v, (k, got, v)
            else:
                assert got == v and type(got) is type(v), (k, got, v)
    finally:
        influxd.query(f'DROP DATABASE "{db}"')


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(message=st.one_of(plausible(), plausible(), random_messages), permissive=st.booleans())
def test_mapping_is_accepted_and_round_trips_or_dead_letters(
        influxd: Influxd, message: tuple[str, bytes], permissive: bool) -> None:
    topic, payload = message
    if not influxd.running():
        influxd.restart()
    client = InfluxClient(InfluxEndpoint(url=influxd.url, db="unused"))
    _check(client, influxd, PERMISSIVE if permissive else CONTRACT, topic, payload,
           record=True)


@pytest.mark.parametrize(("topic", "payload"), [
    ("hearth/sz/hw/cut/laser-01/telemetry", b'{"ts": 1764201600000, "temp_c": 20}'),
    ("a b/c,d/e=f/g\"h/i'j/k", b'{"ts": 1, "x y": 1.5, "s": "q\\"\\\\", "n,m": -0.0}'),
    ("e/s/_site/sales", b'{"ts": 5, "units": 2, "amount_cny": 1e308, "region": "a\\\\b"}'),
])
def test_mapping_examples_round_trip(influxd: Influxd, topic: str, payload: bytes) -> None:
    client = InfluxClient(InfluxEndpoint(url=influxd.url, db="unused"))
    _check(client, influxd, PERMISSIVE, topic, payload)
