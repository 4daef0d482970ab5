"""Drain: a worker about to be removed takes no new task and finishes the one it runs, within a bounded time.

    vodfleet drain --pid P --timeout T    (a Kubernetes preStop hook; P = 1 in the image: tini forwards signals)
      1. flag ``<state dir>/draining``; SIGTERM → P
         the worker's shutdown handler sees the flag and does NOT stop its job (`workers.cli.commands.worker`);
         Celery's warm shutdown stops consuming (prefetch 1 + late acks: nothing else is reserved) and the
         worker exits once the running task ends (published, or the chunk uploaded)
      2. wait until P exits, at most T seconds; remove the flag
      3. after T: SIGTERM again: the worker now stops ffmpeg and hands the task back (the
         lease is released and the message returns to the queue: at most T seconds of encoding are lost)

Sizing (pure; ``docker/k8s/worker-deployment.yaml`` is checked against it by tests/docker/test_static.py):

    longest task (s of source) = max(chunk threshold,           a master up to the threshold is one task
                                     longest chunk)             ≤ target·(n+½)/n + (1 + pre-roll)·segment,
                                                                  n = max(1, round(threshold / target))
    drain T      = ceil(longest task / encode speed (× realtime) · TASK_OVERHEAD)
    grace period = T + HAND_BACK_SECONDS   (the kubelet's terminationGracePeriodSeconds covers preStop + SIGTERM)

A chunked job's stitch (packaging, QC and publishing the whole title) and its audio part are not bounded by
the chunk length; a drain that outlasts T hands them back like any other task.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import time
from pathlib import Path

from pipelines.chunk import MIN_CHUNK_SECONDS

log = logging.getLogger(__name__)

FLAG = "draining"
TASK_OVERHEAD = 1.5  # fetch, probe, packaging, QC and upload beside the encode (an allowance, not a measurement)
HAND_BACK_SECONDS = 30  # SIGTERM → ffmpeg stopped, scratch removed, lease released (tests/queue: < 10 s)


def longest_chunk_seconds(threshold: float, target: float, segment_seconds: int, preroll_segments: int = 1) -> float:
    """An upper bound of the source seconds one chunk task encodes (pure; `pipelines.chunk.plan_chunks`:
    ``round(duration / target)`` chunks of whole segments, split evenly, plus the pre-roll)."""
    target = max(target, MIN_CHUNK_SECONDS)
    fewest = max(1, round(threshold / target))  # the smallest chunk count of a chunked (longer) master
    return target * (fewest + 0.5) / fewest + (1 + preroll_segments) * segment_seconds


def longest_task_seconds(threshold: float, target: float, segment_seconds: int, preroll_segments: int = 1) -> float:
    """Source seconds of the longest task a worker runs (pure): a whole master just under the threshold, or a chunk."""
    return max(threshold, longest_chunk_seconds(threshold, target, segment_seconds, preroll_segments))


def drain_seconds(longest_task: float, speed_x_realtime: float) -> int:
    """How long a drain waits for the running task (pure): its encode time with the phases around it."""
    if speed_x_realtime <= 0:
        raise ValueError(f"encode speed must be > 0 × realtime, not {speed_x_realtime}")
    return math.ceil(longest_task / speed_x_realtime * TASK_OVERHEAD)


def grace_seconds(drain: int) -> int:
    """The pod's terminationGracePeriodSeconds for a drain of `drain` seconds (pure)."""
    return drain + HAND_BACK_SECONDS


def flag_path(state_dir: Path) -> Path:
    return state_dir / FLAG


def requested(state_dir: Path) -> bool:
    """Whether a drain is under way (read by the worker's shutdown handler)."""
    return flag_path(state_dir).exists()


def clear(state_dir: Path) -> None:
    """Remove a flag left from an earlier run (a worker starts by calling this: its shutdown must hand back)."""
    flag_path(state_dir).unlink(missing_ok=True)


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, exited but not yet reaped by its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust the signal probe
    return stat.rpartition(")")[2].split()[0] != "Z"


def drain(state_dir: Path, pid: int, timeout: float, *, poll: float = 0.5) -> bool:
    """Drain worker `pid` (see the module docstring); True when it ended on its own within `timeout` seconds,
    False when its running task had to be handed back. Raises ProcessLookupError if `pid` does not exist."""
    state_dir.mkdir(parents=True, exist_ok=True)
    flag_path(state_dir).write_text(f"{pid}\n")
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(poll)
    clear(state_dir)
    if alive(pid):
        log.warning("drain: worker %d still runs after %g s: its task is handed back to the queue", pid, timeout)
        os.kill(pid, signal.SIGTERM)
        return False
    return True
