"""Worker processes a bench started in their own session: stopped as an operator would, SIGTERM then SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess


def stop_groups(processes: list[subprocess.Popen[bytes]], grace: float = 60.0) -> None:
    """SIGTERM each process group (a worker and its ffmpeg), wait up to `grace` seconds each, then SIGKILL."""
    for proc in processes:
        os.killpg(proc.pid, signal.SIGTERM)
    for proc in processes:
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
