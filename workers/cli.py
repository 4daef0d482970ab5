"""The `vodfleet` command.

Exit codes (stable, documented in the README):
    0 ok · 2 usage · 3 input rejected · 4 encode failed · 5 QC failed · 6 configuration or host problem ·
    130 interrupted or cancelled
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.errors import (
    Cancelled,
    ConfigError,
    FFmpegFailed,
    InputRejected,
    PipelineError,
    QCFailed,
    ScratchError,
    ToolMissing,
)
from pipelines.ladder import builtin_ladders
from pipelines.plan import PROFILES, PlanOptions
from pipelines.transcode import Sidecar, TranscodeRequest, plan_transcode, transcode
from workers.console import ProgressPrinter

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INPUT_REJECTED = 3
EXIT_ENCODE_FAILED = 4
EXIT_QC_FAILED = 5
EXIT_CONFIG = 6
EXIT_INTERRUPTED = 130


def exit_code(error: BaseException) -> int:
    """Map an error to the documented exit code (pure)."""
    if isinstance(error, InputRejected):
        return EXIT_INPUT_REJECTED
    if isinstance(error, QCFailed):
        return EXIT_QC_FAILED
    if isinstance(error, Cancelled | KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, FFmpegFailed):
        return EXIT_ENCODE_FAILED
    if isinstance(error, ConfigError | ToolMissing | ScratchError):
        return EXIT_CONFIG
    return EXIT_ENCODE_FAILED


def _sidecar(text: str) -> Sidecar:
    language, sep, path = text.partition("=")
    if not sep or not language or not path:
        raise argparse.ArgumentTypeError(f"--subtitle {text!r}: expected LANG=PATH, e.g. ko=episode.ko.srt")
    return Sidecar(language=language.strip(), path=Path(path))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vodfleet", description="Video transcoding fleet.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command run")
    sub = parser.add_subparsers(dest="command", required=True)
    tc = sub.add_parser("transcode", help="transcode one master into a CMAF ladder with HLS + DASH",
                        description="Transcode SOURCE into OUT: CMAF segments, master.m3u8, manifest.mpd, "
                                    "WebVTT subtitles and report.json. OUT appears only when every check passed.")
    tc.add_argument("source", type=Path, help="the master file (local path)")
    tc.add_argument("-o", "--output", type=Path, required=True, help="output folder (must not exist)")
    tc.add_argument("--subtitle", type=_sidecar, action="append", default=[], metavar="LANG=PATH",
                    help="a subtitle sidecar (SRT, WebVTT, ASS/SSA, TTML) and its BCP-47 language; repeatable")
    tc.add_argument("--audio-language", action="append", default=[], metavar="LANG",
                    help="language of the Nth audio stream (overrides the file's tags); repeat in stream order")
    tc.add_argument("--ladder", default="default",
                    help=f"built-in ladder ({', '.join(builtin_ladders())}) or a .toml file")
    tc.add_argument("--profile", default="fast", choices=sorted(PROFILES), help="encoder speed/quality profile")
    tc.add_argument("--segment-seconds", type=int, default=6, help="segment duration, a multiple of 2 (default 6)")
    tc.add_argument("--no-quality", action="store_true", help="skip PSNR/SSIM measurement")
    tc.add_argument("--overwrite", action="store_true", help="replace OUT if it exists (only once all checks pass)")
    tc.add_argument("--dry-run", action="store_true",
                    help="probe and plan, print the exact ffmpeg argv, encode nothing")
    tc.add_argument("--json", action="store_true", help="print the report (or the dry-run plan) as JSON on stdout")
    return parser


def _request(args: argparse.Namespace) -> TranscodeRequest:
    return TranscodeRequest(
        source=args.source, output=args.output, subtitles=tuple(args.subtitle), ladder=args.ladder,
        options=PlanOptions(segment_seconds=args.segment_seconds, profile=args.profile,
                            audio_languages=tuple(args.audio_language)),
        measure_quality=not args.no_quality, overwrite=args.overwrite)


def cmd_transcode(args: argparse.Namespace) -> int:
    request = _request(args)
    if args.dry_run:
        planned = plan_transcode(request)
        if args.json:
            plan = planned.plan
            print(json.dumps({"argv": planned.argv, "rungs": [r.__dict__ for r in plan.video],
                              "audio": [a.__dict__ for a in plan.audio], "fps": str(plan.fps),
                              "notes": list(plan.notes)}, indent=2))
        else:
            print(shlex.join(planned.argv))
        return EXIT_OK
    result = transcode(request, on_event=ProgressPrinter())
    if args.json:
        print(json.dumps(result.report, indent=2, ensure_ascii=False))
    else:
        _summary(result.output, result.report)
    return EXIT_OK


def _summary(output: Path, report: dict[str, object]) -> None:
    renditions = report["renditions"]
    assert isinstance(renditions, dict)
    print(f"published to {output}")
    for v in renditions["video"]:
        q = v.get("quality") or {}
        quality = f"  PSNR {q['psnr']:.2f} dB  SSIM {q['ssim']:.4f}" if "psnr" in q else ""
        print(f"  video {v['id']:>6} {v['width']}x{v['height']}  {v['codecs']}  "
              f"avg {v['measured_average_bitrate'] / 1000:.0f} kb/s  peak {v['measured_peak_bitrate'] / 1000:.0f} kb/s"
              f"{quality}")
    for a in renditions["audio"]:
        print(f"  audio {a['id']:>6} {a['name']}  {a['codecs']}  avg {a['measured_average_bitrate'] / 1000:.0f} kb/s")
    for s in renditions["subtitles"]:
        print(f"  text  {s['id']:>6} {s['name']}  {s['cues']} cues (from {s['source_format']}, {s['charset']})")
    print(f"HLS:  {output / 'master.m3u8'}")
    print(f"DASH: {output / 'manifest.mpd'}")
    print(f"play: ffplay {shlex.quote(str(output / 'master.m3u8'))}   (or serve the folder over HTTP for a browser)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _terminate)  # SIGTERM cleans up like Ctrl-C: ffmpeg killed, nothing kept
    try:
        return cmd_transcode(args)
    except KeyboardInterrupt:
        print("\ninterrupted: nothing was written to the output folder", file=sys.stderr)
        return EXIT_INTERRUPTED
    except PipelineError as exc:
        _print_error(exc, json_mode=args.json)
        return exit_code(exc)


def _terminate(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _print_error(exc: PipelineError, *, json_mode: bool) -> None:
    if json_mode:
        print(json.dumps({"error": exc.to_dict()}, indent=2, ensure_ascii=False))
    print(f"\nerror [{exc.code}]: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"  what to do: {exc.hint}", file=sys.stderr)
    if isinstance(exc, QCFailed):
        for failure in exc.failures:
            print(f"  failed check {failure.name}: {failure.detail}", file=sys.stderr)
    if isinstance(exc, FFmpegFailed):
        print(f"  command: {shlex.join(exc.argv)}", file=sys.stderr)
        for line in exc.stderr_tail.splitlines()[-10:]:
            print(f"  | {line}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
