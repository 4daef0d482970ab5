"""Command-line option types and option groups shared by `vodfleet transcode` and `vodfleet submit` (pure).

Kept apart from the commands so that `submit`, which only queues a job, does not import the transcode command
and the encoder pipeline behind it (its own time before the upload is measured in bench/bench_submit.py).
"""

from __future__ import annotations

import argparse

from pipelines.audiomap import AudioMapEntry, parse_audio_map
from pipelines.captions.service import MODES as CAPTION_MODES
from pipelines.captions.service import parse_caption_language
from pipelines.codecs import CODECS, parse_codecs
from pipelines.errors import ConfigError
from pipelines.storyboard_options import StoryboardOptions


def chunk_count(text: str) -> str | int:
    if text == "auto":
        return text
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"--chunks {text!r}: expected 'auto' or a positive number") from exc


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive whole number")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a positive number of seconds")
    return value


def grid(text: str) -> tuple[int, int]:
    """'10x10' → (columns, rows)."""
    columns, sep, rows = text.lower().partition("x")
    if not sep or not columns.isdigit() or not rows.isdigit() or int(columns) < 1 or int(rows) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not COLUMNSxROWS (e.g. 10x10)")
    return int(columns), int(rows)


def caption_language(text: str) -> tuple[str, str]:
    """argparse type: one --caption-language value, CHANNEL=LANG (pipelines.captions.service)."""
    try:
        return parse_caption_language(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_caption_arguments(parser: argparse.ArgumentParser) -> None:
    """--captions and --caption-language (shared by transcode and submit)."""
    parser.add_argument("--captions", default="webvtt", choices=CAPTION_MODES,
                        help="the master's CEA-608/708 closed captions: webvtt (default: each 608 channel becomes "
                             "an SDH WebVTT rendition), in-band (kept in the video's SEI, signalled as HLS "
                             "CLOSED-CAPTIONS and DASH CEA-608/708 Accessibility), or both")
    parser.add_argument("--caption-language", type=caption_language, action="append", default=[],
                        metavar="CHANNEL=LANG",
                        help="language of a caption channel CC1..CC4 or 708 service SERVICE1..SERVICE63, e.g. "
                             "CC3=es (default: CC1/SERVICE1 the main audio's, CC3/SERVICE2 the next audio "
                             "language's, others und); repeatable")


def audio_map_entry(text: str) -> AudioMapEntry:
    """argparse type: one --audio-map value (a bad one is a usage error naming it)."""
    try:
        return parse_audio_map(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(f"{exc.message} ({exc.hint})") from None


def codec_list(text: str) -> tuple[str, ...]:
    """argparse type: --codecs h264,hevc,av1 (a bad one is a usage error naming it)."""
    try:
        return parse_codecs(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(f"{exc.message} ({exc.hint})") from None


CODECS_HELP = (f"video codecs of the ladder, comma-separated from {', '.join(CODECS)} (default h264): HEVC "
               "(hvc1, Main/Main10) and AV1 (SVT-AV1) rungs beside the H.264 ladder, at the ladder's bitrate factors")


def add_thumbnail_arguments(parser: argparse.ArgumentParser) -> None:
    """--thumbnail-interval/-width/-grid and --no-thumbnails (shared by transcode and submit)."""
    parser.add_argument("--thumbnail-interval", type=positive_seconds, default=StoryboardOptions.interval, metavar="S",
                        help="seconds between storyboard tiles (default 2)")
    parser.add_argument("--thumbnail-width", type=positive_int, default=StoryboardOptions.tile_width, metavar="PX",
                        help="storyboard tile width in pixels, height keeps the aspect (default 160)")
    parser.add_argument("--thumbnail-grid", type=grid, default=(StoryboardOptions.columns, StoryboardOptions.rows),
                        metavar="CxR", help="tiles per sprite sheet, columns x rows (default 10x10)")
    parser.add_argument("--no-thumbnails", action="store_true", help="no storyboard sprite sheets and no poster.jpg")


def storyboard_options(args: argparse.Namespace) -> StoryboardOptions:
    return StoryboardOptions(interval=args.thumbnail_interval, tile_width=args.thumbnail_width,
                             columns=args.thumbnail_grid[0], rows=args.thumbnail_grid[1],
                             enabled=not args.no_thumbnails)
