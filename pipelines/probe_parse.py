"""Pure half of probing: ffprobe JSON → `SourceInfo`, or a `SourceRejected` naming the limit broken.

No I/O here: `pipelines.probe` runs ffprobe and hands the decoded JSON to `parse_probe`. The JSON is
treated as hostile (a crafted file controls it): every field is type-checked, and a missing or
malformed one falls back to a documented default instead of raising a TypeError.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from pipelines.errors import SourceRejected
from pipelines.formats import check_demuxer
from pipelines.source import AudioStream, SourceInfo, SubtitleStream, VideoStream

Json = Mapping[str, Any]

_INTERLACED_ORDERS = frozenset({"tt", "bb", "tb", "bt"})
_NO_LANGUAGE = frozenset({"", "und", "unk", "mis", "zxx"})
_VFR_TOLERANCE = Fraction(1, 100)  # r vs avg frame rate; rounding in avg stays far below 1 %
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp"})  # controls, surrogates, unassigned, separators
MAX_TITLE_CHARS = 64
_MAX_SANE_FPS = 1000  # r_frame_rate of 90000/1 (a TS clock) is a guess gone wrong, not a frame rate


@dataclass(frozen=True)
class ProbeLimits:
    """What a master may be. Portrait sources are allowed: long/short sides are compared."""

    max_duration: float = 12 * 3600.0
    min_duration: float = 0.1
    max_width: int = 8192
    max_height: int = 4320
    max_streams: int = 64
    max_audio: int = 16
    max_subtitle: int = 32
    probe_timeout: float = 30.0
    probe_memory: int = 1 << 30
    max_probe_output: int = 16 << 20
    decode_timeout: float = 60.0  # each of the two short decode checks
    decode_memory: int = 2 << 30  # an 8K HEVC decoder with frame threads needs more than ffprobe


DEFAULT_PROBE_LIMITS = ProbeLimits()


def parse_probe(doc: Json, *, path: str, size_bytes: int, limits: ProbeLimits) -> SourceInfo:
    """Map ffprobe ``-show_format -show_streams -of json`` output to a SourceInfo; check `limits`."""
    fmt = _mapping(doc.get("format"))
    streams = [s for s in _sequence(doc.get("streams")) if isinstance(s, Mapping)]
    _check_counts(streams, fmt, path, limits)
    chosen = _choose_video(streams, path)
    check_demuxer(_text(fmt.get("format_name")), path=path)  # ffmpeg's whitelist refused others already
    duration = _duration(fmt, streams, path, limits)
    return SourceInfo(
        path=path,
        format_name=_text(fmt.get("format_name")),
        size_bytes=size_bytes,
        duration=duration,
        video=_video(chosen, path, limits, duration),
        audio=tuple(_audio(s) for s in streams if s.get("codec_type") == "audio"),
        subtitles=tuple(_subtitle(s) for s in streams if s.get("codec_type") == "subtitle"),
        bit_rate=_int(fmt.get("bit_rate")),
        start_time=_number(fmt.get("start_time")) or 0.0,
        tags=tuple(sorted(_tags(fmt).items())),
    )


def _check_counts(streams: list[Json], fmt: Json, path: str, limits: ProbeLimits) -> None:
    total = max(len(streams), _int(fmt.get("nb_streams")) or 0)
    kinds = [s.get("codec_type") for s in streams]
    for count, limit, noun in (
        (total, limits.max_streams, "streams"),
        (kinds.count("audio"), limits.max_audio, "audio streams"),
        (kinds.count("subtitle"), limits.max_subtitle, "subtitle streams"),
    ):
        if count > limit:
            raise SourceRejected(path, f"has {count} {noun}; at most {limit} are accepted",
                                 hint="remux the master keeping only the tracks to publish (ffmpeg -map)",
                                 code="source_too_many_streams")


def _choose_video(streams: list[Json], path: str) -> Json:
    """The first video stream that is not cover art (``disposition.attached_pic``)."""
    videos = [s for s in streams if s.get("codec_type") == "video"]
    for stream in videos:
        if not _int(_mapping(stream.get("disposition")).get("attached_pic")):
            return stream
    what = "has only cover art (an attached picture), no video" if videos else "has no video stream"
    raise SourceRejected(path, what, code="source_no_video",
                         hint="vodfleet transcodes video; submit the master with its picture track")


def _video(s: Json, path: str, limits: ProbeLimits, duration: float) -> VideoStream:
    codec, width, height = _text(s.get("codec_name")), _int(s.get("width")) or 0, _int(s.get("height")) or 0
    if not codec or codec == "none" or width <= 0 or height <= 0:
        raise SourceRejected(path, f"video stream {s.get('index')} has no known codec or size",
                             hint="re-export the master with a common codec (H.264, HEVC, ProRes)",
                             code="source_undecodable")
    long_side, short_side = max(width, height), min(width, height)
    if long_side > max(limits.max_width, limits.max_height) or short_side > min(limits.max_width,
                                                                               limits.max_height):
        raise SourceRejected(path, f"video is {width}x{height}; the largest accepted is "
                             f"{limits.max_width}x{limits.max_height} (or portrait)",
                             hint="downscale the master to 8K or smaller before submitting",
                             code="source_too_large")
    fps, avg_fps = _frame_rates(s, duration)
    pix_fmt = _text(s.get("pix_fmt")) or "yuv420p"
    field_order = _text(s.get("field_order")) or "unknown"
    return VideoStream(
        index=_int(s.get("index")) or 0,
        codec=codec,
        width=width,
        height=height,
        sar=_ratio(s.get("sample_aspect_ratio")) or Fraction(1),  # "0:1" (unknown) → square pixels
        rotation=_rotation(s),
        fps=fps,
        avg_fps=avg_fps,
        vfr=abs(fps - avg_fps) > fps * _VFR_TOLERANCE,
        interlaced=field_order in _INTERLACED_ORDERS,
        field_order=field_order,
        pix_fmt=pix_fmt,
        bit_depth=_bit_depth(s.get("bits_per_raw_sample"), pix_fmt),
        color_transfer=_color(s.get("color_transfer")),
        color_primaries=_color(s.get("color_primaries")),
        color_space=_color(s.get("color_space")),
        frame_count=_int(s.get("nb_frames")),
        duration=_stream_duration(s),
        start_time=_number(s.get("start_time")),
    )


def _frame_rates(s: Json, duration: float) -> tuple[Fraction, Fraction]:
    """(r_frame_rate, avg_frame_rate); "0/0" or absurd falls back to the other, then frames/s, then 25."""
    real = _ratio(s.get("r_frame_rate"), upper=_MAX_SANE_FPS)
    avg = _ratio(s.get("avg_frame_rate"), upper=_MAX_SANE_FPS)
    frames = _int(s.get("nb_frames"))
    counted = Fraction(frames / duration).limit_denominator(1001) if frames and duration > 0 else None
    fallback = real or avg or counted or Fraction(25)
    return real or fallback, avg or fallback


def _rotation(s: Json) -> int:
    """Clockwise degrees (0/90/180/270) the player rotates the picture.

    ffprobe's display-matrix ``rotation`` is counter-clockwise (a phone's portrait clip shows -90,
    and ``ffmpeg -autorotate`` turns it 90° clockwise), hence the sign flip. The legacy
    ``tags.rotate`` is already clockwise. Odd angles snap to the nearest quarter turn; mirroring
    in the matrix is ignored.
    """
    for side in _sequence(s.get("side_data_list")):
        angle = _number(_mapping(side).get("rotation"))
        if angle is not None:
            return _quarter_turns(-angle)
    legacy = _number(_tags(s).get("rotate"))
    return _quarter_turns(legacy) if legacy is not None else 0


def _quarter_turns(degrees: float) -> int:
    return round(degrees / 90) % 4 * 90


def _bit_depth(raw: object, pix_fmt: str) -> int:
    bits = _int(raw)
    if bits is not None and 1 <= bits <= 16:
        return bits
    # yuv420p10le → 10, p010le → 10, y210le → 10, rgb48le/rgba64le → 16 per component, rgb565 → 8
    match = re.search(r"(\d+)(?:le|be)$", pix_fmt)
    if not match:
        return 8
    number = int(match.group(1))
    if number in (48, 64):
        return 16
    return number % 100 if number % 100 in (9, 10, 12, 14, 16) else 8


def _duration(fmt: Json, streams: list[Json], path: str, limits: ProbeLimits) -> float:
    """The container's duration; if it has none, the longest stream's."""
    duration = _number(fmt.get("duration"))
    if duration is None or duration <= 0:
        duration = max((d for s in streams if (d := _stream_duration(s)) is not None), default=None)
    if duration is None or duration < limits.min_duration:
        shown = "missing" if duration is None else f"{duration:g} s"
        raise SourceRejected(path, f"has no usable duration ({shown}; at least {limits.min_duration:g} s)",
                             hint="remux the master (ffmpeg -i in -c copy out.mp4) so its duration is known",
                             code="source_bad_duration")
    if duration > limits.max_duration:
        raise SourceRejected(path, f"lasts {duration / 3600:.1f} h; at most {limits.max_duration / 3600:g} h "
                             "is accepted", hint="split the master into episodes or parts",
                             code="source_too_long")
    return duration


def _stream_duration(s: Json) -> float | None:
    """``duration``, or Matroska's ``DURATION`` tag ("00:00:02.021000000")."""
    seconds = _number(s.get("duration"))
    clock = re.fullmatch(r"(\d{1,4}):(\d\d):(\d\d(?:\.\d{1,9})?)", _tags(s).get("duration", "").strip())
    if seconds is None and clock:
        seconds = int(clock.group(1)) * 3600 + int(clock.group(2)) * 60 + float(clock.group(3))
    return seconds if seconds is None or seconds >= 0 else None


