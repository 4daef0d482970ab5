"""Output and disk bounds: a full disk is a classified, retryable ScratchError with scratch wiped; an
encode that writes past its budget is killed with OutputTooLarge (permanent)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import mediagen
import pytest

from pipelines.errors import OutputTooLarge, ScratchError
from pipelines.limits import encode_memory_bytes, output_budget_bytes
from pipelines.runner import RunLimits, run
from pipelines.tools import Tools
from pipelines.transcode import TranscodeRequest, plan_transcode, transcode

TOOLS = Tools.resolve()
RAW = [TOOLS.ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25"]


def test_a_full_disk_is_a_scratch_error() -> None:
    """/dev/full answers every write with ENOSPC, as a full scratch volume does."""
    with pytest.raises(ScratchError) as caught:
        run([*RAW, "-t", "1", "-f", "rawvideo", "-y", "file:/dev/full"], limits=RunLimits(timeout=30))
    assert caught.value.retryable is True
    assert caught.value.code == "scratch_unavailable"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()}); /dev/full covers ENOSPC")
    try:
        yield mount
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(["umount", str(mount)], check=True)


def test_a_transcode_onto_a_full_disk_fails_classified_and_leaves_nothing(tiny_disk: Path, tmp_path: Path) -> None:
    source = mediagen.make_source(tmp_path / "src.mp4", width=640, height=360, duration=4.0)
    request = TranscodeRequest(source=source, output=tiny_disk / "out", scratch_root=tiny_disk,
                               measure_quality=False, ladder="compact")
    with pytest.raises(ScratchError):
        transcode(request, tools=TOOLS)
    assert list(tiny_disk.iterdir()) == []  # output, staging and scratch all gone


def test_one_file_past_rlimit_fsize_is_output_too_large(tmp_path: Path) -> None:
    with pytest.raises(OutputTooLarge) as caught:
        run([*RAW, "-t", "5", "-f", "rawvideo", "-y", f"file:{tmp_path / 'big.yuv'}"],
            limits=RunLimits(timeout=30, max_file_bytes=1 << 20))
    assert caught.value.retryable is False
    assert (tmp_path / "big.yuv").stat().st_size <= 1 << 20


def test_many_files_past_the_total_budget_are_output_too_large(tmp_path: Path) -> None:
    argv = [TOOLS.ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-re", "-f", "lavfi", "-i",
            "testsrc2=s=320x240:r=25", "-t", "20", "-f", "segment", "-segment_time", "0.04", "-c:v", "rawvideo",
            "-y", str(tmp_path / "seg_%05d.nut")]
    with pytest.raises(OutputTooLarge):
        run(argv, limits=RunLimits(timeout=30, max_output_bytes=1 << 20, output_dirs=(tmp_path,)))
    assert sum(f.stat().st_size for f in tmp_path.iterdir()) < 16 << 20  # stopped within about a second


def test_default_bounds_leave_room_for_a_real_encode(tmp_path: Path) -> None:
    assert encode_memory_bytes(2) == 6 << 30  # measured peak on 2 CPUs: 2.5 GiB (quality, 1080p ladder)
    assert encode_memory_bytes(32) > 2 * (12_451 << 20)  # 48 x264 threads per rung: 12.2 GiB
    source = mediagen.make_source(tmp_path / "src.mp4", duration=2.0)
    planned = plan_transcode(TranscodeRequest(source=source, output=tmp_path / "out"), tools=TOOLS)
    assert output_budget_bytes(planned.plan) > 64 << 20
