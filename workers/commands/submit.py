"""`vodfleet submit`: queue a master for the fleet; print the job id; with --wait, follow it to the end."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from pipelines.ladder import builtin_ladders
from pipelines.plan import PROFILES
from pipelines.tools import Tools
from workers.app import create_app
from workers.commands.transcode import chunk_count
from workers.commands.worker import prepare
from workers.exitcodes import EXIT_OK
from workers.jobs import JobSpec, SubtitleRef, validate_webhook_url
from workers.jobstate import TERMINAL, JobRecord, exit_code_for
from workers.jobview import block, progress_text
from workers.settings import Settings
from workers.storage import storage_for
from workers.store import JobStore, open_store
from workers.submission import resolve, safe_name, source_duration, submit


def subtitle(text: str) -> tuple[str, str]:
    language, sep, ref = text.partition("=")
    if not sep or not language or not ref:
        raise argparse.ArgumentTypeError(f"--subtitle {text!r}: expected LANG=PATH-or-URI, e.g. ko=episode.ko.srt")
    return language.strip(), ref


def webhook_url(text: str) -> str:
    try:
        return validate_webhook_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_parser(sub: Any) -> None:
    p = sub.add_parser("submit", help="queue a master for the fleet (prints the job id)",
                       description="Queue SOURCE (a local file, which is uploaded to the fleet storage first, "
                                   "an s3://bucket/key, or key:KEY in the fleet storage). Submitting the same "
                                   "thing twice returns the existing job.")
    p.add_argument("source", help="local file, s3://bucket/key, or key:KEY")
    p.add_argument("--subtitle", type=subtitle, action="append", default=[], metavar="LANG=PATH",
                   help="a subtitle sidecar and its BCP-47 language; repeatable")
    p.add_argument("--audio-language", action="append", default=[], metavar="LANG")
    p.add_argument("--audio-map", action="append", default=[], metavar="CHANNELS=LANG[:ROLE[:NAME]]",
                   help="which master channels make a rendition (as for transcode); repeatable")
    p.add_argument("--ladder", default="default", choices=builtin_ladders())
    p.add_argument("--profile", default="fast", choices=sorted(PROFILES))
    p.add_argument("--segment-seconds", type=int, default=6)
    p.add_argument("--no-quality", action="store_true", help="skip PSNR/SSIM measurement")
    p.add_argument("--chunks", type=chunk_count, default="auto", metavar="auto|N",
                   help="split-and-stitch across workers: auto (default: chunked when the master is longer than "
                        "the fleet's VODFLEET_CHUNK_THRESHOLD), or N chunks (1: one task encodes it all)")
    p.add_argument("--priority", type=int, default=5, choices=range(10), metavar="0-9", help="9 = most urgent")
    p.add_argument("--output-prefix", default=None, help="storage prefix of the output (default outputs/<name>)")
    p.add_argument("--webhook", type=webhook_url, default=None, metavar="URL",
                   help="POST the job's published/failed/cancelled events here (http or https)")
    p.add_argument("--force", action="store_true", help="make a new version even if this job exists")
    p.add_argument("--wait", action="store_true", help="follow the job until it is published or failed")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    prepare(settings)
    storage = storage_for(settings)
    store = open_store(settings.store)
    tools = Tools.resolve()
    source_uri, source_id, local = resolve(args.source, storage, settings=settings)
    subs = [(lang, *resolve(ref, storage, settings=settings)[:2]) for lang, ref in args.subtitle]
    name = Path(args.source).stem if local else source_uri.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    spec = JobSpec(source=source_uri, subtitles=tuple(SubtitleRef(language=lang, uri=uri) for lang, uri, _ in subs),
                   audio_languages=tuple(args.audio_language), audio_map=tuple(args.audio_map),
                   ladder=args.ladder, profile=args.profile,
                   segment_seconds=args.segment_seconds, measure_quality=not args.no_quality,
                   output_prefix=args.output_prefix or f"outputs/{safe_name(name)}", priority=args.priority,
                   webhook=args.webhook, chunks=args.chunks)
    app = create_app(settings)
    done = submit(app, store, spec, (source_id, *(i for _, _, i in subs)),
                  duration=source_duration(local, tools), force=args.force, tools=tools)
    print(done.record.job_id)
    if not done.created:
        print(f"already submitted ({done.record.state}); use --force for a new version", file=sys.stderr)
    if not args.wait:
        return EXIT_OK
    return follow(store, done.record.job_id)


def follow(store: JobStore, job_id: str, *, poll: float = 0.3) -> int:
    """Print each state change (and every 10 % of the encode) until the job is finished."""
    shown = ""
    record: JobRecord | None = None
    while True:
        record = store.get(job_id)
        if record is None:
            print(f"job {job_id} disappeared from the store", file=sys.stderr)
            return 1
        text = progress_text(record)
        key = text if record.percent is None else f"{record.state}{int(record.percent // 10)}"
        if key != shown:
            print(f"  {text}", file=sys.stderr)
            shown = key
        if record.state in TERMINAL:
            break
        time.sleep(poll)
    if record.output:
        print(f"published: {record.output}")
    else:
        print(block(record), file=sys.stderr)
    return exit_code_for(record)
