"""Pure parsers on captured fixtures: ffmpeg -progress, -version, x264 SEI, PSNR/SSIM stats."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pipelines.encoder import EncoderIdentity, parse_version, parse_x264
from pipelines.progress import Progress, ProgressParser, parse_block
from pipelines.quality import parse_psnr_stats, parse_ssim_stats

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ffmpeg"


def test_progress_blocks_from_a_real_run() -> None:
    seen: list[Progress] = []
    parser = ProgressParser(1.0, seen.append)
    for line in (FIXTURES / "progress.txt").read_text().splitlines():
        parser.feed(line)
    assert seen[0].out_time == 0 and seen[0].speed is None and seen[0].eta is None
    assert seen[-1].done and seen[-1].frame == 25 and seen[-1].percent == 100.0
    assert [p.percent for p in seen] == sorted(p.percent for p in seen if p.percent is not None)


@pytest.mark.parametrize(("fields", "out_time", "percent", "eta"), [
    ({"out_time_us": "5000000", "speed": "2.5x", "progress": "continue"}, 5.0, 50.0, 2.0),
    ({"out_time_ms": "2500000", "speed": "N/A", "progress": "continue"}, 2.5, 25.0, None),
    ({"out_time": "00:00:07.500000", "speed": "1x", "progress": "continue"}, 7.5, 75.0, 2.5),
    ({"out_time_us": "N/A", "progress": "continue"}, 0.0, 0.0, None),
    ({"out_time_us": "-1200", "progress": "continue"}, 0.0, 0.0, None),
    ({"out_time_us": "99000000", "speed": "1x", "progress": "continue"}, 99.0, 100.0, 0.0),
    ({"out_time_us": "9000000", "speed": "3x", "progress": "end"}, 9.0, 100.0, 0.0),
])
def test_progress_fields(fields: dict[str, str], out_time: float, percent: float, eta: float | None) -> None:
    progress = parse_block(fields, 10.0)
    assert progress.out_time == out_time
    assert progress.percent == percent
    assert progress.eta == eta


def test_progress_without_duration_has_no_percent() -> None:
    assert parse_block({"out_time_us": "1000000", "speed": "1x"}, None).percent is None


def test_version_text() -> None:
    version, config, libs = parse_version((FIXTURES / "version.txt").read_text())
    assert version.startswith("5.1")
    assert "--enable-libx264" in config
    assert dict(libs)["libavcodec"].count(".") == 2


def test_x264_build_from_sei() -> None:
    assert parse_x264((FIXTURES / "x264_sei.h264").read_bytes()).startswith("core 164")
    assert parse_x264(b"no sei here") == ""


def test_fingerprint_is_stable_and_sensitive() -> None:
    base = EncoderIdentity("5.1", "--enable-libx264", (("libavcodec", "59.37.100"),), "core 164 r3095 baee400")
    same = EncoderIdentity("5.1", "--enable-libx264", (("libavcodec", "59.37.100"),), "core 164 r3095 baee400")
    other = EncoderIdentity("5.1", "--enable-libx264", (("libavcodec", "59.37.100"),), "core 164 r3100 deadbee")
    assert base.fingerprint == same.fingerprint
    assert base.fingerprint != other.fingerprint
    assert base.fingerprint.startswith("sha256:") and len(base.fingerprint) == 71


def test_psnr_from_mean_mse() -> None:
    result = parse_psnr_stats((FIXTURES / "psnr_stats.log").read_text())
    assert result["frames"] == 2
    assert result["psnr"] == pytest.approx(10 * math.log10(255 ** 2 / 1.06), abs=1e-3)
    assert result["psnr_y"] == pytest.approx(10 * math.log10(255 ** 2 / 1.40), abs=1e-3)
    assert parse_psnr_stats("") == {}


def test_ssim_mean() -> None:
    result = parse_ssim_stats((FIXTURES / "ssim_stats.log").read_text())
    assert result["ssim"] == pytest.approx(0.987)
    assert result["ssim_y"] == pytest.approx(0.985)
    assert parse_ssim_stats("garbage\n") == {}
