"""The HTTP API under 50 concurrent clients, and direct uploads through presigned URLs against boto3's own upload.

    .venv/bin/python bench/bench_api.py [--clients 50] [--requests 1000] [--upload-mib 64] [--json -]

Starts its own fleet on loopback: SeaweedFS (`weed mini`, the tests' launcher), the embedded broker and SQLite job
store in a temporary state folder, and `vodfleet api` (uvicorn, one process); no worker, so jobs stay queued.
Lines (each `--requests` requests spread over `--clients` concurrent HTTP/1.1 keep-alive clients, httpx):
  `GET /healthz`      the floor: the framework, the server and the client, no fleet behind it (the baseline).
  `GET /jobs/{id}`    a token check (cached) and one job-store read.
  `POST /jobs`        a token check, the input's identity (an S3 HEAD), the spec, the job store's insert and one
                      message to the broker: a new job each (another output prefix each time).
Columns: requests per second, p50 and p99 latency (ms), and p50 as a ratio of the floor's.
Uploads (same file, same part size, 4 parts in flight): boto3's `upload_file` (multipart) straight to S3, against
the API's flow (POST /uploads, PUT each part to its presigned URL, POST /uploads/{id}/complete); the ratio is
presigned MB/s over boto3's. The API process's bytes read during the presigned upload (/proc/<pid>/io rchar) show
that no upload byte passes through it. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from figures import write_json

try:
    import httpx
except ImportError:  # a runtime-only venv
    sys.exit("bench_api.py needs the dev install: ./scripts/bootstrap --test, then "
             ".venv/bin/python bench/bench_api.py")

ROOT = Path(__file__).resolve().parents[1]
PART = 8 * 1024 * 1024


def vodfleet(*args: str) -> list[str]:
    return [sys.executable, "-m", "workers.cli.command", *args]


def free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def hammer(base: str, headers: dict[str, str], clients: int, total: int,
                 request: Any) -> tuple[float, list[float], int]:
    """`total` requests over `clients` concurrent clients; (wall seconds, latencies in seconds of the answered
    ones, connection errors)."""
    latencies: list[float] = []
    errors = [0]
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        async def one_client() -> None:
            for n in counter:
                start = time.perf_counter()
                try:
                    response = await request(client, n)
                except httpx.TransportError:
                    errors[0] += 1
                    continue
                latencies.append(time.perf_counter() - start)
                if response.status_code >= 400:
                    raise SystemExit(f"{response.request.method} {response.request.url}: {response.status_code} "
                                     f"{response.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        return time.perf_counter() - started, latencies, errors[0]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def rchar(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return 0


def presigned_upload(base: str, headers: dict[str, str], path: Path) -> str:
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    data = path.read_bytes()
    with httpx.Client(base_url=base, headers=headers, timeout=120) as api, httpx.Client(timeout=120) as s3:
        upload = api.post("/uploads", json={"filename": path.name, "size": len(data)}).json()

        def put(part: dict[str, Any]) -> None:
            answer = s3.put(part["url"], content=data[part["offset"]:part["offset"] + part["size"]])
            answer.raise_for_status()

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(put, upload["parts"]))
        done = api.post(f"/uploads/{upload['upload_id']}/complete", json={})
        done.raise_for_status()
        return str(upload["upload_id"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--upload-mib", type=int, default=64)
    parser.add_argument("--json", default=None, help="write the figures as JSON here (- for stdout)")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "tests"))
    seaweed = importlib.import_module("fleet.seaweed_server")  # the tests' launcher of a real S3 server
    results: dict[str, Any] = {"clients": args.clients, "requests": args.requests}
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        work = Path(folder)
        server = seaweed.SeaweedServer(work / "s3")
        server.start()
        api: subprocess.Popen[bytes] | None = None
        try:
            port = free_port()
            env = {**os.environ, "VODFLEET_STATE_DIR": str(work / "state"),
                   "VODFLEET_STORAGE_URI": f"s3://{seaweed.BUCKET}/bench", "VODFLEET_S3_ENDPOINT_URL": server.endpoint,
                   "VODFLEET_S3_ACCESS_KEY": server.access_key, "VODFLEET_S3_SECRET_KEY": server.secret_key,
                   "VODFLEET_API_SUBMIT_RATE": "100000", "VODFLEET_API_SUBMIT_BURST": "10000",
                   "VODFLEET_API_PART_SIZE": str(PART)}
            made = subprocess.run(vodfleet("token", "create", "--prefix", "bench/", "--scope", "submit", "--json"),
                                  env=env, capture_output=True, text=True, check=True)
            headers = {"Authorization": f"Bearer {json.loads(made.stdout)['token']}"}
            api = subprocess.Popen(vodfleet("api", "--port", str(port)), env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.1)
            master = work / "master.mp4"
            master.write_bytes(os.urandom(1024 * 1024))
            upload_id = presigned_upload(base, headers, master)
            source = f"upload:{upload_id}"
            with httpx.Client(base_url=base, headers=headers) as client:
                job_id = client.post("/jobs", json={"source": source, "output_prefix": "bench/warm"}).json()["job_id"]

            async def health(client: httpx.AsyncClient, _n: int) -> httpx.Response:
                return await client.get("/healthz")

            async def get_job(client: httpx.AsyncClient, _n: int) -> httpx.Response:
                return await client.get(f"/jobs/{job_id}")

            async def post_job(client: httpx.AsyncClient, n: int) -> httpx.Response:
                return await client.post("/jobs", json={"source": source, "output_prefix": f"bench/t{n}"})

            lines = []
            for name, request in (("GET /healthz", health), ("GET /jobs/{id}", get_job), ("POST /jobs", post_job)):
                wall, latencies, errors = asyncio.run(hammer(base, headers, args.clients, args.requests, request))
                lines.append({"line": name, "rps": len(latencies) / wall, "p50_ms": 1000 * statistics.median(latencies),
                              "p99_ms": 1000 * percentile(latencies, 0.99), "errors": errors})
            floor = lines[0]["p50_ms"]
            print(f"{args.requests} requests, {args.clients} concurrent clients, one uvicorn process")
            print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
            print(f"{'line':<16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p50/floor':>10} {'errors':>7}")
            for line in lines:
                line["p50_vs_floor"] = line["p50_ms"] / floor
                print(f"{line['line']:<16} {line['rps']:8.0f} {line['p50_ms']:8.1f} {line['p99_ms']:8.1f} "
                      f"{line['p50_vs_floor']:9.2f}x {line['errors']:7d}")
            results["lines"] = lines

            big = work / "episode.bin"
            big.write_bytes(os.urandom(args.upload_mib * 1024 * 1024))
            from boto3.s3.transfer import TransferConfig  # noqa: PLC0415 - boto3 as a CMS would use it

            s3 = server.client()
            start = time.perf_counter()
            s3.upload_file(str(big), seaweed.BUCKET, "bench-direct/episode.bin",
                           Config=TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=4))
            direct = time.perf_counter() - start
            before = rchar(api.pid)
            start = time.perf_counter()
            presigned_upload(base, headers, big)
            presigned = time.perf_counter() - start
            api_read = rchar(api.pid) - before
            mib = args.upload_mib
            print(f"\nupload of {mib} MiB, {PART // 2**20} MiB parts, 4 in flight")
            print(f"  boto3 upload_file (direct)   {mib / direct:7.1f} MiB/s")
            print(f"  presigned parts via the API  {mib / presigned:7.1f} MiB/s   "
                  f"{direct / presigned:.2f}x boto3's throughput")
            print(f"  bytes the API process read meanwhile: {api_read / 2**20:.2f} MiB "
                  f"({100 * api_read / big.stat().st_size:.2f} % of the file)")
            results["upload"] = {"mib": mib, "direct_mib_s": mib / direct, "presigned_mib_s": mib / presigned,
                                 "presigned_vs_direct": direct / presigned, "api_bytes_read": api_read}
            s3.close()
        finally:
            if api is not None:
                api.terminate()
                api.wait(20)
            server.stop()
    write_json(results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
