"""`hub publish`'s input split into items as it streams: every shape it accepts, every one it refuses."""

from __future__ import annotations

import io

import pytest

from hub.cli import inputs
from hub.cli.inputs import _Splitter
from hub.errors import InputError


def split(data: bytes, limit: int = 1000) -> list[bytes]:
    return list(_Splitter(io.BytesIO(data), "in", limit).items())


@pytest.mark.parametrize(
    ("data", "items"),
    [
        (b'{"a":1}', [b'{"a":1}']),
        (b'{\n "a": [1,2,{"b":"]}"}]\n}\n', [b'{\n "a": [1,2,{"b":"]}"}]\n}']),  # one object over several lines
        (b'{"a":1}\n\n{"b":2}\n', [b'{"a":1}', b'{"b":2}']),  # JSON lines
        (b'[{"a":1}, {"b":"x\\"]"} , 3]', [b'{"a":1}', b'{"b":"x\\"]"}', b"3"]),  # brackets inside strings
        (b'[{"a":"\\\\"},{"b":1}]', [b'{"a":"\\\\"}', b'{"b":1}']),  # an escaped backslash ends no string
        (b'\xef\xbb\xbf[{"a":1}]', [b'{"a":1}']),  # a UTF-8 byte-order mark is skipped
        (b'{"a":"\\ud800"}', [b'{"a":"\\ud800"}']),  # passed on as written: validation names it
        (b'"str"', [b'"str"']),
        (b'{"a": 1', [b'{"a": 1']),  # cut short: validation says why
    ],
)
def test_items_are_split_without_being_parsed(data, items):
    assert split(data) == items


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "in: empty input, nothing to publish"),
        (b"  \n", "in: empty input, nothing to publish"),
        (b"[]", "in: the array holds no items, nothing to publish"),
        (b"[1,]", "in: after item 1: expected ',' and another item, or ']'"),
        (b"[1 2]", "in: after item 1: expected ',' and another item, or ']'"),
        (b"[1", "in: the array is not closed after item 1"),
        (b"[1] x", "in: after the array's ']': more data; give one array, or JSON lines"),
        (b"\x00\x00", "in: item 1 is not JSON: it starts with byte b'\\x00'"),
        (b"hello", "in: item 1 is not JSON: it starts with 'h'"),
        (b'{"a":1}}', "in: item 2 is not JSON: it starts with '}'"),
        (b"[" * 2000, "in: item 1 is nested more than 1000 deep"),
        (b'{"a":"' + b"x" * 2000 + b'"}', "in: item 1 is larger than 1000 bytes"),
        (b'{"a":1}\n{"b":"' + b"x" * 2000, "in: item 2 is larger than 1000 bytes"),
    ],
)
def test_bad_shapes_are_named(data, problem):
    with pytest.raises(InputError) as caught:
        split(data)
    assert str(caught.value) == problem


def test_a_large_input_is_read_in_chunks_and_each_byte_scanned_once(monkeypatch):
    monkeypatch.setattr(inputs, "CHUNK", 64)  # many refills, in strings and between them
    item = b'{"a": "' + b"y" * 5000 + b'", "b": [' + b"1," * 500 + b"2]}"
    data = b"[" + b",".join([item] * 20) + b"]"
    reads = []
    stream = io.BytesIO(data)
    original = stream.read
    stream.read = lambda n: reads.append(n) or original(n)  # type: ignore[method-assign]
    assert list(_Splitter(stream, "in", 10_000).items()) == [item] * 20
    assert len(reads) == len(data) // 64 + 2  # read once, in order, to the end


def test_the_first_bad_item_is_named_before_the_rest_is_read(monkeypatch, tmp_path):
    monkeypatch.setattr(inputs, "CHUNK", 1024)
    path = tmp_path / "items.jsonl"
    path.write_bytes(b'{"kind": "podcast"}\n' + b'{"kind": "assessment"}\n' * 100_000)
    found = inputs.checked_items(str(path))
    with pytest.raises(InputError, match=r"items\.jsonl: item 1: field `kind`: 'podcast' is not one of"):
        next(found)
