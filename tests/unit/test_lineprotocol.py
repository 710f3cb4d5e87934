from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telemetry.lineprotocol import LineProtocolError, encode_point, escape_tag, format_field


def test_encode_point_sorts_tags_and_types_fields() -> None:
    line = encode_point("telemetry", {"site": "sz", "area": "hw"},
                        {"temp_c": 20.0, "good": 3, "active": True, "code": 'say "hi"'}, 17)
    assert line == ('telemetry,area=hw,site=sz '
                    'temp_c=20.0,good=3i,active=true,code="say \\"hi\\"" 17')


@pytest.mark.parametrize(("raw", "escaped"), [
    ("a b", r"a\ b"), ("a,b", r"a\,b"), ("a=b", r"a\=b"), ("East China", r"East\ China")])
def test_tag_escaping(raw: str, escaped: str) -> None:
    assert escape_tag(raw) == escaped


@pytest.mark.parametrize("bad", ["a\nb", "tab\there", "end\\", "", "nul\x00"])
def test_tags_that_cannot_round_trip_are_rejected(bad: str) -> None:
    with pytest.raises(LineProtocolError):
        escape_tag(bad)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_rejected(value: float) -> None:
    with pytest.raises(LineProtocolError) as err:
        format_field("v", value)
    assert err.value.reason == "non_finite"


def test_int_range_and_string_escapes() -> None:
    with pytest.raises(LineProtocolError):
        format_field("n", 2**63)
    assert format_field("s", "back\\slash") == 's="back\\\\slash"'
    with pytest.raises(LineProtocolError):
        format_field("s", "two\nlines")


@given(st.text(min_size=1, max_size=30))
def test_escaped_tag_never_contains_unescaped_separators(value: str) -> None:
    try:
        out = escape_tag(value)
    except LineProtocolError:
        return
    assert "\n" not in out
    # Every space, comma or equals sign is preceded by a backslash.
    for i, ch in enumerate(out):
        if ch in " ,=":
            assert i > 0 and out[i - 1] == "\\"
