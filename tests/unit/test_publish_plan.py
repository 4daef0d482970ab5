"""The publish plan: leaves first, masters last, names and versions."""

from __future__ import annotations

import pytest

from workers.errors import KeyInvalid, OutputInvalid
from workers.publish.plan import (
    Phase,
    claim_key,
    content_type,
    job_key,
    live_key,
    next_version,
    plan_publish,
    version_key,
    version_name,
    version_number,
)

OUTPUT = [
    "master.m3u8", "manifest.mpd", "report.json",
    "video/720p/init.mp4", "video/720p/seg_00001.m4s", "video/720p/seg_00002.m4s",
    "video/720p/index.m3u8", "video/720p/iframes.m3u8",
    "video/360p/init.mp4", "video/360p/seg_00001.m4s", "video/360p/index.m3u8", "video/360p/iframes.m3u8",
    "audio/en/init.mp4", "audio/en/seg_00001.m4s", "audio/en/index.m3u8",
    "subtitles/ko/init.mp4", "subtitles/ko/seg_00001.m4s", "subtitles/ko/seg_00001.vtt", "subtitles/ko/index.m3u8",
]


def test_phases_in_order_with_every_file_once() -> None:
    plan = plan_publish(reversed(OUTPUT))
    assert [phase.phase for phase in plan] == [Phase.MEDIA, Phase.PLAYLISTS, Phase.MASTERS]
    by_phase = {phase.phase: [upload.relative for upload in phase.uploads] for phase in plan}
    assert by_phase[Phase.MASTERS] == ["manifest.mpd", "master.m3u8", "report.json"]
    assert by_phase[Phase.PLAYLISTS] == [
        "audio/en/index.m3u8", "subtitles/ko/index.m3u8", "video/360p/iframes.m3u8", "video/360p/index.m3u8",
        "video/720p/iframes.m3u8", "video/720p/index.m3u8"]
    assert by_phase[Phase.MEDIA] == sorted(
        name for name in OUTPUT if not name.endswith((".m3u8", ".mpd", "report.json")))
    assert sorted(u.relative for phase in plan for u in phase.uploads) == sorted(OUTPUT)


def test_every_manifest_comes_after_what_it_can_name() -> None:
    """Invariant: no media file is in a later phase than any playlist; no playlist after a master."""
    order = {u.relative: index for index, phase in enumerate(plan_publish(OUTPUT)) for u in phase.uploads}
    media = [name for name in OUTPUT if name.endswith((".m4s", ".mp4", ".vtt"))]
    playlists = [name for name in OUTPUT if "/" in name and name.endswith(".m3u8")]
    for name in media:
        assert all(order[name] < order[playlist] for playlist in playlists)
    for name in playlists:
        assert order[name] < order["master.m3u8"] and order[name] < order["manifest.mpd"]


def test_dash_only_and_hls_only_outputs() -> None:
    assert [p.phase for p in plan_publish(["manifest.mpd", "video/1/init.mp4"])] == [Phase.MEDIA, Phase.MASTERS]
    assert [p.phase for p in plan_publish(["master.m3u8"])] == [Phase.MASTERS]


@pytest.mark.parametrize("files", [
    [], ["video/720p/index.m3u8", "video/720p/init.mp4"], ["report.json"], ["video/master.m3u8"],
])
def test_folder_without_master_is_rejected(files: list[str]) -> None:
    with pytest.raises(OutputInvalid, match=r"neither master\.m3u8 nor manifest\.mpd"):
        plan_publish(files)


@pytest.mark.parametrize("stray", ["../x", "video/a b.m4s", ".DS_Store~", "video/\u202ex.m4s"])
def test_unsafe_names_are_rejected(stray: str) -> None:
    with pytest.raises(OutputInvalid, match="cannot be published"):
        plan_publish([*OUTPUT, stray])


@pytest.mark.parametrize(("name", "expected"), [
    ("master.m3u8", "application/vnd.apple.mpegurl"), ("video/720p/index.m3u8", "application/vnd.apple.mpegurl"),
    ("manifest.mpd", "application/dash+xml"), ("video/720p/seg_00001.m4s", "video/iso.segment"),
    ("video/720p/init.mp4", "video/mp4"), ("audio/en/init.mp4", "audio/mp4"),
    ("subtitles/ko/seg_00001.vtt", "text/vtt; charset=utf-8"), ("report.json", "application/json"),
    ("subtitles/ko/init.mp4", "application/mp4"), ("subtitles/ko/seg_00001.m4s", "video/iso.segment"),
    ("subtitles/ko/subtitles.vtt", "text/vtt; charset=utf-8"),
    ("notes", "application/octet-stream"),
])
def test_content_types(name: str, expected: str) -> None:
    assert content_type(name) == expected


def test_versions() -> None:
    assert version_name(7) == "v0007"
    assert version_name(12345) == "v12345"
    assert version_number("v0007") == 7
    assert version_number("v12345") == 12345
    assert version_number("v7") is None
    assert version_number("latest") is None
    assert next_version([]) == 1
    assert next_version(["v0001.json", "v0003.json", "junk.json", "v0002"]) == 4
    with pytest.raises(ValueError, match="start at 1"):
        version_name(0)


def test_layout_keys() -> None:
    assert version_key("titles/ep1", "v0002", "video/720p/init.mp4") == "titles/ep1/v0002/video/720p/init.mp4"
    assert claim_key("titles/ep1", "v0002") == "titles/ep1/claims/v0002.json"
    assert job_key("titles/ep1", "job-42") == "titles/ep1/jobs/job-42.json"
    assert live_key("titles/ep1") == "titles/ep1/live.json"
    assert live_key("") == "live.json"
    for bad in ["../j", "a/b", "", "j k"]:
        with pytest.raises(KeyInvalid):
            job_key("t", bad)
