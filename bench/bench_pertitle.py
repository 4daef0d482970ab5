"""Per-title bench: three kinds of generated content, each with the fixed ladder and with `--ladder per-title`,
in one run; prints total bits and VMAF per rung side by side, and the analysis' cost against the encode.

    .venv/bin/python bench/bench_pertitle.py [--duration 12] [--size 1280x720] [--target-vmaf 94] [--json PATH]

Content (generated with Debian's ffmpeg into .cache/bench/, reused):
  easy    animation-like: SMPTE HD bars panning slowly, a flat yellow box gliding across (flat colours, slow pan)
  hard    film grain: a slow Mandelbrot zoom (fine natural-looking detail) under strong temporal noise
  motion  high motion: a fast Mandelbrot zoom (every pixel moves, detail keeps appearing) panning sideways
Each is encoded twice by transcode() (profile `fast`, default ladder, no storyboard): fixed, then per-title;
VMAF (vmaf_v0.6.1, every rung scaled to the top rung's size, bicubic) comes from report.json's quality.
Rungs are compared by position from the top (the per-title ladder may have fewer rungs, or two at one size).
Bits: the sum of the rungs' measured average bitrates (what serving every rung costs) × the duration.
Cost: the analysis (sampled scenes, probe encodes, their VMAF) in wall seconds and in CPU seconds (children
user+sys, from the transcode's phase events) against the same transcode's encode. Not a test: nothing is
asserted; the issue's targets are printed beside the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from figures import write_json  # noqa: E402

from pipelines.options import PlanOptions  # noqa: E402
from pipelines.pertitle.rungs import PerTitleOptions  # noqa: E402
from pipelines.storyboard import StoryboardOptions  # noqa: E402
from pipelines.transcode import Event, TranscodeRequest, transcode  # noqa: E402

CACHE = ROOT / ".cache" / "bench"


def content_filters(kind: str, size: str, duration: float) -> str:
    """The lavfi graph of one kind of content (pure)."""
    if kind == "easy":
        return (f"smptehdbars=s={size}:r=25:d={duration},scroll=h=0.001,"
                "drawbox=x='mod(t*40,iw)':y=ih/3:w=iw/6:h=ih/5:color=yellow@1:t=fill")
    if kind == "hard":
        return (f"mandelbrot=s={size}:r=25:maxiter=256:end_scale=0.3:end_pts={duration * 25},"
                f"noise=alls=22:allf=t+u,trim=duration={duration}")
    if kind == "motion":  # (testsrc2 scrolling fast made a fixed-ladder encode fail QC: see bench/README.md)
        return (f"mandelbrot=s={size}:r=25:maxiter=256:start_scale=3:end_scale=0.002:end_pts={duration * 25},"
                f"scroll=h=0.01,trim=duration={duration}")
    raise ValueError(kind)


def ensure_content(kind: str, size: str, duration: float) -> Path:
    path = CACHE / f"pertitle-{kind}-{duration:g}s-{size}.mp4"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_suffix(".part.mp4")
        subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        content_filters(kind, size, duration), "-f", "lavfi", "-i", f"sine=frequency=440:d={duration}",
                        "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast", "-crf", "10",
                        "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(temp)], check=True)
        temp.rename(path)
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_one(source: Path, out: Path, ladder: str, target: float) -> dict[str, Any]:
    """One transcode; returns its report with CPU seconds per phase added (planning, encoding)."""
    marks: dict[str, float] = {"start": children_cpu()}

    def on_event(event: Event) -> None:
        if event.phase not in marks:
            marks[event.phase] = children_cpu()

    shutil.rmtree(out, ignore_errors=True)
    result = transcode(TranscodeRequest(source=source, output=out, ladder=ladder, options=PlanOptions(profile="fast"),
                                        thumbnails=StoryboardOptions(enabled=False),
                                        per_title=PerTitleOptions(target_vmaf=target)), on_event=on_event)
    report = dict(result.report)
    report["cpu"] = {"plan": round(marks["encoding"] - marks["start"], 3),
                     "encode": round(marks["packaging"] - marks["encoding"], 3)}
    shutil.rmtree(out, ignore_errors=True)
    return report


def rungs_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Video rungs, top first: id, size, measured average bitrate, VMAF."""
    video = sorted(report["renditions"]["video"], key=lambda v: (v["width"] * v["height"],
                                                                 v["measured_average_bitrate"]), reverse=True)
    return [{"id": v["id"], "size": f"{v['width']}x{v['height']}", "bitrate": v["measured_average_bitrate"],
             "vmaf": v["quality"]["vmaf"], "vmaf_p5": v["quality"]["vmaf_p5"],
             "vmaf_worst_segment": v["quality"]["vmaf_worst_segment"]} for v in video]


