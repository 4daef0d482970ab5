"""Ladder encode bench: vodfleet's one-decode transcode against one ffmpeg per rung and against its own argv.

    .venv/bin/python bench/bench_ladder.py [--episode PATH] [--duration 60] [--ladder compact] [--repeat 2] [--json -]

Lines: vodfleet (transcode(), quality off) · per-rung (one ffmpeg per rung, each decoding the source,
MediaCMS-style, same x264/HLS settings) · raw (vodfleet's own argv via subprocess) · vodfleet+quality.
Ratios vodfleet/per-rung (target <= 0.5) and vodfleet/raw (target <= 1.05). Not a test: nothing is
asserted. See bench/README.md for what every line and column means.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import ffmpeg as ffmpeg_python

try:
    import psutil
except ModuleNotFoundError:  # a dev package (the RSS columns): the runtime install (./scripts/bootstrap) lacks it
    sys.exit("bench needs psutil, from the dev install: run ./scripts/bootstrap --test once, then "
             ".venv/bin/python bench/bench_ladder.py (see bench/README.md)")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from figures import write_json  # noqa: E402

from pipelines import ffmpeg as vf  # noqa: E402
from pipelines.encoder import encoder_identity  # noqa: E402
from pipelines.errors import QCFailed  # noqa: E402
from pipelines.options import PlanOptions  # noqa: E402
from pipelines.plan import EncodePlan  # noqa: E402
from pipelines.tools import Tools  # noqa: E402
from pipelines.transcode import TranscodeRequest, plan_transcode, transcode  # noqa: E402

CACHE = ROOT / ".cache" / "bench"
MAKE_EPISODE = ROOT / "sample_media" / "make_episode.py"
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # children user+sys seconds (the ffmpeg/ffprobe processes)
    py_cpu: float  # this process's own user+sys seconds (Python orchestration + the RSS sampler)
    peak_rss_mb: float  # peak of the summed RSS of all descendant processes at one instant
    peak_proc_rss_mb: float  # the largest single descendant process


class RssSampler:
    """Polls every descendant's RSS in a thread; keeps the peak sum and the peak single process."""

    def __init__(self) -> None:
        self.peak_sum = 0
        self.peak_one = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(POLL_SECONDS):
            sizes = []
            for child in me.children(recursive=True):
                try:
                    sizes.append(child.memory_info().rss)
                except psutil.Error:  # exited between listing and reading
                    continue
            self.peak_sum = max(self.peak_sum, sum(sizes))
            self.peak_one = max(self.peak_one, max(sizes, default=0))


def measure(work: Callable[[], None]) -> Sample:
    kids, me = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    with RssSampler() as rss:
        work()
    wall = time.perf_counter() - started
    kids2, me2 = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    return Sample(
        wall=round(wall, 3),
        cpu=round(kids2.ru_utime - kids.ru_utime + kids2.ru_stime - kids.ru_stime, 3),
        py_cpu=round(me2.ru_utime - me.ru_utime + me2.ru_stime - me.ru_stime, 3),
        peak_rss_mb=round(rss.peak_sum / 2**20, 1),
        peak_proc_rss_mb=round(rss.peak_one / 2**20, 1),
    )


def per_rung_argvs(plan: EncodePlan, *, ffmpeg: str, source: Path, out: Path) -> list[list[str]]:
    """One ffmpeg per rung (each decodes the source), built from vodfleet's own output-argument functions."""
    argvs = []
    for number, rung in enumerate(plan.video):
        stream = vf.source_input(plan, source)
        video = vf.prepared_video(plan, stream).filter("scale", rung.width, rung.height, flags="bicubic")
        folder = out / "video" / rung.id
        outputs = [ffmpeg_python.output(
            video.filter("setsar", "1"), str(folder / vf.SCRATCH_PLAYLIST),
            **vf.video_output_args(plan, rung), **vf.hls_output_args(plan, folder, video=True))]
        if number == 0:  # audio once, with the first rung: the cheapest fair baseline (no extra decode)
            for rendition in plan.audio:
                afolder = out / "audio" / rendition.id
                outputs.append(ffmpeg_python.output(
                    stream[str(rendition.stream_index)], str(afolder / vf.SCRATCH_PLAYLIST),
                    **vf.audio_output_args(rendition), **vf.hls_output_args(plan, afolder, video=False)))
        argv: list[str] = ffmpeg_python.merge_outputs(*outputs).compile(cmd=ffmpeg)
        argvs.append([argv[0], *vf.GLOBAL_ARGS, *argv[1:]])
    return argvs


