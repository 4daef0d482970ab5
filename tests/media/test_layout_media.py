"""Channel layouts through real ffmpeg: a 5.1 master with a 1 kHz tone on one channel at a time becomes a stereo
rendition whose left and right carry each channel with the ITU-R BS.775 coefficients (L/R 1, C and surrounds
−3 dB, LFE dropped), measured per channel in the published segments; a mono master plays on both sides."""

from __future__ import annotations

import array
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import syncmarks

from pipelines.options import PlanOptions
from pipelines.transcode import TranscodeRequest, transcode

pytestmark = pytest.mark.media

TINY = str(Path(__file__).parents[1] / "fixtures" / "ladders" / "tiny.toml")
CHANNELS_51 = ("FL", "FR", "FC", "LFE", "BL", "BR")
# (left, right) gain per source channel, ITU-R BS.775-3 Table 2 (LFE not carried)
EXPECTED = {"FL": (1.0, 0.0), "FR": (0.0, 1.0), "FC": (0.7071, 0.7071), "LFE": (0.0, 0.0),
            "BL": (0.7071, 0.0), "BR": (0.0, 0.7071)}
AMPLITUDE = 0.25


def _master(path: Path, channels: int, layout: str) -> Path:
    """Second k carries the tone on channel k only (PCM in MOV, so the master itself adds no codec error)."""
    exprs = "|".join(f"{AMPLITUDE}*sin(2*PI*1000*t)*between(t\\,{k}\\,{k + 1})" for k in range(channels))
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
                    f"color=c=gray:s=320x180:r=25:d={channels}", "-f", "lavfi", "-i",
                    f"aevalsrc=exprs='{exprs}':c={layout}:s=48000:d={channels}", "-map", "0:v", "-map", "1:a",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le",
                    str(path)], check=True)
    return path


def _levels(audio: Path, seconds: int) -> list[tuple[float, float]]:
    """RMS of left and right over the middle of every second of the decoded rendition."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(audio), "-f", "f32le", "-ac", "2", "-"],
                         check=True, capture_output=True).stdout
    samples = array.array("f", raw)
    levels = []
    for k in range(seconds):
        left = samples[2 * (k * 48000 + 9600):2 * (k * 48000 + 38400):2]
        right = samples[2 * (k * 48000 + 9600) + 1:2 * (k * 48000 + 38400):2]
        levels.append(tuple(math.sqrt(sum(x * x for x in side) / len(side)) for side in (left, right)))
    return levels  # type: ignore[return-value]


def _publish(tmp_path: Path, master: Path) -> tuple[dict[str, object], Path]:
    result = transcode(TranscodeRequest(source=master, output=tmp_path / "out", ladder=TINY, measure_quality=False,
                                        # the downmix gains are measured absolutely: no loudness gain on top
                                        options=PlanOptions(segment_seconds=2, profile="draft", loudness="off")))
    audio = result.report["renditions"]["audio"][0]  # type: ignore[index]
    joined = syncmarks.joined(result.output / audio["path"], tmp_path / "audio.mp4")
    plan = json.loads((result.output / "report.json").read_text(encoding="utf-8"))["plan"]["audio"][0]
    return plan, joined


def test_51_downmix_has_the_bs775_coefficients(tmp_path: Path) -> None:
    plan, joined = _publish(tmp_path, _master(tmp_path / "surround.mov", 6, "5.1"))
    assert plan["source_layout"] == "5.1" and "ITU-R BS.775" in plan["layout_rule"]
    tone = AMPLITUDE / math.sqrt(2)  # RMS of the tone on its own channel
    measured = dict(zip(CHANNELS_51, _levels(joined, 6), strict=True))
    print("DOWNMIX", {ch: (round(lv[0] / tone, 4), round(lv[1] / tone, 4)) for ch, lv in measured.items()})
    for channel, (left, right) in EXPECTED.items():
        got = measured[channel]
        for side, want, level in (("left", left, got[0]), ("right", right, got[1])):
            if want == 0:
                assert level / tone < 0.01, f"{channel} leaks into {side}: {level / tone:.4f}"
            else:
                assert 20 * math.log10(level / tone / want) == pytest.approx(0, abs=0.5), (
                    f"{channel} → {side}: gain {level / tone:.4f}, BS.775 says {want}")


def test_mono_plays_on_both_sides_unchanged(tmp_path: Path) -> None:
    plan, joined = _publish(tmp_path, _master(tmp_path / "mono.mov", 1, "mono"))
    assert plan["source_layout"] == "mono" and plan["layout_rule"].startswith("mono → stereo")
    (left, right), = _levels(joined, 1)
    tone = AMPLITUDE / math.sqrt(2)
    assert 20 * math.log10(left / tone) == pytest.approx(0, abs=0.5)
    assert 20 * math.log10(right / tone) == pytest.approx(0, abs=0.5)


def _power(samples: list[float], hz: float) -> float:
    """Goertzel: the power of one frequency in a run of 48 kHz samples."""
    coeff = 2 * math.cos(2 * math.pi * hz / 48000)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def _broadcast_master(path: Path) -> tuple[Path, list[int]]:
    """A broadcast MXF: 8 untagged mono PCM tracks, a different tone on each (300, 400 … 1000 Hz)."""
    tones = [300 + 100 * k for k in range(8)]
    args = [arg for hz in tones for arg in ("-f", "lavfi", "-i", f"sine=f={hz}:sample_rate=48000:d=4")]
    maps = [arg for k in range(8) for arg in ("-map", f"{k + 1}:a")]
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4",
                    *args, "-map", "0:v", *maps, "-c:v", "mpeg2video", "-q:v", "4", "-c:a", "pcm_s16le", "-ac", "1",
                    str(path)], check=True)
    return path, tones


def _sides(joined: Path, tones: list[int]) -> dict[str, dict[int, float]]:
    """Power of every track's tone in the left and the right channel, over 0.5 s from 1 s in."""
    raw = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(joined), "-f", "f32le", "-"],
                         check=True, capture_output=True).stdout
    samples = array.array("f", raw)[2 * 48000:2 * 72000]
    return {side: {hz: _power(list(data), hz) for hz in tones}
            for side, data in (("left", samples[0::2]), ("right", samples[1::2]))}


