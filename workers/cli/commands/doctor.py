"""`vodfleet doctor`: is this encoder the fleet's encoder? Local ffmpeg vs docker/encoder.lock vs live workers.

    vodfleet doctor                      local vs lock vs every worker that answers (Celery remote control)
    vodfleet doctor --local              local vs lock only (the image build runs this: a mismatch fails it)
    vodfleet doctor --write-lock PATH    measure this encoder and write a lock file
    vodfleet doctor --health             container health: ffmpeg runs, state folder writable, broker reachable

Differences are spelled out (ffmpeg version, x264 build, libraries, codec packages, the VMAF build), with the
way to get the identical encoder locally: run the worker image.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from pipelines.runner import RunLimits
from pipelines.runner import run as run_argv
from pipelines.tools import Tools
from workers import fingerprint as fp
from workers.exitcodes import EXIT_CONFIG, EXIT_OK
from workers.settings import Settings

IMAGE_HINT = ("get the identical encoder locally by running the worker image, e.g.\n"
              "  docker run --rm --read-only --tmpfs /tmp -v \"$PWD:/media\" -v vodfleet-state:/var/lib/vodfleet \\\n"
              "    vodfleet/worker:latest vodfleet transcode /media/<master> /media/out\n"
              "(build it with docker/build.sh; its label io.vodfleet.encoder.fingerprint names its encoder)")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("doctor", help="compare this encoder with the fleet's lock and live workers",
                       description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--lock", type=Path, default=None,
                   help="encoder lock file (default $VODFLEET_ENCODER_LOCK or docker/encoder.lock of a checkout)")
    p.add_argument("--local", action="store_true", help="do not ask the live workers")
    p.add_argument("--expect", default=None, help="fail unless the lock's fingerprint is this one ('unknown': skip)")
    p.add_argument("--write-lock", type=Path, default=None, metavar="PATH", help="write this encoder's lock and exit")
    p.add_argument("--health", action="store_true", help="container health check (exit 0 = healthy)")
    p.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for workers' answers")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    tools = Tools.resolve()
    if args.health:
        return health(tools)
    if args.write_lock is not None:
        measured = fp.measure(tools)
        args.write_lock.write_text(fp.lock_text(measured), encoding="utf-8")
        print(f"wrote {args.write_lock}: {measured.value}")
        return EXIT_OK
    local = fp.local(tools)
    lock_path = args.lock or fp.default_lock_path()
    lock = fp.read_lock(lock_path) if lock_path is not None else None
    problems: list[str] = []
    if args.expect and args.expect != "unknown" and (lock is None or lock.value != args.expect):
        problems.append(f"lock {lock_path}: fingerprint {lock.value if lock else 'missing'} ≠ expected {args.expect}")
    if lock is not None:
        problems += [f"local vs lock: {line}" for line in fp.differences(lock, local)]
    workers: dict[str, dict[str, object]] = {}
    if not args.local:
        workers = _live(args.timeout)
        reference = lock or local
        for host, answer in sorted(workers.items()):
            problems += [f"worker {host}: {line}" for line in _worker_differences(reference, answer)]
    if args.json:
        print(json.dumps({"local": local.to_dict(), "lock": lock.to_dict() if lock else None,
                          "lock_path": str(lock_path) if lock_path else None, "workers": workers,
                          "problems": problems}, indent=2))
    else:
        _print_report(local, lock, lock_path, workers, problems)
    return EXIT_CONFIG if problems else EXIT_OK


def _live(timeout: float) -> dict[str, dict[str, object]]:
    from workers.queue.app import create_app  # noqa: PLC0415 - only this path needs Celery
    from workers.queue.control import live_encoders  # noqa: PLC0415

    settings = Settings()
    if settings.broker.startswith(("filesystem://", "sqla+")):
        return {}  # no remote control on the embedded broker: nothing to ask
    return live_encoders(create_app(settings), timeout)


def _worker_differences(reference: fp.Fingerprint, answer: dict[str, object]) -> list[str]:
    value = answer.get("fingerprint")
    if value is None:
        shorts = answer.get("queues_for") or []
        if reference.short in (shorts if isinstance(shorts, list) else []):
            return []
        return [f"does not report a fingerprint; consumes queues of {shorts or 'no encoder'}"]
    try:
        return fp.differences(reference, fp.Fingerprint.from_dict(answer))
    except ValueError as exc:
        return [f"unreadable fingerprint answer: {exc}"]


def _print_report(local: fp.Fingerprint, lock: fp.Fingerprint | None, lock_path: Path | None,
                  workers: dict[str, dict[str, object]], problems: list[str]) -> None:
    print(f"local encoder   {local.value}{'  (VODFLEET_FINGERPRINT_OVERRIDE)' if local.overridden else ''}")
    if not local.overridden:
        print(f"  ffmpeg        {local.ffmpeg_version}")
        print(f"  x264          {local.x264 or '-'}")
        packages = ", ".join(f"{k}={v}" for k, v in local.packages) or "not detectable (no dpkg)"
        print(f"  packages      {packages}")
        measuring = dict(local.measurement)
        vmaf = f"{measuring.get('vmaf_ffmpeg', 'absent')} {measuring.get('vmaf_ffmpeg_sha256', '')}"
        print(f"  vmaf ffmpeg   {vmaf.rstrip()}")
    print(f"lock            {lock.value if lock else 'none found'}{f'  ({lock_path})' if lock_path else ''}")
    for host, answer in sorted(workers.items()):
        print(f"worker          {host}: {answer.get('fingerprint') or answer.get('queues_for')}")
    if not problems:
        print("OK: the same encoder everywhere")
        return
    print("\nDIFFERENT ENCODERS — jobs pinned to one are never encoded by another:", file=sys.stderr)
    for line in problems:
        print(f"  {line}", file=sys.stderr)
    print(f"\n{IMAGE_HINT}", file=sys.stderr)


def health(tools: Tools) -> int:
    """ffmpeg answers, the state folder is writable, the broker accepts a connection."""
    settings = Settings()
    try:
        run_argv([tools.ffmpeg, "-hide_banner", "-version"], limits=RunLimits(timeout=5))
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.state_dir, prefix=".health-"):
            pass
        if not settings.broker.startswith(("filesystem://", "sqla+")):
            from kombu import Connection  # noqa: PLC0415

            with Connection(settings.broker, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - a health check reports every failure the same way
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    print(f"healthy (pid {os.getpid()})")
    return EXIT_OK
