"""Keys: hostile names never become object keys; good ones pass unchanged."""

from __future__ import annotations

import pytest

from workers.errors import KeyInvalid
from workers.keys import join_key, parse_s3_uri, validate_bucket, validate_key, validate_prefix

GOOD = ["master.m3u8", "video/720p/seg_00001.m4s", "subtitles/zh-Hant/index.m3u8", "audio/en-2/init.mp4",
        "titles/ep1/v0007/report.json", "a=b+c/d_e.f", ".claim", "x" * 255, "/".join(["abcd"] * 204)]

HOSTILE = {
    "empty": "",
    "absolute": "/etc/passwd",
    "parent": "../secrets",
    "parent inside": "a/../../b",
    "dot segment": "a/./b",
    "lone dot": ".",
    "lone dotdot": "..",
    "double slash": "a//b",
    "trailing slash": "a/b/",
    "backslash": "a\\b",
    "windows traversal": "..\\..\\win.ini",
    "nul": "a\x00b",
    "newline": "seg\n.m4s",
    "tab": "a\tb",
    "del": "a\x7fb",
    "escape sequence": "\x1b[31mred",
    "space": "my file.mp4",
    "bidi override": "cod\u202egnp.exe",
    "fullwidth dots": "\uff0e\uff0e/x",
    "one dot leader": "\u2024\u2024/x",
    "non-ascii": "épisode.mp4",
    "zero width": "a\u200bb",
    "percent encoding": "%2e%2e/x",
    "shell": "$(reboot)",
    "backtick": "`id`",
    "glob": "*.m4s",
    "question": "a?b",
    "hash": "a#b",
    "tilde": "~root/x",
    "colon": "C:/x",
    "leading dash": "-rf",
    "leading dash segment": "a/--help",
    "too long": "a" * 1025,
    "segment too long": "a" * 256,
    "multibyte too long": "a/" * 400 + "b" * 300,
}


@pytest.mark.parametrize("key", GOOD)
def test_good_keys_pass_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_keys_rejected_with_hint(key: str) -> None:
    with pytest.raises(KeyInvalid) as caught:
        validate_key(key)
    assert caught.value.hint
    assert caught.value.code == "key_invalid"
    assert not caught.value.retryable
    assert "\n" not in str(caught.value) and "\x00" not in str(caught.value)  # the message shows repr()


@pytest.mark.parametrize("value", [None, b"bytes", 7, ["a"]])
def test_non_strings_rejected(value: object) -> None:
    with pytest.raises(KeyInvalid, match="must be a string"):
        validate_key(value)


def test_1024_bytes_is_the_limit() -> None:
    key = "/".join(["a" * 255] * 4) + "/" + "b" * 3  # 4*255 + 4 + 3 = 1027
    with pytest.raises(KeyInvalid, match="1027 bytes"):
        validate_key(key)
    assert validate_key(key[:1024].rstrip("/")) == key[:1024].rstrip("/")


def test_join_key() -> None:
    assert join_key("titles/ep1", "v0001", "video/720p/init.mp4") == "titles/ep1/v0001/video/720p/init.mp4"
    assert join_key("", "live.json") == "live.json"
    for parts in [("a", ".."), ("a", "/b"), ("a/", "b"), ("a", "b c"), ("",)]:
        with pytest.raises(KeyInvalid):
            join_key(*parts)


def test_validate_prefix() -> None:
    assert validate_prefix("") == ""
    assert validate_prefix("out/ep1/") == "out/ep1"
    for bad in ["/", "out//", "../x", "/out"]:
        with pytest.raises(KeyInvalid):
            validate_prefix(bad)


@pytest.mark.parametrize(("uri", "expected"), [
    ("s3://bucket", ("bucket", "")),
    ("s3://bucket/", ("bucket", "")),
    ("s3://my-bucket.media/out/ep1/", ("my-bucket.media", "out/ep1")),
    ("s3://abc/a/b/c", ("abc", "a/b/c")),
])
def test_parse_s3_uri(uri: str, expected: tuple[str, str]) -> None:
    assert parse_s3_uri(uri) == expected


@pytest.mark.parametrize("uri", [
    "bucket/prefix", "s3:/bucket", "S3://bucket", "s3://", "s3:///prefix", "s3://ab/x", "s3://Bucket/x",
    "s3://under_score", "s3://-dash", "s3://dash-", "s3://a..b", "s3://a.-b", "s3://192.168.1.10",
    "s3://xn--bucket", "s3://name-s3alias", "s3://" + "a" * 64, "s3://user:pw@bucket/x", "s3://bucket:9000/x",
    "s3://bucket/x?versionId=1", "s3://bucket/x#frag", "s3://bucket/../x", "s3://bucket//x", "s3://bucket/a b",
    "s3://bucket/x/../../y",
])
def test_parse_s3_uri_rejects(uri: str) -> None:
    with pytest.raises(KeyInvalid):
        parse_s3_uri(uri)


def test_bucket_rules() -> None:
    assert validate_bucket("a" * 63) == "a" * 63
    assert validate_bucket("abc") == "abc"
    with pytest.raises(KeyInvalid):
        validate_bucket("ab")
