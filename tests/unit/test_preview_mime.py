"""Content types of what `vodfleet preview` serves (workers/preview/mime.py)."""

from __future__ import annotations

import pytest

from workers.preview.mime import DEFAULT_TYPE, content_type


@pytest.mark.parametrize(("name", "expected"), [
    ("master.m3u8", "application/vnd.apple.mpegurl"),
    ("video/360p/iframes.m3u8", "application/vnd.apple.mpegurl"),
    ("manifest.mpd", "application/dash+xml"),
    ("seg_00001.m4s", "video/iso.segment"),
    ("init.mp4", "video/mp4"),
    ("subtitles.vtt", "text/vtt; charset=utf-8"),
    ("SEG_00001.M4S", "video/iso.segment"),
    ("report.json", "application/json"),
    ("index.html", "text/html; charset=utf-8"),
    ("player.js", "text/javascript; charset=utf-8"),
    ("player.css", "text/css; charset=utf-8"),
    ("preview.png", "image/png"),
    ("ffmpeg.m3u8.tmp", DEFAULT_TYPE),
    ("README", DEFAULT_TYPE),
])
def test_content_type(name: str, expected: str) -> None:
    assert content_type(name) == expected
