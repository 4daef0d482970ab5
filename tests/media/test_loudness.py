"""Loudness normalisation end to end (real ffmpeg on generated masters): a quiet (−35 LUFS) and a hot
(−8 LUFS, clipping) master come out at the preset's target ±1 LU and under its ceiling; `off` keeps the level;
a silent master asked to normalise is rejected before anything is encoded.

The published level is measured here independently of the pipeline's meter (ebur128, pass 1 and QC): the rendition's
CMAF segments are joined, decoded and measured by ffmpeg's loudnorm (its JSON read with json.loads).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from mediagen import make_loudness_master

from pipelines.chunk import ChunkPolicy
from pipelines.loudness import PRESETS
from pipelines.loudness_measure import SilentAudio
from pipelines.options import PlanOptions
from pipelines.transcode import TranscodeRequest, TranscodeResult, transcode

pytestmark = pytest.mark.media

ROOT = Path(__file__).resolve().parents[2]
TINY = str(ROOT / "tests" / "fixtures" / "ladders" / "tiny.toml")


@pytest.fixture(scope="module")
def masters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("loudness")
    return {"quiet": make_loudness_master(folder / "quiet.mov", lufs=-35.0),
            "hot": make_loudness_master(folder / "hot.mov", lufs=-8.0)}


def published_loudness(result: TranscodeResult, tmp_path: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of the one published audio rendition, from its segments."""
    audio = result.report["renditions"]["audio"][0]
    folder = result.output / audio["path"]
    joined = tmp_path / "joined.mp4"
    joined.write_bytes((folder / "init.mp4").read_bytes()
                       + b"".join(p.read_bytes() for p in sorted(folder.glob("seg_*.m4s"))))
    return independent_loudness(joined)


