"""Real-world shapes through the whole pipeline: rotation, portrait, anamorphic, interlaced, HDR, VFR, 5.1, rates.

Each source is tiny (≤ 320x180, 2-3 s) and transcoded with a two-rung ladder; the output is ffprobed.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import mediagen
import pytest

from pipelines.options import PlanOptions
from pipelines.probe import probe
from pipelines.subtitles import wvtt
from pipelines.tools import Tools
from pipelines.transcode import TranscodeRequest, transcode

pytestmark = pytest.mark.media

TINY = str(Path(__file__).parents[1] / "fixtures" / "ladders" / "tiny.toml")


def probe_video(folder: Path, tmp_path: Path) -> dict[str, Any]:
    joined = tmp_path / f"{folder.name}.mp4"
    joined.write_bytes((folder / "init.mp4").read_bytes()
                       + b"".join(p.read_bytes() for p in sorted(folder.glob("seg_*.m4s"))))
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-count_frames", str(joined)],
                         check=True, capture_output=True)
    return dict(json.loads(out.stdout)["streams"][0])


CASES = [
    # name, make_source kwargs, expected top size, expected frame rate, plan note fragment
    ("portrait", {"width": 180, "height": 320}, (180, 320), "25/1", ""),
    ("rotated90", {"rotate": 90}, (180, 320), "25/1", ""),
    ("anamorphic", {"width": 240, "height": 180, "sar": "4:3"}, (320, 180), "25/1", ""),
    ("interlaced", {"interlaced": True}, (320, 180), "25/1", "deinterlaced"),
    ("hdr10", {"hdr": True, "codec": "libx265"}, (320, 180), "25/1", "tone-mapped"),
    ("vfr", {"vfr": True, "duration": 3.0}, (320, 180), "30/1", "variable frame rate"),  # avg 33.3 → 30
    ("ntsc-film", {"fps": "24000/1001"}, (320, 180), "24000/1001", ""),
    ("fifty", {"fps": "50"}, (320, 180), "50/1", ""),
    ("surround51", {"channels": 6}, (320, 180), "25/1", ""),
    ("no-audio", {"audio": ()}, (320, 180), "25/1", ""),
]


@pytest.mark.parametrize(("name", "kwargs", "size", "rate", "note"), CASES, ids=[c[0] for c in CASES])
def test_odd_source_transcodes_and_measures_right(name: str, kwargs: dict[str, Any], size: tuple[int, int],
                                                  rate: str, note: str, tmp_path: Path) -> None:
    options = {"duration": 2.0, **kwargs}
    source = mediagen.make_source(tmp_path / f"{name}.mp4", **options)
    result = transcode(TranscodeRequest(source=source, output=tmp_path / "out", ladder=TINY,
                                        options=PlanOptions(segment_seconds=2, profile="draft")))
    report = result.report
    assert report["qc"]["passed"], [c for c in report["qc"]["checks"] if not c["passed"]]
    top = report["renditions"]["video"][-1]
    stream = probe_video(result.output / top["path"], tmp_path)
    assert (stream["width"], stream["height"]) == size
    assert stream["r_frame_rate"] == rate
    assert stream["pix_fmt"] == "yuv420p"
    assert stream.get("color_transfer", "bt709") == "bt709"
    assert "side_data_list" not in stream, "rotation must be applied to pixels, not left as metadata"
    if note:
        assert any(note in n for n in report["plan"]["notes"]), report["plan"]["notes"]
    audio = report["renditions"]["audio"]
    if options.get("audio", ("eng",)):
        assert [a["channels"] for a in audio] == [2]
    else:
        assert audio == []


def test_embedded_text_subtitles_become_webvtt(tmp_path: Path) -> None:
    """mov_text tracks in the master are extracted in the same ffmpeg run and published like sidecars."""
    source = mediagen.make_source(tmp_path / "subbed.mp4", duration=2.5, subtitle_langs=("eng", "spa"))
    result = transcode(TranscodeRequest(source=source, output=tmp_path / "out", ladder=TINY, measure_quality=False,
                                        options=PlanOptions(segment_seconds=2, profile="draft")))
    subs = result.report["renditions"]["subtitles"]
    assert [(s["language"], s["cues"]) for s in subs] == [("en", 2), ("es", 2)]
    folder = result.output / "subtitles" / "es"
    cues = wvtt.join_cues(wvtt.read_fragment_cues(p.read_bytes()) for p in sorted(folder.glob("seg_*.m4s")))
    assert [(c.start_ms, c.end_ms, c.payload) for c in cues] == [(200, 1000, "Hello (spa)"),
                                                                 (1200, 2000, "World (spa)")]
    master = (result.output / "master.m3u8").read_text(encoding="utf-8")
    assert 'TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en"' in master


def test_an_unusable_embedded_subtitle_track_is_left_out(tmp_path: Path) -> None:
    """A master whose subtitle track has no cue inside the video still publishes, without that track."""
    base = mediagen.make_source(tmp_path / "plain.mp4", duration=2.0)
    empty_srt = tmp_path / "late.srt"
    empty_srt.write_text("1\n00:00:30,000 --> 00:00:31,000\nafter the end\n", encoding="utf-8")
    source = tmp_path / "with-empty-track.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(base), "-i", str(empty_srt), "-map", "0",
                    "-map", "1", "-c", "copy", "-c:s", "srt", "-metadata:s:s:0", "language=ger", str(source)],
                   check=True)
    result = transcode(TranscodeRequest(source=source, output=tmp_path / "out", ladder=TINY, measure_quality=False,
                                        options=PlanOptions(segment_seconds=2, profile="draft")))
    assert result.report["renditions"]["subtitles"] == []


def _offset_ts(tmp_path: Path, *, delay: str) -> Path:
    """An MPEG-TS whose video (or audio) starts 0.3 s after the other stream, as broadcast captures do."""
    plain = tmp_path / "plain.ts"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=3",
                    "-f", "lavfi", "-i", "sine=f=440:d=3", "-map", "0:v", "-map", "1:a", "-c:v", "mpeg2video",
                    "-q:v", "4", "-c:a", "mp2", "-f", "mpegts", str(plain)], check=True)
    late_video = delay == "video"
    out = tmp_path / f"late-{delay}.ts"
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin",
                    *(["-itsoffset", "0.3"] if late_video else []), "-i", str(plain),
                    *([] if late_video else ["-itsoffset", "0.3"]), "-i", str(plain),
                    "-map", "0:v", "-map", "1:a", "-c", "copy", "-f", "mpegts", str(out)], check=True)
    return out


def _mean_volume(path: Path, start: float, length: float) -> float:
    out = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-ss", str(start), "-t", str(length), "-i", str(path),
                          "-af", "volumedetect", "-f", "null", "-"], capture_output=True, text=True, check=True)
    line = next(ln for ln in out.stderr.splitlines() if "mean_volume" in ln)
    return float(line.split("mean_volume:")[1].split()[0])


@pytest.mark.parametrize("delay", ["audio", "video"])
def test_streams_starting_late_keep_sync(delay: str, tmp_path: Path) -> None:
    """Every CMAF track starts at 0, so a late stream must be padded (silence / held frame), not pulled forward;
    and every track ends with the picture: late audio that runs past it is cut, audio that ends before it is
    padded (one timeline: never a track-length mismatch)."""
    source = _offset_ts(tmp_path, delay=delay)
    result = transcode(TranscodeRequest(source=source, output=tmp_path / "out", ladder=TINY, measure_quality=False,
                                        options=PlanOptions(segment_seconds=2, profile="draft")))
    assert result.report["qc"]["passed"]
    audio = result.report["renditions"]["audio"][0]
    video = result.report["renditions"]["video"][0]
    joined = tmp_path / "audio.mp4"
    folder = result.output / audio["path"]
    joined.write_bytes((folder / "init.mp4").read_bytes()
                       + b"".join(p.read_bytes() for p in sorted(folder.glob("seg_*.m4s"))))
    frame = 1024 / 48000
    if delay == "audio":
        assert video["duration"] == pytest.approx(3.0, abs=0.04)
        assert _mean_volume(joined, 0.0, 0.25) < -80, "the first 0.3 s must be the padded silence"
        assert _mean_volume(joined, 0.5, 1.0) > -30
        assert audio["source_offset"] == pytest.approx(0.3, abs=0.02)  # mp2 frames: 24 ms
    else:
        assert video["duration"] == pytest.approx(3.3, abs=0.05)
        assert _mean_volume(joined, 3.05, 0.2) < -80, "the audio ends at 3.0 s: padded with silence to the picture"
        assert audio["source_offset"] == pytest.approx(-0.3, abs=0.02)
    assert (audio["start"], audio["offset"]) == (0.0, 0.0)
    assert audio["end"] == pytest.approx(video["end"], abs=frame)


def test_mpegts_with_aac_has_its_audio_end_measured(tmp_path: Path) -> None:
    """MPEG-TS carries no durations: ffprobe's estimate misses the last PES packet, which holds several AAC
    frames (about 0.1 s). The probe measures the real end from the last packets, so QC compares the output's
    audio with what the master really holds."""
    source = mediagen.make_source(tmp_path / "capture.ts", width=320, height=180, duration=6.0)
    estimate = json.loads(subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                                          "stream=duration", "-of", "json", str(source)], capture_output=True,
                                         text=True, check=True).stdout)["streams"][0]["duration"]
    audio = probe(source, tools=Tools.resolve()).audio[0]
    assert audio.duration is not None and audio.duration > float(estimate) + 0.05  # the last PES is counted
    assert audio.duration == pytest.approx(6.0, abs=0.05)
    result = transcode(TranscodeRequest(source=source, output=tmp_path / "out", ladder=TINY, measure_quality=False,
                                        options=PlanOptions(segment_seconds=2, profile="draft")))
    assert result.report["qc"]["passed"]
    # the audio ends with the picture (one timeline), within one AAC frame
    published = result.report["renditions"]
    assert published["audio"][0]["end"] == pytest.approx(published["video"][0]["end"], abs=1024 / 48000)
