"""Closed-caption effects: read SCC sidecars and A/53 caption data, decode one channel with pycaption.

    load_scc(path, language)        an SCC sidecar → SubtitleDocument (sdh=True, frame-exact times)
    scan_captions(master, ...)      the 608 channels (CC1-CC4) and 708 services of an H.264/HEVC/MPEG-2 master,
                                    each 608 channel (pycaption) and 708 service (`cea708`) decoded to a
                                    CaptionTrack (optional)
    extract_captions(master, ...)   scan_captions' tracks

Embedded captions are read with ffmpeg's ``movie`` source, whose ``subcc`` output is the A/53 cc_data the
video decoder found in SEI / MPEG-2 user data, one packet per frame at the frame's time. The movie source
opens a file by name with no protocol option, so it is given ``file:`` and a symlink in scratch with a
fixed name (nothing from the master's name reaches the filter graph), and the demuxer the probe accepted
(``f=``, from `pipelines.formats`' allowlist), never one the content picks.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from pycaption import SCCReader, WebVTTWriter
from pycaption.exceptions import CaptionLineLengthError, CaptionReadError, InvalidInputError

from pipelines.captions.cea708 import Caption708, Cea708Decoder
from pipelines.captions.dtvcc import ServiceScan
from pipelines.captions.scc import HINT, channel_words, is_scc, parse_scc, render_ndf, timed
from pipelines.captions.service import CHANNELS, caption_language
from pipelines.captions.timecode import NTSC_FPS, snap
from pipelines.errors import SubtitleRejected
from pipelines.formats import check_demuxer
from pipelines.runner import RunLimits, run
from pipelines.subtitles import SubtitleDocument, SubtitleLimits, document_from_bytes
from pipelines.subtitles.cue import Cue
from pipelines.subtitles.load import read_sidecar
from pipelines.tools import Tools

log = logging.getLogger(__name__)

CAPTION_CODECS = frozenset({"h264", "hevc", "mpeg2video"})  # decoders that export A/53 caption side data
DECODE_TIMEOUT = 120.0
DECODE_MEMORY = 2 << 30
SNIFF_SECONDS = 10.0  # of the master's start read to find whether it carries A/53 caption data at all
CHARSET_REASON = "CEA-608 byte pairs (its own character set), decoded to UTF-8"


@dataclass(frozen=True)
class CaptionTrack:
    channel: str  # "CC1" .. "CC4", or "SERVICE1" .. "SERVICE63"
    document: SubtitleDocument  # sdh=True, source_format "cea608" / "cea708"


@dataclass(frozen=True)
class CaptionScan:
    """What a master's A/53 caption data holds: the 608 channels that send anything but padding, with their
    languages; the 708 services that send a service block; the 608 channels decoded (when asked)."""

    channels: tuple[tuple[str, str], ...] = ()  # (channel "CC1".."CC4", BCP-47), CC1 first
    services: tuple[tuple[int, str], ...] = ()  # (service number 1-63, BCP-47)
    tracks: tuple[CaptionTrack, ...] = ()


@dataclass(frozen=True)
class A53Data:
    """Timed 608 pairs per field ({1: [...], 2: [...]}, seconds from the video's start) and the 708 services."""

    fields: dict[int, list[tuple[Fraction, int]]]
    services: tuple[int, ...]


def _escape_graph_value(value: str) -> str:
    """An option value inside a filter graph description: ffmpeg's two levels of quoting (option value,
    then graph), so ``:`` ``'`` ``\\`` ``[]`` ``,`` ``;`` in a path stay literal."""
    level1 = "".join("\\" + c if c in "\\':" else c for c in value)
    return "".join("\\" + c if c in "\\'[],;" else c for c in level1)


def a53_probe_argv(ffprobe: str, link: Path, demuxer: str, *, output: Path | None = None,
                   first_seconds: float | None = None) -> list[str]:
    """Every frame's A/53 cc_data triplets (pts, hex dump) through the movie source's subcc output, as JSON
    with one packet per line (to `output`, else stdout); `first_seconds`: only that much from the start."""
    movie = f"movie=filename={_escape_graph_value(f'file:{link.absolute()}')}:f={demuxer}[out0+subcc]"
    window = ["-read_intervals", f"%+{first_seconds:g}"] if first_seconds is not None else []
    target = ["-o", f"file:{output.absolute()}"] if output is not None else []
    return [ffprobe, "-v", "error", "-hide_banner", *window, "-f", "lavfi", "-i", movie, "-select_streams", "s",
            "-show_entries", "packet=pts_time:packet=data", "-show_data", "-of", "json=c=1", *target]


def parse_a53_packets(text: str | bytes, *, start: float | Fraction = 0) -> dict[int, list[tuple[Fraction, int]]]:
    """ffprobe's packets of the subcc stream (JSON, compact: one packet per line) → {field: [(seconds from
    `start`, word)]} for 608 data (cc_type 0: field 1, 1: field 2; 708 DTVCC and invalid triplets dropped).
    Read line by line, so a feature's dump (a packet per frame) is never one JSON value in memory."""
    lines = (text.decode("utf-8") if isinstance(text, bytes) else text).splitlines()
    return parse_a53_lines(lines, start=start)


def parse_a53_lines(lines: Iterable[str], *, start: float | Fraction = 0) -> dict[int, list[tuple[Fraction, int]]]:
    """`parse_a53_packets` over an iterable of lines (a file being read)."""
    return read_a53(lines, start=start).fields


def read_a53(lines: Iterable[str], *, start: float | Fraction = 0, decoder: Cea708Decoder | None = None) -> A53Data:
    """`parse_a53_lines`, and the CEA-708 services named by its DTVCC triplets (cc_type 2/3,
    `pipelines.captions.dtvcc`); with `decoder`, each valid DTVCC triplet is also fed to it at its picture's
    time (`pipelines.captions.cea708`)."""
    fields: dict[int, list[tuple[Fraction, int]]] = {1: [], 2: []}
    scan = ServiceScan()
    for raw in lines:
        line = raw.strip().rstrip(",")
        if not (line.startswith("{") and '"pts_time"' in line):
            continue  # the wrapper lines of ffprobe's JSON
        packet = json.loads(line)
        time = Fraction(str(packet.get("pts_time", "0"))) - Fraction(start)
        data = bytes.fromhex("".join(row[10:50].replace(" ", "")
                                     for row in str(packet.get("data", "")).splitlines() if row.strip()))
        for at in range(0, len(data) - 2, 3):
            head = data[at]
            if not head & 0x04:
                continue  # cc_valid off
            if (head & 0x03) in (0, 1):
                fields[(head & 0x03) + 1].append((time, data[at + 1] << 8 | data[at + 2]))
            else:
                scan.feed(head & 0x03, data[at + 1], data[at + 2])
                if decoder is not None:
                    decoder.feed(time, head & 0x03, data[at + 1], data[at + 2])
    return A53Data(fields, scan.found)


def decode_words(words: Sequence[tuple[Fraction, int]], language: str, *, source: str, fps: Fraction,
                 duration: float | None) -> SubtitleDocument:
    """One channel's timed byte pairs → a document (sdh=True) whose cue times are frame starts on `fps`.

    pycaption's SCC reader is the 608 decoder (pop-on at EOC, paint-on as it arrives, roll-up as a
    scrolling WebVTT REGION); it is handed the pairs as non-drop SCC, whose labels it converts exactly
    (frame × 1001/30000 s), and its WebVTT goes through the same loader as any sidecar.
    """
    try:
        captions = SCCReader().read(render_ndf(words), lang=language, simulate_roll_up=True)
        vtt = WebVTTWriter().write(captions)
    except (CaptionReadError, CaptionLineLengthError, InvalidInputError) as exc:
        raise SubtitleRejected(source, f"the CEA-608 data does not decode: {exc}", hint=HINT,
                               code="caption_scc_invalid") from exc
    doc = document_from_bytes(vtt.encode("utf-8"), language, source=source, suffix=".vtt", duration=duration)
    cues = tuple(dataclasses.replace(c, start=snap(c.start, fps), end=snap(c.end, fps)) for c in doc.cues)
    kept = tuple(c for c in cues if c.end > c.start)
    return dataclasses.replace(doc, cues=_sorted(kept), source_format="cea608", charset="cea-608",
                               charset_reason=CHARSET_REASON, sdh=True)


CHARSET_REASON_708 = "CEA-708 service data (G0-G3 and 16-bit characters), decoded to UTF-8"


def _vtt_time(seconds: Fraction) -> str:
    millis = round(seconds * 1000)
    return f"{millis // 3600000:02d}:{millis // 60000 % 60:02d}:{millis // 1000 % 60:02d}.{millis % 1000:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def document_708(cues: Sequence[Caption708], language: str, *, source: str, fps: Fraction,
                 duration: float | None, skipped: Mapping[str, int]) -> SubtitleDocument:
    """One CEA-708 service's cues (`pipelines.captions.cea708`) → a document (sdh=True, source_format "cea708")
    whose cue times are frame starts on `fps`, written as WebVTT and read back by the same loader as any
    sidecar. A window anchored in the top half keeps a ``line:`` percent (its anchor, CTA-708-E §8.4.4);
    `skipped`: the bad DTVCC data the decoder left out, by kind, kept in ``dropped`` for report.json."""
    blocks = ["WEBVTT", ""]
    for cue in cues:
        setting = f" line:{cue.line:g}%" if cue.line is not None and cue.line < 50 else ""
        blocks += [f"{_vtt_time(cue.start)} --> {_vtt_time(cue.end)}{setting}", _escape(cue.text), ""]
    doc = document_from_bytes("\n".join(blocks).encode("utf-8"), language, source=source, suffix=".vtt",
                              duration=duration)
    snapped = tuple(dataclasses.replace(c, start=snap(c.start, fps), end=snap(c.end, fps)) for c in doc.cues)
    kept = tuple(c for c in snapped if c.end > c.start)
    dropped = tuple(sorted((f"dtvcc_{kind}", count) for kind, count in skipped.items() if count))
    return dataclasses.replace(doc, cues=_sorted(kept), source_format="cea708", charset="cea-708",
                               charset_reason=CHARSET_REASON_708, sdh=True, dropped=dropped)


