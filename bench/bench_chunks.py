"""Split-and-stitch bench: the same episode encoded whole and in chunks, in one run.

    .venv/bin/python bench/bench_chunks.py [--episode PATH] [--duration 30] [--ladder compact] [--jobs 1,2,4] [--json -]

Lines: `whole` (transcode(), one ffmpeg for the title) and `chunked jN` (transcode() with a ChunkPolicy,
N chunk ffmpegs at a time, the process pinned to min(N, cores) distinct cores with os.sched_setaffinity;
`whole` runs on every core). Columns: wall and CPU (children user+sys) seconds, the ratios chunked/whole,
the speedup against `chunked j1`. Then, per rung, the chunked rendition against the whole-file one:
PSNR and SSIM (ffmpeg's psnr/ssim filters between the two renditions, frame by frame) and both frame
counts. Quality against the source is off in both lines (it is the same measurement for both).
Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from bench_ladder import CACHE, Sample, ensure_episode, machine, measure  # noqa: E402
from figures import write_json  # noqa: E402

from pipelines.chunk import ChunkPolicy  # noqa: E402
from pipelines.options import PlanOptions  # noqa: E402
from pipelines.quality import parse_psnr_stats, parse_ssim_stats  # noqa: E402
from pipelines.tools import Tools  # noqa: E402
from pipelines.transcode import TranscodeRequest, chunks_for, plan_transcode, transcode  # noqa: E402


def joined(folder: Path, dest: Path) -> Path:
    with dest.open("wb") as out:
        for part in [folder / "init.mp4", *sorted(folder.glob("seg_*.m4s"))]:
            out.write(part.read_bytes())
    return dest


def frame_count(ffprobe: str, path: Path) -> int:
    done = subprocess.run([ffprobe, "-v", "error", "-count_packets", "-select_streams", "v:0", "-show_entries",
                           "stream=nb_read_packets", "-of", "csv=p=0", str(path)],
                          check=True, capture_output=True, text=True)
    return int(done.stdout.strip())


def compare(ffmpeg: str, chunked: Path, whole: Path, stats: Path) -> dict[str, float]:
    """PSNR/SSIM of the chunked rendition against the whole-file one (same size, same frames)."""
    graph = (f"[0:v]split[a0][a1];[1:v]split[b0][b1];[a0][b0]psnr=stats_file={stats / 'psnr.log'}[p];"
             f"[a1][b1]ssim=stats_file={stats / 'ssim.log'}[s]")
    subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-i", str(chunked), "-i", str(whole), "-filter_complex", graph,
                    "-map", "[p]", "-f", "null", "-", "-map", "[s]", "-f", "null", "-"], check=True)
    return {**parse_psnr_stats((stats / "psnr.log").read_text()), **parse_ssim_stats((stats / "ssim.log").read_text())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episode", help="a master to use instead of the generated episode")
    parser.add_argument("--duration", type=float, default=30.0, help="generated episode length (s)")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--ladder", default="compact")
    parser.add_argument("--profile", default="fast")
    parser.add_argument("--segment-seconds", type=int, default=2)
    parser.add_argument("--chunk-seconds", type=float, default=10.0, help="target chunk length (s)")
    parser.add_argument("--jobs", default="1,2,4", help="comma-separated worker counts")
    parser.add_argument("--against-source", action="store_true",
                        help="also measure PSNR/SSIM against the source (vodfleet's quality step) for whole and "
                             "the first chunked line, and print the per-rung deltas")
    parser.add_argument("--json", help="write the results as JSON here (- for stdout)")
    args = parser.parse_args()

    tools = Tools.resolve()
    episode = ensure_episode(args)
    episode.read_bytes()  # warm the page cache
    cores = sorted(os.sched_getaffinity(0))
    info = machine(tools)
    print(f"cores: {len(cores)} usable {cores} (os.cpu_count {os.cpu_count()}); load {info['loadavg_start']}")
    policy = ChunkPolicy(threshold_seconds=0, target_seconds=args.chunk_seconds)
    options = PlanOptions(segment_seconds=args.segment_seconds, profile=args.profile)
    work = CACHE / f"chunks-run-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    def request(name: str, chunks: ChunkPolicy | None, jobs: int = 1, quality: bool = False) -> TranscodeRequest:
        return TranscodeRequest(source=episode, output=work / name, ladder=args.ladder, options=options,
                                chunks=chunks, jobs=jobs, measure_quality=quality, overwrite=True, scratch_root=work)

    chunks = chunks_for(request("plan", policy), plan_transcode(request("plan", policy), tools=tools).plan)
    print(f"episode {episode.name}: {len(chunks)} chunks " +
          ", ".join(f"{c.start:.2f}-{c.end:.2f}s" for c in chunks))
    samples: dict[str, Sample] = {}
    timings: dict[str, dict[str, float]] = {}
    try:
        result = {}

        def run(name: str, req: TranscodeRequest, pin: list[int]) -> None:
            os.sched_setaffinity(0, pin)
            try:
                def work_fn() -> None:
                    result[name] = transcode(req, tools=tools)
                samples[name] = measure(work_fn)
            finally:
                os.sched_setaffinity(0, cores)
            timings[name] = result[name].timings
            s = samples[name]
            print(f"  {name:<12} wall {s.wall:7.2f} s   cpu {s.cpu:7.2f} s   cores {pin}", flush=True)

        run("whole", request("whole", None, quality=args.against_source), cores)
        job_counts = [int(j) for j in args.jobs.split(",")]
        for number, jobs in enumerate(job_counts):
            quality = args.against_source and not number
            run(f"chunked j{jobs}", request(f"chunked-j{jobs}", policy, jobs, quality), cores[:min(jobs, len(cores))])

        whole = samples["whole"]
        base = samples.get(f"chunked j{job_counts[0]}")
        print(f"\n{'line':<12} {'wall s':>8} {'cpu s':>8} {'wall/whole':>11} {'cpu/whole':>10} "
              f"{'speedup vs j' + str(job_counts[0]):>16}")
        ratios: dict[str, dict[str, float]] = {}
        for name, s in samples.items():
            r = {"wall/whole": round(s.wall / whole.wall, 3), "cpu/whole": round(s.cpu / whole.cpu, 3),
                 "speedup": round(base.wall / s.wall, 3) if base and name != "whole" else 0.0}
            ratios[name] = r
            speed = f"{r['speedup']:.2f}x" if name != "whole" else "-"
            print(f"{name:<12} {s.wall:8.2f} {s.cpu:8.2f} {r['wall/whole']:11.3f} {r['cpu/whole']:10.3f} {speed:>16}")

        first = result[f"chunked j{job_counts[0]}"].output
        quality: dict[str, dict[str, float]] = {}
        print(f"\nper rung, chunked (j{job_counts[0]}) against whole: PSNR (dB; 100 = identical), SSIM, frames")
        scratch = work / "compare"
        scratch.mkdir()
        for rung in sorted(p.name for p in (first / "video").iterdir()):
            a = joined(first / "video" / rung, scratch / f"chunked-{rung}.mp4")
            b = joined(result["whole"].output / "video" / rung, scratch / f"whole-{rung}.mp4")
            q = compare(tools.ffmpeg, a, b, scratch)
            q["frames_chunked"], q["frames_whole"] = frame_count(tools.ffprobe, a), frame_count(tools.ffprobe, b)
            quality[rung] = {k: round(v, 4) for k, v in q.items()}
            print(f"  {rung:>6}  PSNR {q['psnr']:7.3f}  PSNR-Y {q['psnr_y']:7.3f}  SSIM {q['ssim']:.5f}  "
                  f"frames {q['frames_chunked']:.0f} / {q['frames_whole']:.0f}")
        against: dict[str, dict[str, float]] = {}
        if args.against_source:
            print(f"\nper rung, against the source: whole vs chunked (j{job_counts[0]}), delta = chunked - whole")
            mine = {v["id"]: v["quality"] for v in result[f"chunked j{job_counts[0]}"].report["renditions"]["video"]}
            for v in result["whole"].report["renditions"]["video"]:
                w, c = v["quality"], mine[v["id"]]
                against[v["id"]] = {"psnr_whole": w["psnr"], "psnr_chunked": c["psnr"],
                                    "psnr_delta": round(c["psnr"] - w["psnr"], 4), "ssim_whole": w["ssim"],
                                    "ssim_chunked": c["ssim"], "ssim_delta": round(c["ssim"] - w["ssim"], 5)}
                print(f"  {v['id']:>6}  PSNR {w['psnr']:7.3f} vs {c['psnr']:7.3f} ({c['psnr'] - w['psnr']:+.3f} dB)  "
                      f"SSIM {w['ssim']:.5f} vs {c['ssim']:.5f} ({c['ssim'] - w['ssim']:+.5f})")
        doc = {"machine": {**info, "loadavg_end": [round(x, 2) for x in os.getloadavg()]},
               "episode": str(episode), "chunks": [c.__dict__ for c in chunks],
               "samples": {k: v.__dict__ for k, v in samples.items()}, "ratios": ratios, "timings": timings,
               "quality_chunked_vs_whole": quality,
               "quality_against_source": against, "when": time.strftime("%Y-%m-%dT%H:%M:%S")}
        write_json(doc, args.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
