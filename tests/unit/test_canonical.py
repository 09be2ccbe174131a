"""The fast canonical-JSON path gives exactly the RFC 8785 reference bytes."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.core.canonical import canonical_bytes, canonical_of_json

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=800, deadline=None)
@given(json_values)
def test_fast_path_equals_the_reference(value):
    try:
        expected = rfc8785.dumps(value)
    except Exception:  # noqa: BLE001 - values the reference refuses (lone surrogates, huge ints)
        return
    assert canonical_bytes(value) == expected


@settings(max_examples=800, deadline=None)
@given(json_values, st.booleans())
def test_canonical_of_a_document_equals_the_reference(value, spaced):
    try:
        expected = rfc8785.dumps(value)
    except Exception:  # noqa: BLE001 - values the reference refuses (lone surrogates, huge ints)
        return
    document = json.dumps(value, indent=2 if spaced else None, ensure_ascii=spaced)
    assert canonical_of_json(document.encode("utf-8", "surrogatepass")) == expected


def test_canonical_of_a_document_with_floats_and_big_integers_takes_the_reference():
    document = b'{"b": 1.5e3, "a": 12, "c": [1.0, -0.0]}'
    assert canonical_of_json(document) == rfc8785.dumps(json.loads(document)) == b'{"a":12,"b":1500,"c":[1,0]}'
    with pytest.raises(ValueError, match="safe integer domain"):  # signing then covers the raw bytes
        canonical_of_json(b'{"a": 9007199254740993}')


def test_key_order_follows_utf16_code_units():
    value = {"\U0001f600": 1, "\ufb01": 2, "a": 3}  # U+1F600 sorts before U+FB01 in UTF-16
    assert canonical_bytes(value) == rfc8785.dumps(value)
    assert list(json.loads(canonical_bytes(value))) == ["a", "\U0001f600", "\ufb01"]


def test_controls_and_escapes_match():
    value = {"s": '\u0001\u001f\b\f\n\r\t"\\/\u2028\u007f é'}
    assert canonical_bytes(value) == rfc8785.dumps(value)


plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=1500, deadline=None)
@given(plain_values)
def test_the_orjson_path_for_plain_values_equals_the_reference_byte_for_byte(value):
    """`plain=True` (no float, no integer beyond 2**53) goes through orjson: the same bytes as `rfc8785`."""
    try:
        expected = rfc8785.dumps(value)
    except Exception:  # noqa: BLE001 - values the reference refuses (lone surrogates)
        with pytest.raises(Exception):  # noqa: B017, PT011 - refused on both paths, whatever the error's type
            canonical_bytes(value, plain=True)
        return
    assert canonical_bytes(value, plain=True) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"\U0001f600": 1, "\ufb01": 2, "a": 3},  # key orders differ between UTF-16 and UTF-8 here
        {"s": '\u0001\u001f\b\f\n\r\t"\\/\u2028\u007f é', "n": [0, -1, 2**53 - 1, 1 - 2**53], "e": {}, "l": []},
        {"deep": [[[[{"k": [None, True, False, ""]}]]]]},
        {"k": "\ud800"},  # a lone surrogate: orjson refuses it, then the json path, then the reference
        {"\ue000": 1, "\U00010000": 2},  # a private-use key against an astral one
    ],
)
def test_the_orjson_path_and_the_reference_agree_on_edge_values(value):
    try:
        expected = rfc8785.dumps(value)
    except Exception:  # noqa: BLE001 - the reference refuses it: so must the fast path
        with pytest.raises(Exception):  # noqa: B017, PT011
            canonical_bytes(value, plain=True)
        return
    assert canonical_bytes(value, plain=True) == expected