def _sorted(cues: tuple[Cue, ...]) -> tuple[Cue, ...]:
    return tuple(sorted(cues, key=lambda c: (c.start, c.end)))


def load_scc(path: Path, language: str, *, duration: float | None = None,
             limits: SubtitleLimits = SubtitleLimits()) -> SubtitleDocument:  # noqa: B008 (frozen)
    """An SCC sidecar (CC1) → SubtitleDocument with sdh=True. Raises SubtitleRejected naming `path`:
    ``caption_scc_invalid`` (malformed), ``subtitle_unparseable`` (no caption decoded), size/read codes."""
    data = read_sidecar(path, limits)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise SubtitleRejected(str(path), f"byte {exc.start} is not ASCII; SCC files are ASCII text",
                               hint="export the captions again as SCC", code="caption_scc_invalid") from exc
    words = channel_words(timed(parse_scc(text, source=str(path))), 1)
    if not words:
        raise SubtitleRejected(str(path), "no CC1 caption data (only padding or other channels)", hint=HINT,
                               code="caption_scc_invalid")
    doc = decode_words(words, language, source=str(path), fps=NTSC_FPS, duration=duration)
    return dataclasses.replace(doc, source_format="scc")


def in_band_ids(video: Path, *, tools: Tools, scratch: Path, duration: float,
                cancel: threading.Event | None = None) -> tuple[str, ...]:
    """The INSTREAM-IDs (RFC 8216 §4.3.4.1) whose data a published rung (fragmented MP4) carries in its A/53 SEI:
    608 channels "CC1".."CC4" that send anything but padding, then 708 services "SERVICEn". One decode of it."""
    dump = scratch / f"a53_{video.stem}.json"
    run(a53_probe_argv(tools.ffprobe, video, "mov", output=dump),
        limits=RunLimits(timeout=DECODE_TIMEOUT + 2 * duration, memory_bytes=DECODE_MEMORY), cancel=cancel)
    with dump.open(encoding="utf-8") as handle:
        a53 = read_a53(handle)
    dump.unlink()
    channels = [c for c, (field, number) in CHANNELS.items() if channel_words(a53.fields[field], number)]
    return (*channels, *(f"SERVICE{n}" for n in a53.services))


