"""`vodfleet submit`'s own time, as a ratio against `python -c pass` (the interpreter's start-up on this machine).

    .venv/bin/python bench/bench_submit.py [--runs 9] [--checkout PATH] [--json -]

Lines (each a fresh process, the median of --runs; the embedded default fleet in a temporary state folder):
  `python -c pass`  the floor: the interpreter starting and stopping.
  `submit key:`     `vodfleet submit key:<a master already in the storage>`: no probe and no upload, so all of it
                    is submit's own time (imports, settings, the job store, the encoder fingerprint, one message
                    to the broker). A new job each run (another --output-prefix).
  `submit local`    `vodfleet submit <local master>`: also the preflight (ffprobe and a decode check of the master)
                    and the upload's digest (the bytes are already in the storage, so nothing is copied).
  `preflight probe` `pipelines.probe.probe(master)` in this process: the ffprobe time `submit local` contains,
                    which is ffprobe's, not submit's.
Columns: wall (perf_counter) and cpu (user+sys of the child and its children, getrusage deltas) seconds;
on a shared machine trust cpu more than wall. `--checkout` runs another tree's code (e.g. an export of
main: `git archive main | tar -x -C /tmp/main`) with this virtualenv, for a before/after pair.
Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from figures import write_json

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Line:
    name: str
    wall: float
    cpu: float


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_line(name: str, runs: list[tuple[float, float]]) -> Line:
    return Line(name, statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))


def make_master(path: Path) -> Path:
    ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25", "-f", "lavfi",
                    "-i", "sine=f=440:sample_rate=48000", "-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the tree whose workers/ and pipelines/ run")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the figures as JSON ('-': stdout)")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    with tempfile.TemporaryDirectory(prefix="vodfleet-bench-submit-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "VODFLEET_STATE_DIR": str(work / "state"), "PYTHONPATH": str(checkout)}
        for var in [v for v in env if v.startswith("VODFLEET_") and v != "VODFLEET_STATE_DIR"]:
            del env[var]  # the embedded defaults, whatever this shell has set
        # An installed vodfleet has its bytecode (pip compiles it at install, as the image's build does): a shell
        # with PYTHONDONTWRITEBYTECODE would make every run compile the checkout's modules again (~60 ms here).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        master = make_master(work / "episode.mp4")
        cli = [sys.executable, "-m", "workers.cli", "submit"]
        timed([*cli, str(master), "--output-prefix", "bench/warm"], env, checkout)  # uploads it; warms caches
        timed([*cli, "--help"], env, checkout)  # (and writes the bytecode of what submit imports)
        key = next((work / "state" / "storage").glob("masters/*/episode.mp4")).relative_to(work / "state" / "storage")
        lines = [median_line("python -c pass", [timed([sys.executable, "-c", "pass"], env, checkout)
                                                for _ in range(args.runs)]),
                 median_line("submit key:", [timed([*cli, f"key:{key.as_posix()}", "--output-prefix", f"bench/k{n}"],
                                                   env, checkout) for n in range(args.runs)]),
                 median_line("submit local", [timed([*cli, str(master), "--output-prefix", f"bench/l{n}"], env,
                                                    checkout) for n in range(args.runs)])]
        sys.path.insert(0, str(checkout))
        from pipelines.probe import probe  # noqa: PLC0415 - from the checkout under test
        from pipelines.tools import Tools  # noqa: PLC0415

        tools = Tools.resolve()
        probes = []
        for _ in range(args.runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            probe(master, tools=tools)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            probes.append((time.perf_counter() - start,
                           (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)))
        lines.append(median_line("preflight probe", probes))
    base, own = lines[0], lines[1]
    print(f"checkout {checkout}; {args.runs} runs each, medians; load average {os.getloadavg()[0]:.1f}")
    print(f"{'line':<18}{'wall s':>9}{'cpu s':>9}")
    for line in lines:
        print(f"{line.name:<18}{line.wall:>9.3f}{line.cpu:>9.3f}")
    ratio = {"wall": own.wall / base.wall, "cpu": own.cpu / base.cpu if base.cpu else float("nan")}
    print(f"submit's own time / python -c pass: {ratio['wall']:.1f}x wall, {ratio['cpu']:.1f}x cpu; "
          f"own time over the floor: {own.wall - base.wall:.3f} s wall, {own.cpu - base.cpu:.3f} s cpu")
    write_json({"checkout": str(checkout), "runs": args.runs, "load": os.getloadavg()[0],
                           "lines": [line.__dict__ for line in lines], "ratio": ratio}, args.json)


if __name__ == "__main__":
    main()