def _carries(powers: dict[str, dict[int, float]], left: int, right: int) -> None:
    for side, own in (("left", left), ("right", right)):
        others = {hz: p for hz, p in powers[side].items() if hz != own}
        assert all(p < powers[side][own] / 1000 for p in others.values()), f"{side} is not {own} Hz: {powers[side]}"


def test_eight_mono_tracks_in_mxf_make_one_stereo_programme_from_tracks_1_and_2(tmp_path: Path) -> None:
    master, tones = _broadcast_master(tmp_path / "broadcast.mxf")
    result = transcode(TranscodeRequest(source=master, output=tmp_path / "out", ladder=TINY, measure_quality=False,
                                        options=PlanOptions(segment_seconds=2, profile="draft")))
    audio = result.report["renditions"]["audio"]  # type: ignore[index]
    assert len(audio) == 1, f"one programme, not one rendition per track: {audio}"
    plan = result.report["plan"]["audio"][0]  # type: ignore[index]
    assert plan["source_layout"] == "8 mono tracks" and plan["layout_rule"].startswith("tracks 1+2 → stereo")
    _carries(_sides(syncmarks.joined(result.output / audio[0]["path"], tmp_path / "audio.mp4"), tones), 300, 400)


def test_an_audio_map_makes_the_programme_and_its_audio_description(tmp_path: Path) -> None:
    """`--audio-map 1+2=en:main --audio-map 3+4=en:ad --audio-map 5=es` through the CLI."""
    master, tones = _broadcast_master(tmp_path / "broadcast.mxf")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "workers.cli", "transcode", str(master), "-o", str(out),
                           "--ladder", TINY, "--profile", "draft", "--segment-seconds", "2", "--no-quality",
                           "--audio-map", "1+2=en:main", "--audio-map", "3+4=en:ad", "--audio-map", "5=es"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    audio = {a["id"]: a for a in report["renditions"]["audio"]}
    assert [(a["id"], a["name"]) for a in report["renditions"]["audio"]] == [
        ("en", "English"), ("en-description", "English (audio description)"), ("es", "Spanish")]
    for rid, (left, right) in {"en": (300, 400), "en-description": (500, 600), "es": (700, 700)}.items():
        _carries(_sides(syncmarks.joined(out / audio[rid]["path"], tmp_path / f"{rid}.mp4"), tones), left, right)
    master_playlist = (out / "master.m3u8").read_text(encoding="utf-8")
    described = [ln for ln in master_playlist.splitlines() if "describes-video" in ln]
    assert len(described) == 1 and 'NAME="English (audio description)"' in described[0]
    assert "AudioPurposeCS:2007" in (out / "manifest.mpd").read_text(encoding="utf-8")


def test_an_audio_map_naming_channels_the_master_lacks_publishes_nothing(tmp_path: Path) -> None:
    master, _ = _broadcast_master(tmp_path / "broadcast.mxf")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "workers.cli", "transcode", str(master), "-o", str(out),
                           "--ladder", TINY, "--profile", "draft", "--audio-map", "9+10=en"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 6, done.stderr
    assert "the master has 8 audio channel(s)" in done.stderr and "channel 9 does not exist" in done.stderr
    assert "number channels from 1 to 8" in done.stderr
    assert not out.exists()
