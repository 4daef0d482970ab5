"""Thumbnails of a packaged title: storyboard sprite sheets + WebVTT track, and the poster (the effects).

    make_thumbnails(root, presentation, options, tools=, scratch=) → Thumbnails

Runs after packaging measured the rungs (whole-file, chunked after the stitch, fleet stitch task alike):
one ffmpeg decodes the smallest rung at least a tile wide into the sheets and the candidates' measures
(`pipelines.storyboard`), a second decodes at most one segment of the top rung for the poster
(`pipelines.poster`). Writes ``thumbnails/sprite_NNNN.jpg``, ``thumbnails/thumbnails.vtt`` and
``poster.jpg`` under `root`; the manifests (written next) list the sheets from the returned `Storyboard`.
Raises FFmpegFailed/FFmpegTimeout/Cancelled from the runner.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from pipelines.poster import POSTER_NAME, choose_poster, poster_argv, poster_width, usable
from pipelines.presentation import Presentation, Storyboard, VideoTrack
from pipelines.runner import RunLimits, run
from pipelines.storyboard import (
    FOLDER,
    PLAYLIST_NAME,
    VTT_NAME,
    FrameStats,
    RungPicture,
    even,
    parse_frame_stats,
    plan_storyboard,
    render_thumbnails_vtt,
    sheet_segments,
    storyboard_argv,
)
from pipelines.storyboard_options import StoryboardOptions
from pipelines.tools import Tools
from pipelines.tracks import join_track


@dataclass(frozen=True)
class Poster:
    path: str  # "poster.jpg"
    time: float  # seconds: the instant shown
    width: int
    height: int
    size: int  # bytes
    rung: str  # the rung it was decoded from
    candidate: FrameStats  # its measures at tile size
    usable: bool  # neither black nor flat (False only when no sampled instant was)


@dataclass(frozen=True)
class Thumbnails:
    storyboard: Storyboard
    poster: Poster | None
    candidates: tuple[FrameStats, ...]  # every sampled instant, measured
    rung: str  # the rung the storyboard was decoded from
    expected_tiles: int  # from the title's duration and the interval
    vtt_bytes: int
    seconds: float  # wall time of both passes


def make_thumbnails(root: Path, presentation: Presentation, options: StoryboardOptions, *, tools: Tools,
                    scratch: Path, cancel: threading.Event | None = None) -> Thumbnails:
    started = time.monotonic()
    # the H.264 (SDR) rungs only: an HDR master's HEVC/AV1 rungs are not tone-mapped, and every client decodes H.264
    videos = [t for t in presentation.video if t.codec == "h264"]
    tracks = {t.id: t for t in videos}
    rungs = [RungPicture(t.id, t.path, t.width, t.height) for t in videos]
    any_track = presentation.video[0] if presentation.video else None
    fps = any_track.frame_rate if any_track else Fraction(25)
    duration = any_track.duration if any_track else 0.0
    plan = plan_storyboard(options, rungs, duration, float(1 / fps))
    track = tracks[plan.rung.id]
    work = scratch / "thumbnails"
    work.mkdir(parents=True, exist_ok=True)
    folder = root / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    joined = join_track(root, track, work)
    stats_path = work / "stats.txt"
    try:
        run(storyboard_argv(plan, ffmpeg=tools.ffmpeg, rung=joined, out=folder, stats=stats_path),
            limits=RunLimits(timeout=60 + 2 * duration), cancel=cancel)
    finally:
        joined.unlink(missing_ok=True)
    candidates = tuple(parse_frame_stats(stats_path.read_text(encoding="utf-8", errors="replace")))
    tiles = len(candidates)
    storyboard = Storyboard(path=FOLDER, interval=plan.interval, tile_width=plan.tile_width,
                            tile_height=plan.tile_height, columns=plan.columns, rows=plan.rows, tiles=tiles,
                            sheets=sheet_segments(folder, plan, tiles, duration), vtt=VTT_NAME,
                            playlist=PLAYLIST_NAME)
    vtt = render_thumbnails_vtt(storyboard, duration).encode("utf-8")
    (folder / VTT_NAME).write_bytes(vtt)
    chosen = choose_poster(candidates, duration)
    poster = None
    if chosen is not None:
        top = max(videos, key=lambda t: (t.width * t.height, t.peak_bitrate))
        poster = _poster(root, top, chosen, work, tools, cancel)
    return Thumbnails(storyboard=storyboard, poster=poster, candidates=candidates, rung=plan.rung.id,
                      expected_tiles=plan.tiles, vtt_bytes=len(vtt), seconds=round(time.monotonic() - started, 3))


def _poster(root: Path, top: VideoTrack, chosen: FrameStats, work: Path, tools: Tools,
            cancel: threading.Event | None) -> Poster:
    """Decode the segment of the top rung holding `chosen.time` up to that frame; write poster.jpg."""
    index = next((i for i, s in enumerate(top.segments) if s.start <= chosen.time + 1e-6 < s.start + s.duration),
                 len(top.segments) - 1)
    segment = top.segments[index]
    frame = max(0, round((chosen.time - segment.start) * top.frame_rate))
    one = VideoTrack(id=f"poster-{top.id}", path=top.path, init=top.init, codecs=top.codecs,
                     timescale=top.timescale, segments=(segment,))
    joined = join_track(root, one, work)
    width = poster_width(top.width)
    height = even(width * top.height / top.width)
    out = root / POSTER_NAME
    try:
        run(poster_argv(ffmpeg=tools.ffmpeg, segment=joined, frame=frame, width=width, height=height, out=out),
            limits=RunLimits(timeout=120), cancel=cancel)
    finally:
        joined.unlink(missing_ok=True)
    return Poster(path=POSTER_NAME, time=round(segment.start + frame / float(top.frame_rate), 6), width=width,
                  height=height, size=out.stat().st_size, rung=top.id, candidate=chosen, usable=usable(chosen))


def thumbnails_report(thumbs: Thumbnails, encode_seconds: float | None) -> dict[str, object]:
    """report.json's `thumbnails` section: geometry, files and bytes, the poster's choice, the cost."""
    board = thumbs.storyboard
    sheet_bytes = sum(s.size for s in board.sheets)
    vtt_bytes = thumbs.vtt_bytes
    poster = thumbs.poster
    return {
        "storyboard": {
            "path": board.path, "vtt": f"{board.path}/{board.vtt}", "hls_playlist": f"{board.path}/{board.playlist}",
            "interval": board.interval, "tile_width": board.tile_width, "tile_height": board.tile_height,
            "grid": f"{board.columns}x{board.rows}", "tiles": board.tiles, "expected_tiles": thumbs.expected_tiles,
            "sheets": [{"uri": s.uri, "start": round(s.start, 6), "duration": round(s.duration, 6), "bytes": s.size}
                       for s in board.sheets],
            "sheet_bytes": sheet_bytes, "vtt_bytes": vtt_bytes, "source_rung": thumbs.rung,
        },
        "poster": None if poster is None else {
            "path": poster.path, "time": poster.time, "width": poster.width, "height": poster.height,
            "bytes": poster.size, "rung": poster.rung, "usable": poster.usable,
            "luma_mean": poster.candidate.luma_mean, "luma_spread": poster.candidate.luma_spread,
            "entropy": poster.candidate.entropy,
        },
        "bytes": sheet_bytes + vtt_bytes + (poster.size if poster else 0),
        "seconds": thumbs.seconds,
        "fraction_of_encode": round(thumbs.seconds / encode_seconds, 4) if encode_seconds else None,
    }