def extract_captions(source: Path, *, format_name: str, video_codec: str, video_start: float, fps: Fraction,
                     languages: Sequence[str], duration: float, tools: Tools, scratch: Path,
                     cancel: threading.Event | None = None) -> list[CaptionTrack]:
    """`scan_captions`' decoded tracks: CC1 (in `languages[0]`), CC3 (in `languages[1]`, else "und"), CC2/CC4
    ("und"), each only if it decodes to at least one cue; [] for a codec that carries none."""
    return list(scan_captions(source, format_name=format_name, video_codec=video_codec, video_start=video_start,
                              fps=fps, languages=languages, duration=duration, tools=tools, scratch=scratch,
                              cancel=cancel).tracks)


def scan_captions(source: Path, *, format_name: str, video_codec: str, video_start: float, fps: Fraction,
                  languages: Sequence[str], duration: float, tools: Tools, scratch: Path,
                  declared: Mapping[str, str] | None = None, decode: bool = True,
                  cancel: threading.Event | None = None) -> CaptionScan:
    """The master's A/53 captions: which 608 channels and 708 services it carries, in which language
    (`pipelines.captions.service.caption_language`: `declared` {"CC3": "es", "SERVICE1": "en"} first, then the
    audio `languages`, default first), and with `decode` each 608 channel and each 708 service with text decoded
    to WebVTT cues, 608 tracks first (a channel that does not decode is logged and left out; bad 708 data is
    skipped, logged and counted in the tracks' ``dropped``). An empty scan for a codec that carries none.
    `video_start`: the container's first timestamp (the output timeline's 0). Costs one decode of the video."""
    if video_codec not in CAPTION_CODECS:
        return CaptionScan()
    demuxer = check_demuxer(format_name, path=str(source))
    link = scratch / "captions_master"
    link.unlink(missing_ok=True)
    link.symlink_to(source.absolute())
    # A/53 sends cc_data with every picture while a caption service is on (padding when idle), so the
    # first seconds tell whether to decode the whole video for it.
    head = run(a53_probe_argv(tools.ffprobe, link, demuxer, first_seconds=SNIFF_SECONDS),
               limits=RunLimits(timeout=DECODE_TIMEOUT, memory_bytes=DECODE_MEMORY), cancel=cancel)
    sniffed = read_a53(head.stdout.decode("utf-8").splitlines())
    if not (any(sniffed.fields.values()) or sniffed.services):
        return CaptionScan()
    dump = scratch / "captions_a53.json"
    run(a53_probe_argv(tools.ffprobe, link, demuxer, output=dump),
        limits=RunLimits(timeout=DECODE_TIMEOUT + 2 * duration, memory_bytes=DECODE_MEMORY), cancel=cancel)
    decoder = Cea708Decoder() if decode else None
    with dump.open(encoding="utf-8") as handle:
        a53 = read_a53(handle, start=video_start, decoder=decoder)
    dump.unlink()
    declared = declared or {}
    channels, tracks = [], []
    for channel, (field, data_channel) in CHANNELS.items():
        words = channel_words(a53.fields[field], data_channel)
        if not words:
            continue
        language = caption_language(channel, declared, languages)
        channels.append((channel, language))
        if not decode:
            continue
        try:
            doc = decode_words(words, language, source=f"{source} ({channel})", fps=fps, duration=duration)
        except SubtitleRejected as exc:
            log.warning("%s captions of %s left out: %s", channel, source, exc)
            continue
        if doc.cues:
            tracks.append(CaptionTrack(channel, doc))
    services = tuple((n, caption_language(f"SERVICE{n}", declared, languages)) for n in a53.services)
    if decoder is not None:
        tracks += _service_tracks(decoder, dict(services), source=source, fps=fps, duration=duration)
    return CaptionScan(tuple(channels), services, tuple(tracks))


def _service_tracks(decoder: Cea708Decoder, languages: Mapping[int, str], *, source: Path, fps: Fraction,
                    duration: float) -> list[CaptionTrack]:
    """Each CEA-708 service that decodes to at least one cue → a CaptionTrack "SERVICEn"; the decoder's
    skipped bad data is logged once and kept in every service's ``dropped``."""
    decoded = decoder.finish(Fraction(str(duration)))
    if decoder.skipped:
        log.warning("CEA-708 data of %s: skipped %s", source, dict(decoder.skipped))
    tracks = []
    for number, cues in decoded.items():
        if not cues or number not in languages:
            continue
        ident = f"SERVICE{number}"
        doc = document_708(cues, languages[number], source=f"{source} ({ident})", fps=fps, duration=duration,
                           skipped=decoder.skipped)
        if doc.cues:
            tracks.append(CaptionTrack(ident, doc))
    return tracks


__all__ = ["CaptionScan", "CaptionTrack", "document_708", "extract_captions", "in_band_ids", "is_scc", "load_scc",
           "scan_captions"]
