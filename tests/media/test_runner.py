"""The subprocess seam, with real processes: progress, errors with evidence, nothing left running."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from pipelines.errors import Cancelled, FFmpegFailed, FFmpegTimeout, ToolMissing
from pipelines.progress import Progress
from pipelines.runner import RunLimits, run
from pipelines.tools import Tools

pytestmark = pytest.mark.media

TOOLS = Tools.resolve()


def encode_argv(seconds: int) -> list[str]:
    return [TOOLS.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
            "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-t", str(seconds), "-c:v", "libx264",
            "-preset", "ultrafast", "-f", "null", "-"]


ENDLESS = encode_argv(600)


def ffmpeg_children() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "ppid"]):
        cmd = proc.info["cmdline"] or []
        if cmd and "testsrc2=size=320x180:rate=25" in cmd:
            found.append(proc)
    return found


def wait_gone(deadline: float = 5.0) -> list[psutil.Process]:
    end = time.monotonic() + deadline
    while (left := ffmpeg_children()) and time.monotonic() < end:
        time.sleep(0.05)
    return left


def test_progress_is_reported_with_percent_and_eta() -> None:
    seen: list[Progress] = []
    result = run(encode_argv(2), duration=2.0, on_progress=seen.append, limits=RunLimits(timeout=60))
    assert result.returncode == 0
    assert seen and seen[-1].done and seen[-1].percent == 100.0
    assert seen[-1].frame == 50
    assert all(0 <= p.percent <= 100 for p in seen if p.percent is not None)


def test_timeout_kills_ffmpeg_and_names_the_limit() -> None:
    with pytest.raises(FFmpegTimeout) as info:
        run(ENDLESS, duration=600, on_progress=lambda _p: None, limits=RunLimits(timeout=1.0))
    assert "time limit" in info.value.message
    assert info.value.argv[0] == TOOLS.ffmpeg
    assert wait_gone() == []


def test_cancel_stops_ffmpeg_and_leaves_nothing_running() -> None:
    cancel = threading.Event()
    timer = threading.Timer(0.8, cancel.set)
    timer.start()
    with pytest.raises(Cancelled):
        run(ENDLESS, cancel=cancel, limits=RunLimits(timeout=60))
    assert wait_gone() == []


def test_an_interrupt_in_the_caller_kills_the_group() -> None:
    def interrupt_soon() -> None:
        time.sleep(0.8)
        import _thread
        _thread.interrupt_main()

    # interrupt_main() does nothing while SIGINT is ignored, as it is under a non-interactive background job
    # (CI): install Python's own handler for the duration of the test, as an interactive shell would have it.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Thread(target=interrupt_soon, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            run(ENDLESS, limits=RunLimits(timeout=60))
    finally:
        signal.signal(signal.SIGINT, previous)
    assert wait_gone() == []


def test_grandchildren_die_with_the_group(tmp_path: Path) -> None:
    marker = tmp_path / "grandchild.pid"
    script = ("import subprocess,sys,time;"
              f"p=subprocess.Popen([sys.executable,'-c','import time; time.sleep(300)']);"
              f"open({str(marker)!r},'w').write(str(p.pid));time.sleep(300)")
    with pytest.raises(FFmpegTimeout):
        run([sys.executable, "-c", script], limits=RunLimits(timeout=1.5))
    pid = int(marker.read_text())
    end = time.monotonic() + 5
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < end, "grandchild survived"
        time.sleep(0.05)


def test_failure_carries_argv_returncode_and_stderr_tail(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(FFmpegFailed) as info:
        run([TOOLS.ffmpeg, "-hide_banner", "-nostdin", "-i", f"file:{missing}", "-f", "null", "-"])
    err = info.value
    assert err.returncode not in (0, None)
    assert "No such file" in err.stderr_tail
    assert err.argv[-1] == "-"
    assert err.to_dict()["stderr_tail"]


def test_memory_limit_is_applied() -> None:
    # 1 GiB of RLIMIT_AS is far below what a Python that allocates 2 GiB needs
    with pytest.raises(FFmpegFailed):
        run([sys.executable, "-c", "b = bytearray(2 * 1024 ** 3)"], limits=RunLimits(memory_bytes=1024 ** 3))


def test_missing_binary_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FFMPEG_PATH", "/nonexistent/ffmpeg")
    with pytest.raises(ToolMissing) as info:
        Tools.resolve()
    assert "FFMPEG_PATH" in str(info.value)
    assert "apt-get install" in info.value.hint