def independent_loudness(media: Path) -> tuple[float, float]:
    """(integrated LUFS, true peak dBTP) of a file's first audio stream by ffmpeg's loudnorm meter (not the
    ebur128 meter vodfleet measures with)."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(media), "-map", "0:a:0",
                          "-af", "loudnorm=print_format=json", "-f", "null", "-"],
                         capture_output=True, text=True, check=True)
    block = re.findall(r"\{[^{}]*\}", out.stderr)[-1]
    figures = json.loads(block)
    return float(figures["input_i"]), float(figures["input_tp"])


def run(master: Path, preset: str, tmp_path: Path) -> TranscodeResult:
    return transcode(TranscodeRequest(source=master, output=tmp_path / "out", ladder=TINY, measure_quality=False,
                                      options=PlanOptions(segment_seconds=2, profile="draft", loudness=preset)))


@pytest.mark.parametrize("preset", ["ebu-r128", "streaming"])
@pytest.mark.parametrize(("name", "level"), [("quiet", -35.0), ("hot", -8.0)])
def test_normalised_to_the_target_under_the_ceiling(masters: dict[str, Path], name: str, level: float,
                                                    preset: str, tmp_path: Path) -> None:
    target = PRESETS[preset]
    assert target is not None
    result = run(masters[name], preset, tmp_path)
    integrated, peak = published_loudness(result, tmp_path)
    assert integrated == pytest.approx(target.integrated, abs=1.0), (name, preset, integrated)
    assert peak <= target.true_peak, (name, preset, peak)
    section = result.report["loudness"]
    assert section["preset"] == preset
    (track,) = section["tracks"]
    assert track["source"]["integrated_lufs"] == pytest.approx(level, abs=1.0)
    assert track["mode"] == "linear"  # both masters have room under the ceiling for one gain
    assert track["gain_db"] == pytest.approx(target.integrated - track["source"]["integrated_lufs"], abs=0.01)
    assert track["output"]["integrated_lufs"] == pytest.approx(integrated, abs=0.6)
    (check,) = [c for c in result.report["qc"]["checks"] if c["name"] == "audio.en.loudness"]
    assert check["passed"], check
    if name == "hot":
        assert track["source"]["true_peak_dbtp"] > -0.5  # the master really clips


def test_off_keeps_the_level(masters: dict[str, Path], tmp_path: Path) -> None:
    result = run(masters["quiet"], "off", tmp_path)
    integrated, _peak = published_loudness(result, tmp_path)
    assert integrated == pytest.approx(independent_loudness(masters["quiet"])[0], abs=0.5)
    (track,) = result.report["loudness"]["tracks"]
    assert (track["mode"], track["gain_db"]) == ("off", None)
    assert track["output"]["integrated_lufs"] == pytest.approx(track["source"]["integrated_lufs"], abs=0.5)
    assert not [c for c in result.report["qc"]["checks"] if c["name"].endswith(".loudness")]


def test_silent_master_is_rejected(tmp_path: Path) -> None:
    master = make_loudness_master(tmp_path / "silent.mov", lufs=None)
    with pytest.raises(SilentAudio) as caught:
        run(master, "ebu-r128", tmp_path)
    error = caught.value
    assert error.code == "audio_silent"
    assert "rendition en (" in error.message
    assert "silent.mov" in error.message
    assert "--loudness off" in error.hint
    assert not (tmp_path / "out").exists()
    result = run(master, "off", tmp_path)  # and published as it is when asked
    assert result.report["loudness"]["tracks"][0]["source"]["integrated_lufs"] is None


@pytest.mark.parametrize(("duration", "before"), [(4.0, -26.7), (20.0, -23.9)])
def test_a_gain_the_ceiling_forbids_is_limited_and_corrected(tmp_path: Path, duration: float, before: float) -> None:
    """−35 LUFS with a 2 ms 1 kHz burst at −0.5 dBFS: one gain to −23 would put the burst 11 dB over the ceiling.
    loudnorm's dynamic mode (3 s gain window + limiter) published these at `before` LUFS (QC's meter): 4 s failed QC
    and published nothing, 20 s sat near the low edge. Mode ``limited`` — the gain, a 4× oversampled limiter, and
    correction passes measured on the source — lands at the target and under the ceiling, in sync."""
    master = make_loudness_master(tmp_path / "spiky.mov", lufs=-35.0, duration=duration, transient_at=duration / 2)
    result = run(master, "ebu-r128", tmp_path)
    (track,) = result.report["loudness"]["tracks"]
    print("LIMITED", duration, track["source"], track["gain_db"], track["correction_passes_lufs"], track["output"])
    assert (track["mode"], track["limiter_dbtp"]) == ("limited", -2.5)
    assert track["source"]["true_peak_dbtp"] > -1.0
    assert 1 <= len(track["correction_passes_lufs"]) <= 3
    assert track["correction_passes_lufs"][-1] == pytest.approx(-23.0, abs=0.2)
    assert result.report["qc"]["passed"]
    assert track["output"]["integrated_lufs"] == pytest.approx(-23.0, abs=0.3)
    assert track["output"]["integrated_lufs"] - before > 0.5  # measurably nearer the target than dynamic mode was
    integrated, peak = published_loudness(result, tmp_path)  # loudnorm's meter, not QC's
    assert integrated == pytest.approx(-23.0, abs=0.6)
    assert peak <= -1.0
    checks = {c["name"]: c for c in result.report["qc"]["checks"]}
    assert checks["audio.en.offset"]["passed"] and "+0.0 ms" in checks["audio.en.offset"]["detail"]


def test_chunked_encode_normalises_the_audio_once(tmp_path: Path) -> None:
    """Split-and-stitch: the title's audio is encoded once (chunk_encode.encode_audio) from the same plan,
    so it is normalised like the whole-file encode."""
    master = make_loudness_master(tmp_path / "hot8.mov", lufs=-8.0, duration=8.0)
    result = transcode(TranscodeRequest(source=master, output=tmp_path / "out", ladder=TINY, measure_quality=False,
                                        chunks=ChunkPolicy(count=2, min_seconds=2.0),
                                        options=PlanOptions(segment_seconds=2, profile="draft", loudness="atsc-a85")))
    assert result.report["chunks"]["count"] == 2
    (track,) = result.report["loudness"]["tracks"]
    assert track["mode"] == "linear"
    integrated, peak = published_loudness(result, tmp_path)
    assert integrated == pytest.approx(-24.0, abs=1.0)
    assert peak <= -2.0
