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

HEVC and AV1 rungs add their own encoder per rung, and SVT-AV1 reserves far more address space per thread than
x264: one 720p AV1 rung at SVT-AV1's default (``lp`` = every CPU) peaked at 3.1 GiB VmPeak on 2 CPUs, 1080p at
3.7 GiB, so a 5-rung AV1 ladder beside the H.264 one could not start inside 6 GiB (SVT: "Failed to create
thread: Cannot allocate memory"). AV1 rungs therefore run with ``lp=`` `SVTAV1_LOGICAL_PROCESSORS` (the rungs
run side by side, so the ladder still uses every CPU), and each HEVC/AV1 rung adds `EXTRA_RUNG_MEMORY` to the
bound. Measured (ffmpeg 5.1, SVT-AV1 1.4.1, x265 3.5, 2 CPUs, 1080p25; VmPeak of the whole ffmpeg):

    encode                                       VmPeak      per extra rung
    x264 superfast alone                         0.76 GiB
    1 AV1 rung, lp=1, preset 6                   1.52 GiB
    3 AV1 rungs, lp=1, preset 6                  2.87 GiB    0.67 GiB
    1 AV1 rung, lp=1, preset 12 (720p: 1.24)     1.27 GiB
    1 AV1 rung, lp=2 (= default on 2 CPUs)       3.70 GiB    (720p: 3.12 GiB)
    3 HEVC rungs, x265 ultrafast                 1.85 GiB    0.46 GiB (x265: 0.94 GiB for one)

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
EXTRA_RUNG_MEMORY = {"hevc": 1 * GIB, "av1": 1 * GIB}  # x265 / SVT-AV1 encoder of one rung, >= 1.5x measured
SVTAV1_LOGICAL_PROCESSORS = 1  # SVT-AV1 `lp` of each AV1 rung: its thread pool (and address space) per rung


def cpu_count() -> int:
    """CPUs this process may run on (the container's cpuset, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def encode_memory_bytes(cpus: int | None = None, plan: EncodePlan | None = None) -> int:
    """Default RLIMIT_AS of the encode ffmpeg in bytes: BASE_MEMORY + MEMORY_PER_CPU per CPU, plus
    `EXTRA_RUNG_MEMORY` per HEVC/AV1 rung of `plan` (the measured table above)."""
    rungs = sum(EXTRA_RUNG_MEMORY.get(r.codec, 0) for r in plan.video) if plan is not None else 0
    return BASE_MEMORY + MEMORY_PER_CPU * max(1, cpus if cpus is not None else cpu_count()) + rungs


def output_budget_bytes(plan: EncodePlan) -> int:
    """Most bytes an encode of `plan` may write: OUTPUT_SLACK x the peak rates x duration + allowance."""
    bits_per_second = sum(r.maxrate for r in plan.video) + sum(a.bitrate for a in plan.audio)
    return int(OUTPUT_SLACK * bits_per_second / 8 * max(plan.source.duration, 1.0)) + OUTPUT_ALLOWANCE
