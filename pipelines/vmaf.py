"""VMAF of every rung against the source, measured as the industry does, and libvmaf's JSON log parsed.

Method (Netflix's per-title and dynamic-optimizer papers; every commercial per-title encoder reports it so):
each rung is scaled back to the display size (the ladder's top rendition) with bicubic, the source goes
through the encode's own preparation (deinterlace, constant rate, tone-map: `pipelines.ffmpeg.prepared_video`)
and is scaled to the same size; both are 8-bit 4:2:0 on timestamps from 0 at the output frame rate, and
libvmaf (model ``vmaf_v0.6.1``, the model for a 1080p display at 3 picture heights: no 4K model here) scores
every frame. Pooled: the mean, the 5th percentile of the frames (how bad the bad moments are) and the worst
segment (the lowest mean over one media segment's duration: what a viewer sits through for a segment).

    vmaf_argv(...)            the one measuring ffmpeg (the VMAF build, `pipelines.vmaf_tool`): pure
    parse_vmaf_log(text, ...) libvmaf's JSON log → VmafScore: pure, tested on a captured log
    measure_vmaf(...)         the effect: join each rung's segments, run, parse
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python

from pipelines.errors import PipelineError
from pipelines.ffmpeg import prepared_video, source_input
from pipelines.formats import INPUT_PROTOCOLS
from pipelines.limits import encode_memory_bytes
from pipelines.plan import EncodePlan
from pipelines.presentation import Presentation
from pipelines.runner import RunLimits, run
from pipelines.tracks import join_track
from pipelines.vmaf_tool import VmafTool

MODEL = "vmaf_v0.6.1"
SCALER = "bicubic"
PIXEL_FORMAT = "yuv420p"


@dataclass(frozen=True)
class VmafScore:
    """Pooled VMAF of one rendition (0–100; higher is better)."""

    mean: float
    p5: float  # 5th percentile of the per-frame scores (linear interpolation between ranks)
    worst_segment: float  # the lowest per-segment mean
    worst_segment_index: int  # 0-based: segment number − 1
    minimum: float  # the worst frame
    harmonic_mean: float
    frames: int
    libvmaf: str  # the library's version as its log states it

    def to_dict(self) -> dict[str, float]:
        """report.json's VMAF fields of a rung's ``quality`` (beside psnr/ssim; counts as floats like ``frames``)."""
        return {"vmaf": self.mean, "vmaf_p5": self.p5, "vmaf_worst_segment": self.worst_segment,
                "vmaf_worst_segment_index": float(self.worst_segment_index), "vmaf_min": self.minimum,
                "vmaf_harmonic_mean": self.harmonic_mean, "vmaf_frames": float(self.frames)}


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile of `values` with linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def segment_means(scores: list[float], fps: Fraction, segment_seconds: float) -> list[float]:
    """Mean score per run of ``segment_seconds`` of frames (frame n belongs to segment floor(n / fps / S))."""
    sums: dict[int, list[float]] = {}
    for number, score in enumerate(scores):
        sums.setdefault(math.floor(Fraction(number) / fps / Fraction(segment_seconds)), []).append(score)
    return [sum(v) / len(v) for _, v in sorted(sums.items())]


def parse_vmaf_log(text: str, *, fps: Fraction, segment_seconds: float, source: str = "libvmaf log") -> VmafScore:
    """libvmaf's JSON log (``log_fmt=json``: ``frames[].metrics.vmaf``) → VmafScore (pure).

    Raises PipelineError (code ``vmaf_log_invalid``) naming `source` when the log is not that shape."""
    try:
        doc = json.loads(text)
        frames = doc["frames"]
        scores = [float(f["metrics"]["vmaf"]) for f in sorted(frames, key=lambda f: int(f["frameNum"]))]
    except (ValueError, KeyError, TypeError) as exc:
        raise PipelineError(f"{source}: not a libvmaf JSON log with per-frame vmaf scores ({exc!r})",
                            hint="the measuring ffmpeg must write log_fmt=json; see pipelines.vmaf_tool",
                            code="vmaf_log_invalid") from exc
    if not scores:
        raise PipelineError(f"{source}: libvmaf scored no frame", hint="the rendition or the source decoded to "
                            "no picture; check that both play", code="vmaf_log_invalid")
    segments = segment_means(scores, fps, segment_seconds)
    worst = min(range(len(segments)), key=lambda i: segments[i])
    harmonic = len(scores) / sum(1.0 / (s + 1.0) for s in scores) - 1.0  # libvmaf's own harmonic mean
    return VmafScore(mean=round(sum(scores) / len(scores), 4), p5=round(percentile(scores, 0.05), 4),
                     worst_segment=round(segments[worst], 4), worst_segment_index=worst,
                     minimum=round(min(scores), 4), harmonic_mean=round(harmonic, 4), frames=len(scores),
                     libvmaf=str(doc.get("version", "")))


def libvmaf_options(log: Path, *, threads: int, subsample: int = 1) -> dict[str, Any]:
    return {"model": f"version={MODEL}", "log_fmt": "json", "log_path": str(log), "n_threads": threads,
            "n_subsample": subsample}


# Both pictures are labelled alike before anything converts them. FFmpeg 8 negotiates colour properties
# between filters: a rung tagged BT.709 limited range (the encode tags it so) against an untagged source made it
# convert one side's levels, and a 2.5 Mb/s 360p rung scored 53 instead of 99.9 (measured). The encode itself
# (Debian's 5.1) converts no levels, only tags: so the pixel values are compared as they are.
COLOUR_LABELS = {"range": "tv", "colorspace": "bt709", "color_primaries": "bt709", "color_trc": "bt709"}


def normalised(stream: Any, width: int, height: int, fps: Fraction) -> Any:
    """A picture as libvmaf compares it: the same colour labels on both sides (`COLOUR_LABELS`), timestamps from
    0, scaled (bicubic) to the display size, 8-bit 4:2:0, on the output frame grid."""
    return (stream.filter("setparams", **COLOUR_LABELS)
            .filter("setpts", "PTS-STARTPTS")
            .filter("scale", width, height, flags=SCALER)
            .filter("format", pix_fmts=PIXEL_FORMAT)
            .filter("fps", fps=f"{fps.numerator}/{fps.denominator}"))


def encoded_input(path: Path, *, demuxer: str = "mp4") -> Any:
    return ffmpeg_python.input(f"file:{path.resolve()}", protocol_whitelist=INPUT_PROTOCOLS, f=demuxer)


def vmaf_argv(plan: EncodePlan, *, ffmpeg: str, source: Path, renditions: dict[str, Path], logs: Path,
              display: tuple[int, int], threads: int = 2) -> list[str]:
    """VMAF of every rung (`renditions`: rung id → a playable MP4 of it) against the prepared source, in one
    decode of the source; per-frame logs to logs/vmaf_<id>.json. `ffmpeg` is the VMAF build."""
    width, height = display
    reference = prepared_video(plan, source_input(plan, source))
    refs = normalised(reference, width, height, plan.fps).filter_multi_output("split", len(plan.video))
    outputs = []
    for number, rung in enumerate(plan.video):
        distorted = normalised(encoded_input(renditions[rung.id]).video, width, height, plan.fps)
        scored = ffmpeg_python.filter([distorted, refs[number]], "libvmaf",
                                      **libvmaf_options(logs / f"vmaf_{rung.id}.json", threads=threads))
        outputs.append(ffmpeg_python.output(scored, "-", f="null"))
    argv: list[str] = ffmpeg_python.merge_outputs(*outputs).compile(cmd=ffmpeg)
    return [argv[0], "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", *argv[1:]]


def display_size(plan: EncodePlan) -> tuple[int, int]:
    """The size every rung is scored at: the ladder's largest rendition (what the biggest player window shows)."""
    top = max(plan.video, key=lambda r: r.width * r.height)
    return top.width, top.height


