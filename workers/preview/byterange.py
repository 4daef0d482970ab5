"""The HTTP ``Range`` request header (RFC 9110 §14) → one satisfiable byte range (pure).

Only single ``bytes`` ranges are served as 206; a header this server does not understand (another unit, several
ranges, bad syntax) is ignored and the whole file is sent, which RFC 9110 allows. A well-formed range that
starts past the end of the file is unsatisfiable (416).
"""

from __future__ import annotations

from dataclasses import dataclass


class RangeNotSatisfiable(ValueError):
    """The range is well formed but selects no byte of a file of this size (answer 416)."""

    def __init__(self, header: str, size: int) -> None:
        super().__init__(f"range {header!r} selects nothing in {size} bytes")
        self.size = size


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range to send, or None for the whole file; raises RangeNotSatisfiable (→ 416)."""
    if not header:
        return None
    unit, sep, spec = header.strip().partition("=")
    if not sep or unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if not dash or not _digits(first, last):
        return None
    if not first:  # suffix range: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(header, size)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid syntax: ignored
    if start >= size:
        raise RangeNotSatisfiable(header, size)
    return ByteRange(start, min(int(last), size - 1) if last else size - 1)


def _digits(first: str, last: str) -> bool:
    if not first and not last:
        return False
    return all(part == "" or (part.isascii() and part.isdigit()) for part in (first, last))
