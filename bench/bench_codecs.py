"""HEVC and AV1 rungs against H.264: bits at (about) equal quality, and where to encode them (CPU time).

Two questions, one run, figures as ratios against H.264 (or the one-run encode) measured in the same process:

1. **Bits at equal quality.** Per content (generated: `easy` = testsrc2's flat colours and slow motion, `grain`
   = the same with temporal noise, like film grain), one rung size: H.264 at the ladder's bitrate, HEVC and AV1
   at a sweep of bitrates (fractions of H.264's). Each point's quality is measured with the project's own
   quality code (`pipelines.quality.measure_quality`: PSNR/SSIM against the prepared source); the bitrate at
   which each codec matches H.264's quality is interpolated on log(bitrate) between the two sweep points that
   straddle it. `--metric` picks the score matched (`METRICS`): `vmaf` (default: the mean VMAF of
   `pipelines.vmaf`, the industry's metric), or `psnr_y`, `psnr`, `ssim` from the PSNR/SSIM pass.
2. **One ffmpeg or two.** The compact ladder's rungs in H.264+HEVC+AV1 from one decode (what `encode_argv`
   builds), against the H.264 ladder in one run and HEVC+AV1 in a second run of their own: CPU seconds
   (user+sys of the ffmpeg children) and wall time.

    .venv/bin/python bench/bench_codecs.py                      # 6 s 640x360, both contents, fast presets
    .venv/bin/python bench/bench_codecs.py --size 1280x720 --duration 10 --profile fast --json codecs.json
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pipelines.codecs import rendition_id
from pipelines.ffmpeg import encode_argv, output_folders
from pipelines.ladder import Ladder, Rung, load_ladder
from pipelines.measure import measure_video_track
from pipelines.options import PlanOptions
from pipelines.plan import EncodePlan, plan_encode
from pipelines.presentation import Presentation
from pipelines.probe import probe
from pipelines.quality import measure_quality
from pipelines.rendition import VideoRendition
from pipelines.runner import RunLimits, run
from pipelines.tools import Tools
from pipelines.vmaf import measure_vmaf
from pipelines.vmaf_tool import vmaf_tool

CONTENTS = {
    "easy": "testsrc2=s={size}:r=25:d={duration}",
    "grain": "testsrc2=s={size}:r=25:d={duration},noise=alls=24:allf=t+u",
}
SWEEP = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4)  # HEVC/AV1 bitrates as fractions of the H.264 rung's
# metric name → a function giving {rendition id: score}: PSNR/SSIM from measure_quality's figures, VMAF (mean,
# vmaf_v0.6.1 at the display size) from the pinned measuring build (pipelines.vmaf).
Metric = Callable[[EncodePlan, Path, Path, Presentation, Tools, Path], dict[str, float]]


def _quality_figure(key: str) -> Metric:
    def measure(plan: EncodePlan, source: Path, root: Path, presentation: Presentation, tools: Tools,
                scratch: Path) -> dict[str, float]:
        figures = measure_quality(plan, source, root, presentation, tools=tools, scratch=scratch)
        return {rid: values[key] for rid, values in figures.items()}
    return measure


def _vmaf(plan: EncodePlan, source: Path, root: Path, presentation: Presentation, tools: Tools,
          scratch: Path) -> dict[str, float]:
    del tools  # the VMAF build is its own ffmpeg
    scores = measure_vmaf(plan, source, root, presentation, tool=vmaf_tool(), scratch=scratch)
    return {rid: score.mean for rid, score in scores.items()}


METRICS: dict[str, Metric] = {"vmaf": _vmaf, "psnr_y": _quality_figure("psnr_y"), "psnr": _quality_figure("psnr"),
                              "ssim": _quality_figure("ssim")}


def make_content(kind: str, size: str, duration: float, folder: Path, tools: Tools) -> Path:
    path = folder / f"{kind}_{size}_{duration:g}.mp4"
    graph = CONTENTS[kind].format(size=size, duration=duration)
    run([tools.ffmpeg, "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", graph, "-c:v", "libx264",
         "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", str(path)], limits=RunLimits(timeout=600))
    return path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def encode(plan: EncodePlan, source: Path, out: Path, tools: Tools) -> tuple[float, float]:
    """One ffmpeg over `plan` (video only) into `out`: (CPU seconds of the child, wall seconds)."""
    for folder in output_folders(plan, out):
        folder.mkdir(parents=True, exist_ok=True)
    cpu, wall = _children_cpu(), time.monotonic()
    run(encode_argv(plan, ffmpeg=tools.ffmpeg, source=source, out=out, scratch=out),
        limits=RunLimits(timeout=3600))
    return _children_cpu() - cpu, time.monotonic() - wall


def _video_only(plan: EncodePlan, video: tuple[VideoRendition, ...]) -> EncodePlan:
    return dataclasses.replace(plan, video=video, audio=(), embedded_subtitles=())


def presentation_of(plan: EncodePlan, root: Path) -> Presentation:
    tracks = tuple(measure_video_track(root, f"video/{r.id}", r.id, nominal_bitrate=r.bitrate, frame_rate=plan.fps,
                                       codec=r.codec, video_range=r.dynamic_range) for r in plan.video)
    return Presentation(duration=max(t.duration for t in tracks), segment_seconds=plan.segment_seconds, video=tracks)


def matched_bitrate(points: Sequence[tuple[float, float]], target: float) -> float | None:
    """The bitrate at which quality reaches `target`, interpolated on log(bitrate) between the sweep points
    (bitrate, quality) that straddle it; None when the sweep never reaches it (or always exceeds it)."""
    ordered = sorted(points)
    for (b0, q0), (b1, q1) in itertools.pairwise(ordered):
        if min(q0, q1) <= target <= max(q0, q1) and q1 != q0:
            share = (target - q0) / (q1 - q0)
            return math.exp(math.log(b0) + share * (math.log(b1) - math.log(b0)))
    return None


def equal_quality(kind: str, source: Path, rung: Rung, args: argparse.Namespace, tools: Tools,
                  work: Path) -> dict[str, object]:
    base = plan_encode(probe(source, tools=tools), Ladder("bench", (rung,)), PlanOptions(profile=args.profile))
    h264 = base.video[0]
    video = [h264]
    for codec in ("hevc", "av1"):
        for factor in SWEEP:
            bitrate = round(h264.bitrate * factor)
            video.append(dataclasses.replace(
                h264, id=rendition_id(f"{rung.id}-{round(factor * 100)}", codec), codec=codec, bitrate=bitrate,
                maxrate=round(bitrate * 1.5), bufsize=2 * bitrate, profile="main", rung=rung.id))
    plan = _video_only(base, tuple(video))
    root = work / f"sweep_{kind}"
    encode(plan, source, root, tools)
    presentation = presentation_of(plan, root)
    measured = {t.id: t.average_bitrate for t in presentation.video}
    scores = METRICS[args.metric](plan, source, root, presentation, tools, work)
    target = scores[h264.id]
    result: dict[str, object] = {"content": kind, "rung": f"{h264.width}x{h264.height}", "metric": args.metric,
                                 "h264": {"bitrate": measured[h264.id], "score": target}}
    for codec in ("hevc", "av1"):
        points = [(measured[r.id], scores[r.id]) for r in plan.video if r.codec == codec]
        match = matched_bitrate(points, target)
        result[codec] = {"points": points, "bitrate_at_h264_quality": round(match) if match else None,
                         "ratio": round(match / measured[h264.id], 3) if match else None}
    return result


def one_or_two_runs(source: Path, args: argparse.Namespace, tools: Tools, work: Path) -> dict[str, object]:
    options = PlanOptions(profile=args.profile, codecs=("h264", "hevc", "av1"))
    full = plan_encode(probe(source, tools=tools), load_ladder(args.ladder), options)
    together = _video_only(full, full.video)
    h264 = _video_only(full, tuple(r for r in full.video if r.codec == "h264"))
    others = _video_only(full, tuple(r for r in full.video if r.codec != "h264"))
    cpu_one, wall_one = encode(together, source, work / "one_run", tools)
    cpu_a, wall_a = encode(h264, source, work / "two_runs", tools)
    cpu_b, wall_b = encode(others, source, work / "two_runs", tools)
    return {"rungs": [r.id for r in full.video], "one_run": {"cpu": round(cpu_one, 2), "wall": round(wall_one, 2)},
            "two_runs": {"cpu": round(cpu_a + cpu_b, 2), "wall": round(wall_a + wall_b, 2),
                         "h264_cpu": round(cpu_a, 2), "hevc_av1_cpu": round(cpu_b, 2)},
            "cpu_ratio_two_over_one": round((cpu_a + cpu_b) / cpu_one, 3) if cpu_one else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="640x360", help="generated content size (default 640x360)")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds of generated content (default 6)")
    parser.add_argument("--profile", default="draft", help="encoder profile (default draft: the fastest presets)")
    parser.add_argument("--ladder", default="compact", help="ladder of the one-run/two-runs comparison")
    parser.add_argument("--metric", default="vmaf", choices=sorted(METRICS), help="quality matched on")
    parser.add_argument("--contents", default=",".join(CONTENTS), help="comma-separated: easy,grain")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    args = parser.parse_args(argv)
    tools = Tools.resolve()
    width, height = (int(v) for v in args.size.split("x"))
    rung = Rung(id=f"{height}p", width=width, height=height,
                bitrate=next(r.bitrate for r in load_ladder("default").rungs if r.height >= height))
    results: dict[str, object] = {"size": args.size, "duration": args.duration, "profile": args.profile}
    with tempfile.TemporaryDirectory(prefix="bench-codecs-") as scratch:
        work = Path(scratch)
        sources = {kind: make_content(kind, args.size, args.duration, work, tools)
                   for kind in args.contents.split(",")}
        rows = [equal_quality(kind, path, rung, args, tools, work) for kind, path in sources.items()]
        results["equal_quality"] = rows
        results["runs"] = one_or_two_runs(next(iter(sources.values())), args, tools, work)
    print(f"bits at equal {args.metric} (H.264 at the default ladder's {rung.bitrate} b/s for {args.size}):")
    print(f"{'content':8} {'H.264 b/s':>10} {args.metric:>8} {'HEVC b/s':>10} {'HEVC/H.264':>11} "
          f"{'AV1 b/s':>10} {'AV1/H.264':>10}")
    for row in rows:
        h264, hevc, av1 = (row[k] for k in ("h264", "hevc", "av1"))
        assert isinstance(h264, dict)
        assert isinstance(hevc, dict)
        assert isinstance(av1, dict)
        print(f"{row['content']!s:8} {h264['bitrate']:>10} {h264['score']:>8.3f} "
              f"{hevc['bitrate_at_h264_quality'] or '-':>10} {hevc['ratio'] or '-':>11} "
              f"{av1['bitrate_at_h264_quality'] or '-':>10} {av1['ratio'] or '-':>10}")
    runs = results["runs"]
    assert isinstance(runs, dict)
    print(f"\n{args.ladder} ladder in H.264+HEVC+AV1 ({len(runs['rungs'])} rungs), CPU s (user+sys) / wall s:")
    print(f"  one ffmpeg (one decode):     {runs['one_run']['cpu']:>7} / {runs['one_run']['wall']}")
    print(f"  H.264 run + HEVC/AV1 run:    {runs['two_runs']['cpu']:>7} / {runs['two_runs']['wall']}   "
          f"(CPU ratio two/one: {runs['cpu_ratio_two_over_one']})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