def _audio(s: Json) -> AudioStream:
    tags = _tags(s)
    return AudioStream(
        index=_int(s.get("index")) or 0,
        codec=_text(s.get("codec_name")),
        channels=_int(s.get("channels")) or 0,
        sample_rate=_int(s.get("sample_rate")) or 0,
        channel_layout=_text(s.get("channel_layout")),
        language=_language(tags),
        title=_title(tags),
        duration=_stream_duration(s),
        start_time=_number(s.get("start_time")),
    )


def _subtitle(s: Json) -> SubtitleStream:
    tags = _tags(s)
    return SubtitleStream(index=_int(s.get("index")) or 0, codec=_text(s.get("codec_name")),
                          language=_language(tags), title=_title(tags))


def _title(tags: Mapping[str, str]) -> str:
    """A stream title as players may show it: no control characters (an MPD with a NUL is not XML, an
    HLS NAME with a newline ends the tag), whitespace collapsed, at most MAX_TITLE_CHARS. Titles only
    ever become labels (HLS NAME, DASH Label, report.json), never paths or object keys."""
    text = "".join(" " if unicodedata.category(char) in _UNSAFE_CATEGORIES else char
                   for char in tags.get("title", "")[:4 * MAX_TITLE_CHARS])
    return " ".join(text.split())[:MAX_TITLE_CHARS]


