"""A burst of small jobs through the embedded default fleet: how fast the front (submit) and the back (workers) go.

    .venv/bin/python bench/bench_burst.py [--jobs 30] [--workers 2] [--checkout PATH] [--json PATH|-]

What runs (a temporary state folder; the embedded defaults: file-system broker, SQLite job store, local bucket):
  1. `--workers` worker processes (`vodfleet worker --concurrency 1`) are started and left to settle.
  2. `--jobs` submits of one small local master (2 s, 320x180, draft profile, compact ladder, no PSNR/SSIM),
     one after another from this process, each a fresh `vodfleet submit` process with its own --output-prefix.
  3. Wait until every job is published (or failed), reading `vodfleet status --json`.
Figures:
  submit total / median   wall seconds of the submit processes (the front of the fleet).
  floor                   `python -c pass` (median of 5): submit's own time is read against it.
  burst                   first job queued → last job published, from the job records' history (the back).
  per job                 queued → published of each job: median and max.
  failed                  jobs that did not publish (should be 0).
`--checkout` runs another tree's code (e.g. `git archive <commit> | tar -x -C /tmp/old`) with this virtualenv,
for a before/after pair on the same machine in the same hour. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from figures import write_json
from processes import stop_groups

ROOT = Path(__file__).resolve().parents[1]
JOB_ID = re.compile(r"job-[0-9a-f]{8,}")
DONE = {"published", "failed", "cancelled"}


def make_master(path: Path) -> Path:
    ffmpeg = shutil.which("ffmpeg") or "ffmpeg"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25", "-f", "lavfi",
                    "-i", "sine=f=440:sample_rate=48000", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-shortest", str(path)], check=True)
    return path


def wall(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return took, done.stdout


def record(cli: list[str], job: str, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    out = subprocess.run([*cli, "status", "--json", job], env=env, cwd=cwd, capture_output=True, text=True,
                         check=True).stdout
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def first_at(rec: dict[str, Any], state: str) -> float | None:
    return next((float(h["at"]) for h in rec["history"] if h["state"] == state), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the last job")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the tree whose workers/ and pipelines/ run")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the figures as JSON ('-': stdout)")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    cli = [sys.executable, "-m", "workers.cli"]
    with tempfile.TemporaryDirectory(prefix="vodfleet-bench-burst-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "VODFLEET_STATE_DIR": str(work / "state"), "PYTHONPATH": str(checkout)}
        for var in [v for v in env if v.startswith("VODFLEET_") and v != "VODFLEET_STATE_DIR"]:
            del env[var]  # the embedded defaults, whatever this shell has set
        master = make_master(work / "episode.mp4")
        floor = statistics.median(wall([sys.executable, "-c", "pass"], env, checkout)[0] for _ in range(5))
        workers = [subprocess.Popen([*cli, "worker", "--concurrency", "1", "--loglevel", "WARNING"], env=env,
                                    cwd=checkout, stdout=subprocess.DEVNULL, stderr=(work / f"worker{n}.log").open("w"),
                                    start_new_session=True) for n in range(args.workers)]
        try:
            time.sleep(3)  # the workers import and connect
            submits: list[float] = []
            jobs: list[str] = []
            for n in range(args.jobs):
                took, out = wall([*cli, "submit", str(master), "--output-prefix", f"burst/j{n:03d}", "--profile",
                                  "draft", "--ladder", "compact", "--no-quality"], env, checkout)
                submits.append(took)
                found = JOB_ID.search(out)  # the job id line (older checkouts have no --json)
                if found is None:
                    raise SystemExit(f"no job id in submit's output: {out!r}")
                jobs.append(found.group(0))
            deadline = time.monotonic() + args.timeout
            records: dict[str, dict[str, Any]] = {}
            while time.monotonic() < deadline:
                records = {job: record(cli, job, env, checkout) for job in jobs}
                if all(r["state"] in DONE for r in records.values()):
                    break
                time.sleep(2)
        finally:
            stop_groups(workers)
    queued = [first_at(r, "queued") for r in records.values()]
    published = [first_at(r, "published") for r in records.values()]
    per_job = [p - q for q, p in zip(queued, published, strict=True) if p is not None and q is not None]
    done_at = [p for p in published if p is not None]
    failed = sum(1 for r in records.values() if r["state"] != "published")
    figures = {
        "checkout": str(checkout), "jobs": args.jobs, "workers": args.workers, "load": os.getloadavg()[0],
        "floor_s": floor, "submit_total_s": sum(submits), "submit_median_s": statistics.median(submits),
        "burst_s": (max(done_at) - min(q for q in queued if q is not None)) if done_at else None,
        "per_job_median_s": statistics.median(per_job) if per_job else None,
        "per_job_max_s": max(per_job) if per_job else None, "failed": failed,
    }
    print(f"checkout {checkout}; {args.jobs} jobs, {args.workers} workers; load average {figures['load']:.1f}")
    print(f"submit: {figures['submit_total_s']:.1f} s total, {figures['submit_median_s']:.3f} s median "
          f"(python -c pass {floor:.3f} s: {figures['submit_median_s'] / floor:.1f}x)")
    if figures["burst_s"] is not None:
        print(f"burst: first queued -> last published {figures['burst_s']:.1f} s; per job median "
              f"{figures['per_job_median_s']:.1f} s, max {figures['per_job_max_s']:.1f} s; failed {failed}")
    else:
        print(f"burst: nothing published; failed {failed}")
    write_json(figures, args.json)


if __name__ == "__main__":
    main()
