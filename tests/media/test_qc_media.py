"""QC on real output: one small transcode (session scope), then copies each broken in one way.

The output: 4 s 320x180 testsrc2 + a sine, two baseline rungs (256x144, 320x180), 2 s segments, 1 s
GOPs, one AAC rendition and one English subtitle track with a cue crossing a segment boundary. The
untouched output must pass every check; each broken copy must fail the check that owns the defect,
with the numbers in its detail.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from mediagen import make_source

from pipelines.encoder import encoder_identity
from pipelines.errors import CheckResult
from pipelines.ffmpeg import encode_argv
from pipelines.options import PlanOptions
from pipelines.packaging import build_presentation, write_manifests
from pipelines.plan import EncodePlan
from pipelines.presentation import Presentation
from pipelines.qc import run_qc
from pipelines.runner import RunLimits, run
from pipelines.subtitles import SubtitleDocument, wvtt
from pipelines.tools import Tools
from pipelines.transcode import Sidecar, TranscodeRequest, plan_transcode, transcode

pytestmark = pytest.mark.media

TOOLS = Tools.resolve()
SRT = ("1\n00:00:00,200 --> 00:00:01,000\nHello\n\n"
       "2\n00:00:01,500 --> 00:00:02,600\nAcross the cut\n\n"
       "3\n00:00:03,000 --> 00:00:03,800\nBye\n")
# The draft profile keeps B-frames (negative composition offsets): QC must see the first frame at 0.
LADDER = """name = "qc-tiny"
[[rungs]]
id = "144p"
width = 256
height = 144
bitrate = 150000
profile = "main"
[[rungs]]
id = "180p"
width = 320
height = 180
bitrate = 250000
profile = "main"
"""


@dataclass(frozen=True)
class Built:
    root: Path  # the published output; never modified by tests
    source: Path
    plan: EncodePlan
    subtitles: dict[str, SubtitleDocument]
    presentation: Presentation


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    folder = tmp_path_factory.mktemp("qc")
    source = make_source(folder / "source.mp4", duration=4.0)
    (folder / "en.srt").write_text(SRT, encoding="utf-8")
    (folder / "tiny.toml").write_text(LADDER, encoding="utf-8")
    request = TranscodeRequest(source=source, output=folder / "out", subtitles=(Sidecar("en", folder / "en.srt"),),
                               ladder=str(folder / "tiny.toml"), measure_quality=False,
                               options=PlanOptions(segment_seconds=2, gop_seconds=1, profile="draft"))
    result = transcode(request, tools=TOOLS)
    planned = plan_transcode(request, tools=TOOLS)
    # Measure the published files again (read-only: into a copy, since build_presentation writes subtitles).
    measured = folder / "measured"
    shutil.copytree(result.output, measured)
    presentation = build_presentation(measured, planned.plan, planned.subtitles, encoder_identity(TOOLS))
    return Built(result.output, source, planned.plan, dict(planned.subtitles), presentation)


@pytest.fixture
def copy(built: Built, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built.root, tmp_path / "out"))


def qc(built: Built, root: Path, scratch: Path, presentation: Presentation | None = None) -> dict[str, CheckResult]:
    results = run_qc(root, presentation or built.presentation, built.plan, built.subtitles, tools=TOOLS,
                     scratch=scratch)
    names = [r.name for r in results]
    assert len(names) == len(set(names)), "check names must be unique"
    return {r.name: r for r in results}


def failures(results: dict[str, CheckResult]) -> dict[str, str]:
    return {name: r.detail for name, r in results.items() if not r.passed}


def test_untouched_output_passes_every_check(built: Built, tmp_path: Path) -> None:
    started = time.monotonic()
    results = qc(built, built.root, tmp_path)
    elapsed = time.monotonic() - started
    assert failures(results) == {}
    expected = {
        "renditions.video.count", "renditions.audio.count", "video.keyframes.aligned",
        "hls.master.uris", "hls.master.renditions", "dash.representations", "languages.audio",
        "languages.subtitles", "client.hls", "client.dash", "subtitles.en.cues", "subtitles.en.segments",
        "hls.subtitles.en.index.uris", "dash.text.en.segments", "subtitles.en.fragments", "client.dash.text",
        "audio.en.duration", "audio.en.codec",
    }
    for rung in ("144p", "180p"):
        expected |= {f"video.{rung}.{what}" for what in (
            "files", "codec", "profile", "size", "pix_fmt", "frame_rate", "start", "keyframes", "gop",
            "segments", "duration")}
        expected |= {f"hls.variant.{rung}.bandwidth", f"hls.variant.{rung}.average_bandwidth",
                     f"hls.variant.{rung}.codecs", f"hls.video.{rung}.iframes.uris",
                     f"hls.video.{rung}.index.target_duration", f"dash.video.{rung}.segments"}
    assert expected <= results.keys()
    assert elapsed < 5, f"QC took {elapsed:.1f} s"
    assert "2 segment starts" in results["video.180p.keyframes"].detail


def test_deleted_segment_fails_files_playlist_and_dash(built: Built, copy: Path, tmp_path: Path) -> None:
    (copy / "video/180p/seg_00002.m4s").unlink()
    failed = failures(qc(built, copy, tmp_path / "scratch"))
    assert "video/180p/seg_00002.m4s is missing" in failed["video.180p.files"]
    assert "seg_00002.m4s (video/180p/seg_00002.m4s) does not exist" in failed["hls.video.180p.index.uris"]
    assert "video/180p/seg_00002.m4s is addressed by the timeline but does not exist" in \
        failed["dash.video.180p.segments"]
    assert "cannot measure video/180p/index.m3u8" in failed["hls.variant.180p.bandwidth"]
    assert not any(name.startswith("video.144p") for name in failed)


def test_inflated_bandwidth_fails_with_both_numbers(built: Built, copy: Path, tmp_path: Path) -> None:
    master = copy / "master.m3u8"
    text = master.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("#EXT-X-STREAM-INF") and "320x180" in x)
    declared = int(re.search(r"BANDWIDTH=(\d+)", line)[1])  # type: ignore[index]
    master.write_text(text.replace(line, line.replace(f"BANDWIDTH={declared}", f"BANDWIDTH={declared * 3 // 2}",
                                                      1)), encoding="utf-8")
    failed = failures(qc(built, copy, tmp_path / "scratch"))
    assert set(failed) == {"hls.variant.180p.bandwidth"}
    detail = failed["hls.variant.180p.bandwidth"]
    assert f"BANDWIDTH={declared * 3 // 2} is more than 1.10x the measured" in detail
    assert "+50.0%" in detail


def test_shifted_text_fragment_fails_alignment_and_cues(built: Built, copy: Path, tmp_path: Path) -> None:
    # The second DASH text segment rewritten to start 0.5 s late: the cue across the 2 s cut comes apart.
    # (ffmpeg's dash demuxer gives no sample durations, so through the MPD the gap reads as the previous
    # sample lasting longer: client.dash.text cannot see this one; the fragments' own timing does.)
    fragment = copy / "subtitles/en/seg_00002.m4s"
    fragment.write_bytes(wvtt.media_segment(built.subtitles["en"].cues, 2.5, 4.0, 2))
    failed = failures(qc(built, copy, tmp_path / "scratch"))
    assert set(failed) == {"subtitles.en.fragments", "subtitles.en.cues"}
    assert "subtitles/en/seg_00002.m4s covers 2500-4000 ms, its media segment 2000-4000 ms" in \
        failed["subtitles.en.fragments"]
    assert "document cue [1.500-2.600 'Across the cut'] is in no text segment" in failed["subtitles.en.cues"]
    assert "text segment cue [1.500-2.000 'Across the cut'] is not in the document" in failed["subtitles.en.cues"]


def test_missing_cue_in_a_text_fragment_fails_cues(built: Built, copy: Path, tmp_path: Path) -> None:
    cues = built.subtitles["en"].cues
    fragment = copy / "subtitles/en/seg_00002.m4s"
    fragment.write_bytes(wvtt.media_segment([c for c in cues if c.start < 2.0], 2.0, 4.0, 2))
    failed = failures(qc(built, copy, tmp_path / "scratch"))
    assert set(failed) == {"subtitles.en.cues", "client.dash.text"}
    assert "is in no text segment" in failed["subtitles.en.cues"]


def test_shifted_cue_in_an_hls_segment_fails_the_segment_union(built: Built, copy: Path, tmp_path: Path) -> None:
    segment = copy / "subtitles/en/seg_00002.vtt"
    text = segment.read_text(encoding="utf-8")
    assert "00:00:01.500 --> 00:00:02.600" in text  # the cue crossing the 2 s cut is repeated here
    segment.write_text(text.replace("00:00:01.500 -->", "00:00:02.000 -->").replace("MPEGTS:0", "MPEGTS:900000"),
                       encoding="utf-8")
    failed = failures(qc(built, copy, tmp_path / "scratch"))
    assert set(failed) == {"subtitles.en.segments"}
    detail = failed["subtitles.en.segments"]
    assert "X-TIMESTAMP-MAP is {'MPEGTS': '900000', 'LOCAL': '00:00:00.000'}" in detail
    assert "segment cue [2.000-2.600 'Across the cut'] is not in the document" in detail


def test_rung_with_another_gop_fails_alignment_and_grid(built: Built, copy: Path, tmp_path: Path) -> None:
    rung = next(r for r in built.plan.video if r.id == "144p")
    plan = dataclasses.replace(built.plan, video=(rung,), audio=(), embedded_subtitles=(), gop_seconds=2,
                               gop_frames=50)
    redo = tmp_path / "redo"
    (redo / "video/144p").mkdir(parents=True)
    run(encode_argv(plan, ffmpeg=TOOLS.ffmpeg, source=built.source, out=redo, scratch=redo),
        limits=RunLimits(timeout=120))
    folder = copy / "video/144p"
    for old in folder.glob("*.m4s"):
        old.unlink()
    for new in (redo / "video/144p").iterdir():
        if new.suffix in (".mp4", ".m4s"):
            shutil.copy2(new, folder / new.name)
    presentation = build_presentation(copy, built.plan, tuple(built.subtitles.items()), encoder_identity(TOOLS))
    write_manifests(copy, presentation)
    failed = failures(qc(built, copy, tmp_path / "scratch", presentation))
    assert set(failed) == {"video.144p.gop", "video.keyframes.aligned"}
    assert "no keyframe at 1.000 s" in failed["video.144p.gop"]
    assert "no keyframe at 3.000 s" in failed["video.144p.gop"]
    assert "180p has 4 keyframes, 144p has 2" in failed["video.keyframes.aligned"]


def test_truncated_segment_fails_files_and_bandwidth(built: Built, copy: Path, tmp_path: Path) -> None:
    segment = copy / "video/180p/seg_00001.m4s"
    data = segment.read_bytes()
    segment.write_bytes(data[: len(data) // 2])
    failed = failures(qc(built, copy, tmp_path / "scratch"))
    assert f"video/180p/seg_00001.m4s has {len(data) // 2} bytes, {len(data)} were measured at packaging" in \
        failed["video.180p.files"]
    # The cut segment no longer parses as CMAF: the rendition's probe fails loudly.
    assert "malformed ISO-BMFF" in failed["video.180p.probe"]
    # The declared average was measured on the whole file: now far above what is on disk.
    assert "is more than 1.10x the measured" in failed["hls.variant.180p.average_bandwidth"]


def test_qc_writes_only_joined_renditions_to_scratch(built: Built, tmp_path: Path) -> None:
    before = sorted(p.relative_to(built.root) for p in built.root.rglob("*"))
    qc(built, built.root, tmp_path)
    assert {p.name for p in (tmp_path / "qc").iterdir()} == {"video_144p.mp4", "video_180p.mp4", "audio_en.mp4"}
    assert sorted(p.relative_to(built.root) for p in built.root.rglob("*")) == before

