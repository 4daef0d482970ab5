"""`vodfleet transcode`: one master → a checked CMAF ladder with HLS + DASH, on this machine."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.captions.service import CaptionOptions
from pipelines.chunk import DEFAULT_TARGET_SECONDS, DEFAULT_THRESHOLD_SECONDS, ChunkPolicy
from pipelines.errors import ConfigError
from pipelines.ladder import PER_TITLE, builtin_ladders
from pipelines.loudness import DEFAULT_PRESET, PRESETS
from pipelines.options import PROFILES, PlanOptions
from pipelines.tools import Tools
from workers.cli.args import (
    CODECS_HELP,
    add_caption_arguments,
    add_thumbnail_arguments,
    audio_map_entry,
    chunk_count,
    codec_list,
    positive_int,
    positive_seconds,
    storyboard_options,
)
from workers.exitcodes import EXIT_OK
from workers.fingerprint import local as local_fingerprint

if TYPE_CHECKING:  # the encoder pipeline loads when a transcode runs
    from pipelines.transcode import Sidecar, TranscodeRequest


def sidecar(text: str) -> Sidecar:
    from pipelines.subtitles.flags import FlagError, parse_subtitle_argument  # noqa: PLC0415 - loads parsers
    from pipelines.transcode import Sidecar  # noqa: PLC0415 - see TYPE_CHECKING above

    try:
        language, flags, path = parse_subtitle_argument(text)
    except FlagError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return Sidecar(language=language, path=Path(path), forced="forced" in flags, sdh="sdh" in flags)


def add_parser(sub: Any) -> None:
    tc = sub.add_parser("transcode", help="transcode one master into a CMAF ladder with HLS + DASH",
                        description="Transcode SOURCE into OUT: CMAF segments, master.m3u8, manifest.mpd, "
                                    "WebVTT subtitles and report.json. OUT appears only when every check passed.")
    tc.add_argument("source", type=Path, help="the master file (local path)")
    tc.add_argument("-o", "--output", type=Path, required=True, help="output folder (must not exist)")
    tc.add_argument("--subtitle", type=sidecar, action="append", default=[], metavar="LANG[:FLAGS]=PATH",
                    help="a subtitle sidecar (SRT, WebVTT, ASS/SSA, TTML) and its BCP-47 language; FLAGS: forced "
                         "(forced narrative), sdh (for the deaf and hard of hearing), or both, comma-separated; "
                         "also read from the file name (film.en.forced.srt); repeatable")
    tc.add_argument("--audio-language", action="append", default=[], metavar="LANG",
                    help="language of the Nth audio stream (overrides the file's tags); repeat in stream order")
    tc.add_argument("--audio-map", type=audio_map_entry, action="append", default=[],
                    metavar="CHANNELS=LANG[:ROLE[:NAME]]",
                    help="which master channels make a rendition, e.g. 1+2=en:main 3+4=en:description (channels "
                         "from 1 over the audio streams in order; roles main, alternate, description, commentary); "
                         "repeatable, in the order listed; replaces one rendition per audio stream")
    add_caption_arguments(tc)
    tc.add_argument("--ladder", default="default",
                    help=f"built-in ladder ({', '.join(builtin_ladders())}) or a .toml file")
    tc.add_argument("--target-vmaf", type=float, default=None, metavar="VMAF",
                    help="--ladder per-title: the top rung's VMAF (default 94; lower rungs follow in 6-point, "
                         ">= 1.5x bitrate steps)")
    tc.add_argument("--profile", default="fast", choices=sorted(PROFILES), help="encoder speed/quality profile")
    tc.add_argument("--codecs", type=codec_list, default=("h264",), metavar="h264[,hevc][,av1]", help=CODECS_HELP)
    tc.add_argument("--segment-seconds", type=int, default=6, help="segment duration, a multiple of 2 (default 6)")
    tc.add_argument("--loudness", default=DEFAULT_PRESET, choices=list(PRESETS),
                    help=f"normalise every audio rendition to a loudness target (default {DEFAULT_PRESET}: "
                         "-23 LUFS, -1 dBTP; atsc-a85: -24 LKFS, -2 dBTP; streaming: -16 LUFS, -1 dBTP; "
                         "off: level unchanged, still measured)")
    tc.add_argument("--surround", action="store_true",
                    help="also publish a 5.1 AAC rendition of every 5.1/7.1 audio stream (HLS: its own audio group, "
                         "every variant listed once per group; DASH: its own AdaptationSet); stereo is always made")
    tc.add_argument("--chunks", type=chunk_count, default=None, metavar="auto|N",
                    help="split-and-stitch: encode the video in chunks of whole segments (auto: only masters "
                         f"longer than --chunk-threshold, default {DEFAULT_THRESHOLD_SECONDS:g} s; N: exactly N "
                         "chunks); audio is encoded once; without it, one ffmpeg encodes the whole file")
    tc.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                    help="chunk ffmpegs running at once (with --chunks; default 1)")
    tc.add_argument("--chunk-seconds", type=positive_seconds, default=DEFAULT_TARGET_SECONDS, metavar="S",
                    help=f"target chunk length, seconds of source (--chunks auto; default {DEFAULT_TARGET_SECONDS:g})")
    tc.add_argument("--chunk-threshold", type=positive_seconds, default=DEFAULT_THRESHOLD_SECONDS, metavar="S",
                    help="--chunks auto chunks only masters longer than this many seconds")
    tc.add_argument("--no-quality", action="store_true", help="skip PSNR/SSIM measurement")
    tc.add_argument("--dash-vtt-sidecar", action="store_true",
                    help="DASH text as one whole-title subtitles.vtt per track (the old layout, for "
                         "DASH clients that read only sidecar WebVTT) instead of WebVTT-in-MP4 segments; "
                         "ffmpeg-based clients then need -allowed_extensions to open the MPD")
    add_thumbnail_arguments(tc)
    tc.add_argument("--overwrite", action="store_true", help="replace OUT if it exists (only once all checks pass)")
    tc.add_argument("--dry-run", action="store_true",
                    help="probe and plan, print the exact ffmpeg argv, encode nothing")
    tc.add_argument("--json", action="store_true", help="print the report (or the dry-run plan) as JSON on stdout")
    tc.set_defaults(func=run)


def chunk_policy(args: argparse.Namespace) -> ChunkPolicy | None:
    if args.chunks is None:
        return None
    return ChunkPolicy(count=None if args.chunks == "auto" else int(args.chunks),
                       threshold_seconds=args.chunk_threshold,
                       target_seconds=max(args.chunk_seconds, ChunkPolicy().min_seconds))


def request_from(args: argparse.Namespace) -> TranscodeRequest:
    from pipelines.pertitle.rungs import PerTitleOptions  # noqa: PLC0415
    from pipelines.transcode import TranscodeRequest  # noqa: PLC0415 - see TYPE_CHECKING above

    if args.target_vmaf is not None and args.ladder != PER_TITLE:
        raise ConfigError(f"--target-vmaf {args.target_vmaf:g} given with --ladder {args.ladder}",
                          hint=f"--target-vmaf sets the top rung of --ladder {PER_TITLE}; add that, or drop it")
    per_title = PerTitleOptions() if args.target_vmaf is None else PerTitleOptions(target_vmaf=args.target_vmaf)
    return TranscodeRequest(
        per_title=per_title,
        chunks=chunk_policy(args), jobs=args.jobs,
        source=args.source, output=args.output, subtitles=tuple(args.subtitle), ladder=args.ladder,
        options=PlanOptions(segment_seconds=args.segment_seconds, profile=args.profile,
                            audio_languages=tuple(args.audio_language), audio_map=tuple(args.audio_map),
                            loudness=args.loudness, codecs=args.codecs, surround=args.surround,
                            captions=CaptionOptions(args.captions, tuple(args.caption_language))),
        measure_quality=not args.no_quality, overwrite=args.overwrite, dash_vtt_sidecar=args.dash_vtt_sidecar,
        thumbnails=storyboard_options(args))


def run(args: argparse.Namespace) -> int:
    from pipelines.transcode import chunks_for, plan_transcode, transcode  # noqa: PLC0415 - see TYPE_CHECKING
    from workers.cli.console import ProgressPrinter  # noqa: PLC0415 - it imports the pipeline's events

    request = request_from(args)
    if args.dry_run:
        planned = plan_transcode(request)
        chunks = chunks_for(request, planned.plan)
        if args.json:
            plan = planned.plan
            print(json.dumps({"argv": planned.argv, "rungs": [r.__dict__ for r in plan.video],
                              "audio": [a.__dict__ for a in plan.audio], "fps": str(plan.fps),
                              "notes": list(plan.notes), "chunks": [c.__dict__ for c in chunks]}, indent=2))
        elif chunks:
            for chunk in chunks:
                print(f"# chunk {chunk.index}: {chunk.start:.3f}-{chunk.end:.3f} s, frames {chunk.start_frame}-"
                      f"{chunk.end_frame}, segments {chunk.first_segment_number}-"
                      f"{chunk.first_segment_number + chunk.segment_count - 1}")
            print("# (the chunk and audio argvs are built at run time, into scratch folders)")
        else:
            print(shlex.join(planned.argv))
        return EXIT_OK
    # the output names the fleet fingerprint of this encoder too (the worker image's: docker/encoder.lock)
    request = dataclasses.replace(request, fingerprint=local_fingerprint(Tools.resolve()).value)
    result = transcode(request, on_event=ProgressPrinter())
    if args.json:
        print(json.dumps(result.report, indent=2, ensure_ascii=False))
    else:
        print_summary(result.output, result.report)
    return EXIT_OK


def print_summary(output: Path, report: dict[str, Any]) -> None:
    renditions = report["renditions"]
    print(f"published to {output}")
    for v in renditions["video"]:
        q = v.get("quality") or {}
        quality = f"  PSNR {q['psnr']:.2f} dB  SSIM {q['ssim']:.4f}" if "psnr" in q else ""
        print(f"  video {v['id']:>6} {v['width']}x{v['height']}  {v['codecs']}  "
              f"avg {v['measured_average_bitrate'] / 1000:.0f} kb/s  peak {v['measured_peak_bitrate'] / 1000:.0f} kb/s"
              f"{quality}")
    for a in renditions["audio"]:
        print(f"  audio {a['id']:>6} {a['name']}  {a['codecs']}  "
              f"avg {a['measured_average_bitrate'] / 1000:.0f} kb/s")
    for s in renditions["subtitles"]:
        print(f"  text  {s['id']:>6} {s['name']}  {s['cues']} cues (from {s['source_format']}, {s['charset']})"
              + (f"  dropped {s['dropped']}" if s.get("dropped") else ""))
    print(f"HLS:  {output / 'master.m3u8'}")
    print(f"DASH: {output / 'manifest.mpd'}")
    print(f"play: ffplay {shlex.quote(str(output / 'master.m3u8'))}   (or serve the folder over HTTP for a browser)")