def compare(kind: str, fixed: dict[str, Any], per_title: dict[str, Any], duration: float) -> dict[str, Any]:
    a, b = rungs_of(fixed), rungs_of(per_title)
    bits_fixed = sum(r["bitrate"] for r in a) * duration
    bits_pt = sum(r["bitrate"] for r in b) * duration
    deltas = [rb["vmaf"] - ra["vmaf"] for ra, rb in zip(a, b, strict=False)]
    analysis_cpu = per_title["cpu"]["plan"] - fixed["cpu"]["plan"]
    pt = per_title["per_title"]
    return {
        "kind": kind, "fixed": a, "per_title": b, "bits_fixed": round(bits_fixed), "bits_per_title": round(bits_pt),
        "bits_saved": round(1 - bits_pt / bits_fixed, 4), "vmaf_deltas": [round(d, 3) for d in deltas],
        "worst_delta": round(min(deltas), 3), "top_delta": round(deltas[0], 3),
        "analysis_wall": pt["analysis_seconds"], "encode_wall_per_title": per_title["timings"]["encode"],
        "encode_wall_fixed": fixed["timings"]["encode"],
        "analysis_cpu": round(analysis_cpu, 3), "encode_cpu_fixed": fixed["cpu"]["encode"],
        "encode_cpu_per_title": per_title["cpu"]["encode"],
        "chosen": pt["rungs"], "curves": pt["curves"], "hull": pt["hull"],
    }


def print_comparison(c: dict[str, Any]) -> None:
    print(f"\n== {c['kind']} ==")
    print(f"{'#':>2}  {'fixed rung':<10} {'size':>9} {'kb/s':>7} {'VMAF':>6}   {'per-title':<10} {'size':>9} "
          f"{'CRF':>5} {'kb/s':>7} {'VMAF':>6} {'Δ':>6}")
    crf = {r["id"]: r["crf"] for r in c["chosen"]}
    for n in range(max(len(c["fixed"]), len(c["per_title"]))):
        f = c["fixed"][n] if n < len(c["fixed"]) else None
        p = c["per_title"][n] if n < len(c["per_title"]) else None
        left = (f"{f['id']:<10} {f['size']:>9} {f['bitrate'] / 1000:7.0f} {f['vmaf']:6.2f}" if f
                else " " * 36)
        right = (f"{p['id']:<10} {p['size']:>9} {crf.get(p['id']) or 0:5.1f} {p['bitrate'] / 1000:7.0f} "
                 f"{p['vmaf']:6.2f}" if p else "")
        delta = f"{p['vmaf'] - f['vmaf']:+6.2f}" if f and p else ""
        print(f"{n + 1:>2}  {left}   {right} {delta}")
    print(f"total bits: fixed {c['bits_fixed'] / 8e6:.2f} MB, per-title {c['bits_per_title'] / 8e6:.2f} MB "
          f"({c['bits_saved'] * 100:+.1f} % saved); VMAF Δ by position {c['vmaf_deltas']}")
    print(f"analysis: {c['analysis_wall']:.1f} s wall = {c['analysis_wall'] / c['encode_wall_fixed']:.2f}x the fixed "
          f"encode's {c['encode_wall_fixed']:.1f} s; {c['analysis_cpu']:.1f} s CPU = "
          f"{c['analysis_cpu'] / max(c['encode_cpu_fixed'], 1e-6):.2f}x its {c['encode_cpu_fixed']:.1f} s CPU")


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    by = {c["kind"]: c for c in results}
    lines = []
    if "easy" in by:
        e = by["easy"]
        ok = e["bits_saved"] >= 0.20 and e["worst_delta"] >= -1.0
        lines.append(f"easy: {e['bits_saved'] * 100:.1f} % fewer bits (target >= 20 %), worst rung Δ VMAF "
                     f"{e['worst_delta']:+.2f} (target >= -1): {'met' if ok else 'NOT met'}")
    if "hard" in by:
        h = by["hard"]
        lines.append(f"hard: top rung Δ VMAF {h['top_delta']:+.2f} (target >= 0): "
                     f"{'met' if h['top_delta'] >= 0 else 'NOT met'}; bits {h['bits_saved'] * -100:+.1f} %")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=12.0, help="seconds of each generated source")
    parser.add_argument("--size", default="1280x720", help="generated source size (the ladder's top fits it)")
    parser.add_argument("--target-vmaf", type=float, default=94.0)
    parser.add_argument("--kinds", default="easy,hard,motion")
    parser.add_argument("--json", help="also write the figures as JSON here (- for stdout)")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f} at start")
    results = []
    for kind in args.kinds.split(","):
        source = ensure_content(kind, args.size, args.duration)
        work = CACHE / f"pertitle-work-{kind}"
        fixed = run_one(source, work / "fixed", "default", args.target_vmaf)
        per_title = run_one(source, work / "per-title", "per-title", args.target_vmaf)
        shutil.rmtree(work, ignore_errors=True)
        comparison = compare(kind, fixed, per_title, args.duration)
        print_comparison(comparison)
        results.append(comparison)
    print()
    for line in verdicts(results):
        print(line)
    print(f"load at end {os.getloadavg()[0]:.1f}")
    write_json(results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
