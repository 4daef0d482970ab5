"""Quality: PSNR and SSIM of every rung against the source, from ffmpeg's per-frame stats files."""

from __future__ import annotations

import math
import threading
from pathlib import Path

from pipelines.ffmpeg import quality_argv
from pipelines.limits import encode_memory_bytes
from pipelines.plan import EncodePlan
from pipelines.presentation import Presentation
from pipelines.runner import RunLimits, run
from pipelines.tools import Tools
from pipelines.tracks import join_track


def parse_psnr_stats(text: str) -> dict[str, float]:
    """psnr stats_file lines (``n:1 mse_avg:.. mse_y:..``) → PSNR over the whole clip, from the mean MSE."""
    mse_all: list[float] = []
    mse_y: list[float] = []
    for line in text.splitlines():
        fields = dict(part.split(":", 1) for part in line.split() if ":" in part)
        if "mse_avg" in fields:
            mse_all.append(float(fields["mse_avg"]))
            mse_y.append(float(fields.get("mse_y", fields["mse_avg"])))
    if not mse_all:
        return {}
    return {"psnr": _psnr(sum(mse_all) / len(mse_all)), "psnr_y": _psnr(sum(mse_y) / len(mse_y)),
            "frames": float(len(mse_all))}


def parse_ssim_stats(text: str) -> dict[str, float]:
    """ssim stats_file lines (``n:1 Y:0.98 U:.. V:.. All:0.97 (15.2)``) → mean SSIM (All and Y)."""
    all_values: list[float] = []
    y_values: list[float] = []
    for line in text.splitlines():
        fields = dict(part.split(":", 1) for part in line.split() if ":" in part)
        if "All" in fields:
            all_values.append(float(fields["All"]))
            y_values.append(float(fields.get("Y", fields["All"])))
    if not all_values:
        return {}
    return {"ssim": sum(all_values) / len(all_values), "ssim_y": sum(y_values) / len(y_values)}


def _psnr(mse: float) -> float:
    return 100.0 if mse <= 0 else round(10 * math.log10(255 * 255 / mse), 3)


def measure_quality(plan: EncodePlan, source: Path, root: Path, presentation: Presentation, *, tools: Tools,
                    scratch: Path, cancel: threading.Event | None = None) -> dict[str, dict[str, float]]:
    """{rung id: {psnr, psnr_y, ssim, ssim_y, frames}} measured in one decode of the source."""
    folder = scratch / "quality"
    folder.mkdir(exist_ok=True)
    files = {t.id: join_track(root, t, folder) for t in presentation.video}
    argv = quality_argv(plan, ffmpeg=tools.ffmpeg, source=source, renditions=files, stats=folder)
    run(argv, limits=RunLimits(timeout=120 + plan.duration * 60, memory_bytes=encode_memory_bytes()), cancel=cancel)
    results: dict[str, dict[str, float]] = {}
    for rung in plan.video:
        psnr = parse_psnr_stats((folder / f"psnr_{rung.id}.log").read_text())
        ssim = parse_ssim_stats((folder / f"ssim_{rung.id}.log").read_text())
        results[rung.id] = {k: round(v, 4) for k, v in {**psnr, **ssim}.items()}
    return results
