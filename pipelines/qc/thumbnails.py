"""QC of the thumbnails: storyboard sheets, the WebVTT thumbnails track, both manifests' image tracks, the poster.

    check_thumbnails(root, board, duration, expected_tiles, candidates_usable, tools=) → [CheckResult]

    thumbnails.tiles        tiles made = tiles the title's duration and the interval need
    thumbnails.sheets       ceil(tiles / tiles-per-sheet) sheets, each a JPEG (ffprobe) of columns x rows tiles
    thumbnails.vtt          the track re-read (ffprobe's WebVTT demuxer for times, the QC parser for payloads):
                            one cue per tile, contiguous from 0 to the end, each `sheet#xywh=` on an existing
                            sheet, inside it, on the tile grid
    thumbnails.hls          master.m3u8's EXT-X-IMAGE-STREAM-INF and the image playlist re-read by `m3u8`:
                            every sheet listed once, in order, EXT-X-TILES matching, EXTINF summing to the title
    thumbnails.dash         the MPD re-read by `mpegdash`: one image AdaptationSet with the DASH-IF thumbnail
                            EssentialProperty, its template addressing exactly the sheets on disk
    thumbnails.poster       poster.jpg exists, decodes, and is neither black nor flat (re-measured), unless no
                            sampled instant of the title was either
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.parsers.expat import ExpatError

import m3u8
from mpegdash.parser import MPEGDASHParser

from pipelines.errors import CheckResult, FFmpegFailed
from pipelines.hls import MASTER
from pipelines.poster import POSTER_NAME, is_black, is_flat, measure_argv
from pipelines.presentation import Storyboard
from pipelines.qc.captions import parse_vtt, probe_vtt
from pipelines.qc.verdict import failed, verdict
from pipelines.runner import RunLimits, run
from pipelines.storyboard import SHEET_PATTERN, parse_frame_stats, tile_rect
from pipelines.tools import Tools

MPD_NAME = "manifest.mpd"
THUMBNAIL_SCHEME = "http://dashif.org/thumbnail_tile"
_XYWH = re.compile(r"^([^#\s]+)#xywh=(\d+),(\d+),(\d+),(\d+)$")
_TOLERANCE = 0.002  # seconds: WebVTT timestamps are milliseconds


def check_thumbnails(root: Path, board: Storyboard, duration: float, expected_tiles: int,
                     candidates_usable: bool, *, tools: Tools) -> list[CheckResult]:
    sizes = {s.uri: _image_size(root / board.path / s.uri, tools) for s in board.sheets}
    return [
        verdict("thumbnails.tiles", [] if board.tiles == expected_tiles else [
            f"{board.tiles} tiles made, {duration:.3f} s at one every {board.interval:g} s needs {expected_tiles}"],
            f"{board.tiles} tiles, one every {board.interval:g} s"),
        check_sheets(board, sizes),
        _vtt(root, board, duration, tools),
        _guarded("thumbnails.hls", lambda: check_hls(root, board, duration)),
        _guarded("thumbnails.dash", lambda: check_dash(root, board)),
        _poster(root, tools, candidates_usable),
    ]


def _guarded(name: str, check: Callable[[], CheckResult]) -> CheckResult:
    """A manifest that cannot be read is a failed check with the parser's words, not a crashed QC."""
    try:
        return check()
    except (OSError, ValueError, TypeError, AttributeError, ExpatError) as exc:
        return failed(name, f"cannot read the manifest: {type(exc).__name__}: {exc}")


def _image_size(path: Path, tools: Tools) -> tuple[int, int] | None:
    if not path.is_file():
        return None
    try:
        result = run([tools.ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries",
                      "stream=width,height", "-of", "csv=p=0", f"file:{path}"], limits=RunLimits(timeout=30))
    except FFmpegFailed:
        return None
    try:
        width, height = (int(v) for v in result.stdout.decode().strip().split(",")[:2])
    except ValueError:
        return None
    return width, height


def check_sheets(board: Storyboard, sizes: dict[str, tuple[int, int] | None]) -> CheckResult:
    per_sheet = board.columns * board.rows
    want = math.ceil(board.tiles / per_sheet)
    names = [SHEET_PATTERN % n for n in range(1, want + 1)]
    problems = [] if [s.uri for s in board.sheets] == names else [
        f"sheets {[s.uri for s in board.sheets]}, {board.tiles} tiles at {per_sheet} per sheet need {names}"]
    geometry = (board.columns * board.tile_width, board.rows * board.tile_height)
    for name in names:
        size = sizes.get(name)
        if size is None:
            problems.append(f"{board.path}/{name} is missing or not a picture")
        elif size != geometry:
            problems.append(f"{board.path}/{name} is {size[0]}x{size[1]}, the grid makes {geometry[0]}x{geometry[1]}")
    return verdict("thumbnails.sheets", problems, f"{len(names)} sheets of {board.columns}x{board.rows} tiles, "
                                                  f"{geometry[0]}x{geometry[1]}")


