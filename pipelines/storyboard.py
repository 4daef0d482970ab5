"""Storyboards: tiled JPEG sprite sheets of the title at a fixed interval, and the frame measures that pick the poster.

    plan_storyboard(options, rungs, duration) → StoryboardPlan       (pure: which rung, tile size, tile count)
    storyboard_argv(plan, ffmpeg=, rung=, out=, stats=) → list[str]  (pure: one ffmpeg, one decode)
    parse_frame_stats(text) → [FrameStats]                           (pure: ffmpeg's metadata=print output)
    render_thumbnails_vtt(storyboard, duration) → str                (pure: the WebVTT thumbnails track)

The pass reads the smallest packaged rung at least a tile wide (decoding a 234p rung costs a small fraction of
the encode), so the whole-file, chunked (after the stitch) and fleet paths all make the same storyboard from
the same pictures the viewer gets (deinterlaced, tone-mapped, square pixels). Tile k shows the first frame at
or after k × interval and stands for [k × interval, (k+1) × interval) in the WebVTT track, the DASH
thumbnail AdaptationSet (DASH-IF IOP v4.3 §6.2.6, `http://dashif.org/thumbnail_tile`) and the HLS image
media playlist (Image Media Playlist spec v0.4, `EXT-X-TILES`). Each sampled tile is also measured
(signalstats mean and 10th–90th percentile luma, entropy) for the poster's choice (`pipelines.poster`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg as ffmpeg_python

from pipelines.errors import ConfigError
from pipelines.presentation import Segment, Storyboard
from pipelines.storyboard_options import StoryboardOptions
from pipelines.subtitles.timestamp import format_timestamp

FOLDER = "thumbnails"
SHEET_PATTERN = "sprite_%04d.jpg"
VTT_NAME = "thumbnails.vtt"
PLAYLIST_NAME = "index.m3u8"
JPEG_QUALITY = 5  # mjpeg qscale (2 best … 31 worst): ~4 KB per 160x90 tile of busy picture
_EPSILON = 1e-3  # seconds: a frame stamped 1.9999999 for 2.0 still opens tile 1


@dataclass(frozen=True)
class RungPicture:
    """A packaged video rung as the storyboard sees it."""

    id: str
    path: str  # "video/234p"
    width: int
    height: int


@dataclass(frozen=True)
class StoryboardPlan:
    rung: RungPicture  # the rung decoded
    interval: float
    tile_width: int
    tile_height: int
    columns: int
    rows: int
    tiles: int  # tiles the title needs: one per interval start before the last frame

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    @property
    def sheets(self) -> int:
        return math.ceil(self.tiles / self.per_sheet)


def even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def expected_tiles(duration: float, interval: float, frame_seconds: float) -> int:
    """Tiles for `duration` seconds of video whose last frame starts `frame_seconds` before its end."""
    last_frame = max(0.0, duration - frame_seconds)
    return math.floor((last_frame + _EPSILON) / interval) + 1


def plan_storyboard(options: StoryboardOptions, rungs: Sequence[RungPicture], duration: float,
                    frame_seconds: float) -> StoryboardPlan:
    """The rung to decode (the smallest at least a tile wide, else the widest) and the tile geometry.

    Raises ConfigError if there is no rung.
    """
    if not rungs:
        raise ConfigError("storyboard: the title has no video rung", hint="thumbnails need a video track")
    by_width = sorted(rungs, key=lambda r: (r.width, r.height))
    rung = next((r for r in by_width if r.width >= options.tile_width), by_width[-1])
    width = even(min(options.tile_width, rung.width))
    height = even(width * rung.height / rung.width)
    return StoryboardPlan(rung=rung, interval=options.interval, tile_width=width, tile_height=height,
                          columns=options.columns, rows=options.rows,
                          tiles=expected_tiles(duration, options.interval, frame_seconds))


def select_expression(interval: float) -> str:
    """ffmpeg `select`: the first frame, then each frame that enters a new interval. The ffmpeg CLI starts the
    input at 0 (it takes the file's start time off every pts), which also removes the B-frame delay the mov
    demuxer adds to our negative-CTS tracks: t is the presentation time players use."""
    i, e = repr(interval), repr(_EPSILON)
    return f"isnan(prev_t)+gt(floor((t+{e})/{i}),floor((prev_t+{e})/{i}))"


def storyboard_argv(plan: StoryboardPlan, *, ffmpeg: str, rung: Path, out: Path, stats: Path) -> list[str]:
    """One ffmpeg: decode `rung` (a joined fMP4), keep one frame per interval, scale it to a tile, tile the
    sheets into `out`/sprite_%04d.jpg and print each sampled frame's measures into `stats`."""
    source: Any = ffmpeg_python.input(f"file:{rung}")
    sampled = (source.video.filter("select", select_expression(plan.interval))
               .filter("scale", w=plan.tile_width, h=plan.tile_height, flags="area")
               .filter("setsar", "1").split())
    sheets = sampled[0].filter("tile", layout=f"{plan.columns}x{plan.rows}")
    measured = (sampled[1].filter("signalstats").filter("entropy")
                .filter("metadata", mode="print", file=str(stats)))
    sheet_out = sheets.output(str(out / SHEET_PATTERN), f="image2", start_number=1, fps_mode="passthrough",
                              pix_fmt="yuvj420p", **{"c:v": "mjpeg", "q:v": JPEG_QUALITY})
    stats_out = measured.output("-", f="null", fps_mode="passthrough")
    args: list[str] = ffmpeg_python.merge_outputs(sheet_out, stats_out).compile(cmd=ffmpeg)
    return [args[0], "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", *args[1:]]


@dataclass(frozen=True)
class FrameStats:
    time: float  # seconds on the title timeline
    luma_mean: float  # signalstats YAVG (0..255 at 8 bits)
    luma_spread: float  # YHIGH − YLOW: the 10th..90th percentile range; ~0 for a flat picture
    entropy: float  # entropy filter's normal.Y: bits per luma sample, 0 (one value) .. 8


_FRAME = re.compile(r"^frame:\s*\d+\s+pts:\s*\S+\s+pts_time:\s*(\S+)")
_KEY = re.compile(r"^lavfi\.([\w.]+)=(\S+)")


def parse_frame_stats(text: str) -> list[FrameStats]:
    """ffmpeg `metadata=mode=print` output (one `frame:` line, then `lavfi.key=value` lines) → measures."""
    frames: list[dict[str, float]] = []
    for line in text.splitlines():
        if match := _FRAME.match(line):
            frames.append({"time": float(match.group(1))})
        elif (match := _KEY.match(line)) and frames:
            try:
                frames[-1][match.group(1)] = float(match.group(2))
            except ValueError:
                continue
    return [FrameStats(time=round(f["time"], 6), luma_mean=f.get("signalstats.YAVG", 0.0),
                       luma_spread=f.get("signalstats.YHIGH", 0.0) - f.get("signalstats.YLOW", 0.0),
                       entropy=f.get("entropy.entropy.normal.Y", 0.0)) for f in frames]


def tile_rect(storyboard: Storyboard, index: int) -> tuple[int, int, int, int, int]:
    """Tile `index` (0-based) → (sheet number from 1, x, y, w, h) in its sheet, row-major like ffmpeg's tile."""
    per_sheet = storyboard.columns * storyboard.rows
    sheet, within = divmod(index, per_sheet)
    row, column = divmod(within, storyboard.columns)
    return (sheet + 1, column * storyboard.tile_width, row * storyboard.tile_height,
            storyboard.tile_width, storyboard.tile_height)


def render_thumbnails_vtt(storyboard: Storyboard, duration: float) -> str:
    """The WebVTT thumbnails track: one cue per tile, `sprite_0001.jpg#xywh=x,y,w,h` (Media Fragments)."""
    lines = ["WEBVTT", ""]
    for index in range(storyboard.tiles):
        start = index * storyboard.interval
        end = min(duration, start + storyboard.interval)
        if end <= start:
            end = start + storyboard.interval
        sheet, x, y, w, h = tile_rect(storyboard, index)
        lines += [f"{format_timestamp(start)} --> {format_timestamp(end)}",
                  f"{SHEET_PATTERN % sheet}#xywh={x},{y},{w},{h}", ""]
    return "\n".join(lines)


def sheet_segments(folder: Path, plan: StoryboardPlan, tiles: int, duration: float) -> tuple[Segment, ...]:
    """The sheets on disk as segments: each starts at its first tile's time and runs for its tiles' span
    (the last one up to the end of the title)."""
    span = plan.per_sheet * plan.interval
    out = []
    for number in range(1, math.ceil(tiles / plan.per_sheet) + 1):
        name = SHEET_PATTERN % number
        start = (number - 1) * span
        end = min(duration, start + span)
        path = folder / name
        out.append(Segment(uri=name, start=start, duration=max(end - start, 0.0),
                           size=path.stat().st_size if path.is_file() else 0))
    return tuple(out)
