"""Object keys: the only way a name (a job id, a language tag, a file in an output folder) becomes a key.

A key is a POSIX-style *relative* path of segments joined by "/": ``outputs/ep1/v0003/master.m3u8``.

    - 1 to 1024 bytes of UTF-8 (S3's limit); segments at most 255 bytes (a local file name's limit);
    - segments drawn from ``[A-Za-z0-9._=+-]``: no spaces, no backslash, no control or non-ASCII
      characters (no look-alike dots, no bidi overrides), nothing a shell or a URL treats specially;
    - no empty segment (no leading "/", no trailing "/", no "//"), no "." or ".." segment;
    - no segment starting with "-" (a key may end up as an argv element of ffmpeg).

The same rules hold on every backend, so a key that works on a laptop works on S3 and the reverse.
Everything here is pure; violations raise `KeyInvalid` naming what was wrong and how to fix it.
"""

from __future__ import annotations

import re

from workers.errors import KeyInvalid

MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255
SAFE_SEGMENT = re.compile(r"[A-Za-z0-9._=+-]+")
SAFE_CHARS_HINT = "use letters, digits and . _ - = + in segments separated by single '/'"
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate_key(key: object) -> str:
    """Return `key` unchanged if it is a safe relative object key; raise `KeyInvalid` otherwise."""
    if not isinstance(key, str):
        raise KeyInvalid(f"object key must be a string, got {type(key).__name__}", hint=SAFE_CHARS_HINT)
    if not key:
        raise KeyInvalid("object key is empty", hint=SAFE_CHARS_HINT)
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise KeyInvalid(f"object key is {size} bytes long (limit {MAX_KEY_BYTES})",
                         hint="shorten the prefix or the names in it")
    if key.startswith("/"):
        raise KeyInvalid(f"object key {_shown(key)} is absolute", hint="keys are relative: drop the leading '/'")
    if "\\" in key:
        raise KeyInvalid(f"object key {_shown(key)} contains a backslash", hint="separate segments with '/'")
    for char in key:
        if ord(char) < 0x20 or ord(char) == 0x7F:
            raise KeyInvalid(f"object key {_shown(key)} contains control character U+{ord(char):04X}",
                             hint=SAFE_CHARS_HINT)
    for segment in key.split("/"):
        _check_segment(key, segment)
    return key


def _check_segment(key: str, segment: str) -> None:
    if not segment:
        raise KeyInvalid(f"object key {_shown(key)} has an empty segment", hint="no leading, trailing or double '/'")
    if segment in (".", ".."):
        raise KeyInvalid(f"object key {_shown(key)} has a {segment!r} segment",
                         hint="relative references are not allowed in keys")
    if not SAFE_SEGMENT.fullmatch(segment):
        bad = sorted({char for char in segment if not SAFE_SEGMENT.fullmatch(char)})
        raise KeyInvalid(f"object key {_shown(key)} has unsafe characters {_shown(''.join(bad))}",
                         hint=SAFE_CHARS_HINT)
    if segment.startswith("-"):
        raise KeyInvalid(f"object key {_shown(key)} has a segment starting with '-'",
                         hint="start each segment with a letter, digit, '.' or '_'")
    if len(segment) > MAX_SEGMENT_BYTES:
        raise KeyInvalid(f"object key segment is {len(segment)} bytes long (limit {MAX_SEGMENT_BYTES})",
                         hint="shorten the name")


def validate_prefix(prefix: object) -> str:
    """A key prefix: "" (the whole bucket) or a valid key; one trailing "/" is dropped."""
    if prefix == "":
        return ""
    if isinstance(prefix, str) and prefix.endswith("/") and not prefix.endswith("//"):
        prefix = prefix[:-1]
    return validate_key(prefix)


def join_key(*parts: str) -> str:
    """Join key parts with "/" (empty parts are skipped, each part is validated) and validate the result."""
    kept = [validate_key(part) for part in parts if part != ""]
    if not kept:
        raise KeyInvalid("object key is empty (every part was empty)", hint=SAFE_CHARS_HINT)
    return validate_key("/".join(kept))


def validate_bucket(bucket: object) -> str:
    """S3 bucket naming rules (the general-purpose bucket rules, which also suit other S3 servers)."""
    hint = "3-63 characters: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
    if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket):
        raise KeyInvalid(f"bucket name {_shown(bucket)} is invalid", hint=hint)
    if ".." in bucket or ".-" in bucket or "-." in bucket:
        raise KeyInvalid(f"bucket name {_shown(bucket)} has adjacent dots or a dot next to a dash", hint=hint)
    if _IPV4.fullmatch(bucket):
        raise KeyInvalid(f"bucket name {_shown(bucket)} looks like an IP address", hint=hint)
    if bucket.startswith(("xn--", "sthree-")) or bucket.endswith(("-s3alias", "--ol-s3", "--x-s3")):
        raise KeyInvalid(f"bucket name {_shown(bucket)} uses a reserved prefix or suffix", hint=hint)
    return bucket


def parse_s3_uri(uri: object) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` → ``("bucket", "some/prefix")``; the prefix may be empty."""
    hint = "write it as s3://bucket or s3://bucket/prefix (no credentials, port, query or fragment)"
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise KeyInvalid(f"{_shown(uri)} is not an s3:// URI", hint=hint)
    rest = uri[len("s3://"):]
    if any(char in rest for char in "?#@:"):
        raise KeyInvalid(f"S3 URI {_shown(uri)} has a query, fragment, credentials or port", hint=hint)
    bucket, _, prefix = rest.partition("/")
    return validate_bucket(bucket), validate_prefix(prefix)
