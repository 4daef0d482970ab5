"""The chunked fleet's speedup: one 1080p episode through N chunk workers against one whole-file worker (issue 14).

    .venv/bin/python bench/bench_fleet_scaling.py [--workers 1,2,4,8] [--cores-per-worker 2] [--duration 120]
        [--chunk-seconds 10] [--ladder default] [--profile fast] [--episode PATH] [--json PATH|-]

What runs: a local Redis (broker and job store) and a local SeaweedFS (the fleet's S3 storage, the tests' launcher),
both on loopback; the episode (bench_ladder's generated 1080p25 one, or --episode) is uploaded once by the first
submit. Then, one configuration at a time, with fresh worker processes (`vodfleet worker --concurrency 1`), each
pinned to its own --cores-per-worker distinct cores (sched_setaffinity), the job is submitted to a new output prefix
and waited for:
  whole      one worker, `--chunks 1` (one ffmpeg for the title): the baseline.
  chunked N  N workers, `submit --chunks auto` with VODFLEET_CHUNK_TARGET=--chunk-seconds (the planner cuts chunks of
             whole segments, never under 8 s): chunk tasks across the workers, the audio part, then the stitch.
Figures: queued → published wall seconds (from the job record's history, so worker start-up is not counted),
speedup = whole / chunked N, and speedup / N against the issue's goal (>= 0.85). A configuration needing more cores
than this process may use is skipped (say --cores-per-worker 1 for a plumbing check on a small machine).
Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))  # the tests' launchers of real servers

from bench_ladder import ensure_episode  # noqa: E402
from figures import write_json  # noqa: E402
from fleet.seaweed_server import BUCKET, SeaweedServer  # noqa: E402
from fleetkit import RedisServer  # noqa: E402
from processes import stop_groups  # noqa: E402

GOAL = 0.85  # issue 14: speedup >= 0.85·N
DONE = {"published", "failed", "cancelled"}


def vodfleet(*args: str) -> list[str]:
    return [sys.executable, "-m", "workers.cli", *args]


def status(job: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(vodfleet("status", "--json", job), env=env, capture_output=True, text=True, check=True)
    parsed: dict[str, Any] = json.loads(out.stdout)
    return parsed


def first_at(record: dict[str, Any], state: str) -> float | None:
    return next((float(h["at"]) for h in record["history"] if h["state"] == state), None)


def start_workers(cores: list[list[int]], env: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    logs.mkdir(parents=True, exist_ok=True)
    workers = []
    for n, pinned in enumerate(cores):
        def pin(cpus: list[int] = pinned) -> None:
            os.sched_setaffinity(0, cpus)  # ffmpeg and its threads inherit it
            os.setsid()

        workers.append(subprocess.Popen(vodfleet("worker", "--concurrency", "1", "--loglevel", "WARNING"), env=env,
                                        stdout=subprocess.DEVNULL, stderr=(logs / f"worker{n}.log").open("w"),
                                        preexec_fn=pin))  # noqa: PLW1509 - affinity before exec, no threads yet
    time.sleep(5)  # the workers import, connect and measure their encoder (cached after the first)
    dead = [w.args for w in workers if w.poll() is not None]
    if dead:
        raise SystemExit(f"a worker exited at start; see {logs}")
    return workers


def run_one(name: str, chunks: str, cores: list[list[int]], master: Path, env: dict[str, str], args: argparse.Namespace,
            logs: Path) -> dict[str, Any]:
    workers = start_workers(cores, env, logs / name.replace(" ", "-"))
    try:
        done = subprocess.run(vodfleet("submit", str(master), "--output-prefix", f"bench/{name.replace(' ', '-')}",
                                       "--chunks", chunks, "--ladder", args.ladder, "--profile", args.profile,
                                       "--no-quality", "--json"), env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"submit ({name}) exited {done.returncode}: {done.stderr[-2000:]}")
        job = json.loads(done.stdout)["job_id"]
        deadline = time.monotonic() + args.timeout
        record = status(job, env)
        while record["state"] not in DONE and time.monotonic() < deadline:
            time.sleep(1)
            record = status(job, env)
    finally:
        stop_groups(workers)
    queued, published = first_at(record, "queued"), first_at(record, "published")
    wall = published - queued if published is not None and queued is not None else None
    parts = len(record["chunks"]["parts"]) - 1 if record.get("chunks") else 1  # (less the audio part)
    print(f"{name:<12} workers {len(cores)} x {len(cores[0])} cores  chunks {parts:>3}  state {record['state']:<9} "
          f"queued -> published {wall if wall is None else round(wall, 1)} s", flush=True)
    return {"name": name, "workers": len(cores), "chunks": parts, "state": record["state"], "wall_s": wall,
            "attempts": record.get("attempt")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,4,8", help="comma-separated chunk-worker counts")
    parser.add_argument("--cores-per-worker", type=int, default=2)
    parser.add_argument("--episode", help="a master to use instead of the generated episode")
    parser.add_argument("--duration", type=float, default=120.0, help="generated episode length (s)")
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--chunk-seconds", type=float, default=10.0, help="target chunk length of the chunked runs")
    parser.add_argument("--ladder", default="default")
    parser.add_argument("--profile", default="fast")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for one job")
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the figures as JSON ('-': stdout)")
    args = parser.parse_args()
    for binary in ("redis-server", "weed"):
        if shutil.which(binary) is None and not (ROOT / ".venv" / "bin" / binary).exists():
            raise SystemExit(f"{binary} not found: run ./scripts/bootstrap --test (it installs both)")
    usable = sorted(os.sched_getaffinity(0))
    per = args.cores_per_worker
    counts = [int(n) for n in args.workers.split(",")]
    master = ensure_episode(args)
    print(f"episode {master}; usable cores {len(usable)}; load {os.getloadavg()[0]:.1f}", flush=True)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="vodfleet-bench-scaling-") as tmp:
        work = Path(tmp)
        redis = RedisServer(work / "redis")
        (work / "redis").mkdir()
        redis.start()
        s3 = SeaweedServer(work / "s3")
        s3.start()
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("VODFLEET_")}
            env |= {"PYTHONPATH": str(ROOT), "VODFLEET_STATE_DIR": str(work / "state"),
                    "VODFLEET_BROKER_URL": f"{redis.url}/0", "VODFLEET_STORE_URL": f"{redis.url}/1",
                    "VODFLEET_STORAGE_URI": f"s3://{BUCKET}/scaling", "VODFLEET_S3_ENDPOINT_URL": s3.endpoint,
                    "VODFLEET_S3_ACCESS_KEY": s3.access_key, "VODFLEET_S3_SECRET_KEY": s3.secret_key,
                    "VODFLEET_CHUNK_THRESHOLD": "8", "VODFLEET_CHUNK_TARGET": f"{args.chunk_seconds:g}"}
            results.append(run_one("whole", "1", [usable[:per]], master, env, args, work))
            for count in counts:
                if count * per > len(usable):
                    print(f"chunked {count}: skipped ({count} x {per} cores > {len(usable)} usable)", flush=True)
                    continue
                cores = [usable[i * per:(i + 1) * per] for i in range(count)]
                results.append(run_one(f"chunked {count}", "auto", cores, master, env, args, work))
        finally:
            s3.stop()
            redis.kill()
    whole = results[0]["wall_s"]
    print(f"\n{'run':<12}{'workers':>8}{'wall s':>9}{'speedup':>9}{'/N':>7}  goal >= {GOAL}")
    for row in results:
        speedup = whole / row["wall_s"] if whole and row["wall_s"] else None
        row["speedup"] = speedup
        row["efficiency"] = speedup / row["workers"] if speedup else None
        print(f"{row['name']:<12}{row['workers']:>8}{row['wall_s'] or float('nan'):>9.1f}"
              f"{speedup or float('nan'):>9.2f}{row['efficiency'] or float('nan'):>7.2f}")
    write_json({"episode": str(master), "cores_per_worker": per, "usable_cores": len(usable),
                           "results": results}, args.json)


if __name__ == "__main__":
    main()
