"""The `vodfleet` command as a person runs it: exit codes, messages, nothing left behind on failure."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import mediagen
import pytest

pytestmark = pytest.mark.media

ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "sample_media" / "bigbuckbunny.mp4"
SUBS = ROOT / "sample_media" / "subtitles"
TINY = str(ROOT / "tests" / "fixtures" / "ladders" / "tiny.toml")


def vodfleet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workers.cli", *args], capture_output=True, text=True, check=False,
                          timeout=300, cwd=ROOT)


@pytest.fixture(scope="module")
def tiny_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mediagen.make_source(tmp_path_factory.mktemp("cli") / "tiny.mp4", duration=2.0)


def bad_inputs(base: Path, good: Path) -> dict[str, tuple[Path, str]]:
    return {
        "missing": (base / "nope.mp4", "source_missing"),
        "zero-bytes": (mediagen.make_text_file(base / "empty.mp4", ""), "source_empty"),
        "truncated": (mediagen.make_truncated_mp4(good, base / "cut.mp4"), "source_truncated"),
        "text-as-mp4": (mediagen.make_text_file(base / "notes.mp4"), "source_not_media"),
        "audio-only": (mediagen.make_audio_only(base / "song.m4a"), "source_no_video"),
    }


@pytest.mark.parametrize("case", ["missing", "zero-bytes", "truncated", "text-as-mp4", "audio-only"])
def test_rejected_masters_exit_3_and_leave_nothing(case: str, tiny_source: Path, tmp_path: Path) -> None:
    path, code = bad_inputs(tmp_path, tiny_source)[case]
    out = tmp_path / "out"
    result = vodfleet("transcode", str(path), "-o", str(out), "--json")
    assert result.returncode == 3, result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["code"] == code
    assert path.name in error["message"]
    assert error["hint"]
    assert f"error [{code}]" in result.stderr and "what to do:" in result.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".vodfleet")] == []


def test_undecodable_subtitle_is_rejected_before_encoding(tiny_source: Path, tmp_path: Path) -> None:
    bad = tmp_path / "episode.ko.srt"
    bad.write_bytes(b"1\n00:00:00,500 --> 00:00:01,000\n" + bytes(range(128, 256)) * 4 + b"\n")
    out = tmp_path / "out"
    result = vodfleet("transcode", str(tiny_source), "-o", str(out), "--subtitle", f"ko={bad}")
    assert result.returncode == 3
    assert "episode.ko.srt" in result.stderr
    assert "subtitle_" in result.stderr
    assert not out.exists()


def test_usage_errors_exit_2(tiny_source: Path, tmp_path: Path) -> None:
    assert vodfleet("transcode", str(tiny_source)).returncode == 2
    bad = vodfleet("transcode", str(tiny_source), "-o", str(tmp_path / "o"), "--subtitle", "no-equals-sign")
    assert bad.returncode == 2
    assert "LANG=PATH" in bad.stderr


def test_config_errors_exit_6(tiny_source: Path, tmp_path: Path) -> None:
    result = vodfleet("transcode", str(tiny_source), "-o", str(tmp_path / "o"), "--ladder", "cinema")
    assert result.returncode == 6
    assert "built-in ladders" in result.stderr
    existing = tmp_path / "exists"
    existing.mkdir()
    result = vodfleet("transcode", str(tiny_source), "-o", str(existing))
    assert result.returncode == 6
    assert "--overwrite" in result.stderr
    seg = vodfleet("transcode", str(tiny_source), "-o", str(tmp_path / "o"), "--segment-seconds", "5")
    assert seg.returncode == 6
    assert "multiple of the 2 s GOP" in seg.stderr


def test_dry_run_prints_the_exact_argv(tiny_source: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = vodfleet("transcode", str(tiny_source), "-o", str(out), "--ladder", TINY, "--dry-run")
    assert result.returncode == 0
    argv = shlex.split(result.stdout.strip())
    assert argv[0].endswith("ffmpeg")
    assert argv[argv.index("-protocol_whitelist") + 1] == "file"
    assert argv.count("-i") == 1
    assert not out.exists()
    plan = json.loads(vodfleet("transcode", str(tiny_source), "-o", str(out), "--ladder", TINY, "--dry-run",
                               "--json").stdout)
    assert plan["argv"] == argv
    assert [(r["width"], r["height"]) for r in plan["rungs"]] == [(160, 90), (320, 180)]


def test_sample_clip_with_every_sidecar(tmp_path: Path) -> None:
    """The README's demo, minus the venv: five languages in five charsets and four formats; with the opt-in
    whole-title .vtt as the DASH text (--dash-vtt-sidecar)."""
    out = tmp_path / "bbb"
    sidecars = {"en": "en.ttml", "es": "es.ass", "ko": "ko.srt", "zh-Hant": "zh-Hant.srt", "ar": "ar.vtt"}
    args = [arg for lang, name in sidecars.items() for arg in ("--subtitle", f"{lang}={SUBS / f'bigbuckbunny.{name}'}")]
    result = vodfleet("transcode", str(SAMPLE), "-o", str(out), "--profile", "draft", "--audio-language", "en",
                      "--segment-seconds", "2", "--dash-vtt-sidecar", *args)
    assert result.returncode == 0, result.stderr
    mpd = (out / "manifest.mpd").read_text(encoding="utf-8")
    assert mpd.count('mimeType="text/vtt"') == 5 and "wvtt" not in mpd
    assert not list((out / "subtitles").glob("*/*.m4s"))  # no ISO-BMFF text when the sidecar is the DASH text
    assert f"published to {out}" in result.stdout
    expected = json.loads((SUBS / "expected.json").read_text(encoding="utf-8"))
    for lang in sidecars:
        vtt = (out / "subtitles" / lang / "subtitles.vtt").read_text(encoding="utf-8")
        entry = next(e for e in (expected.values() if isinstance(expected, dict) else expected)
                     if e["language"] == lang)
        for cue in entry["cues"]:
            assert cue["text"] in vtt, (lang, cue["text"])
    report = json.loads((out / "report.json").read_text())
    assert [v["height"] for v in report["renditions"]["video"]] == [234, 360, 432, 540, 720]
    assert report["renditions"]["audio"][0]["language"] == "en"
    assert {(s["dash_text"], s["dash_segments"]) for s in report["renditions"]["subtitles"]} == {("sidecar", 0)}


def test_outputs_name_the_encoder_identity_and_the_fleet_fingerprint(tiny_source: Path, tmp_path: Path) -> None:
    """report.json and both manifests say which hash is which: the identity (ffmpeg build) and the fleet
    fingerprint (identity + codec packages: what queues, image tags and labels carry, docker/encoder.lock)."""
    out = tmp_path / "named"
    result = vodfleet("transcode", str(tiny_source), "-o", str(out), "--ladder", TINY, "--profile", "draft",
                      "--segment-seconds", "2", "--no-quality")
    assert result.returncode == 0, result.stderr
    local = json.loads(vodfleet("doctor", "--local", "--json").stdout)["local"]
    encoder = json.loads((out / "report.json").read_text())["encoder"]
    assert (encoder["identity"], encoder["fingerprint"]) == (local["identity"], local["fingerprint"])
    assert encoder["identity"] != encoder["fingerprint"]
    for manifest in ("master.m3u8", "manifest.mpd"):
        text = (out / manifest).read_text()
        assert f"vodfleet-encoder-identity: {local['identity']}" in text
        assert f"vodfleet-encoder-fingerprint: {local['fingerprint']}" in text