def _language(tags: Mapping[str, str]) -> str | None:
    language = tags.get("language", "").strip().lower()
    return None if language in _NO_LANGUAGE else language


def _color(value: object) -> str:
    text = _text(value)
    return "" if text in ("unknown", "unspecified", "reserved") else text


# --- typed access to untrusted JSON ---------------------------------------------------------------


def _mapping(value: object) -> Json:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: object) -> Sequence[object]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _tags(s: Json) -> dict[str, str]:
    """Tags with lower-cased keys (Matroska writes LANGUAGE/TITLE, MP4 language/title)."""
    return {str(k).lower(): str(v) for k, v in _mapping(s.get("tags")).items()}


def _number(value: object) -> float | None:
    """A finite float from a JSON number or numeric string; None for "N/A", NaN, inf and junk."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _int(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number == int(number) else None


def _ratio(value: object, *, upper: int | None = None) -> Fraction | None:
    """ "30000/1001" or "16:15" → Fraction; None for 0/0, 0:1, negatives and junk."""
    parts = re.fullmatch(r"\s*(\d{1,12})\s*[/:]\s*(\d{1,12})\s*", value) if isinstance(value, str) else None
    if parts is None or int(parts.group(1)) == 0 or int(parts.group(2)) == 0:
        return None
    ratio = Fraction(int(parts.group(1)), int(parts.group(2)))
    return None if upper is not None and ratio > upper else ratio


def packets_end(csv: str) -> float | None:
    """The end (pts + duration) of the last timed packet in ffprobe's ``packet=pts_time,duration_time`` CSV
    (pure); None when no line has both numbers."""
    end = None
    for line in csv.splitlines():
        fields = line.strip().split(",")
        if len(fields) < 2:
            continue
        try:
            end = max(end or 0.0, float(fields[0]) + float(fields[1]))
        except ValueError:
            continue
    return end