def measure_vmaf(plan: EncodePlan, source: Path, root: Path, presentation: Presentation, *, tool: VmafTool,
                 scratch: Path, threads: int = 2, cancel: threading.Event | None = None) -> dict[str, VmafScore]:
    """{rung id: VmafScore} for every video rendition under `root`, in one run of the VMAF build."""
    folder = scratch / "vmaf"
    folder.mkdir(exist_ok=True)
    files = {t.id: join_track(root, t, folder) for t in presentation.video}
    argv = vmaf_argv(plan, ffmpeg=tool.ffmpeg, source=source, renditions=files, logs=folder,
                     display=display_size(plan), threads=threads)
    run(argv, limits=RunLimits(timeout=120 + plan.duration * 120, memory_bytes=encode_memory_bytes()), cancel=cancel)
    return {rung.id: parse_vmaf_log((folder / f"vmaf_{rung.id}.json").read_text(encoding="utf-8"), fps=plan.fps,
                                    segment_seconds=plan.segment_seconds, source=f"VMAF log of rung {rung.id}")
            for rung in plan.video}


def method(plan: EncodePlan, tool: VmafTool, libvmaf: str) -> dict[str, object]:
    """report.json's ``quality_method.vmaf``: how the scores were made, by which build."""
    width, height = display_size(plan)
    return {"model": MODEL, "display": f"{width}x{height}", "scaler": SCALER, "pixel_format": PIXEL_FORMAT,
            "pooling": {"mean": "arithmetic over frames", "p5": "5th percentile of frames",
                        "worst_segment": f"lowest mean over {plan.segment_seconds} s segments"},
            "tool": tool.to_dict(), "libvmaf": libvmaf}
