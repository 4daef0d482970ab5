"""One timeline, measured: sync-mark masters (a white frame and a 1 kHz beep at the same instants) through real
ffmpeg, the marks found again in the joined output segments, the A/V offset within 5 ms of the master's.

Every output is also held to the title: each track starts at 0 and ends with the picture (audio within one AAC
frame), the MPD and the HLS playlists state the picture's duration, and report.json gives each track's start,
end and offset. The measured offsets are printed (`-s`) for the record.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import mediagen
import pytest
import syncmarks

from pipelines.chunk import ChunkPolicy
from pipelines.options import PlanOptions
from pipelines.transcode import TranscodeRequest, transcode

pytestmark = pytest.mark.media

TINY = str(Path(__file__).parents[1] / "fixtures" / "ladders" / "tiny.toml")
OPTIONS = PlanOptions(segment_seconds=2, profile="draft")
TOLERANCE = 0.005  # the bound on (output offset − master offset)
AAC_FRAME = 1024 / 48000

CASES: dict[str, dict[str, Any]] = {
    "plain": {},
    "aac-44.1k": {"sample_rate": 44100},
    "aac-96k": {"sample_rate": 96000},
    "pcm-u8-44.1k": {"codec": "pcm_u8", "sample_rate": 44100, "suffix": ".mov"},
    "pcm-s16-48k": {"codec": "pcm_s16le", "sample_rate": 48000, "suffix": ".mov"},
    "pcm-s24-96k": {"codec": "pcm_s24le", "sample_rate": 96000, "suffix": ".mov"},
    # audio 1 s late through an MP4 edit list (the issue: QC failed this valid master by 0.67 ms)
    "edit-list-1s": {"audio_delay": 1.0, "marks": (1.6, 2.6)},
    "mpegts-1.4s": {"suffix": ".ts"},  # ffmpeg's MPEG-TS starts at 1.4 s, the picture 21 ms after the audio
    "audio-longer": {"audio_seconds": 6.0},
    "audio-shorter": {"audio_seconds": 3.0, "marks": (1.0, 2.6)},
}


def _durations(playlist: Path) -> float:
    return sum(float(d) for d in re.findall(r"#EXTINF:([0-9.]+),", playlist.read_text(encoding="utf-8")))


def check_title(out: Path, report: dict[str, Any]) -> None:
    """Every track on the title's timeline; the manifests state the picture's duration."""
    videos, audios = report["renditions"]["video"], report["renditions"]["audio"]
    picture = videos[0]
    for track in videos:
        assert (track["start"], track["end"], track["offset"]) == (0.0, picture["end"], 0.0)
    for track in audios:
        assert track["start"] == 0.0 and track["offset"] == 0.0
        assert abs(track["end"] - picture["end"]) <= AAC_FRAME, f"{track['id']} ends at {track['end']}"
        assert _durations(out / track["path"] / "index.m3u8") == pytest.approx(track["end"], abs=1e-5)
    mpd = (out / "manifest.mpd").read_text(encoding="utf-8")
    stated = float(re.search(r'mediaPresentationDuration="PT([0-9.]+)S"', mpd).group(1))  # type: ignore[union-attr]
    assert stated == pytest.approx(picture["end"], abs=0.0005)
    assert _durations(out / picture["path"] / "index.m3u8") == pytest.approx(picture["end"], abs=1e-5)
    sync = {c["name"]: c for c in report["qc"]["checks"] if c["name"].endswith(".sync")}
    assert sync and all(c["passed"] for c in sync.values())
    # QC measured the A/V offset against the master itself (the marks give its envelope something to line up)
    offsets = [c for c in report["qc"]["checks"] if c["name"].endswith(".offset")]
    assert offsets and all(c["passed"] and c["detail"].startswith("A/V offset vs the master") for c in offsets), offsets
    print("QC", *(c["detail"] for c in offsets))


def run_case(tmp_path: Path, name: str, kwargs: dict[str, Any], *, chunks: ChunkPolicy | None = None,
             video_seconds: float = 4.0) -> tuple[float, float]:
    kwargs = dict(kwargs)
    suffix = kwargs.pop("suffix", ".mp4")
    master = mediagen.make_sync_master(tmp_path / f"{name}{suffix}", video_seconds=video_seconds, **kwargs)
    source = syncmarks.measure(master.path)
    assert len(source.flashes) == len(master.marks), f"the master's marks: {source}"
    result = transcode(TranscodeRequest(source=master.path, output=tmp_path / "out", ladder=TINY, options=OPTIONS,
                                        measure_quality=False, chunks=chunks, jobs=2 if chunks else 1))
    assert result.report["qc"]["passed"]
    check_title(result.output, result.report)
    for rung in [v["id"] for v in result.report["renditions"]["video"]]:
        output, _, _ = syncmarks.measure_output(result.output, rung)
        # the marks found again, as far apart as in the master; the first within a frame of where it was made
        # (an MPEG-TS picture that starts off the frame grid lands on the next frame)
        assert [b - a for a, b in zip(output.flashes, output.flashes[1:], strict=False)] == pytest.approx(
            [b - a for a, b in zip(source.flashes, source.flashes[1:], strict=False)], abs=0.001)
        assert output.flashes[0] == pytest.approx(master.marks[0], abs=0.041)
        print(f"SYNC {name} {rung}: source {source.offset * 1000:+.2f} ms, output {output.offset * 1000:+.2f} ms")
        assert abs(output.offset - source.offset) <= TOLERANCE, (
            f"{name} {rung}: A/V offset {output.offset * 1000:+.2f} ms, the master's {source.offset * 1000:+.2f} ms")
    return source.offset, output.offset


@pytest.mark.parametrize("name", list(CASES))
def test_the_output_keeps_the_masters_av_offset(tmp_path: Path, name: str) -> None:
    run_case(tmp_path, name, CASES[name])


def test_a_chunked_encode_keeps_the_masters_av_offset(tmp_path: Path) -> None:
    """Two chunks (the audio is encoded once for the title); a mark on each side of the join and one in the last
    segment."""
    run_case(tmp_path, "chunked", {"marks": (1.0, 8.4, 15.2)}, chunks=ChunkPolicy(count=2), video_seconds=16.0)


def test_the_uncompensated_priming_would_be_measured(tmp_path: Path) -> None:
    """The measurement can fail: a plain AAC fMP4 of the master (what vodfleet published before, priming kept
    and no edit list) measures the encoder's 1024 samples late."""
    master = mediagen.make_sync_master(tmp_path / "m.mp4")
    folder = tmp_path / "naive"
    folder.mkdir()
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(master.path), "-map", "0:a", "-c:a", "aac",
                    "-f", "hls", "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
                    "-hls_segment_options", "use_editlist=0", "-hls_segment_filename", str(folder / "seg_%05d.m4s"),
                    "-start_number", "1", str(folder / "x.m3u8")], check=True)
    late = syncmarks.measure(master.path, syncmarks.joined(folder, tmp_path / "a.mp4"))
    assert late.offset - syncmarks.measure(master.path).offset == pytest.approx(1024 / 48000, abs=0.001)