def run_ffmpeg(argv: list[str]) -> None:
    # Own session, like pipelines.runner: with the kernel's autogroup scheduling a session is one
    # scheduling group, so on a shared machine every line must get the same treatment.
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False, start_new_session=True)
    if proc.returncode:
        raise SystemExit(f"ffmpeg failed ({proc.returncode}): {shlex.join(argv)}\n{proc.stderr[-3000:]}")


class Bench:
    def __init__(self, episode: Path, ladder: str, profile: str, tools: Tools) -> None:
        self.episode, self.tools = episode, tools
        self.request = TranscodeRequest(source=episode, output=Path("unused"), ladder=ladder,
                                        options=PlanOptions(profile=profile), measure_quality=False)
        # The raw line runs exactly vodfleet's argv, planned once here (probing is not part of its time).
        self.raw_dir = CACHE / "raw-run"
        self.planned = plan_transcode(self.request, tools=tools, out=self.raw_dir, scratch=self.raw_dir / "scratch")
        self.timings: list[dict[str, float | bool]] = []
        self.qc_failures: list[str] = []

    def vodfleet(self, work: Path, *, quality: bool = False) -> None:
        request = TranscodeRequest(source=self.episode, output=work / "out", ladder=self.request.ladder,
                                   options=self.request.options, measure_quality=quality, scratch_root=work)
        try:
            self.timings.append({"quality": quality, **transcode(request, tools=self.tools).timings})
        except QCFailed as exc:  # all the work was done (QC runs last); keep the time, say so loudly
            self.qc_failures.append(", ".join(sorted({f.name.split(".")[-1] for f in exc.failures})))

    def vodfleet_quality(self, work: Path) -> None:
        self.vodfleet(work, quality=True)

    def per_rung(self, work: Path) -> None:
        plan = self.planned.plan
        for folder in vf.output_folders(plan, work):
            folder.mkdir(parents=True)
        for argv in per_rung_argvs(plan, ffmpeg=self.tools.ffmpeg, source=self.episode, out=work):
            run_ffmpeg(argv)

    def raw(self, _work: Path) -> None:
        shutil.rmtree(self.raw_dir, ignore_errors=True)
        try:
            for folder in [*vf.output_folders(self.planned.plan, self.raw_dir), self.raw_dir / "scratch"]:
                folder.mkdir(parents=True)
            run_ffmpeg(self.planned.argv)
        finally:
            shutil.rmtree(self.raw_dir, ignore_errors=True)


def ensure_episode(args: argparse.Namespace) -> Path:
    if args.episode:
        return Path(args.episode)
    path = CACHE / f"episode-{args.duration:g}s-{args.size}-25fps.mp4"
    if not path.exists():
        print(f"generating {path} ...", flush=True)
        subprocess.run([sys.executable, str(MAKE_EPISODE), str(path), "--duration", f"{args.duration:g}",
                        "--size", args.size], check=True)
    return path


def machine(tools: Tools) -> dict[str, object]:
    identity = encoder_identity(tools)  # also warms its cache: it runs ffmpeg twice on first use
    return {"cpu_count": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "ffmpeg": identity.ffmpeg_version, "x264": identity.x264, "python": sys.version.split()[0],
            "loadavg_start": [round(x, 2) for x in os.getloadavg()]}


def summarise(samples: dict[str, list[Sample]]) -> dict[str, dict[str, float]]:
    return {name: {key: round(statistics.median(getattr(s, key) for s in runs), 3)
                   for key in Sample.__dataclass_fields__} for name, runs in samples.items() if runs}


def ratios(med: dict[str, dict[str, float]]) -> dict[str, float]:
    out = {}
    for base, target in (("per-rung", 0.5), ("raw", 1.05)):
        if "vodfleet" in med and base in med:
            for key in ("wall", "cpu"):
                out[f"vodfleet/{base} {key}"] = round(med["vodfleet"][key] / med[base][key], 3)
            out[f"vodfleet/{base} target"] = target
    return out


