"""HTTP Range parsing (workers/preview/byterange.py): RFC 9110 single byte ranges."""

from __future__ import annotations

import pytest

from workers.preview.byterange import ByteRange, RangeNotSatisfiable, parse_range

SIZE = 1000


@pytest.mark.parametrize(("header", "expected"), [
    ("bytes=0-99", ByteRange(0, 99)),
    ("bytes=76-6920", ByteRange(76, SIZE - 1)),  # the end is clipped to the file
    ("bytes=500-", ByteRange(500, SIZE - 1)),
    ("bytes=-100", ByteRange(900, SIZE - 1)),
    ("bytes=-5000", ByteRange(0, SIZE - 1)),  # a suffix longer than the file is the whole file
    ("bytes=999-999", ByteRange(999, 999)),
    ("Bytes = 10 - 19", ByteRange(10, 19)),
    (" bytes=0-0", ByteRange(0, 0)),
])
def test_satisfiable_ranges(header: str, expected: ByteRange) -> None:
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize("header", [
    None, "", "bytes", "bytes=", "bytes=-", "items=0-9", "bytes=a-b", "bytes=5-1", "bytes=0-9,20-29",
    "bytes=1.5-2", "bytes=٣-٤",  # Arabic-Indic digits are digits to str.isdigit, not to HTTP
])
def test_ignored_headers_mean_the_whole_file(header: str | None) -> None:
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize(("header", "size"), [
    ("bytes=1000-", SIZE), ("bytes=5000-6000", SIZE), ("bytes=-0", SIZE), ("bytes=0-", 0), ("bytes=-10", 0),
])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, size)
    assert caught.value.size == size


def test_content_range_and_length() -> None:
    byte_range = ByteRange(76, 6920)
    assert byte_range.length == 6845
    assert byte_range.content_range(94714) == "bytes 76-6920/94714"
