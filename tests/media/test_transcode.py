"""End to end with real ffmpeg: one transcode, many independent measurements of what it made.

The checks here re-measure the output with other tools (ffprobe, the m3u8 package, mpegdash, a plain
WebVTT read) rather than trusting vodfleet's own QC.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import m3u8
import mediagen
import psutil
import pytest
from mpegdash.parser import MPEGDASHParser

from pipelines.errors import Cancelled, FFmpegTimeout
from pipelines.options import PlanOptions
from pipelines.subtitles import wvtt
from pipelines.transcode import Event, Sidecar, TranscodeRequest, transcode
from pipelines.workspace import STAGING_PREFIX, remove_abandoned

pytestmark = pytest.mark.media

SRT = """1
00:00:00,500 --> 00:00:01,500
First line

2
00:00:02,250 --> 00:00:03,750
<i>Second</i> line
spans two lines

3
00:00:04,100 --> 00:00:05,900
Third, across a segment boundary
"""
EXPECTED_CUES = [(0.5, 1.5, "First line"), (2.25, 3.75, "<i>Second</i> line\nspans two lines"),
                 (4.1, 5.9, "Third, across a segment boundary")]


def ffprobe_json(*args: str) -> Any:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args], check=True, capture_output=True)
    return json.loads(out.stdout)


def joined(root: Path, folder: str) -> bytes:
    path = root / folder
    segments = sorted(path.glob("seg_*.m4s"))
    return (path / "init.mp4").read_bytes() + b"".join(s.read_bytes() for s in segments)


@pytest.fixture(scope="session")
def episode(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """640x360 25 fps, 6 s, English + Spanish audio, one SRT sidecar; 2 s segments → 3 per rendition."""
    base = tmp_path_factory.mktemp("episode")
    source = mediagen.make_source(base / "episode.mp4", width=640, height=360, duration=6.0,
                                  audio=("eng", "spa"))
    srt = base / "episode.fr.srt"
    srt.write_text(SRT, encoding="utf-8")
    events: list[Event] = []
    started = time.monotonic()
    result = transcode(TranscodeRequest(
        source=source, output=base / "out", subtitles=(Sidecar("fr", srt),),
        options=PlanOptions(segment_seconds=2, profile="draft")), on_event=events.append)
    return {"root": result.output, "report": result.report, "events": events, "source": source,
            "elapsed": time.monotonic() - started}


def test_layout_is_the_documented_one(episode: dict[str, Any]) -> None:
    root: Path = episode["root"]
    names = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    for expected in ["master.m3u8", "manifest.mpd", "report.json", "video/234p/init.mp4",
                     "video/234p/seg_00001.m4s", "video/234p/index.m3u8", "video/234p/iframes.m3u8",
                     "video/360p/index.m3u8", "audio/en/index.m3u8", "audio/es/seg_00003.m4s",
                     "subtitles/fr/index.m3u8", "subtitles/fr/seg_00003.vtt", "subtitles/fr/init.mp4",
                     "subtitles/fr/seg_00003.m4s"]:
        assert expected in names
    assert "subtitles/fr/subtitles.vtt" not in names  # the whole-title sidecar is opt-in
    assert not any(n.endswith("ffmpeg.m3u8") for n in names), "ffmpeg's scratch playlists leaked"
    assert not list(root.parent.glob(f"{STAGING_PREFIX}*")), "staging folder left behind"


def test_every_rendition_measures_as_planned(episode: dict[str, Any], tmp_path: Path) -> None:
    root: Path = episode["root"]
    for rung, (width, height) in {"234p": (416, 234), "360p": (640, 360)}.items():
        file = tmp_path / f"{rung}.mp4"
        file.write_bytes(joined(root, f"video/{rung}"))
        info = ffprobe_json("-show_streams", "-show_packets", "-show_entries", "packet=pts_time,flags",
                            str(file))
        stream = info["streams"][0]
        assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", width, height)
        assert stream["pix_fmt"] == "yuv420p"
        # ffprobe adds the B-frame delay to every pts (see pipelines/qc/streams.py): compare spacing
        first = min(float(p["pts_time"]) for p in info["packets"])
        keyframes = sorted(round(float(p["pts_time"]) - first, 3) for p in info["packets"] if "K" in p["flags"])
        assert keyframes == [0.0, 2.0, 4.0], f"{rung}: keyframes every 2 s, no scene cuts"
        frames = len(info["packets"])
        assert frames == 150, f"{rung}: 6 s at 25 fps"
    for lang in ("en", "es"):
        file = tmp_path / f"{lang}.mp4"
        file.write_bytes(joined(root, f"audio/{lang}"))
        stream = ffprobe_json("-show_streams", str(file))["streams"][0]
        assert (stream["codec_name"], stream["profile"], stream["channels"], stream["sample_rate"]) == (
            "aac", "LC", 2, "48000")
        assert abs(float(stream["duration"]) - 6.0) < 0.05


def test_hls_master_reads_back_with_m3u8(episode: dict[str, Any]) -> None:
    root: Path = episode["root"]
    master = m3u8.load(str(root / "master.m3u8"))
    assert master.is_variant
    assert sorted(p.stream_info.resolution for p in master.playlists) == [(416, 234), (640, 360)]
    for variant in master.playlists:
        info = variant.stream_info
        assert info.codecs.startswith("avc1.") and info.codecs.endswith(",mp4a.40.2")
        assert info.average_bandwidth <= info.bandwidth
        assert info.frame_rate == pytest.approx(25.0)
        media = m3u8.load(str(root / variant.uri))
        assert media.target_duration == 2
        assert len(media.segments) == 3 and media.is_endlist
        sizes = [(root / Path(variant.uri).parent / s.uri).stat().st_size for s in media.segments]
        peak = max(size * 8 / s.duration for size, s in zip(sizes, media.segments, strict=True))
        assert info.bandwidth >= peak, "BANDWIDTH must cover the measured peak (plus audio)"
    audio = [m for m in master.media if m.type == "AUDIO"]
    assert [(m.language, m.default) for m in audio] == [("en", "YES"), ("es", "NO")]
    subs = [m for m in master.media if m.type == "SUBTITLES"]
    assert [m.language for m in subs] == ["fr"]
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in (root / "master.m3u8").read_text()
    assert len(master.iframe_playlists) == 2


def test_dash_manifest_reads_back_with_mpegdash(episode: dict[str, Any]) -> None:
    root: Path = episode["root"]
    mpd = MPEGDASHParser.parse(str(root / "manifest.mpd"))
    sets = mpd.periods[0].adaptation_sets
    video = [s for s in sets if (s.content_type or s.mime_type or "").startswith("video")]
    assert len(video) == 1 and len(video[0].representations) == 2
    langs = sorted(s.lang for s in sets if s.lang)
    assert langs == ["en", "es", "fr"]


def test_ffprobe_as_a_client_sees_every_rendition(episode: dict[str, Any]) -> None:
    root: Path = episode["root"]
    hls = ffprobe_json("-protocol_whitelist", "file", "-show_streams", str(root / "master.m3u8"))
    sizes = {(s.get("width"), s.get("height")) for s in hls["streams"] if s["codec_type"] == "video"}
    assert sizes == {(416, 234), (640, 360)}
    assert sum(s["codec_type"] == "audio" for s in hls["streams"]) >= 2
    # `ffprobe manifest.mpd`, no option at all: every AdaptationSet is a stream; ffmpeg 5.1 has no wvtt
    # decoder, so the text is a data stream tagged wvtt.
    bare = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_streams", "manifest.mpd"], cwd=root,
                          check=True, capture_output=True)
    dash = json.loads(bare.stdout)
    assert {(s.get("width"), s.get("height")) for s in dash["streams"] if s["codec_type"] == "video"} == sizes
    assert sorted((s["codec_type"], s["codec_tag_string"]) for s in dash["streams"] if s["codec_type"] != "video") \
        == [("audio", "mp4a"), ("audio", "mp4a"), ("data", "wvtt")]
    # The text's samples through the MPD: one starts at every cue edge and segment cut, text only in the cues.
    packets = ffprobe_json("-select_streams", "d", "-show_entries", "packet=pts_time,size",
                           str(root / "manifest.mpd"))["packets"]
    starts = [float(p["pts_time"]) for p in packets]
    assert starts == pytest.approx([0, 0.5, 1.5, 2, 2.25, 3.75, 4, 4.1, 5.9], abs=0.001)
    assert [int(p["size"]) > 8 for p in packets] == [False, True, False, False, True, False, False, True, False]


def test_subtitles_keep_their_source_timing(episode: dict[str, Any], tmp_path: Path) -> None:
    root: Path = episode["root"]
    # DASH: the wvtt fragments joined as one MP4, read by ffprobe's mov demuxer.
    (tmp_path / "fr.mp4").write_bytes(joined(root, "subtitles/fr"))
    packets = ffprobe_json("-show_entries", "packet=pts_time,size", str(tmp_path / "fr.mp4"))["packets"]
    starts = [float(p["pts_time"]) for p in packets]
    # A sample lasts until the next one starts (the last until the 6 s end); 8 bytes: an empty-cue (vtte) sample.
    spans = [(a, b) for a, b, p in zip(starts, [*starts[1:], 6.0], packets, strict=True) if int(p["size"]) > 8]
    got = [t for a, b in spans for t in (a, b)]
    assert got == pytest.approx([t for a, b, _ in EXPECTED_CUES for t in (a, b)], abs=0.001)
    fragments = [wvtt.read_fragment_cues(p.read_bytes()) for p in sorted((root / "subtitles/fr").glob("seg_*.m4s"))]
    cues = [(c.start_ms / 1000, c.end_ms / 1000, c.payload) for c in wvtt.join_cues(fragments)]
    assert cues == EXPECTED_CUES
    for number in (1, 2, 3):
        segment = (root / f"subtitles/fr/seg_{number:05d}.vtt").read_text(encoding="utf-8")
        assert segment.startswith("WEBVTT")
        assert "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000" in segment
    assert "Third, across" in (root / "subtitles/fr/seg_00003.vtt").read_text(encoding="utf-8")


def test_report_has_quality_speed_encoder_and_checks(episode: dict[str, Any]) -> None:
    report = json.loads((episode["root"] / "report.json").read_text())
    assert report == episode["report"]
    assert report["status"] == "passed" and report["qc"]["passed"]
    assert report["encoder"]["identity"].startswith("sha256:")
    assert report["encoder"]["x264"].startswith("core ")
    for rung in report["renditions"]["video"]:
        quality = rung["quality"]
        assert 25 < quality["psnr"] < 100 and 0.7 < quality["ssim"] <= 1
        assert quality["frames"] == 150
        assert rung["measured_peak_bitrate"] >= rung["measured_average_bitrate"] > 0
    assert report["speed"]["x_realtime"] > 0
    assert {c["name"].split(".")[0] for c in report["qc"]["checks"]} >= {"video", "audio"}


def test_progress_events_cover_every_phase(episode: dict[str, Any]) -> None:
    phases = [e.phase for e in episode["events"]]
    order = ["probing", "encoding", "packaging", "qc", "quality", "publishing", "done"]
    assert [p for p in order if p in phases] == order
    percents = [e.progress.percent for e in episode["events"] if e.progress and e.progress.percent is not None]
    assert percents and percents[-1] == 100.0


def _running_ffmpeg(marker: str) -> list[psutil.Process]:
    return [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]


@pytest.fixture(scope="module")
def long_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("long")
    return mediagen.make_source(base / "long-master.mp4", width=1280, height=720, duration=20.0)


def test_cancel_leaves_no_output_no_scratch_no_ffmpeg(long_source: Path, tmp_path: Path) -> None:
    cancel = threading.Event()

    def on_event(event: Event) -> None:
        if event.phase == "encoding" and event.progress is not None:
            cancel.set()

    out = tmp_path / "cancelled"
    with pytest.raises(Cancelled):
        transcode(TranscodeRequest(source=long_source, output=out, options=PlanOptions(profile="fast"),
                                   scratch_root=tmp_path), on_event=on_event, cancel=cancel)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "staging or scratch left behind"
    assert _running_ffmpeg(str(long_source)) == []


def test_timeout_leaves_no_output_and_names_the_limit(long_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "timed-out"
    with pytest.raises(FFmpegTimeout) as info:
        transcode(TranscodeRequest(source=long_source, output=out, encode_timeout=1.0, scratch_root=tmp_path))
    assert "time limit" in info.value.message
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert _running_ffmpeg(str(long_source)) == []


def test_sigkill_of_vodfleet_takes_ffmpeg_with_it(long_source: Path, tmp_path: Path) -> None:
    """A killed run leaves nothing at the output path, no ffmpeg, and its leftovers are swept next time."""
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "workers.cli", "transcode", str(long_source), "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _running_ffmpeg(str(long_source)) or not list(tmp_path.glob(f"{STAGING_PREFIX}*")):
        assert time.monotonic() < deadline, "ffmpeg never started"
        time.sleep(0.05)
    time.sleep(0.5)
    proc.kill()
    proc.wait()
    end = time.monotonic() + 10
    while _running_ffmpeg(str(long_source)):
        assert time.monotonic() < end, "ffmpeg outlived the SIGKILLed vodfleet"
        time.sleep(0.05)
    assert not out.exists()
    leftovers = list(tmp_path.glob(f"{STAGING_PREFIX}*"))
    assert leftovers, "expected the killed run's hidden staging folder"
    removed = remove_abandoned(tmp_path, f"{STAGING_PREFIX}killed-")
    assert removed == leftovers
    assert not list(tmp_path.glob(f"{STAGING_PREFIX}*"))
