"""Limits: default resource bounds of the encode ffmpeg, derived from the host and the plan (pure).

Memory is bounded by RLIMIT_AS (address space, not RSS): x264 maps a stack and a malloc arena per
thread, and its thread count follows the CPU count, so the bound grows with CPUs. Measured peaks of
the 6-rung 1080p ladder (ffmpeg 5.1, x264 164, 1080p25 source; VmPeak / VmHWM):

    profile   x264 threads per rung   VmPeak     peak RSS
    fast      auto (2 CPUs)           1.6 GiB    0.6 GiB     (2160p source: 1.5 GiB / 0.6 GiB)
    quality   auto (2 CPUs)           2.5 GiB    1.2 GiB
    quality   12 (≈ 8 CPUs)           4.9 GiB    1.8 GiB
    quality   48 (≈ 32 CPUs)          12.2 GiB   3.8 GiB

so the default, 4 GiB + 1 GiB per CPU, keeps at least 2x headroom over every measured case while a
decoder told to allocate a 65535x65535 frame (or a leak) dies with ENOMEM instead of the host.

Output is bounded twice: no single file may pass `max_file_bytes` (RLIMIT_FSIZE), and the encode's
folders together may not pass `output_budget_bytes`: twice what the ladder's peak rates can make
over the source's duration, plus a fixed allowance for init segments, playlists and subtitles.
"""

from __future__ import annotations

import os

from pipelines.plan import EncodePlan

GIB = 1 << 30
MIB = 1 << 20
BASE_MEMORY = 4 * GIB
MEMORY_PER_CPU = 1 * GIB
OUTPUT_SLACK = 2.0  # x ladder peak bitrate x duration
OUTPUT_ALLOWANCE = 64 * MIB  # init segments, playlists, extracted WebVTT
MAX_FILE_BYTES = 4 * GIB  # one segment or extracted subtitle file; far above any real one


def cpu_count() -> int:
    """CPUs this process may run on (the container's cpuset, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def encode_memory_bytes(cpus: int | None = None) -> int:
    """Default RLIMIT_AS of the encode ffmpeg: BASE_MEMORY + MEMORY_PER_CPU per CPU."""
    return BASE_MEMORY + MEMORY_PER_CPU * max(1, cpus if cpus is not None else cpu_count())


def output_budget_bytes(plan: EncodePlan) -> int:
    """Most bytes an encode of `plan` may write: OUTPUT_SLACK x the peak rates x duration + allowance."""
    bits_per_second = sum(r.maxrate for r in plan.video) + sum(a.bitrate for a in plan.audio)
    return int(OUTPUT_SLACK * bits_per_second / 8 * max(plan.source.duration, 1.0)) + OUTPUT_ALLOWANCE