def print_table(info: dict[str, object], med: dict[str, dict[str, float]], rat: dict[str, float],
                counts: dict[str, int]) -> None:
    print(f"\ncores: {info['cpu_count']} (usable {info['usable_cores']})  ffmpeg {info['ffmpeg']}  "
          f"x264 {info['x264']}  load {info['loadavg_start']} -> {info['loadavg_end']}")
    print(f"episode: {info['episode']}  ladder: {info['ladder']} ({info['rungs']})  profile: {info['profile']}")
    print(f"\n{'approach':<18}{'runs':>5}{'wall s':>9}{'cpu s':>9}{'py cpu s':>10}{'peak rss MB':>13}"
          f"{'max proc MB':>13}")
    for name, m in med.items():
        print(f"{name:<18}{counts[name]:>5}{m['wall']:>9.2f}{m['cpu']:>9.2f}{m['py_cpu']:>10.2f}"
              f"{m['peak_rss_mb']:>13.0f}{m['peak_proc_rss_mb']:>13.0f}")
    print()
    for base in ("per-rung", "raw"):
        if f"vodfleet/{base} wall" in rat:
            print(f"vodfleet/{base:<9} wall {rat[f'vodfleet/{base} wall']:.3f}  cpu {rat[f'vodfleet/{base} cpu']:.3f}"
                  f"  (target <= {rat[f'vodfleet/{base} target']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode", help="source to encode (default: generate one into .cache/bench/)")
    parser.add_argument("--duration", type=float, default=60.0, help="generated episode length, seconds")
    parser.add_argument("--size", default="1920x1080", help="generated episode size")
    parser.add_argument("--ladder", default="compact")
    parser.add_argument("--profile", default="fast", help="PlanOptions profile (x264 preset)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of vodfleet/per-rung/raw (median)")
    parser.add_argument("--quality-repeat", type=int, default=1, help="runs of vodfleet+quality (0: skip)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON ('-': stdout)")
    args = parser.parse_args(argv)

    tools = Tools.resolve()
    episode = ensure_episode(args)
    info = machine(tools)
    bench = Bench(episode, args.ladder, args.profile, tools)
    plan = bench.planned.plan
    info |= {"episode": str(episode), "duration": plan.duration, "ladder": args.ladder, "profile": args.profile,
             "rungs": " ".join(f"{r.width}x{r.height}@{r.bitrate // 1000}k" for r in plan.video),
             "preset": plan.encoder.preset, "gop_frames": plan.gop_frames}
    with episode.open("rb") as f:  # warm the page cache so the first run does not pay for the disk
        while f.read(1 << 24):
            pass
    approaches: dict[str, Callable[[Path], None]] = {
        "vodfleet": bench.vodfleet, "per-rung": bench.per_rung, "raw": bench.raw}
    order = list(approaches)
    schedule = [name for r in range(args.repeat) for name in order[r % 3:] + order[:r % 3]]
    schedule += ["vodfleet+quality"] * args.quality_repeat
    samples: dict[str, list[Sample]] = {name: [] for name in [*order, "vodfleet+quality"]}
    CACHE.mkdir(parents=True, exist_ok=True)
    for step, name in enumerate(schedule, 1):
        work = Path(tempfile.mkdtemp(prefix="run-", dir=CACHE))
        job = approaches.get(name, bench.vodfleet_quality)
        try:
            sample = measure(functools.partial(job, work))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        samples[name].append(sample)
        print(f"[{step}/{len(schedule)}] {name:<17} wall {sample.wall:7.2f} s  cpu {sample.cpu:7.2f} s  "
              f"peak rss {sample.peak_rss_mb:6.0f} MB", flush=True)
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    med = summarise(samples)
    rat = ratios(med)
    print_table(info, med, rat, {k: len(v) for k, v in samples.items()})
    if bench.qc_failures:
        print(f"WARNING: {len(bench.qc_failures)} vodfleet run(s) failed QC after doing all the work "
              f"(times kept; checks: {'; '.join(sorted(set(bench.qc_failures)))})")
    if args.json:
        doc = {"machine": info, "median": med, "ratios": rat, "vodfleet_timings": bench.timings,
               "qc_failures": bench.qc_failures,
               "runs": {k: [asdict(s) for s in v] for k, v in samples.items()}}
        write_json(doc, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
