"""`vodfleet watch URI`: a drop folder (s3://bucket/prefix/, file:///folder or a local folder) → one job per master.

A master (``ep1.mp4``) with sidecars (``ep1.en.srt``, ``ep1.pt-BR.vtt`` …) becomes one job once the master
has the same size and ETag on two consecutive polls. Upload sidecars before the master (or together): a
sidecar that arrives after its master was submitted is not added. See `workers.intake.watch_plan` for the rules.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from pipelines.ladder import builtin_ladders
from pipelines.options import PROFILES
from pipelines.tools import Tools
from workers.exitcodes import EXIT_OK
from workers.intake.watch import Template, Watcher
from workers.jobs.spec import validate_webhook_url
from workers.queue.app import fleet_app, prepare
from workers.settings import Settings
from workers.storage import storage_for
from workers.store import open_store
from workers.webhooks.target import Allowlist, check_target


def _webhook(text: str) -> str:
    try:
        return validate_webhook_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _interval(text: str) -> float:
    value = float(text)
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"--interval {text}: between 0.1 and 3600 seconds")
    return value


def add_parser(sub: Any) -> None:
    p = sub.add_parser("watch", help="turn masters dropped in a folder or S3 prefix into jobs",
                       description="Poll URI (s3://bucket/prefix/, file:///folder or a local folder). Each master "
                                   "<name>.<ext> with sidecars <name>.<lang>.srt|vtt|ass|ttml becomes exactly one "
                                   "job, once its size and ETag are unchanged between two polls. A marker "
                                   "<URI>/.vodfleet/<name>.<content>.json records each submitted master.")
    p.add_argument("uri", help="s3://bucket/prefix/, file:///folder or a local folder")
    p.add_argument("--interval", type=_interval, default=10.0, help="seconds between polls (default 10)")
    p.add_argument("--once", action="store_true", help="two listings --interval apart, submit what is ready, exit")
    p.add_argument("--ladder", default="default", choices=builtin_ladders())
    p.add_argument("--profile", default="fast", choices=sorted(PROFILES))
    p.add_argument("--segment-seconds", type=int, default=6)
    p.add_argument("--no-quality", action="store_true", help="skip PSNR/SSIM measurement")
    p.add_argument("--priority", type=int, default=5, choices=range(10), metavar="0-9")
    p.add_argument("--output-root", default="outputs", help="outputs go to <root>/<name> (default outputs)")
    p.add_argument("--webhook", type=_webhook, default=None, help="POST state events of each job here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.webhook is not None:  # refused before anything is uploaded or queued (exit 2)
        check_target(args.webhook, Allowlist.parse(settings.webhook_allow), field="--webhook")
    prepare(settings)
    uri = args.uri if "://" in args.uri else str(Path(args.uri).resolve())
    folder = storage_for(settings, uri.rstrip("/") if uri.startswith("s3://") else uri)
    template = Template(ladder=args.ladder, profile=args.profile, segment_seconds=args.segment_seconds,
                        measure_quality=not args.no_quality, priority=args.priority,
                        output_root=args.output_root.strip("/"), webhook=args.webhook)

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    watcher = Watcher(folder, settings, open_store(settings.store), fleet_app(settings), Tools.resolve(), template,
                      say=say)
    say(f"watching {folder.uri} every {args.interval:g} s")
    watcher.poll()
    while True:
        time.sleep(args.interval)
        decided = watcher.poll()
        if args.once:
            for key in decided.waiting:
                say(f"not ready yet (still changing or empty): {key}")
            break
    for job in watcher.submitted:
        print(job)
    return EXIT_OK