def check_vtt_cues(board: Storyboard, duration: float, times: Sequence[tuple[float, float]],
                   payloads: Sequence[str]) -> CheckResult:
    """The thumbnails track's cues against the storyboard (pure)."""
    problems = []
    if len(times) != board.tiles or len(payloads) != board.tiles:
        problems.append(f"{len(times)} cues (ffprobe), {len(payloads)} cue payloads, {board.tiles} tiles")
    sheets = {s.uri for s in board.sheets}
    for index, ((start, end), payload) in enumerate(zip(times, payloads, strict=False)):
        want_start = index * board.interval
        want_end = min(duration, want_start + board.interval)
        if abs(start - want_start) > _TOLERANCE or (want_end > want_start and abs(end - want_end) > _TOLERANCE):
            problems.append(f"cue {index + 1} is {start:.3f}-{end:.3f} s, tile {index} is "
                            f"{want_start:.3f}-{want_end:.3f} s")
        match = _XYWH.match(payload.strip())
        if match is None:
            problems.append(f"cue {index + 1} payload {payload!r} is not sheet#xywh=x,y,w,h")
            continue
        sheet, x, y, w, h = match[1], *(int(match[i]) for i in range(2, 6))
        number, wx, wy, ww, wh = tile_rect(board, index)
        if sheet not in sheets:
            problems.append(f"cue {index + 1} names {sheet}, which is not a sheet")
        if (sheet, x, y, w, h) != (SHEET_PATTERN % number, wx, wy, ww, wh):
            problems.append(f"cue {index + 1} is {sheet}#xywh={x},{y},{w},{h}, tile {index} is at "
                            f"{SHEET_PATTERN % number}#xywh={wx},{wy},{ww},{wh}")
    return verdict("thumbnails.vtt", problems, f"{len(times)} cues, contiguous to {duration:.3f} s")


def _vtt(root: Path, board: Storyboard, duration: float, tools: Tools) -> CheckResult:
    path = root / board.path / board.vtt
    if not path.is_file():
        return failed("thumbnails.vtt", f"{board.path}/{board.vtt} is missing")
    try:
        times = probe_vtt(path, tools)
        payloads = [c.text for c in parse_vtt(path.read_text(encoding="utf-8")).cues]
    except (FFmpegFailed, ValueError) as exc:
        return failed("thumbnails.vtt", f"{board.path}/{board.vtt} cannot be read: {exc}")
    return check_vtt_cues(board, duration, times, payloads)


def check_hls(root: Path, board: Storyboard, duration: float) -> CheckResult:
    """The master's image stream and its playlist, re-read with the `m3u8` package."""
    problems = []
    master = m3u8.load(str(root / MASTER))
    uris = [p.uri for p in master.image_playlists]
    want = f"{board.path}/{board.playlist}"
    if uris != [want]:
        return failed("thumbnails.hls", f"master.m3u8 image streams {uris}, expected [{want!r}]")
    info = master.image_playlists[0].image_stream_info
    if info.resolution != (board.tile_width, board.tile_height) or (info.codecs or "") != "jpeg":
        problems.append(f"EXT-X-IMAGE-STREAM-INF RESOLUTION={info.resolution} CODECS={info.codecs!r}, expected "
                        f"{board.tile_width}x{board.tile_height} and 'jpeg'")
    playlist = m3u8.load(str(root / want))
    if not playlist.is_images_only:
        problems.append(f"{want} lacks EXT-X-IMAGES-ONLY")
    listed = [s.uri for s in playlist.segments]
    if listed != [s.uri for s in board.sheets]:
        problems.append(f"{want} lists {listed}, the sheets are {[s.uri for s in board.sheets]}")
    missing = [u for u in listed if not (root / board.path / u).is_file()]
    problems += [f"{board.path}/{u} is listed but missing" for u in missing]
    tiles = [dict(t) for t in playlist.data.get("tiles", [])]
    layout, resolution = f"{board.columns}x{board.rows}", f"{board.tile_width}x{board.tile_height}"
    for number, tile in enumerate(tiles, start=1):
        if str(tile.get("layout")) != layout or str(tile.get("resolution")) != resolution or \
                abs(float(tile.get("duration", 0)) - board.interval) > 1e-6:
            problems.append(f"sheet {number}: EXT-X-TILES {tile}, expected LAYOUT={layout} RESOLUTION={resolution} "
                            f"DURATION={board.interval:g}")
    if len(tiles) != len(listed):
        problems.append(f"{len(tiles)} EXT-X-TILES tags for {len(listed)} sheets")
    total = sum(float(s.duration or 0) for s in playlist.segments)
    if abs(total - duration) > _TOLERANCE:
        problems.append(f"EXTINF sum {total:.3f} s, the title {duration:.3f} s")
    return verdict("thumbnails.hls", problems, f"{want}: {len(listed)} sheets, {total:.3f} s")


