"""The complexity analysis' effects: sampled scenes, constant-quality probe encodes, their VMAF.

    sample_windows(duration)      where the scenes are taken (pure)
    sample_argv / probe_argv / probe_vmaf_argv   the three commands (pure)
    measure_points(...)           runs them: one sample, one ffmpeg per CRF (every size), one VMAF run

The sample: `count` excerpts of `EXCERPT_SECONDS` spread evenly over the title (their centres at (i + ½)/count
of it), each through the encode's own preparation (`prepared_video`: deinterlace, constant rate, tone-map),
joined, scaled to the display size (bicubic) and kept losslessly (x264 ``-qp 0``): the reference of every
probe. Each probe encodes the sample at one rung size with x264 CRF, the job's preset and the ladder's GOP
(keyframes every ``gop_seconds``, no scene cuts) and ``threads=1``: x264 is then deterministic, so every worker
of one encoder fingerprint (which names the VMAF build too) measures the same points and plans the same ladder.
Bitrate = the raw H.264 stream's bytes × 8 / the sample's duration. VMAF at the display size
(`pipelines.vmaf`'s normalisation), every `subsample`-th frame.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python

from pipelines.ffmpeg import GLOBAL_ARGS, fps_text, prepared_video, source_input
from pipelines.formats import INPUT_PROTOCOLS
from pipelines.limits import encode_memory_bytes
from pipelines.pertitle.curve import ProbePoint
from pipelines.plan import EncodePlan
from pipelines.runner import RunLimits, run
from pipelines.tools import Tools
from pipelines.vmaf import SCALER, libvmaf_options, normalised, parse_vmaf_log
from pipelines.vmaf_tool import VmafTool

EXCERPT_SECONDS = 2.0
PROBE_CRFS = (22, 31, 40)
SAMPLE_NAME = "sample.mkv"


def sample_windows(duration: float, *, excerpt_seconds: float = EXCERPT_SECONDS, minimum: int = 3,
                   maximum: int = 8) -> tuple[tuple[float, float], ...]:
    """(start, length) in seconds of each sampled scene (pure): one per minute of the title, `minimum` to
    `maximum`, spread evenly; a title too short for them is taken whole."""
    count = min(maximum, max(minimum, round(duration / 60)))
    if duration <= count * excerpt_seconds * 1.5:
        return ((0.0, duration),)
    return tuple((round((index + 0.5) * duration / count - excerpt_seconds / 2, 6), excerpt_seconds)
                 for index in range(count))


def window_frames(windows: Sequence[tuple[float, float]], fps: Fraction) -> list[int]:
    """Frames kept of each window (at least one)."""
    return [max(1, math.floor(Fraction(length).limit_denominator(1_000_000) * fps)) for _, length in windows]


def sample_argv(plan: EncodePlan, *, ffmpeg: str, source: Path, windows: Sequence[tuple[float, float]],
                display: tuple[int, int], out: Path) -> list[str]:
    """The sampled scenes, prepared, joined and scaled to the display size, losslessly into `out` (MKV)."""
    width, height = display
    parts = []
    for (start, length), frames in zip(windows, window_frames(windows, plan.fps), strict=True):
        stream = source_input(plan, source, seek_us=round(start * 1_000_000), read_us=round(length * 1_000_000)
                              + 1_000_000)
        parts.append(prepared_video(plan, stream).trim(end_frame=frames).setpts("PTS-STARTPTS"))
    joined = ffmpeg_python.concat(*parts, n=len(parts), v=1, a=0) if len(parts) > 1 else parts[0]
    picture = joined.filter("scale", width, height, flags=SCALER).filter("setsar", "1")
    output = ffmpeg_python.output(picture, str(out), **{"c:v": "libx264", "qp": 0, "preset": "ultrafast",
                                                         "pix_fmt": "yuv420p", "f": "matroska"})
    argv: list[str] = output.compile(cmd=ffmpeg)
    return [argv[0], *[a for a in GLOBAL_ARGS if a not in ("-progress", "pipe:1")], *argv[1:]]


def probe_name(width: int, height: int, crf: int) -> str:
    return f"probe_{width}x{height}_crf{crf}.h264"


def probe_argv(plan: EncodePlan, *, ffmpeg: str, sample: Path, sizes: Sequence[tuple[int, int]], crf: int,
               out: Path) -> list[str]:
    """One CRF at every size from the sample, in one decode: raw H.264 streams out/probe_<w>x<h>_crf<n>.h264."""
    stream = ffmpeg_python.input(f"file:{sample.resolve()}", protocol_whitelist=INPUT_PROTOCOLS, f="matroska")
    split = stream.video.filter_multi_output("split", len(sizes))
    outputs = []
    for number, (width, height) in enumerate(sizes):
        picture = split[number].filter("scale", width, height, flags=SCALER).filter("setsar", "1")
        outputs.append(ffmpeg_python.output(picture, str(out / probe_name(width, height, crf)), **{
            "c:v": "libx264", "preset": plan.encoder.preset, "crf": crf, "threads": 1, "g": plan.gop_frames,
            "keyint_min": plan.gop_frames, "sc_threshold": 0, "x264-params": "open-gop=0:scenecut=0",
            "f": "h264"}))
    argv: list[str] = ffmpeg_python.merge_outputs(*outputs).compile(cmd=ffmpeg)
    return [argv[0], *[a for a in GLOBAL_ARGS if a not in ("-progress", "pipe:1")], *argv[1:]]


def probe_vmaf_argv(*, ffmpeg: str, sample: Path, probes: Sequence[Path], fps: Fraction, display: tuple[int, int],
                    logs: Path, threads: int = 2, subsample: int = 4) -> list[str]:
    """VMAF of every probe (raw H.264 at `fps`) against the sample, at the display size; logs/<probe>.json."""
    width, height = display
    reference = ffmpeg_python.input(f"file:{sample.resolve()}", protocol_whitelist=INPUT_PROTOCOLS, f="matroska")
    refs = normalised(reference.video, width, height, fps).filter_multi_output("split", len(probes))
    outputs = []
    for number, probe in enumerate(probes):
        encoded: Any = ffmpeg_python.input(f"file:{probe.resolve()}", protocol_whitelist=INPUT_PROTOCOLS, f="h264",
                                           framerate=fps_text(fps))
        scored = ffmpeg_python.filter([normalised(encoded.video, width, height, fps), refs[number]], "libvmaf",
                                      **libvmaf_options(logs / f"{probe.stem}.json", threads=threads,
                                                        subsample=subsample))
        outputs.append(ffmpeg_python.output(scored, "-", f="null"))
    argv: list[str] = ffmpeg_python.merge_outputs(*outputs).compile(cmd=ffmpeg)
    return [argv[0], "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", *argv[1:]]


def measure_points(plan: EncodePlan, source: Path, *, tools: Tools, vmaf: VmafTool, scratch: Path,
                   display: tuple[int, int], windows: Sequence[tuple[float, float]],
                   crfs: Sequence[int] = PROBE_CRFS, jobs: int = 2,
                   cancel: threading.Event | None = None) -> list[ProbePoint]:
    """Every (size, CRF) probe point of the plan's rung sizes, measured (the effects of the analysis)."""
    scratch.mkdir(parents=True, exist_ok=True)
    sample = scratch / SAMPLE_NAME
    limits = RunLimits(timeout=600 + 60 * sum(length for _, length in windows), memory_bytes=encode_memory_bytes())
    run(sample_argv(plan, ffmpeg=tools.ffmpeg, source=source, windows=windows, display=display, out=sample),
        limits=limits, cancel=cancel)
    sizes = [(r.width, r.height) for r in plan.video]
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="pertitle-probe") as pool:
        list(pool.map(lambda crf: run(probe_argv(plan, ffmpeg=tools.ffmpeg, sample=sample, sizes=sizes, crf=crf,
                                                 out=scratch), limits=limits, cancel=cancel), crfs))
    probes = [scratch / probe_name(w, h, crf) for crf in crfs for w, h in sizes]
    run(probe_vmaf_argv(ffmpeg=vmaf.ffmpeg, sample=sample, probes=probes, fps=plan.fps, display=display, logs=scratch),
        limits=limits, cancel=cancel)
    seconds = Fraction(sum(window_frames(windows, plan.fps))) / plan.fps
    points = []
    for crf in crfs:
        for width, height in sizes:
            probe = scratch / probe_name(width, height, crf)
            score = parse_vmaf_log((scratch / f"{probe.stem}.json").read_text(encoding="utf-8"), fps=plan.fps,
                                   segment_seconds=plan.segment_seconds, source=f"VMAF log of {probe.name}")
            points.append(ProbePoint(width=width, height=height, crf=crf,
                                     bitrate=round(probe.stat().st_size * 8 / seconds), vmaf=score.mean))
    return points
