"""`vodfleet submit`: plan a local master, queue it for the fleet, print the job id (with --json, one JSON object);
with --wait, follow it to the end."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipelines.captions.service import CaptionOptions
from pipelines.ladder import PER_TITLE, builtin_ladders
from pipelines.loudness import DEFAULT_PRESET, PRESETS
from pipelines.options import PROFILES, PlanOptions
from pipelines.tools import Tools
from workers.cli.args import (
    CODECS_HELP,
    add_caption_arguments,
    add_thumbnail_arguments,
    chunk_count,
    codec_list,
    storyboard_options,
)
from workers.errors import JobError, KeyInvalid, OptionInvalid
from workers.exitcodes import EXIT_OK
from workers.intake.submit import local_path, preflight, resolve, safe_name, submit
from workers.jobs.spec import JobSpec, validate_webhook_url
from workers.jobs.state import TERMINAL, JobRecord, JobState, exit_code_for
from workers.keys import validate_key
from workers.queue.app import fleet_app, prepare
from workers.settings import Settings
from workers.storage import storage_for
from workers.store import open_store
from workers.store.base import JobStore
from workers.webhooks.target import Allowlist, check_target


def subtitle(text: str) -> tuple[str, frozenset[str], str]:
    """LANG[:forced|sdh]=PATH-or-URI (pipelines.subtitles.flags) -> (language, flags, reference)."""
    from pipelines.subtitles.flags import FlagError, parse_subtitle_argument  # noqa: PLC0415 - loads parsers

    try:
        return parse_subtitle_argument(text)
    except FlagError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


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
    p.add_argument("--subtitle", type=subtitle, action="append", default=[], metavar="LANG[:FLAGS]=PATH",
                   help="a subtitle sidecar and its BCP-47 language; FLAGS: forced and/or sdh (comma-separated, "
                        "or in the file name: film.en.forced.srt); repeatable")
    p.add_argument("--audio-language", action="append", default=[], metavar="LANG")
    p.add_argument("--audio-map", action="append", default=[], metavar="CHANNELS=LANG[:ROLE[:NAME]]",
                   help="which master channels make a rendition (as for transcode); repeatable")
    p.add_argument("--ladder", default="default", choices=builtin_ladders())
    p.add_argument("--target-vmaf", type=float, default=None, metavar="VMAF",
                   help="--ladder per-title: the top rung's VMAF, 50-99 (default 94, as for transcode)")
    p.add_argument("--profile", default="fast", choices=sorted(PROFILES))
    p.add_argument("--codecs", type=codec_list, default=("h264",), metavar="h264[,hevc][,av1]", help=CODECS_HELP)
    p.add_argument("--segment-seconds", type=int, default=6)
    p.add_argument("--loudness", default=DEFAULT_PRESET, choices=list(PRESETS),
                   help=f"loudness target of the audio renditions (default {DEFAULT_PRESET}; atsc-a85, streaming, "
                        "off)")
    p.add_argument("--surround", action="store_true",
                   help="also publish a 5.1 rendition of every 5.1/7.1 audio stream (as for transcode)")
    add_caption_arguments(p)
    add_thumbnail_arguments(p)
    p.add_argument("--no-quality", action="store_true", help="skip PSNR/SSIM measurement")
    p.add_argument("--dash-vtt-sidecar", action="store_true",
                   help="DASH text as one whole-title subtitles.vtt per track (the old layout, for "
                        "DASH clients that read only sidecar WebVTT) instead of WebVTT-in-MP4 segments; "
                        "ffmpeg-based clients then need -allowed_extensions to open the MPD")
    p.add_argument("--chunks", type=chunk_count, default="auto", metavar="auto|N",
                   help="split-and-stitch across workers: auto (default: chunked when the master is longer than "
                        "the fleet's VODFLEET_CHUNK_THRESHOLD), or N chunks (1: one task encodes it all)")
    p.add_argument("--priority", type=int, default=5, choices=range(10), metavar="0-9", help="9 = most urgent")
    p.add_argument("--output-prefix", default=None, help="storage prefix of the output (default outputs/<name>)")
    p.add_argument("--webhook", type=webhook_url, default=None, metavar="URL",
                   help="POST the job's published/failed/cancelled events here (http or https)")
    p.add_argument("--force", action="store_true", help="make a new version even if this job exists")
    p.add_argument("--wait", action="store_true", help="follow the job until it is published or failed")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object on stdout: job_id, state, created, output (where it is published) "
                        "and error (code, message, hint, exit_code) when it failed; progress stays on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.output_prefix is not None:  # refused before anything is uploaded or queued (exit 2)
        output_prefix(args.output_prefix)
    if args.target_vmaf is not None and args.ladder != PER_TITLE:  # (the spec refuses it too; this is before upload)
        raise OptionInvalid(f"--target-vmaf {args.target_vmaf:g} given with --ladder {args.ladder}",
                            hint=f"--target-vmaf sets the top rung of --ladder {PER_TITLE}; add that, or drop it")
    if args.webhook is not None:
        check_target(args.webhook, Allowlist.parse(settings.webhook_allow), field="--webhook")
    prepare(settings)
    storage = storage_for(settings)
    store = open_store(settings.store)
    tools = Tools.resolve()
    options = PlanOptions(segment_seconds=args.segment_seconds, profile=args.profile,
                          audio_languages=tuple(args.audio_language), loudness=args.loudness, codecs=args.codecs,
                          surround=args.surround, captions=CaptionOptions(args.captions, tuple(args.caption_language)))
    thumbnails = storyboard_options(args)  # ConfigError (exit 2) before anything is uploaded
    master = local_path(args.source)
    duration = None if master is None else preflight(  # planned here, before it is uploaded
        master, ladder=args.ladder, options=options, chunks=settings.chunk_policy(args.chunks), tools=tools)
    source_uri, source_id, local = resolve(args.source, storage, settings=settings)
    subs = [(lang, flags, *resolve(ref, storage, settings=settings)[:2]) for lang, flags, ref in args.subtitle]
    name = Path(args.source).stem if local else source_uri.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    refs = tuple({"language": lang, "uri": uri, "forced": "forced" in flags, "sdh": "sdh" in flags}
                 for lang, flags, uri, _ in subs)  # validated inside job_spec: errors name --subtitle
    spec = job_spec(source=source_uri, subtitles=refs,
                   audio_languages=tuple(args.audio_language), audio_map=tuple(args.audio_map),
                   ladder=args.ladder, target_vmaf=args.target_vmaf, profile=args.profile,
                   segment_seconds=args.segment_seconds, measure_quality=not args.no_quality,
                   output_prefix=args.output_prefix or f"outputs/{safe_name(name)}", priority=args.priority,
                   webhook=args.webhook, chunks=args.chunks, dash_vtt_sidecar=args.dash_vtt_sidecar,
                   loudness=args.loudness, codecs=args.codecs, surround=args.surround, captions=args.captions,
                   caption_languages=tuple(f"{ident}={lang}" for ident, lang in args.caption_language),
                   thumbnails={"interval": thumbnails.interval, "width": thumbnails.tile_width,
                               "columns": thumbnails.columns, "rows": thumbnails.rows,
                               "enabled": thumbnails.enabled})
    app = fleet_app(settings)  # it only sends by task name
    done = submit(app, store, spec, (source_id, *(i for _, _, _, i in subs)),
                  duration=duration, force=args.force, tools=tools,
                  fingerprint_cache=settings.state_dir / "encoder-fingerprint.json")
    if not args.json:
        print(done.record.job_id)
    if done.resent:
        print(f"already submitted ({done.record.state}, not started yet): its message was sent again; use --force "
              "for a new version", file=sys.stderr)
    elif not done.created:
        print(f"already submitted ({done.record.state}); use --force for a new version", file=sys.stderr)
    record = follow(store, done.record.job_id) if args.wait else done.record
    if args.json:
        print(json.dumps(summary(record, created=done.created), indent=2, ensure_ascii=False))
    if not args.wait:
        return EXIT_OK
    if not record.output:
        from workers.cli.jobview import block  # noqa: PLC0415 - only a waited-for failure needs the job view

        print(block(record), file=sys.stderr)
    elif not args.json:
        print(f"published: {record.output}")
    return exit_code_for(record)


OPTION_OF = {"output_prefix": "--output-prefix", "audio_languages": "--audio-language", "subtitles": "--subtitle",
             "audio_map": "--audio-map", "codecs": "--codecs",
             "webhook": "--webhook", "segment_seconds": "--segment-seconds", "ladder": "--ladder",
             "target_vmaf": "--target-vmaf",
             "profile": "--profile", "priority": "--priority", "chunks": "--chunks", "source": "SOURCE",
             "captions": "--captions", "caption_languages": "--caption-language", "thumbnails": "--thumbnail-*"}


def output_prefix(text: str) -> str:
    """``--output-prefix`` as a key prefix (outer slashes dropped, as the job spec does); raises OptionInvalid."""
    try:
        return validate_key(text.strip("/"))
    except KeyInvalid as exc:
        raise OptionInvalid(f"--output-prefix {text!r}: {exc.message}",
                            hint=f"{exc.hint}, e.g. --output-prefix outputs/my-show/ep01" if exc.hint else
                            "e.g. --output-prefix outputs/my-show/ep01") from exc


def job_spec(**fields: Any) -> JobSpec:
    """The JobSpec, or OptionInvalid naming the option each refused field came from (never a raw pydantic
    report)."""
    try:
        return JobSpec(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{OPTION_OF.get(str(e['loc'][0]), str(e['loc'][0])) if e['loc'] else 'job'}: "
                             f"{str(e['msg']).removeprefix('Value error, ')}" for e in exc.errors())
        raise OptionInvalid(f"the job cannot be made: {problems}", hint="fix the named option and submit again",
                            ) from exc


def summary(record: JobRecord, *, created: bool) -> dict[str, object]:
    """`submit --json`'s object (pure): the job, its state, where it is published, and its error when it failed.
    ``error`` has the shape of `vodfleet transcode --json`'s (the stable code of docs/errors.md) plus exit_code."""
    failed = record.failure if record.state is JobState.FAILED else None
    return {"job_id": record.job_id, "state": str(record.state), "created": created, "output": record.output,
            "error": failed.model_dump(mode="json") if failed else None}


def follow(store: JobStore, job_id: str, *, poll: float = 0.3) -> JobRecord:
    """Print each state change (and every 10 % of the encode) on stderr until the job is finished; return it."""
    from workers.cli.jobview import progress_text  # noqa: PLC0415 - it loads the pipeline's event types

    shown = ""
    while True:
        record = store.get(job_id)
        if record is None:
            raise JobError(f"job {job_id} disappeared from the store while it was followed", code="job_not_found",
                           hint="another process removed it; list jobs with `vodfleet jobs`")
        text = progress_text(record)
        key = text if record.percent is None else f"{record.state}{int(record.percent // 10)}"
        if key != shown:
            print(f"  {text}", file=sys.stderr)
            shown = key
        if record.state in TERMINAL:
            return record
        time.sleep(poll)