def check_dash(root: Path, board: Storyboard) -> CheckResult:
    """The MPD's image AdaptationSet, re-read with `mpegdash`."""
    mpd = MPEGDASHParser.parse(str(root / MPD_NAME))
    images = [a for p in mpd.periods or () for a in p.adaptation_sets or ()
              if a.content_type == "image" or (a.mime_type or "").startswith("image/")]
    if len(images) != 1:
        return failed("thumbnails.dash", f"{len(images)} image AdaptationSets in {MPD_NAME}, expected 1")
    image = images[0]
    problems = []
    reps = image.representations or []
    rep = reps[0] if len(reps) == 1 else None
    if rep is None:
        return failed("thumbnails.dash", f"the image AdaptationSet has {len(reps)} Representations, expected 1")
    properties = [(p.scheme_id_uri, p.value) for p in (rep.essential_properties or [])] + \
        [(p.scheme_id_uri, p.value) for p in (image.essential_properties or [])]
    grid = f"{board.columns}x{board.rows}"
    if (THUMBNAIL_SCHEME, grid) not in properties:
        problems.append(f"EssentialProperty {properties}, expected {THUMBNAIL_SCHEME} = {grid}")
    if (rep.width, rep.height) != (board.columns * board.tile_width, board.rows * board.tile_height):
        problems.append(f"Representation {rep.width}x{rep.height}, a sheet is "
                        f"{board.columns * board.tile_width}x{board.rows * board.tile_height}")
    templates = rep.segment_templates or image.segment_templates or []
    if not templates or not templates[0].media or not templates[0].duration:
        return verdict("thumbnails.dash", [*problems, "no SegmentTemplate with media and duration"], "")
    template = templates[0]
    seconds = float(template.duration) / float(template.timescale or 1)
    total = _xs_seconds(mpd.media_presentation_duration or "PT0S")
    count = math.ceil(total / seconds - 1e-9)
    start = int(template.start_number if template.start_number is not None else 1)
    addressed = [_expand(template.media, n) for n in range(start, start + count)]
    want = [f"{board.path}/{s.uri}" for s in board.sheets]
    # An audio track a few ms longer than the picture can carry the Period past a sheet boundary that no
    # frame reaches: a sheet starting within one tile of the end has nothing to show, and none is made.
    while len(addressed) > len(want) and (len(addressed) - 1) * seconds > total - board.interval:
        addressed.pop()
    if addressed != want:
        problems.append(f"the template addresses {addressed}, the sheets are {want}")
    problems += [f"{u} is addressed but missing" for u in addressed if not (root / u).is_file()]
    return verdict("thumbnails.dash", problems, f"{count} sheets of {seconds:g} s, grid {grid}")


def _expand(media: str, number: int) -> str:
    def one(match: re.Match[str]) -> str:
        return (match[1] or "%d") % number
    return re.sub(r"\$Number(%0\d+d)?\$", one, media)


def _xs_seconds(text: str) -> float:
    match = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", text)
    if match is None:
        raise ValueError(f"unsupported xs:duration {text!r}")
    hours, minutes, secs = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + secs


def _poster(root: Path, tools: Tools, candidates_usable: bool) -> CheckResult:
    path = root / POSTER_NAME
    if not path.is_file():
        return failed("thumbnails.poster", f"{POSTER_NAME} is missing")
    with tempfile.TemporaryDirectory(prefix="vodfleet-poster-") as work:
        stats_path = Path(work) / "stats.txt"
        try:
            run(measure_argv(ffmpeg=tools.ffmpeg, image=path, stats=stats_path), limits=RunLimits(timeout=30))
            stats = parse_frame_stats(stats_path.read_text(encoding="utf-8", errors="replace"))
        except FFmpegFailed as exc:
            return failed("thumbnails.poster", f"{POSTER_NAME} does not decode: {exc.message}")
    if len(stats) != 1:
        return failed("thumbnails.poster", f"{POSTER_NAME}: {len(stats)} pictures measured, expected 1")
    one = stats[0]
    summary = f"mean luma {one.luma_mean:.1f}, 10-90 % spread {one.luma_spread:.0f}, entropy {one.entropy:.3f}"
    problems = []
    if candidates_usable and is_black(one):
        problems.append(f"{POSTER_NAME} is black ({summary}) though the title has brighter sampled frames")
    if candidates_usable and is_flat(one):
        problems.append(f"{POSTER_NAME} is flat ({summary}) though the title has detailed sampled frames")
    return verdict("thumbnails.poster", problems, summary)
